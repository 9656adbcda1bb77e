from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "jifen.evidence"
    verbose_name = _("evidence documents")

    def ready(self) -> None:
        from jifen.evidence import checks  # noqa: F401  (registers the system check)
