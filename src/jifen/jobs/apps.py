from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jifen.jobs"
    label = "jobs"
