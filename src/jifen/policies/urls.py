"""``/workbench/policies/`` (included by ``jifen.web.urls`` under ``workbench/policies/``)."""

from django.urls import path

from jifen.policies import views

app_name = "policies"
urlpatterns = [
    path("", views.version_list, name="list"),
    path("<int:pk>/", views.version_detail, name="detail"),
    path("<int:pk>/edit", views.version_edit, name="edit"),
    path("<int:pk>/text", views.version_text, name="text"),
    path("<int:pk>/approve", views.version_approve, name="approve"),
    path("<int:pk>/publish", views.version_publish, name="publish"),
    path("<int:pk>/export", views.version_export, name="export"),
]
