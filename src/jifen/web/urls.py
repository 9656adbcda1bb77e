from django.urls import path

from jifen.web import portal, views, workbench

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("me/", portal.my_points, name="portal"),
    path("workbench/", workbench.search, name="workbench"),
    path("workbench/residents/<uuid:pk>/", workbench.resident_detail, name="resident"),
    path(
        "workbench/residents/<uuid:pk>/reveal",
        workbench.reveal_identity,
        name="reveal_identity",
    ),
    path("workbench/feeds/", workbench.feed_batches, name="feed_batches"),
    path("workbench/feeds/<int:pk>/", workbench.feed_batch, name="feed_batch"),
]
