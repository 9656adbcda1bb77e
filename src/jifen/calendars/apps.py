from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarsConfig(AppConfig):
    name = "jifen.calendars"
    verbose_name = _("working-day calendar")

    def ready(self) -> None:
        from django.core.signals import request_finished

        from jifen.calendars.services import flush_pending

        def _flush(**kwargs):
            flush_pending()

        request_finished.connect(_flush, dispatch_uid="jifen.calendars.flush_pending", weak=False)
