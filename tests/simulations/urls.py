"""The site's URLs with the simulation pages mounted where the lead mounts them
(``workbench/simulations/``), for the tests until the line is in jifen/config/urls.py."""

from django.urls import include, path

from jifen.config.urls import urlpatterns as site

mounted = any(getattr(p, "namespace", None) == "simulations" for p in site)
urlpatterns = (
    site if mounted else [path("workbench/simulations/", include("jifen.simulations.urls")), *site]
)
