"""Serializers of the claims API: what a claim, a review task and an evidence file look like
to the user (scoped by :mod:`jifen.accounts.access`), and the request bodies of each step."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jifen.accounts import access
from jifen.claims.models import (
    Claim,
    ClaimItem,
    MaterialsNotice,
    Outcome,
    ReviewState,
    ReviewTask,
)
from jifen.evidence.models import Evidence

#: Transitions a reviewer may see offered on a task (``actions``).
TASK_ACTIONS = ("accept", "refuse", "request_materials", "extend", "decide")
MAX_LIST = 20


class EvidenceSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "download",
        ]

    @extend_schema_field(OpenApiTypes.STR)
    def get_download(self, evidence: Evidence) -> str:
        return reverse("api:evidence_download", args=[evidence.pk])


class MaterialsNoticeSerializer(serializers.ModelSerializer):
    items = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = MaterialsNotice
        fields = ["items", "note", "issued_at", "supplemented_at", "supplement_note"]


class ClaimItemSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    task = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ClaimItem
        fields = [
            "id",
            "position",
            "rule",
            "fact_key",
            "level",
            "quantity",
            "date",
            "until",
            "statement",
            "department",
            "task",
            "is_open",
            "outcome",
            "approved_level",
            "approved_quantity",
            "approved_date",
            "decision_reason",
            "fact",
        ]


class ReviewTaskSerializer(serializers.ModelSerializer):
    claim = serializers.PrimaryKeyRelatedField(read_only=True)
    number = serializers.CharField(source="claim.number", read_only=True)
    kind = serializers.CharField(source="claim.kind", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    materials_notice = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(
        help_text="The review steps the task's state allows now"
    )

    class Meta:
        model = ReviewTask
        fields = [
            "id",
            "claim",
            "number",
            "kind",
            "department",
            "department_name",
            "state",
            "created_at",
            "accepted_at",
            "due_on",
            "calendar_version",
            "extended",
            "extension_reason",
            "extended_at",
            "decided_at",
            "decision_reason",
            "withdrawn_at",
            "overdue_flagged_at",
            "materials_notice",
            "actions",
        ]

    @extend_schema_field(MaterialsNoticeSerializer(allow_null=True))
    def get_materials_notice(self, task: ReviewTask) -> dict[str, Any] | None:
        notice = MaterialsNotice.objects.filter(task_id=task.pk).first()
        return MaterialsNoticeSerializer(notice).data if notice else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, task: ReviewTask) -> list[str]:
        from jifen.claims.services import allowed

        return [name for name in TASK_ACTIONS if allowed(task, name)]


def _user(serializer: serializers.Serializer) -> Any:
    return serializer.context["request"].user


class ClaimSerializer(serializers.ModelSerializer):
    """A claim as the user may see it: a reviewer sees only their department's items, tasks
    and files."""

    resident = serializers.PrimaryKeyRelatedField(read_only=True)
    filed_by = serializers.PrimaryKeyRelatedField(read_only=True)
    filed_at_town = serializers.SlugRelatedField(slug_field="code", read_only=True)
    items = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "channel",
            "resident",
            "filed_by",
            "filed_at_town",
            "draft",
            "created_at",
            "updated_at",
            "submitted_at",
            "closed_at",
            "withdraw_reason",
            "items",
            "tasks",
            "evidence",
        ]

    @extend_schema_field(ClaimItemSerializer(many=True))
    def get_items(self, claim: Claim) -> list[dict[str, Any]]:
        items = access.items_for(_user(self)).filter(claim=claim).order_by("position", "id")
        return ClaimItemSerializer(items, many=True).data

    @extend_schema_field(ReviewTaskSerializer(many=True))
    def get_tasks(self, claim: Claim) -> list[dict[str, Any]]:
        tasks = access.tasks_for(_user(self)).filter(claim=claim).order_by("id")
        return ReviewTaskSerializer(tasks, many=True, context=self.context).data

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, claim: Claim) -> list[dict[str, Any]]:
        files = (
            access.evidence_for(_user(self))
            .filter(claim_links__claim=claim)
            .order_by("uploaded_at", "id")
            .distinct()
        )
        return EvidenceSerializer(files, many=True).data


class ClaimSummarySerializer(serializers.ModelSerializer):
    resident = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Claim
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "channel",
            "resident",
            "created_at",
            "updated_at",
            "submitted_at",
            "closed_at",
        ]


class TaskDetailSerializer(ReviewTaskSerializer):
    """A review task with the claim's items of this task and the files the reviewer may open."""

    resident = serializers.PrimaryKeyRelatedField(source="claim.resident", read_only=True)
    items = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()

    class Meta(ReviewTaskSerializer.Meta):
        fields = [*ReviewTaskSerializer.Meta.fields, "resident", "items", "evidence"]

    @extend_schema_field(ClaimItemSerializer(many=True))
    def get_items(self, task: ReviewTask) -> list[dict[str, Any]]:
        items = access.items_for(_user(self)).filter(task=task).order_by("position", "id")
        return ClaimItemSerializer(items, many=True).data

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, task: ReviewTask) -> list[dict[str, Any]]:
        files = (
            access.evidence_for(_user(self))
            .filter(claim_links__claim_id=task.claim_id)
            .order_by("uploaded_at", "id")
            .distinct()
        )
        return EvidenceSerializer(files, many=True).data


# --- request bodies ------------------------------------------------------------------------


class DraftCreateSerializer(serializers.Serializer):
    resident = serializers.UUIDField(
        required=False, help_text="Whose claim (window clerks only; a resident files their own)"
    )
    draft = serializers.DictField(help_text="The wizard's state, any JSON object (≤ 64 KB)")


class DraftUpdateSerializer(serializers.Serializer):
    draft = serializers.DictField(help_text="The wizard's state, any JSON object (≤ 64 KB)")


class EvidenceIdsField(serializers.ListField):
    child = serializers.UUIDField()

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", list)
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("help_text", "Ids of uploaded evidence files (POST /api/evidence/)")
        super().__init__(**kwargs)


class ItemInputSerializer(serializers.Serializer):
    rule = serializers.CharField(max_length=60, help_text="A city rule code")
    level = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    quantity = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None
    )
    date = serializers.DateField(required=False, allow_null=True, default=None)
    until = serializers.DateField(required=False, allow_null=True, default=None)
    statement = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)
    department = serializers.CharField(
        max_length=60, required=False, default="", allow_blank=True,
        help_text="Optionally one of the rule's routed departments",
    )  # fmt: skip
    evidence = EvidenceIdsField()


class SubmitSerializer(serializers.Serializer):
    items = ItemInputSerializer(many=True, max_length=MAX_LIST)
    evidence = EvidenceIdsField()


class FileClaimSerializer(SubmitSerializer):
    resident = serializers.UUIDField(
        required=False, help_text="Whose claim (window clerks only; a resident files their own)"
    )


class ProposedSerializer(serializers.Serializer):
    level = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    quantity = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None
    )
    date = serializers.DateField(required=False, allow_null=True, default=None)
    until = serializers.DateField(required=False, allow_null=True, default=None)


class CorrectionSerializer(serializers.Serializer):
    resident = serializers.UUIDField(required=False, help_text="Whose points (window clerks only)")
    fact = serializers.IntegerField(help_text="The disputed fact (a current fact of yours)")
    statement = serializers.CharField(max_length=4000)
    proposed = ProposedSerializer(required=False, allow_null=True, default=None)
    evidence = EvidenceIdsField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)


class RequiredReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, allow_blank=True)


class SupplementSerializer(serializers.Serializer):
    evidence = EvidenceIdsField()
    note = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)


class MaterialsRequestSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        max_length=100,
        help_text="Everything missing, listed at once (一次性告知)",
    )
    note = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)


class ItemDecisionSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    level = serializers.CharField(max_length=40, required=False, allow_null=True, default=None)
    quantity = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None
    )
    date = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)


class DecideSerializer(serializers.Serializer):
    decisions = ItemDecisionSerializer(many=True, max_length=100)
    reason = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # refused by the evidence store, with its own reason
        help_text="PDF, JPEG or PNG (decided from the content), ≤ 10 MB",
    )
    resident = serializers.UUIDField(required=False, help_text="Whose file (window clerks only)")
    claim = serializers.UUIDField(
        required=False, help_text="The claim it is for (the per-claim count limit applies)"
    )


STATE_CHOICES = ReviewState.choices
