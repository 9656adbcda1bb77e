from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "jifen.residents"
    label = "residents"
