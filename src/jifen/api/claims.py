"""The claims REST API: residents and window clerks file claims and corrections, upload
evidence, withdraw and supplement; reviewers work their department's task queue; the center
sees everything. Thin adapters over :mod:`jifen.claims.services`, :mod:`jifen.evidence` and
:mod:`jifen.accounts.access`.

Every state-changing endpoint takes an ``Idempotency-Key`` (:func:`idempotent`). Refusals are
``{"field", "code", "detail"}`` (:mod:`jifen.api.errors`): 400 bad input, 409 a conflict with
the current state, 422 what the policy or the configuration refuses; out of scope is 404, a
wrong role 403 (both audited ``access.denied``). An endpoint of one object looks the object up
before it reads the body: whoever may not see it gets 404 whatever they send.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from jifen.accounts import access, auditing, clock
from jifen.accounts.models import Role
from jifen.api import claim_serializers as s
from jifen.api.errors import problem, refusals
from jifen.api.idempotency import idempotent
from jifen.api.parsers import DecimalJSONParser
from jifen.api.permissions import RoleAllowed
from jifen.claims import services
from jifen.claims.errors import ClaimError, NotAllowed
from jifen.claims.models import Claim, ReviewState, ReviewTask
from jifen.evidence.errors import EvidenceRefused, EvidenceUnavailable
from jifen.evidence.models import Evidence
from jifen.evidence.services import check_count, open_evidence, store_upload
from jifen.facts.models import Fact
from jifen.scores.errors import ScoreError

FILERS = frozenset({Role.RESIDENT, Role.CLERK})
REVIEWERS = frozenset({Role.REVIEWER, Role.CENTER})
CLAIM_READERS = frozenset({Role.RESIDENT, Role.CLERK, Role.REVIEWER, Role.CENTER})
LIST_LIMIT = 200
SOON_WORKDAYS = 3


ERRORS = refusals(400, 403, 404, 409, 422)


def responses(ok: Any, code: int = 200) -> dict[int, Any]:
    return {code: ok, **ERRORS}


class ClaimsAPIView(GenericAPIView):
    """Base: role check, JSON with exact decimals, domain errors as ``{field, code, detail}``
    (DRF's own refusals get the same shape from :func:`jifen.api.errors.exception_handler`)."""

    permission_classes = [RoleAllowed]
    allowed_roles = CLAIM_READERS
    parser_classes = [DecimalJSONParser]
    pagination_class = None

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, NotAllowed):
            auditing.access_denied(self.request, reason="not_allowed")
            return problem(exc.field, exc.code, exc.message, status.HTTP_403_FORBIDDEN)
        if isinstance(exc, ClaimError):
            return problem(exc.field, exc.code, exc.message, exc.status)
        if isinstance(exc, EvidenceRefused):
            code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE if exc.reason == "size" else 400
            return problem(exc.field, exc.code, exc.message, code)
        if isinstance(exc, EvidenceUnavailable):
            return problem(None, exc.code, exc, status.HTTP_410_GONE)
        if isinstance(exc, ScoreError):  # no policy in force on the day
            return problem(None, "claims.no_policy", exc, 422)
        return super().handle_exception(exc)  # DRF's refusals: jifen.api.errors

    def valid(self, serializer_class: type, data: Any = None) -> dict[str, Any]:
        serializer = serializer_class(
            data=self.request.data if data is None else data, context={"request": self.request}
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    # --- helpers used by several endpoints ------------------------------------------------

    def filing_resident(self, given: Any):
        """Whose claim: a resident their own; a clerk names a resident of their town."""
        user = self.request.user
        if user.role == Role.RESIDENT:
            if given is not None and str(given) != str(user.resident_id):
                raise access.not_found(self.request, "residents.resident", given)
            return access.resident_or_404(self.request, user.resident_id)
        if given is None:
            raise exceptions.ValidationError(
                {"resident": [_("A window clerk names the resident.")]}
            )
        return access.resident_or_404(self.request, given)

    def evidence_list(self, ids: list, *, field: str = "evidence") -> list[Evidence]:
        check_count(len(ids), field=field)
        if not ids:
            return []
        found = {e.pk: e for e in access.evidence_for(self.request.user).filter(pk__in=ids)}
        for index, pk in enumerate(ids):
            if pk not in found:
                raise ClaimError(
                    _("No such evidence file of yours."),
                    field=f"{field}[{index}]",
                    code="evidence.unknown",
                )
        return [found[pk] for pk in ids]


def _claim_data(view: ClaimsAPIView, claim: Claim, code: int = 200) -> Response:
    claim = access.claims_for(view.request.user).get(pk=claim.pk)
    return Response(s.ClaimSerializer(claim, context={"request": view.request}).data, status=code)


def _task_data(view: ClaimsAPIView, task: ReviewTask) -> Response:
    task = access.tasks_for(view.request.user).get(pk=task.pk)
    return Response(s.TaskDetailSerializer(task, context={"request": view.request}).data)


# --- claims (residents, clerks; every role reads within scope) -----------------------------


class ClaimListView(ClaimsAPIView):
    @property
    def allowed_roles(self) -> frozenset[str]:
        return FILERS if self.request.method == "POST" else CLAIM_READERS

    @extend_schema(
        summary="Claims within your responsibility (a resident: your own), newest first",
        parameters=[
            OpenApiParameter("status", str, enum=["draft", "submitted", "decided", "withdrawn"]),
            OpenApiParameter("kind", str, enum=["claim", "correction"]),
        ],
        responses={200: s.ClaimSummarySerializer(many=True), **refusals(403)},
    )
    def get(self, request: Request) -> Response:
        claims = access.claims_for(request.user)
        for name in ("status", "kind"):
            if request.query_params.get(name):
                claims = claims.filter(**{name: request.query_params[name]})
        claims = claims.order_by("-created_at", "id")[:LIST_LIMIT]
        return Response(s.ClaimSummarySerializer(claims, many=True).data)

    @extend_schema(
        summary="Start a claim: save the half-filled wizard as a draft",
        request=s.DraftCreateSerializer,
        responses=responses(s.ClaimSerializer, 201),
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = self.valid(s.DraftCreateSerializer)
        resident = self.filing_resident(data.get("resident"))
        claim = services.save_draft(
            resident=resident, user=request.user, data=data["draft"], claim=None, now=clock.now()
        )
        return _claim_data(self, claim, 201)


class ClaimFileView(ClaimsAPIView):
    allowed_roles = FILERS

    @extend_schema(
        summary="File a claim in one step (a window clerk names the resident)",
        request=s.FileClaimSerializer,
        responses=responses(s.ClaimSerializer, 201),
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = self.valid(s.FileClaimSerializer)
        resident = self.filing_resident(data.get("resident"))
        claim = services.submit_claim(
            resident=resident,
            user=request.user,
            items=_items(self, data["items"]),
            evidence=self.evidence_list(data["evidence"]),
            now=clock.now(),
        )
        return _claim_data(self, claim, 201)


def _items(view: ClaimsAPIView, items: list[dict[str, Any]]) -> list[services.ClaimItemInput]:
    return [
        services.ClaimItemInput(
            rule=item["rule"],
            level=item["level"],
            quantity=item["quantity"],
            date=item["date"],
            until=item["until"],
            statement=item["statement"],
            department=item["department"],
            evidence=view.evidence_list(item["evidence"], field=f"items[{index}].evidence"),
        )
        for index, item in enumerate(items)
    ]


class ClaimDetailView(ClaimsAPIView):
    @extend_schema(
        summary="A claim (a reviewer sees only their department's items, tasks and files)",
        responses={200: s.ClaimSerializer, **refusals(403, 404)},
    )
    def get(self, request: Request, pk) -> Response:
        claim = access.claim_or_404(request, pk)
        if request.user.role != Role.RESIDENT:
            auditing.resident_event(
                "resident.viewed",
                request,
                claim.resident,
                data={"view": "claim", "claim": str(claim.pk)},
            )
        return _claim_data(self, claim)


class ClaimDraftView(ClaimsAPIView):
    allowed_roles = FILERS

    @extend_schema(
        summary="Save the draft again (the wizard's state)",
        request=s.DraftUpdateSerializer,
        responses=responses(s.ClaimSerializer),
    )
    @idempotent
    def put(self, request: Request, pk) -> Response:
        claim = access.claim_or_404(request, pk)
        data = self.valid(s.DraftUpdateSerializer)
        claim = services.save_draft(
            resident=claim.resident,
            user=request.user,
            data=data["draft"],
            claim=claim,
            now=clock.now(),
        )
        return _claim_data(self, claim)


class ClaimSubmitView(ClaimsAPIView):
    allowed_roles = FILERS

    @extend_schema(
        summary="Submit a draft with its items and evidence: routed, one task per department",
        request=s.SubmitSerializer,
        responses=responses(s.ClaimSerializer),
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        claim = access.claim_or_404(request, pk)
        data = self.valid(s.SubmitSerializer)
        claim = services.submit_claim(
            resident=claim.resident,
            user=request.user,
            items=_items(self, data["items"]),
            evidence=self.evidence_list(data["evidence"]),
            claim=claim,
            now=clock.now(),
        )
        return _claim_data(self, claim)


class ClaimWithdrawView(ClaimsAPIView):
    allowed_roles = FILERS

    @extend_schema(
        summary="Withdraw a claim before its decision",
        request=s.ReasonSerializer,
        responses=responses(s.ClaimSerializer),
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        claim = access.claim_or_404(request, pk)
        data = self.valid(s.ReasonSerializer)
        claim = services.withdraw(claim, user=request.user, reason=data["reason"], now=clock.now())
        return _claim_data(self, claim)


class CorrectionView(ClaimsAPIView):
    allowed_roles = FILERS

    @extend_schema(
        summary="Dispute a scored item or report changed circumstances (积分异议/变更)",
        request=s.CorrectionSerializer,
        responses=responses(s.ClaimSerializer, 201),
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = self.valid(s.CorrectionSerializer)
        resident = self.filing_resident(data.get("resident"))
        fact = access.facts_for(request.user, resident).filter(pk=data["fact"]).first()
        if fact is None:
            raise access.not_found(request, "facts.fact", data["fact"])
        proposed = data.get("proposed")
        claim = services.file_correction(
            resident=resident,
            user=request.user,
            fact=Fact.objects.select_related("department").get(pk=fact.pk),
            statement=data["statement"],
            proposed=services.ClaimItemInput(rule=fact.code, **proposed) if proposed else None,
            evidence=self.evidence_list(data["evidence"]),
            now=clock.now(),
        )
        return _claim_data(self, claim, 201)


# --- evidence ------------------------------------------------------------------------------


class EvidenceUploadView(ClaimsAPIView):
    allowed_roles = FILERS
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Upload an evidence file (PDF, JPEG, PNG by content; ≤ 10 MB)",
        request={"multipart/form-data": s.EvidenceUploadSerializer},
        responses={
            **responses(s.EvidenceSerializer, 201),
            **refusals(413),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            return problem("file", "evidence.missing", _("Choose a file to upload."))
        data = self.valid(s.EvidenceUploadSerializer)
        resident = self.filing_resident(data.get("resident"))
        attached = 0
        if data.get("claim"):
            claim = access.claim_or_404(request, data["claim"])
            if claim.resident_id != resident.pk:
                raise access.not_found(request, "claims.claim", data["claim"])
            attached = claim.evidence_links.count()
        evidence = store_upload(
            upload,
            resident=resident,
            user=request.user,
            now=clock.now(),
            already_attached=attached,
            request=request,
        )
        return Response(s.EvidenceSerializer(evidence).data, status=201)


class EvidenceDownloadView(ClaimsAPIView):
    @extend_schema(
        summary="Download an evidence file (an attachment with a generated name)",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            **refusals(403, 404, 410),
        },
    )
    def get(self, request: Request, pk):
        evidence = access.evidence_or_404(request, pk)
        return open_evidence(evidence, user=request.user, request=request, now=clock.now())


# --- review (reviewers of the task's department, the center) -------------------------------

TASK_PARAMETERS = [
    OpenApiParameter("state", str, enum=list(ReviewState.values), description="task state"),
    OpenApiParameter(
        "due",
        str,
        enum=["today", "soon", "overdue"],
        description="open tasks due today, within 3 working days, or past their due date",
    ),
    OpenApiParameter("department", str, description="department code (the center)"),
]


def _due_filter(tasks: QuerySet, due: str, today: dt.date) -> QuerySet:
    open_tasks = tasks.filter(state=ReviewState.ACCEPTED)
    if due == "today":
        return open_tasks.filter(due_on=today)
    if due == "overdue":
        return open_tasks.filter(due_on__lt=today)
    if due == "soon":
        from jifen.calendars.services import deadline

        try:
            limit = deadline(today, SOON_WORKDAYS).due_on
        except Exception:  # calendar gap: shown to the center as a configuration problem
            limit = today + dt.timedelta(days=SOON_WORKDAYS)
        return open_tasks.filter(due_on__gte=today, due_on__lte=limit)
    raise exceptions.ValidationError({"due": [_("Choose one of: today, soon, overdue.")]})


class TaskListView(ClaimsAPIView):
    allowed_roles = REVIEWERS

    @extend_schema(
        summary="The review queue of your department (the center: all), oldest first",
        parameters=TASK_PARAMETERS,
        responses={200: s.ReviewTaskSerializer(many=True), **refusals(400, 403)},
    )
    def get(self, request: Request) -> Response:
        tasks = access.tasks_for(request.user)
        params = request.query_params
        if params.get("state"):
            if params["state"] not in ReviewState.values:
                raise exceptions.ValidationError({"state": [_("Unknown task state.")]})
            tasks = tasks.filter(state=params["state"])
        if params.get("due"):
            tasks = _due_filter(tasks, params["due"], clock.china_today())
        if params.get("department"):
            tasks = tasks.filter(department__code=params["department"])
        tasks = tasks.order_by("due_on", "created_at", "id")[:LIST_LIMIT]
        return Response(s.ReviewTaskSerializer(tasks, many=True, context={"request": request}).data)


class TaskView(ClaimsAPIView):
    allowed_roles = REVIEWERS

    def task(self, pk) -> ReviewTask:
        return access.task_or_404(self.request, pk)


class TaskDetailView(TaskView):
    @extend_schema(
        summary="A review task with its items and the files you may open",
        responses={200: s.TaskDetailSerializer, **refusals(403, 404)},
    )
    def get(self, request: Request, pk) -> Response:
        task = self.task(pk)
        auditing.resident_event(
            "resident.viewed",
            request,
            task.claim.resident,
            data={"view": "review_task", "task": task.pk},
        )
        return _task_data(self, task)


class TaskAcceptView(TaskView):
    @extend_schema(
        summary="Accept (受理): the deadline is 10 working days later",
        request=None,
        responses=responses(s.TaskDetailSerializer),
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        task = services.accept(self.task(pk), user=request.user, now=clock.now())
        return _task_data(self, task)


class TaskRefuseView(TaskView):
    @extend_schema(
        summary="Refuse to accept a submitted task, with a reason the resident sees",
        request=s.RequiredReasonSerializer,
        responses=responses(s.TaskDetailSerializer),
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        task = self.task(pk)
        data = self.valid(s.RequiredReasonSerializer)
        task = services.refuse(task, user=request.user, reason=data["reason"], now=clock.now())
        return _task_data(self, task)


class TaskMaterialsView(TaskView):
    @extend_schema(
        summary="The one materials notice (一次性告知): everything missing at once",
        request=s.MaterialsRequestSerializer,
        responses=responses(s.TaskDetailSerializer),
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        task = self.task(pk)
        data = self.valid(s.MaterialsRequestSerializer)
        services.request_materials(
            task, user=request.user, items=data["items"], note=data["note"], now=clock.now()
        )
        return _task_data(self, task)


class TaskExtendView(TaskView):
    @extend_schema(
        summary="Extend the deadline once by 5 working days, with a reason",
        request=s.RequiredReasonSerializer,
        responses=responses(s.TaskDetailSerializer),
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        task = self.task(pk)
        data = self.valid(s.RequiredReasonSerializer)
        task = services.extend(task, user=request.user, reason=data["reason"], now=clock.now())
        return _task_data(self, task)


class TaskDecideView(TaskView):
    @extend_schema(
        summary="Decide every item: approve, adjust (with a reason) or reject (with a reason)",
        request=s.DecideSerializer,
        responses=responses(s.TaskDetailSerializer),
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        task = self.task(pk)
        data = self.valid(s.DecideSerializer)
        decisions = [services.ItemDecision(**d) for d in data["decisions"]]
        task = services.decide(
            task,
            user=request.user,
            decisions=decisions,
            reason=data["reason"],
            now=clock.now(),
        )
        return _task_data(self, task)


class TaskSupplementView(ClaimsAPIView):
    allowed_roles = FILERS

    @extend_schema(
        summary="Answer the materials notice with files and a note (the resident or clerk)",
        request=s.SupplementSerializer,
        responses=responses(s.ClaimSerializer),
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        task = access.task_or_404(request, pk)
        data = self.valid(s.SupplementSerializer)
        task = services.supplement(
            task,
            user=request.user,
            evidence=self.evidence_list(data["evidence"]),
            note=data["note"],
            now=clock.now(),
        )
        return _claim_data(self, task.claim)
