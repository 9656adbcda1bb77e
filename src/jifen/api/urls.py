from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from jifen.api import views

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("me/score", views.MyScoreView.as_view(), name="my_score"),
    path("me/facts", views.MyFactsView.as_view(), name="my_facts"),
    path("residents/", views.ResidentSearchView.as_view(), name="residents"),
    path("residents/<uuid:pk>/", views.ResidentDetailView.as_view(), name="resident"),
    path("residents/<uuid:pk>/facts/", views.ResidentFactsView.as_view(), name="resident_facts"),
    path("residents/<uuid:pk>/scores/", views.ResidentScoresView.as_view(), name="resident_scores"),
    path(
        "residents/<uuid:pk>/permits/",
        views.ResidentPermitsView.as_view(),
        name="resident_permits",
    ),
    path("calculator", views.CalculatorView.as_view(), name="calculator"),
]
