from django.apps import AppConfig


class FactsConfig(AppConfig):
    name = "jifen.facts"
    label = "facts"
