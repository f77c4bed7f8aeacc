from schoolgate_kit.runtime import service_main

from schoolgate_messaging.service import DEFINITION

service_main(DEFINITION)
