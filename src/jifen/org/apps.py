from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "jifen.org"
    label = "org"
