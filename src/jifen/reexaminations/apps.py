from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReexaminationsConfig(AppConfig):
    name = "jifen.reexaminations"
    verbose_name = _("re-examinations")
