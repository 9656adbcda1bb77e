from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SanctionsConfig(AppConfig):
    name = "jifen.sanctions"
    verbose_name = _("fraud sanctions and credit records")
