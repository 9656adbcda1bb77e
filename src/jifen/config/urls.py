from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("jifen.accounts.urls")),
    path("api/feeds/", include("jifen.feeds.urls")),
    path("api/", include("jifen.api.urls")),
    path("audit/", include("jifen.web.audit_urls")),
    path("workbench/policies/", include("jifen.policies.urls")),
    path("workbench/simulations/", include("jifen.simulations.urls")),
    path("", include("jifen.web.urls")),
]
