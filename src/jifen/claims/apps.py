from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "jifen.claims"
    label = "claims"
