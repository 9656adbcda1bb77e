from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "jifen.feeds"
    label = "feeds"
