"""The site's URLs plus ``/workbench/policies/`` until the lead includes them in
``jifen.web.urls`` (requests-pol.md)."""

from django.urls import include, path

from jifen.config.urls import urlpatterns as site

urlpatterns = [path("workbench/policies/", include("jifen.policies.urls")), *site]
