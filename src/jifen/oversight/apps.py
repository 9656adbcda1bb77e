from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    name = "jifen.oversight"
    label = "oversight"
    verbose_name = _("oversight: dashboards, statistics and reports")
