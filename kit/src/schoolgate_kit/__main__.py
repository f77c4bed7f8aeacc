from schoolgate_kit.runtime import kit_main

kit_main()
