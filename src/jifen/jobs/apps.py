from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jifen.jobs"
    label = "jobs"

    def ready(self) -> None:
        from jifen.jobs.registry import autodiscover

        autodiscover()
