"""Feed API routes; the project includes them at ``api/feeds/``."""

from django.urls import path

from jifen.feeds.api import FeedBatchCollection, FeedBatchDetail

app_name = "feeds"

urlpatterns = [
    path("<slug:feed>/batches", FeedBatchCollection.as_view(), name="batches"),
    path("<slug:feed>/batches/<int:pk>", FeedBatchDetail.as_view(), name="batch"),
]
