"""The review workbench (审核): the queue of a department (the center: every department), the
review page with the evidence viewer, the steps (accept, refuse, the one materials notice,
the one extension, the decision per item) and the history of the task; the evidence
download view every role uses.

Tasks, items and files come from :mod:`jifen.accounts.access` (a reviewer sees their
department's tasks only; another department's task is "not found"); every step is a service
of :mod:`jifen.claims.services`, whose errors are shown next to the field they name, with
nothing changed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jifen.accounts import access, clock
from jifen.accounts.models import Role, User
from jifen.audit.models import AuditEntry
from jifen.claims import dashboard, services
from jifen.claims.errors import ClaimError
from jifen.claims.models import OPEN_STATES, Outcome, ReviewState, ReviewTask
from jifen.evidence.errors import EvidenceUnavailable
from jifen.evidence.services import open_evidence
from jifen.org.models import Department
from jifen.web.claims_portal import FieldErrors, city_policy, describe_item, error_of

REVIEW_ROLES = frozenset({Role.REVIEWER, Role.CENTER})
QUEUE_PAGE = 50
_DECISION_FIELD = re.compile(r"^decisions\[(\d+)\]\.(\w+)$")

#: What the history shows for each audited step.
ACTION_LABELS = {
    "claim.draft_created": gettext_lazy("draft started"),
    "claim.submitted": gettext_lazy("application submitted"),
    "correction.filed": gettext_lazy("correction request submitted"),
    "claim.accepted": gettext_lazy("accepted"),
    "claim.refused": gettext_lazy("not accepted"),
    "claim.materials_requested": gettext_lazy("materials requested"),
    "claim.supplemented": gettext_lazy("materials supplemented"),
    "claim.extended": gettext_lazy("deadline extended"),
    "claim.decided": gettext_lazy("decided"),
    "claim.withdrawn": gettext_lazy("withdrawn"),
    "review.overdue": gettext_lazy("flagged overdue"),
}


# --- the queue ------------------------------------------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """Review tasks of the user's department (the center: all), filtered by state, deadline
    and (the center) department; the open ones first, the earliest deadline first."""
    access.require_role(request, REVIEW_ROLES)
    user = request.user
    tasks = access.tasks_for(user)
    state = request.GET.get("state", "open")
    if state == "open":
        tasks = tasks.filter(state__in=OPEN_STATES)
    elif state in ReviewState.values:
        tasks = tasks.filter(state=state)
    else:
        state = "all"
    window = dashboard.due_window(clock.china_today(), now=clock.now())
    due = request.GET.get("due", "")
    if due in dashboard.DUE_FILTERS:
        tasks = dashboard.filter_due(tasks, due, window)
    else:
        due = ""
    departments: list[Department] = []
    department = ""
    if access.role_of(user) == Role.CENTER:
        departments = list(
            Department.objects.filter(pk__in=tasks.values("department")).order_by("code")
        )
        department = request.GET.get("department", "")
        if department:
            tasks = tasks.filter(department__code=department)
    tasks = tasks.select_related("claim", "claim__resident", "department").order_by(
        F("due_on").asc(nulls_last=True), "created_at", "pk"
    )
    page = Paginator(tasks, QUEUE_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "state": state,
        "states": [("open", _("open")), ("all", _("all")), *ReviewState.choices],
        "due": due,
        "dues": [
            ("", _("any deadline")),
            ("today", _("due today")),
            ("soon", _("due within 3 working days")),
            ("overdue", _("overdue")),
        ],
        "window": window,
        "departments": departments,
        "department": department,
        "today": window.today,
        "center": access.role_of(user) == Role.CENTER,
    }
    template = "web/review/_queue_rows.html" if request.headers.get("HX-Request") else None
    return render(request, template or "web/review/queue.html", context)


# --- the review page ------------------------------------------------------------------------


def history(task: ReviewTask) -> list[dict[str, Any]]:
    """The audit entries of the task and of its claim (without other departments' tasks)."""
    entries = list(
        AuditEntry.objects.filter(
            Q(object_type="claims.reviewtask", object_id=str(task.pk))
            | Q(object_type="claims.claim", object_id=str(task.claim_id))
        ).order_by("sequence")
    )
    user_ids = {e.actor_id for e in entries if e.actor_kind == "user"}
    users = {str(u.pk): u for u in User.objects.filter(pk__in=[i for i in user_ids if i.isdigit()])}
    rows = []
    for entry in entries:
        data = entry.data if isinstance(entry.data, dict) else {}
        actor = users.get(entry.actor_id) if entry.actor_kind == "user" else None
        rows.append(
            {
                "entry": entry,
                "label": ACTION_LABELS.get(entry.action, entry.action),
                "actor": actor.username if actor else entry.actor_id,
                "role": actor.get_role_display() if actor else entry.actor_kind,
                "unit": entry.actor_unit,
                "before": _state_label(data.get("before")),
                "after": _state_label(data.get("after")),
                "due_on": data.get("due_on", ""),
            }
        )
    return rows


def _state_label(value: Any) -> str:
    if value in ReviewState.values:
        return str(ReviewState(value).label)
    from jifen.claims.models import ClaimStatus

    if value in ClaimStatus.values:
        return str(ClaimStatus(value).label)
    return ""


def task_context(request: HttpRequest, task: ReviewTask) -> dict[str, Any]:
    user = request.user
    policy = city_policy()
    items = list(access.items_for(user).filter(task=task).order_by("position"))
    files = list(
        access.evidence_for(user)
        .filter(claim_links__claim=task.claim)
        .distinct()
        .order_by("uploaded_at", "pk")
    )
    levels: dict[str, list[tuple[str, str]]] = {}
    from jifen.web.explain import _text

    for item in items:
        rule = policy.rules.get(item.rule)
        if rule is not None and rule.levels:
            levels[item.rule] = [(lv, _text(policy.label(lv))) for lv in rule.levels]
    notice = task.materials_notice if task.has_notice() else None
    today = clock.china_today()
    return {
        "task": task,
        "claim": task.claim,
        "resident": task.claim.resident,
        "items": [
            {
                **describe_item(item, policy),
                "levels": levels.get(item.rule, []),
                "errors": FieldErrors(),
                "posted": {},
            }
            for item in items
        ],
        "files": files,
        "notice": notice,
        "history": history(task),
        "can": {
            name: services.allowed(task, name)
            for name in ("accept", "refuse", "request_materials", "extend", "decide")
        },
        "overdue": task.state == ReviewState.ACCEPTED
        and task.due_on is not None
        and task.due_on < today,
        "outcomes": Outcome.choices,
        "errors": FieldErrors(),
        "form": "",
        "posted": {},
    }


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, REVIEW_ROLES)
    task = access.task_or_404(request, pk)
    return render(request, "web/review/task.html", task_context(request, task))


ACTIONS = ("accept", "refuse", "materials", "extend", "decide")
#: The fields of each step's form (an error naming another field is shown for the form).
FORM_FIELDS = {
    "accept": (),
    "refuse": ("reason",),
    "materials": ("items", "note"),
    "extend": ("reason",),
    "decide": ("reason",),
}
#: The transition behind each step (its form is shown while the transition is allowed).
TRANSITIONS = {
    "accept": "accept",
    "refuse": "refuse",
    "materials": "request_materials",
    "extend": "extend",
    "decide": "decide",
}
DECISION_FIELDS = ("outcome", "level", "quantity", "date", "reason")


@require_POST
@login_required
def task_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One review step; on a refusal by the service the page comes back with the message
    next to the field it names and nothing changed."""
    access.require_role(request, REVIEW_ROLES)
    task = access.task_or_404(request, pk)
    if action not in ACTIONS:
        raise access.not_found(request, "claims.reviewtask.action", action)
    now = clock.now()
    post = request.POST
    decisions_index: list[int] = []
    try:
        if action == "accept":
            services.accept(task, user=request.user, now=now)
            done = _("Accepted; the review is due on %(due)s.")
        elif action == "refuse":
            services.refuse(task, user=request.user, reason=post.get("reason", ""), now=now)
            done = _("The application was not accepted; the resident has been told why.")
        elif action == "materials":
            wanted = [line.strip() for line in post.get("items", "").splitlines()]
            services.request_materials(
                task,
                user=request.user,
                items=[w for w in wanted if w],
                note=post.get("note", ""),
                now=now,
            )
            done = _("The materials notice has been sent to the resident.")
        elif action == "extend":
            services.extend(task, user=request.user, reason=post.get("reason", ""), now=now)
            done = _("The deadline has been extended to %(due)s.")
        else:
            decisions = []
            for item in access.items_for(request.user).filter(task=task).order_by("position"):
                decisions_index.append(item.pk)
                decisions.append(
                    services.ItemDecision(
                        item=item.pk,
                        outcome=post.get(f"outcome-{item.pk}", ""),
                        level=post.get(f"level-{item.pk}") or None,
                        quantity=post.get(f"quantity-{item.pk}") or None,
                        date=_date(post.get(f"date-{item.pk}", "")),
                        reason=post.get(f"reason-{item.pk}", ""),
                    )
                )
            services.decide(
                task,
                user=request.user,
                decisions=decisions,
                reason=post.get("reason", ""),
                now=now,
            )
            done = _("The decision has been recorded and the resident told.")
    except ClaimError as exc:
        context = task_context(request, task)
        name, message = error_of(exc)
        match = _DECISION_FIELD.match(name)
        for row in context["items"]:
            pk = row["item"].pk
            row["posted"] = {f: post.get(f"{f}-{pk}", "") for f in DECISION_FIELDS}
            if match and decisions_index[int(match.group(1)) :][:1] == [pk]:
                row["errors"].add(match.group(2), message)
        if not (match and int(match.group(1)) < len(decisions_index)):
            shown = context["can"][TRANSITIONS[action]] and name in FORM_FIELDS[action]
            context["errors"].add(name if shown else "general", message)
        context["form"] = action
        context["posted"] = {k: post.get(k, "") for k in post if k != "csrfmiddlewaretoken"}
        return render(request, "web/review/task.html", context, status=exc.status)
    task.refresh_from_db()
    due = task.due_on.isoformat() if task.due_on else ""
    messages.success(request, done % {"due": due} if "%(due)s" in done else done)
    return redirect("web:review_task", task.pk)


def _date(value: str) -> Any:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value  # the service names the field


# --- evidence -------------------------------------------------------------------------------


@login_required
def evidence_file(request: HttpRequest, pk) -> HttpResponse:
    """One evidence file, for whoever may see it (``access.evidence_for``); audited
    ``evidence.downloaded``. Images are shown inline on the pages through this view."""
    evidence = access.evidence_or_404(request, pk)
    try:
        return open_evidence(evidence, user=request.user, request=request, now=clock.now())
    except EvidenceUnavailable as exc:
        return render(request, "web/claims/evidence_gone.html", {"message": str(exc)}, status=410)
