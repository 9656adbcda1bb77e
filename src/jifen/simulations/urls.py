"""The simulation pages: include under ``workbench/simulations/`` (namespace ``simulations``)."""

from django.urls import path

from jifen.simulations import views

app_name = "simulations"
urlpatterns = [
    path("", views.simulation_list, name="list"),
    path("start", views.simulation_start, name="start"),
    path("<int:pk>/", views.simulation_detail, name="detail"),
    path("<int:pk>/simulation.xlsx", views.simulation_excel, name="excel"),
    path("<int:pk>/simulation.pdf", views.simulation_pdf, name="pdf"),
]
