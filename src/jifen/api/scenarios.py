"""The scenarios REST API: open scenarios, enrollment (idempotent), my enrollments, the public
masked list of a publication (no login), re-examination requests, and the staff steps (freeze,
publish, accept, decide). Thin adapters over the services of ``jifen.scenarios``,
``jifen.rankings`` and ``jifen.reexaminations``, scoped by :mod:`jifen.accounts.access`.

Refusals are ``{"field", "code", "detail"}`` (:mod:`jifen.api.errors`) with the domain
error's status (400 bad input, 403 role, 404 out of scope — both audited ``access.denied`` —,
409 conflicts with the state or the open period, 422 refused by the rules). A second enrollment
of the same resident answers 409 ``scenarios.already_enrolled`` with the existing
``enrollment``. An endpoint of one object looks the object up before it reads the body.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jifen.accounts import access, auditing, clock
from jifen.accounts import access as scope
from jifen.accounts.models import Role
from jifen.api import scenario_serializers as s
from jifen.api.claims import ERRORS, ClaimsAPIView
from jifen.api.errors import problem, refusal, refusals
from jifen.api.idempotency import idempotent
from jifen.evidence.models import Evidence
from jifen.rankings.errors import NotPublic
from jifen.scenarios import services as scenarios
from jifen.scenarios.errors import AlreadyEnrolled
from jifen.scenarios.models import ScenarioVersion, VersionStatus
from jifen.web.scenarios_common import DOMAIN_ERRORS

FILERS = frozenset({Role.RESIDENT, Role.CLERK})
STAFF = frozenset({Role.REVIEWER, Role.CENTER})
CENTER = frozenset({Role.CENTER})
READERS = frozenset({Role.RESIDENT, Role.CLERK, Role.REVIEWER, Role.CENTER})
PUBLIC_LIMIT = 1000


def responses(ok: Any, code: int = 200) -> dict[int, Any]:
    return {code: ok, **ERRORS}


class ScenariosAPIView(ClaimsAPIView):
    """Domain errors of the four apps as ``{field, code, detail}``; ``*.not_allowed`` is a
    403 with an ``access.denied`` entry."""

    allowed_roles = READERS

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, AlreadyEnrolled) and exc.enrollment is not None:
            body = {
                "field": exc.field,
                "code": exc.code,
                "detail": str(exc.message),
                "enrollment": s.EnrollmentSerializer(exc.enrollment).data,
            }
            return Response(body, status=status.HTTP_409_CONFLICT)
        if isinstance(exc, DOMAIN_ERRORS):
            if exc.code.endswith(".not_allowed"):
                auditing.access_denied(self.request, reason="not_allowed")
                return problem(exc.field, exc.code, exc.message, status.HTTP_403_FORBIDDEN)
            return problem(exc.field, exc.code, exc.message, exc.status)
        return super().handle_exception(exc)


# --- scenarios and enrollment ---------------------------------------------------------------


class ScenarioListView(ScenariosAPIView):
    @extend_schema(
        summary="Scenarios with a published version (staff: those within your responsibility)",
        responses={200: s.ScenarioSerializer(many=True), **refusals(403)},
    )
    def get(self, request: Request) -> Response:
        versions = (
            ScenarioVersion.objects.filter(
                status=VersionStatus.PUBLISHED, scenario__in=scope.scenarios_for(request.user)
            )
            .select_related("scenario", "scenario__department")
            .order_by("open_from", "scenario__code")
        )
        context = {"now": clock.now()}
        return Response(s.ScenarioSerializer(versions, many=True, context=context).data)


class EnrollView(ScenariosAPIView):
    allowed_roles = FILERS

    @extend_schema(
        summary="Apply to a scenario inside its open period (one enrollment per resident)",
        request=s.EnrollSerializer,
        responses={
            201: s.EnrollmentSerializer,
            **ERRORS,
            409: OpenApiResponse(
                s.EnrollmentConflictSerializer,
                description="outside the open period (both dates in the detail), already "
                "enrolled (with the existing enrollment)",
            ),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        version = scope.published_version_or_404(request, pk)
        data = self.valid(s.EnrollSerializer)
        resident = self.filing_resident(data.get("resident"))
        enrollment = scenarios.enroll(
            scenario=version.scenario,
            version=version,
            resident=resident,
            user=request.user,
            details=data.get("details") or {},
            preferences=data.get("preferences") or [],
            now=clock.now(),
        )
        return Response(s.EnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED)


class MyEnrollmentsView(ScenariosAPIView):
    allowed_roles = frozenset({Role.RESIDENT})

    @extend_schema(
        summary="Your enrollments with status, blockers and the points used",
        responses={200: s.EnrollmentSerializer(many=True), **refusals(403)},
    )
    def get(self, request: Request) -> Response:
        enrollments = scope.enrollments_for(request.user).order_by("-applied_at")
        return Response(s.EnrollmentSerializer(enrollments, many=True).data)


class EnrollmentDetailView(ScenariosAPIView):
    @extend_schema(
        summary="One enrollment within your responsibility",
        responses={200: s.EnrollmentSerializer, **refusals(403, 404)},
    )
    def get(self, request: Request, pk) -> Response:
        enrollment = scope.enrollment_or_404(request, pk)
        return Response(s.EnrollmentSerializer(enrollment).data)


# --- the public list -------------------------------------------------------------------------


class PublicListView(APIView):
    """The public masked list: no login; only the rows of ``public_rows``."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="The public list of a publication (masked names; served while it is public)",
        parameters=[
            OpenApiParameter("offset", OpenApiTypes.INT),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"at most {PUBLIC_LIMIT}"),
        ],
        responses={
            200: s.PublicListSerializer,
            **refusals(400),
            404: refusal("not public (not started, taken down, unknown)"),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        from jifen.rankings.exports import api_data

        try:
            offset = max(0, int(request.query_params.get("offset", 0)))
            limit = min(PUBLIC_LIMIT, max(1, int(request.query_params.get("limit", PUBLIC_LIMIT))))
        except ValueError:
            return problem("offset", "invalid", _("Offset and limit must be whole numbers."))
        try:
            data = api_data(pk, now=clock.now(), offset=offset, limit=limit)
        except NotPublic as exc:
            return problem(None, exc.code, exc.message, status.HTTP_404_NOT_FOUND)
        return Response(data)


# --- re-examinations ---------------------------------------------------------------------------


class ReexaminationFileView(ScenariosAPIView):
    allowed_roles = FILERS

    @extend_schema(
        summary="Request a re-examination of one item of a published enrollment (3 working "
        "days from the first day of publication; evidence required)",
        request=s.ReexaminationFileSerializer,
        responses=responses(s.ReexaminationSerializer, 201),
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        from jifen.web.scenarios_portal import current_entry

        enrollment = scope.enrollment_or_404(request, pk)
        data = self.valid(s.ReexaminationFileSerializer)
        files = self.evidence_of(data["evidence"])
        entry = current_entry(enrollment)
        if entry is None:
            return problem(
                "enrollment", "reexaminations.invalid", _("Not on a published list."), 409
            )
        from jifen.reexaminations.services import file_reexamination

        reexamination = file_reexamination(
            publication=entry.ranking.publication,
            enrollment=enrollment,
            user=request.user,
            item=data["item"],
            statement=data["statement"],
            evidence=files,
            now=clock.now(),
        )
        return Response(s.ReexaminationSerializer(reexamination).data, status=201)

    def evidence_of(self, ids: list) -> list[Evidence]:
        found = {e.pk: e for e in access.evidence_for(self.request.user).filter(pk__in=ids)}
        for index, pk in enumerate(ids):
            if pk not in found:
                raise exceptions.ValidationError(
                    {f"evidence[{index}]": [_("No such evidence file of yours.")]}
                )
        return [found[pk] for pk in ids]


class ReexaminationListView(ScenariosAPIView):
    @extend_schema(
        summary="Re-examinations within your responsibility (a reviewer: routed to your "
        "department; a resident: your own)",
        parameters=[OpenApiParameter("state", str)],
        responses={200: s.ReexaminationSerializer(many=True), **refusals(403)},
    )
    def get(self, request: Request) -> Response:
        items = scope.reexaminations_for(request.user).select_related("enrollment", "department")
        if request.query_params.get("state"):
            items = items.filter(state=request.query_params["state"])
        return Response(s.ReexaminationSerializer(items.order_by("due_on")[:500], many=True).data)


class ReexaminationAcceptView(ScenariosAPIView):
    allowed_roles = STAFF

    @extend_schema(
        summary="Accept a re-examination",
        request=None,
        responses=responses(s.ReexaminationSerializer),
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        from jifen.reexaminations.services import accept

        r = scope.reexamination_or_404(request, pk)
        r = accept(r, user=request.user, now=clock.now())
        return Response(s.ReexaminationSerializer(r).data)


class ReexaminationDecideView(ScenariosAPIView):
    allowed_roles = STAFF

    @extend_schema(
        summary="Decide an accepted re-examination: upheld (with the corrected facts; the "
        "corrected list is published) or dismissed, with the reason",
        request=s.ReexaminationDecideSerializer,
        responses=responses(s.ReexaminationSerializer),
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        from jifen.reexaminations.services import FactChange, decide

        r = scope.reexamination_or_404(request, pk)
        data = self.valid(s.ReexaminationDecideSerializer)
        changes = [FactChange(**change) for change in data["changes"]]
        r = decide(
            r,
            user=request.user,
            outcome=data["outcome"],
            reason=data["reason"],
            changes=changes,
            now=clock.now(),
        )
        return Response(s.ReexaminationSerializer(r).data)


# --- rankings (the center) ------------------------------------------------------------------


class FreezeView(ScenariosAPIView):
    allowed_roles = CENTER

    @extend_schema(
        summary="Freeze the ranking of the scenario's published version",
        request=None,
        responses=responses(s.RankingSerializer, 201),
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        from jifen.rankings.services import freeze_ranking

        scenario = scope.scenario_or_404(request, pk)
        version = scenarios.published_version(scenario)
        ranking = freeze_ranking(version=version, user=request.user, now=clock.now())
        return Response(s.RankingSerializer(ranking).data, status=201)


class PublishView(ScenariosAPIView):
    allowed_roles = CENTER

    @extend_schema(
        summary="Publish a frozen list (at least 5 working days)",
        request=s.PublicationDatesSerializer,
        responses=responses(s.RankingSerializer),
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        from jifen.rankings.services import publish

        ranking = scope.ranking_or_404(request, pk)
        data = self.valid(s.PublicationDatesSerializer)
        publish(
            ranking=ranking,
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            user=request.user,
            now=clock.now(),
        )
        return Response(s.RankingSerializer(scope.rankings_for(request.user).get(pk=pk)).data)


class RankingDetailView(ScenariosAPIView):
    allowed_roles = STAFF

    @extend_schema(
        summary="A frozen list (hash, cut-off, publication)",
        responses={200: s.RankingSerializer, **refusals(403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.RankingSerializer(scope.ranking_or_404(request, pk)).data)
