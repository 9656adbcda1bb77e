from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "jifen.scenarios"
    label = "scenarios"
