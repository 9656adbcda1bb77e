"""A URLconf for the feed API tests: the feed routes where the project mounts them."""

from django.urls import include, path

urlpatterns = [path("api/feeds/", include("jifen.feeds.urls"))]
