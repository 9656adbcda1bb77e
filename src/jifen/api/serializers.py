"""What the API shows: masked identity and permit numbers; explanations as the user may read
them (:func:`jifen.accounts.access.visible_result`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jifen.accounts.access import visible_result
from jifen.facts.models import Fact
from jifen.residents.models import PermitStatusChange, ResidencePermit, Resident
from jifen.scores.models import Score


class ResidentSummarySerializer(serializers.ModelSerializer):
    """A search result: masked name and identity number only."""

    masked_name = serializers.CharField(read_only=True)
    masked_identity_number = serializers.CharField(read_only=True)
    town = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Resident
        fields = ["id", "masked_name", "masked_identity_number", "town"]


class ResidentSerializer(serializers.ModelSerializer):
    masked_identity_number = serializers.CharField(read_only=True)
    masked_phone = serializers.CharField(read_only=True)
    town = serializers.SlugRelatedField(slug_field="code", read_only=True)
    town_name = serializers.CharField(source="town.name", read_only=True)

    class Meta:
        model = Resident
        fields = [
            "id",
            "name",
            "masked_identity_number",
            "masked_phone",
            "sex",
            "birth_date",
            "town",
            "town_name",
        ]


class FactSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = Fact
        fields = [
            "id",
            "kind",
            "code",
            "key",
            "level",
            "quantity",
            "date",
            "until",
            "act",
            "department",
            "source",
            "batch",
            "source_ref",
            "recorded_at",
            "superseded_at",
            "superseded_by",
            "current",
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_current(self, fact: Fact) -> bool:
        return fact.superseded_at is None


class PermitStatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PermitStatusChange
        fields = ["status", "restored", "effective_on", "source", "source_ref", "reason"]


class PermitSerializer(serializers.ModelSerializer):
    masked_number = serializers.CharField(read_only=True)
    issuing_town = serializers.SlugRelatedField(slug_field="code", read_only=True)
    points_lapsed = serializers.BooleanField(read_only=True)
    history = PermitStatusChangeSerializer(many=True, read_only=True)

    class Meta:
        model = ResidencePermit
        fields = [
            "id",
            "masked_number",
            "issuing_town",
            "issued_on",
            "status",
            "status_since",
            "points_lapsed",
            "history",
        ]


class ScoreSerializer(serializers.ModelSerializer):
    result = serializers.SerializerMethodField(
        help_text="The engine's result with its explanation (deduction details withheld "
        "from users who may not read them)."
    )

    class Meta:
        model = Score
        fields = [
            "id",
            "evaluation_date",
            "review_date",
            "computed_at",
            "status",
            "lapse_reason",
            "lapsed_since",
            "total",
            "provincial_total",
            "city_bonus_total",
            "deductions_total",
            "provincial_policy",
            "provincial_hash",
            "city_policy",
            "city_hash",
            "reference_values",
            "is_current",
            "result",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_result(self, score: Score) -> dict[str, Any]:
        return visible_result(self.context["request"].user, score)


class CalculatorRequestSerializer(serializers.Serializer):
    profile = serializers.DictField(help_text="A score profile (format version 1).")
    on = serializers.DateField(
        required=False, help_text="Evaluation date (default: today in China)."
    )
    review_date = serializers.DateField(
        required=False, allow_null=True, help_text="Review date for deduction windows."
    )
