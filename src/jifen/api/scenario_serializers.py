"""Serializers of the scenarios API (``jifen.api.scenarios``)."""

from __future__ import annotations

from rest_framework import serializers

from jifen.api.errors import ProblemSerializer
from jifen.scenarios.models import Enrollment, ScenarioVersion


class QuotaSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    places = serializers.IntegerField()
    town = serializers.CharField(allow_null=True)


class ScenarioSerializer(serializers.Serializer):
    """A scenario with its published version (the rules residents apply under)."""

    id = serializers.IntegerField(source="scenario.pk")
    code = serializers.CharField(source="scenario.code")
    name = serializers.CharField(source="scenario.name")
    department = serializers.CharField(source="scenario.department.code")
    version = serializers.IntegerField(source="number")
    content_hash = serializers.CharField()
    open_from = serializers.DateTimeField()
    open_until = serializers.DateTimeField(help_text="exclusive")
    evaluation_date = serializers.DateField()
    review_date = serializers.DateField()
    rules_text = serializers.SerializerMethodField()
    rules_url = serializers.SerializerMethodField()
    eligibility = serializers.JSONField(source="content.eligibility")
    quotas = QuotaSerializer(source="content.quotas", many=True)
    preferences_max = serializers.IntegerField()
    state = serializers.SerializerMethodField(help_text="not_open_yet, open or closed")

    def get_rules_text(self, version: ScenarioVersion) -> str:
        return version.content.get("rules_text", "")

    def get_rules_url(self, version: ScenarioVersion) -> str:
        return version.content.get("rules_url", "")

    def get_state(self, version: ScenarioVersion) -> str:
        now = self.context["now"]
        if now < version.open_from:
            return "not_open_yet"
        return "open" if now < version.open_until else "closed"


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class EnrollmentSerializer(serializers.ModelSerializer):
    scenario = serializers.CharField(source="scenario.code")
    version = serializers.IntegerField(source="version.number")
    block_reasons = ReasonSerializer(many=True)
    eligibility_reasons = ReasonSerializer(many=True)
    points = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    breakdown = serializers.DictField(child=serializers.CharField())
    details = serializers.DictField()
    preferences = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "number",
            "scenario",
            "version",
            "status",
            "applied_at",
            "channel",
            "details",
            "preferences",
            "block_reasons",
            "eligibility_reasons",
            "points",
            "breakdown",
            "evaluated_at",
        ]


class EnrollSerializer(serializers.Serializer):
    resident = serializers.UUIDField(
        required=False, help_text="A window clerk names the resident; a resident leaves it out"
    )
    details = serializers.DictField(
        required=False, default=dict, help_text='e.g. {"child_birth_date": "2019-12-01"}'
    )
    preferences = serializers.ListField(
        child=serializers.CharField(max_length=80), required=False, default=list, max_length=50
    )


class EnrollmentConflictSerializer(ProblemSerializer):
    """A 409 of enrollment: the problem, with the existing enrollment when already enrolled."""

    enrollment = EnrollmentSerializer(
        required=False, help_text="the existing enrollment (scenarios.already_enrolled only)"
    )


class PublicRowSerializer(serializers.Serializer):
    number = serializers.CharField()
    name = serializers.CharField(help_text="masked: the surname and one * per other character")
    rank = serializers.IntegerField()
    points = serializers.CharField()
    breakdown = serializers.DictField(child=serializers.CharField())
    allocation = serializers.CharField()


class ColumnSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class PublicListSerializer(serializers.Serializer):
    title = serializers.CharField()
    scenario = serializers.CharField()
    scenario_code = serializers.CharField()
    version = serializers.IntegerField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    reexamination_filing_until = serializers.DateField()
    reexamination_until = serializers.DateField()
    content_hash = serializers.CharField()
    cutoff_points = serializers.CharField(allow_null=True)
    corrected = serializers.BooleanField()
    correction_reason = serializers.CharField()
    changes = serializers.ListField(child=serializers.DictField())
    columns = ColumnSerializer(many=True)
    total = serializers.IntegerField()
    offset = serializers.IntegerField()
    rows = PublicRowSerializer(many=True)


class ReexaminationFileSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=60, help_text="a key of the entry's breakdown")
    statement = serializers.CharField(max_length=4000, allow_blank=True)
    evidence = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=20,
        help_text="ids of files uploaded with POST /api/evidence/",
    )


class ReexaminationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    enrollment = serializers.CharField(source="enrollment.number")
    item = serializers.CharField()
    statement = serializers.CharField()
    department = serializers.CharField(source="department.code")
    state = serializers.CharField()
    filed_at = serializers.DateTimeField()
    filing_deadline = serializers.DateField()
    due_on = serializers.DateField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    changes = serializers.DictField()
    corrected_publication = serializers.IntegerField(
        source="corrected_publication_id", allow_null=True
    )


class ReexaminationFactSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=80)
    key = serializers.CharField(max_length=200, required=False, default="")
    level = serializers.CharField(max_length=60, required=False, default="")
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None
    )
    date = serializers.DateField(required=False, allow_null=True, default=None)


class ReexaminationDecideSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=12, help_text="upheld or dismissed")
    reason = serializers.CharField(max_length=4000, allow_blank=True)
    changes = ReexaminationFactSerializer(many=True, required=False, default=list)


class PublicationDatesSerializer(serializers.Serializer):
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class RankingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scenario = serializers.CharField(source="version.scenario.code")
    version = serializers.IntegerField(source="version.number")
    sequence = serializers.IntegerField()
    state = serializers.CharField()
    frozen_at = serializers.DateTimeField()
    content_hash = serializers.CharField()
    entry_count = serializers.IntegerField()
    admitted_count = serializers.IntegerField()
    cutoff_points = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    cutoff_tiebreak = serializers.JSONField(allow_null=True)
    publication = serializers.SerializerMethodField()

    def get_publication(self, ranking) -> int | None:
        publication = getattr(ranking, "publication", None)
        return publication.pk if publication is not None else None
