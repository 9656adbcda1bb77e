from django.apps import AppConfig


class ScoresConfig(AppConfig):
    name = "jifen.scores"
    label = "scores"
