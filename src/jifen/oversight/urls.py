"""URLs of the oversight pages, included under ``/workbench/oversight/`` by jifen.web.urls
(names ``web:oversight:…``)."""

from django.urls import path

from jifen.oversight import views

app_name = "oversight"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<slug:report_id>.<slug:kind>", views.report_file, name="report_file"),
    path("<slug:section>/", views.dashboard, name="section"),
    path("<slug:section>/<slug:key>.xlsx", views.chart_excel, name="chart_excel"),
]
