"""The audit administrator's pages (``/audit/``)."""

from django.urls import path

from jifen.web import audit_log

app_name = "audit"
urlpatterns = [
    path("", audit_log.audit_log, name="log"),
    path("verify", audit_log.verify, name="verify"),
]
