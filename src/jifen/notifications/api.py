"""``GET /api/inbox/``: the signed-in user's notifications (newest first)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from jifen.notifications.models import Notification
from jifen.notifications.services import inbox_for

LIMIT = 100


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "body", "link", "created_at", "read_at"]


class InboxSerializer(serializers.Serializer):
    unread = serializers.IntegerField()
    results = NotificationSerializer(many=True)


class InboxView(GenericAPIView):
    serializer_class = InboxSerializer

    @extend_schema(
        summary="My inbox",
        parameters=[OpenApiParameter("unread", bool, description="only unread messages")],
        responses={200: InboxSerializer},
    )
    def get(self, request: Request) -> Response:
        notifications = inbox_for(request.user).order_by("-created_at", "-id")
        unread = notifications.filter(read_at__isnull=True)
        if request.query_params.get("unread") in {"1", "true", "yes"}:
            notifications = unread
        data = {"unread": unread.count(), "results": list(notifications[:LIMIT])}
        return Response(InboxSerializer(data).data)
