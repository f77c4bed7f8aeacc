from schoolgate_gateway.service import main

main()
