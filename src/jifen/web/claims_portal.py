"""Claims pages of the resident portal (我的申请) and of the window clerk.

- "My applications": the list with status and deadline; the claim wizard (rules → details →
  evidence → review → submit), saved on the server as a draft at every step (and on every
  change while a step is open), so a timed-out session loses nothing; the status page with
  the deadline, the materials notice, the supplement form, the decision and withdrawal.
- Corrections (积分异议/变更) of a scored fact, from "my points".
- The window clerk files a claim for a resident of their town with the same wizard (recorded
  as the window channel by the service) and follows it on the workbench.

Every object is fetched through :mod:`jifen.accounts.access`; every change goes through
:mod:`jifen.claims.services`, whose errors are shown next to the field they name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jifen.accounts import access, clock
from jifen.accounts.models import Role
from jifen.claims import routing, services
from jifen.claims.errors import ClaimError
from jifen.claims.models import (
    Channel,
    Claim,
    ClaimStatus,
    ReviewState,
)
from jifen.engine.policy import Policy, Rule
from jifen.evidence.errors import EvidenceRefused
from jifen.evidence.services import store_upload
from jifen.facts.models import FactKind
from jifen.org.models import RuleRoute
from jifen.residents.models import Resident
from jifen.web.explain import _text, fact_view, policy_set

RESIDENT_ONLY = frozenset({Role.RESIDENT})
CLERK_ONLY = frozenset({Role.CLERK})
#: Who may open a claim's page on the workbench (the clerk of the town, the center).
WORKBENCH_CLAIM_ROLES = frozenset({Role.CLERK, Role.CENTER})
STEPS = ("rules", "details", "evidence", "review")
_ITEM_FIELD = re.compile(r"^items\[(\d+)\]\.(\w+)$")


# --- errors ---------------------------------------------------------------------------------


class FieldErrors(dict):
    """Messages by field name (the service's ``field``; ``general`` for the form as a
    whole). A missing field reads as no messages, so templates can ask ``errors.items`` or
    ``errors.level`` without reaching a dict method."""

    def __missing__(self, key: str) -> list[str]:
        return []

    def add(self, name: str | None, message: Any) -> None:
        self.setdefault(name or "general", []).append(str(message))


def error_of(exc: ClaimError | EvidenceRefused) -> tuple[str, str]:
    return (exc.field or "", str(exc.message))


# --- the wizard's state ---------------------------------------------------------------------


@dataclass
class Filer:
    """Who files: the resident in the portal, or a window clerk for a resident."""

    mode: str  # "portal" | "window"
    resident: Resident

    def step_url(self, claim: Claim, step: str) -> str:
        name = "web:claim_step" if self.mode == "portal" else "web:window_claim_step"
        return reverse(name, args=[claim.pk, step])

    def new_url(self) -> str:
        if self.mode == "portal":
            return reverse("web:claim_new")
        return reverse("web:window_claim_new", args=[self.resident.pk])

    def claim_url(self, claim: Claim) -> str:
        name = "web:claim" if self.mode == "portal" else "web:staff_claim"
        return reverse(name, args=[claim.pk])


def draft_state(claim: Claim | None) -> dict[str, Any]:
    """The wizard state of a draft, defensively read (the draft is JSON)."""
    data = claim.draft if claim is not None and isinstance(claim.draft, dict) else {}
    rules = [r for r in data.get("rules", []) if isinstance(r, str)]
    items = data.get("items") if isinstance(data.get("items"), dict) else {}
    evidence = [
        e for e in data.get("evidence", []) if isinstance(e, dict) and isinstance(e.get("id"), str)
    ]
    return {
        "step": data.get("step") if data.get("step") in STEPS else "rules",
        "rules": list(dict.fromkeys(rules)),
        "items": {k: v for k, v in items.items() if isinstance(v, dict)},
        "evidence": evidence,
    }


def save(request: HttpRequest, filer: Filer, claim: Claim | None, state: dict) -> Claim:
    return services.save_draft(
        resident=filer.resident, user=request.user, data=state, claim=claim, now=clock.now()
    )


@dataclass
class RuleOption:
    code: str
    item: str
    name: str
    rule: Rule
    supplied_by: str = ""
    open: bool = False
    chosen: bool = False

    @property
    def available(self) -> bool:
        return not self.supplied_by and not self.open


def city_policy() -> Policy:
    return routing.city_policy(clock.china_today())


def rule_options(request: HttpRequest, filer: Filer, chosen: list[str]) -> list[dict[str, Any]]:
    """The city rules of the policy in force, by item: claimable ones, and why the others
    are not (supplied by a connected feed; an open claim already)."""
    policy = city_policy()
    supplied: dict[str, str] = {}
    for feed in routing.connected_feeds():
        for code in feed.rules:
            supplied.setdefault(code, feed.zh)
    open_rules = set(
        access.items_for(request.user)
        .filter(claim__resident=filer.resident, is_open=True, fact_key="")
        .values_list("rule", flat=True)
    )
    groups = []
    for item in policy.items:
        options = [
            RuleOption(
                code=rule.ref,
                item=item.code,
                name=_text(rule.name),
                rule=rule,
                supplied_by=supplied.get(rule.ref, ""),
                open=rule.ref in open_rules,
                chosen=rule.ref in chosen,
            )
            for rule in item.rules
            if rule.field is None
        ]
        if options:
            groups.append({"name": _text(item.name), "options": options})
    return groups


@dataclass
class ItemForm:
    """One claimed rule on the details step, with its values and errors."""

    index: int
    code: str
    name: str
    rule: Rule | None
    values: dict[str, str]
    levels: list[tuple[str, str]] = field(default_factory=list)
    departments: list[tuple[str, str]] = field(default_factory=list)
    unit_name: str = ""
    errors: FieldErrors = field(default_factory=FieldErrors)

    @property
    def all_errors(self) -> list[str]:
        return [message for texts in self.errors.values() for message in texts]

    @property
    def needs_quantity(self) -> bool:
        return self.rule is not None and self.rule.kind == "per_unit"

    @property
    def needs_date(self) -> bool:
        return self.rule is not None and self.rule.window_years is not None

    @property
    def level_label(self) -> str:
        return dict(self.levels).get(self.values.get("level", ""), self.values.get("level", ""))

    @property
    def department_label(self) -> str:
        return dict(self.departments).get(self.values.get("department", ""), "")


def item_forms(state: dict, errors: FieldErrors | None = None) -> list[ItemForm]:
    policy = city_policy()
    forms = []
    routes: dict[str, list[tuple[str, str]]] = {}
    for route in RuleRoute.objects.filter(
        rule__in=state["rules"], department__active=True
    ).select_related("department"):
        routes.setdefault(route.rule, []).append((route.department.code, route.department.name))
    for index, code in enumerate(state["rules"]):
        rule = policy.rules.get(code)
        values = {
            k: str(v) for k, v in state["items"].get(code, {}).items() if isinstance(v, str | int)
        }
        form = ItemForm(
            index=index,
            code=code,
            name=_text(rule.name) if rule else code,
            rule=rule,
            values=values,
            levels=[(level, _text(policy.label(level))) for level in (rule.levels or {})]
            if rule
            else [],
            departments=sorted(routes.get(code, [])) if len(routes.get(code, [])) > 1 else [],
            unit_name=_text(rule.unit_name) if rule and rule.unit_name else "",
        )
        for name, texts in (errors or {}).items():
            match = _ITEM_FIELD.match(name)
            if match and int(match.group(1)) == index:
                form.errors.setdefault(match.group(2), []).extend(texts)
        forms.append(form)
    return forms


ITEM_FIELDS = ("level", "quantity", "date", "statement", "department")


def read_items(request: HttpRequest, state: dict) -> dict[str, dict[str, str]]:
    items = {}
    for index, code in enumerate(state["rules"]):
        items[code] = {
            name: request.POST.get(f"{name}-{index}", "").strip()[:4000] for name in ITEM_FIELDS
        }
    return items


def item_inputs(state: dict, files: dict[str, list]) -> list[services.ClaimItemInput]:
    inputs = []
    for code in state["rules"]:
        values = state["items"].get(code, {})
        date = _date_or_text(values.get("date") or "")
        inputs.append(
            services.ClaimItemInput(
                rule=code,
                level=values.get("level", ""),
                quantity=values.get("quantity") or None,
                date=date,
                statement=values.get("statement", ""),
                department=values.get("department", ""),
                evidence=tuple(files.get(code, ())),
            )
        )
    return inputs


def evidence_rows(request: HttpRequest, state: dict) -> list[dict[str, Any]]:
    ids = [e["id"] for e in state["evidence"]]
    files = access.evidence_for(request.user).in_bulk(ids) if ids else {}
    rows = []
    for entry in state["evidence"]:
        evidence = next((f for pk, f in files.items() if str(pk) == entry["id"]), None)
        if evidence is not None:
            rows.append({"file": evidence, "rule": entry.get("rule", "")})
    return rows


def step_for_error(name: str) -> str:
    match = _ITEM_FIELD.match(name)
    if name in ("items", "draft") or (match and match.group(2) == "rule"):
        return "rules"
    if name in ("evidence", "file") or (match and match.group(2) == "evidence"):
        return "evidence"
    if match:
        return "details"
    return "review"


def wizard_step(request: HttpRequest, filer: Filer, claim: Claim | None, step: str) -> HttpResponse:
    """One step of the wizard (GET shows it; POST saves the draft, then moves on)."""
    if step not in STEPS or (claim is None and step != "rules"):
        raise access.not_found(request, "claims.claim.step", step)
    if claim is not None and claim.status != ClaimStatus.DRAFT:
        return redirect(filer.claim_url(claim))
    state = draft_state(claim)
    errors = FieldErrors()
    if request.method == "POST":
        autosave = bool(request.headers.get("HX-Request"))
        if autosave and claim is None:  # nothing to save yet: the first "next" creates it
            return HttpResponse(status=204)
        go = request.POST.get("go", "next")
        if step == "rules":
            chosen = [c for c in request.POST.getlist("rule") if isinstance(c, str)][:50]
            state["rules"] = list(dict.fromkeys(chosen))
            if not state["rules"] and not autosave:
                errors.add("items", _("Choose at least one item to claim."))
        elif step == "details":
            state["items"].update(read_items(request, state))
        elif step == "evidence" and not autosave:
            handled = evidence_post(request, filer, claim, state, errors)
            if handled is not None:
                return handled
        elif step == "review" and not autosave and go != "back":
            return submit(request, filer, claim, state)
        state["step"] = step
        if not errors:
            try:
                with transaction.atomic():
                    claim = save(request, filer, claim, state)
            except ClaimError as exc:
                errors.add(*error_of(exc))
        if autosave:
            flat = [message for texts in errors.values() for message in texts]
            return render(
                request, "web/claims/_autosaved.html", {"saved_at": clock.now(), "errors": flat}
            )
        if not errors:
            index = STEPS.index(step)
            target = STEPS[max(index - 1, 0)] if go == "back" else STEPS[min(index + 1, 3)]
            if go == "stay":
                target = step
            return redirect(filer.step_url(claim, target))
    return render_step(request, filer, claim, step, state, errors)


def render_step(
    request: HttpRequest,
    filer: Filer,
    claim: Claim | None,
    step: str,
    state: dict,
    errors: FieldErrors,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "filer": filer,
        "resident": filer.resident,
        "claim": claim,
        "step": step,
        "steps": [
            {"code": s, "number": i + 1, "current": s == step, "done": STEPS.index(step) > i}
            for i, s in enumerate(STEPS)
        ],
        "state": state,
        "errors": errors,
        "action": filer.step_url(claim, step) if claim is not None else filer.new_url(),
        "back_url": filer.step_url(claim, STEPS[STEPS.index(step) - 1])
        if claim is not None and step != "rules"
        else "",
    }
    if step == "rules":
        context["groups"] = rule_options(request, filer, state["rules"])
    else:
        context["items"] = item_forms(state, errors)
    if step in ("evidence", "review"):
        context["files"] = evidence_rows(request, state)
    return render(request, f"web/claims/wizard_{step}.html", context, status=status)


def evidence_post(
    request: HttpRequest, filer: Filer, claim: Claim, state: dict, errors: FieldErrors
) -> HttpResponse | None:
    """Upload files (stored at once, listed in the draft) or remove one from the draft."""
    remove = request.POST.get("remove", "")
    if remove:
        state["evidence"] = [e for e in state["evidence"] if e["id"] != remove]
        return None
    uploads = request.FILES.getlist("file")
    target = request.POST.get("for", "")
    if target and target not in state["rules"]:
        target = ""
    if uploads:
        try:
            with transaction.atomic():
                for upload in uploads:
                    evidence = store_upload(
                        upload,
                        resident=filer.resident,
                        user=request.user,
                        now=clock.now(),
                        already_attached=len(state["evidence"]),
                        request=request,
                    )
                    state["evidence"].append({"id": str(evidence.pk), "rule": target})
                state["step"] = "evidence"
                save(request, filer, claim, state)
        except (EvidenceRefused, ClaimError) as exc:
            errors.add(*error_of(exc))
            state = draft_state(claim)
            return render_step(request, filer, claim, "evidence", state, errors, status=400)
        if request.POST.get("go") != "next":
            return redirect(filer.step_url(claim, "evidence"))
    return None


def submit(request: HttpRequest, filer: Filer, claim: Claim, state: dict) -> HttpResponse:
    ids = [e["id"] for e in state["evidence"]]
    found = {str(pk): f for pk, f in access.evidence_for(request.user).in_bulk(ids).items()}
    whole: list = []
    per_rule: dict[str, list] = {}
    for entry in state["evidence"]:
        evidence = found.get(entry["id"])
        if evidence is None:
            continue
        if entry.get("rule") in state["rules"]:  # a file of an item dropped meanwhile: whole
            per_rule.setdefault(entry["rule"], []).append(evidence)
        else:
            whole.append(evidence)
    try:
        claim = services.submit_claim(
            resident=filer.resident,
            user=request.user,
            items=item_inputs(state, per_rule),
            evidence=whole,
            claim=claim,
            now=clock.now(),
        )
    except ClaimError as exc:
        errors = FieldErrors()
        errors.add(*error_of(exc))
        step = step_for_error(exc.field or "")
        return render_step(request, filer, claim, step, state, errors, status=exc.status)
    messages.success(
        request,
        _("Your application %(number)s has been submitted.") % {"number": claim.number},
    )
    return redirect(filer.claim_url(claim))


# --- portal pages ---------------------------------------------------------------------------


def own_resident(request: HttpRequest) -> Resident:
    access.require_role(request, RESIDENT_ONLY)
    return access.resident_or_404(request, request.user.resident_id)


@login_required
def claim_list(request: HttpRequest) -> HttpResponse:
    """我的申请: every application with its status and the deadline of each open task."""
    resident = own_resident(request)
    claims = (
        access.claims_for(request.user)
        .filter(resident=resident)
        .exclude(status=ClaimStatus.DRAFT, channel=Channel.WINDOW)
        .exclude(status=ClaimStatus.WITHDRAWN, number="")
        .prefetch_related("tasks__department", "items")
        .order_by("-created_at")
    )
    return render(
        request, "web/claims/list.html", {"resident": resident, "claims": list(claims[:200])}
    )


@login_required
def claim_new(request: HttpRequest) -> HttpResponse:
    resident = own_resident(request)
    return wizard_step(request, Filer("portal", resident), None, "rules")


def draft_or_404(request: HttpRequest, pk, filer_mode: str) -> Claim:
    claim = access.claim_or_404(request, pk)
    if claim.channel != (Channel.PORTAL if filer_mode == "portal" else Channel.WINDOW):
        raise access.not_found(request, "claims.claim", pk)
    return claim


@login_required
def claim_step(request: HttpRequest, pk, step: str) -> HttpResponse:
    resident = own_resident(request)
    claim = draft_or_404(request, pk, "portal")
    return wizard_step(request, Filer("portal", resident), claim, step)


def claim_context(request: HttpRequest, claim: Claim) -> dict[str, Any]:
    """The status of a claim as the filer (resident or clerk) or the center reads it."""
    user = request.user
    tasks = list(
        access.tasks_for(user)
        .filter(claim=claim)
        .select_related("department", "materials_notice")
        .order_by("pk")
    )
    items = list(access.items_for(user).filter(claim=claim).order_by("position"))
    policy = city_policy()
    files = list(
        access.evidence_for(user).filter(claim_links__claim=claim).distinct().order_by("pk")
    )
    today = clock.china_today()
    rows = []
    for task in tasks:
        notice = getattr(task, "materials_notice", None) if task.has_notice() else None
        rows.append(
            {
                "task": task,
                "items": [describe_item(i, policy) for i in items if i.task_id == task.pk],
                "notice": notice,
                "can_supplement": task.state == ReviewState.MATERIALS_REQUESTED,
                "overdue": task.state == ReviewState.ACCEPTED
                and task.due_on is not None
                and task.due_on < today,
            }
        )
    return {
        "claim": claim,
        "resident": claim.resident,
        "tasks": rows,
        "files": files,
        "can_withdraw": claim.status == ClaimStatus.SUBMITTED
        and any(t.is_open for t in tasks)
        and _may_file(user, claim),
        "can_supplement": _may_file(user, claim),
    }


def _may_file(user, claim: Claim) -> bool:
    role = access.role_of(user)
    if role == Role.RESIDENT:
        return user.resident_id == claim.resident_id
    return role == Role.CLERK and user.town_id == claim.resident.town_id


def describe_item(item, policy: Policy) -> dict[str, Any]:
    rule = policy.rules.get(item.rule)
    return {
        "item": item,
        "name": _text(rule.name) if rule else item.rule,
        "claimed": value_text(item.level, item.quantity, item.date, item.until, policy),
        "approved": value_text(
            item.approved_level, item.approved_quantity, item.approved_date, None, policy
        ),
        "points": rule_points(rule, item.approved_level, item.approved_quantity)
        if rule and item.outcome and item.outcome != "rejected"
        else None,
    }


def value_text(level, quantity, date, until, policy: Policy) -> str:
    parts = []
    if level:
        parts.append(_text(policy.label(level)))
    if quantity is not None:
        parts.append(format(quantity.normalize(), "f"))
    if date:
        parts.append(date.isoformat())
    if until:
        parts.append(_("until %(date)s") % {"date": until.isoformat()})
    return " · ".join(parts)


def rule_points(rule: Rule, level: str, quantity) -> Any:
    """The points of one approved fact under its rule, before the item and tier caps."""
    from decimal import Decimal

    if rule.levels is not None:
        return rule.levels.get(level)
    if rule.kind == "per_unit":
        if quantity is None or rule.points is None:
            return None
        points = (Decimal(quantity) // rule.unit) * rule.points
        return min(points, rule.cap) if rule.cap is not None else points
    return rule.points


@login_required
def claim_detail(request: HttpRequest, pk) -> HttpResponse:
    own_resident(request)
    claim = access.claim_or_404(request, pk)
    if claim.status == ClaimStatus.DRAFT:
        if claim.channel != Channel.PORTAL:
            raise access.not_found(request, "claims.claim", pk)
        return redirect("web:claim_step", claim.pk, draft_state(claim)["step"])
    context = claim_context(request, claim)
    context["supplement_url"] = "web:claim_supplement"
    context["withdraw_url"] = reverse("web:claim_withdraw", args=[claim.pk])
    context["errors"] = FieldErrors()
    return render(request, "web/claims/claim.html", context)


def do_withdraw(request: HttpRequest, claim: Claim, back: str) -> HttpResponse:
    try:
        services.withdraw(
            claim, user=request.user, reason=request.POST.get("reason", ""), now=clock.now()
        )
    except ClaimError as exc:
        messages.error(request, str(exc.message))
        return redirect(back)
    if claim.status == ClaimStatus.DRAFT:
        messages.success(request, _("The draft has been discarded."))
    else:
        messages.success(request, _("The application has been withdrawn."))
    return redirect(back)


@require_POST
@login_required
def claim_withdraw(request: HttpRequest, pk) -> HttpResponse:
    own_resident(request)
    claim = access.claim_or_404(request, pk)
    back = (
        reverse("web:claims")
        if claim.status == ClaimStatus.DRAFT
        else reverse("web:claim", args=[claim.pk])
    )
    return do_withdraw(request, claim, back)


def do_supplement(request: HttpRequest, claim: Claim, task_pk: int, template_context) -> Any:
    """Answer a materials notice: files (stored now) and a note, in one transaction."""
    task = access.task_or_404(request, task_pk)
    if task.claim_id != claim.pk:
        raise access.not_found(request, "claims.reviewtask", task_pk)
    errors = FieldErrors()
    try:
        with transaction.atomic():
            files = []
            attached = claim.evidence_links.count()
            for upload in request.FILES.getlist("file"):
                files.append(
                    store_upload(
                        upload,
                        resident=claim.resident,
                        user=request.user,
                        now=clock.now(),
                        already_attached=attached + len(files),
                        request=request,
                    )
                )
            services.supplement(
                task,
                user=request.user,
                evidence=files,
                note=request.POST.get("note", ""),
                now=clock.now(),
            )
    except (ClaimError, EvidenceRefused) as exc:
        field_name, message = error_of(exc)
        errors.add(field_name, message)
        context = template_context()
        context["errors"] = errors
        context["error_task"] = task.pk
        context["note"] = request.POST.get("note", "")
        status = getattr(exc, "status", 400)
        return render(request, "web/claims/claim.html", context, status=status)
    messages.success(
        request,
        _("Your materials have been sent to %(department)s.")
        % {"department": task.department.name},
    )
    return None


@require_POST
@login_required
def claim_supplement(request: HttpRequest, pk, task: int) -> HttpResponse:
    own_resident(request)
    claim = access.claim_or_404(request, pk)

    def context():
        ctx = claim_context(request, claim)
        ctx["supplement_url"] = "web:claim_supplement"
        ctx["withdraw_url"] = reverse("web:claim_withdraw", args=[claim.pk])
        return ctx

    response = do_supplement(request, claim, task, context)
    return response or redirect("web:claim", claim.pk)


# --- corrections ----------------------------------------------------------------------------


@login_required
def correction_new(request: HttpRequest, fact: int) -> HttpResponse:
    """积分异议/变更 of one of the resident's current facts: statement, proposed value, files."""
    resident = own_resident(request)
    found = access.facts_for(request.user, resident).current().filter(pk=fact).first()
    if found is None:
        raise access.not_found(request, "facts.fact", fact)
    today = clock.china_today()
    policies = list(policy_set().in_force(today))
    policy = city_policy()
    rule = policy.rules.get(found.code) if found.kind == FactKind.CITY else None
    levels = [(level, _text(policy.label(level))) for level in (rule.levels or {})] if rule else []
    errors = FieldErrors()
    values = {k: request.POST.get(k, "").strip() for k in ("statement", "level", "quantity",
                                                           "date", "until")}  # fmt: skip
    if request.method == "POST":
        proposed = None
        if any(values[k] for k in ("level", "quantity", "date", "until")):
            proposed = services.ClaimItemInput(
                rule=found.code,
                level=values["level"],
                quantity=values["quantity"] or None,
                date=_date_or_text(values["date"]),
                until=_date_or_text(values["until"]),
            )
        try:
            with transaction.atomic():
                files = [
                    store_upload(
                        upload,
                        resident=resident,
                        user=request.user,
                        now=clock.now(),
                        already_attached=index,
                        request=request,
                    )
                    for index, upload in enumerate(request.FILES.getlist("file"))
                ]
                claim = services.file_correction(
                    resident=resident,
                    user=request.user,
                    fact=found,
                    statement=values["statement"],
                    proposed=proposed,
                    evidence=files,
                    now=clock.now(),
                )
        except (ClaimError, EvidenceRefused) as exc:
            errors.add(*error_of(exc))
        else:
            messages.success(
                request,
                _("Your correction request %(number)s has been submitted.")
                % {"number": claim.number},
            )
            return redirect("web:claim", claim.pk)
    context = {
        "fact": fact_view(found, policies),
        "levels": levels,
        "values": values,
        "errors": errors,
        "proposed_errors": FieldErrors(
            {k.split(".", 1)[1]: v for k, v in errors.items() if k.startswith("proposed.")}
        ),
    }
    return render(request, "web/claims/correction.html", context, status=400 if errors else 200)


def _date_or_text(value: str) -> Any:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value  # the service refuses it, naming the field


# --- the window clerk -----------------------------------------------------------------------


@login_required
def resident_claims(request: HttpRequest, pk) -> HttpResponse:
    """The claims of one resident on the workbench (clerk of their town, center); the clerk
    files a new one at the window from here."""
    access.require_role(request, WORKBENCH_CLAIM_ROLES)
    resident = access.resident_or_404(request, pk)
    claims = (
        access.claims_for(request.user)
        .filter(resident=resident)
        .prefetch_related("tasks__department")
        .order_by("-created_at")
    )
    return render(
        request,
        "web/claims/resident_claims.html",
        {
            "resident": resident,
            "claims": list(claims[:200]),
            "can_file": access.role_of(request.user) == Role.CLERK,
        },
    )


@login_required
def window_claim_new(request: HttpRequest, pk) -> HttpResponse:
    access.require_role(request, CLERK_ONLY)
    resident = access.resident_or_404(request, pk)
    return wizard_step(request, Filer("window", resident), None, "rules")


@login_required
def window_claim_step(request: HttpRequest, pk, step: str) -> HttpResponse:
    access.require_role(request, CLERK_ONLY)
    claim = draft_or_404(request, pk, "window")
    return wizard_step(request, Filer("window", claim.resident), claim, step)


def staff_claim_context(request: HttpRequest, claim: Claim) -> dict[str, Any]:
    context = claim_context(request, claim)
    context["staff"] = True
    context["supplement_url"] = "web:staff_claim_supplement"
    context["withdraw_url"] = reverse("web:staff_claim_withdraw", args=[claim.pk])
    return context


@login_required
def staff_claim(request: HttpRequest, pk) -> HttpResponse:
    """A claim on the workbench: the clerk of the resident's town, the center."""
    access.require_role(request, WORKBENCH_CLAIM_ROLES)
    claim = access.claim_or_404(request, pk)
    if (
        claim.status == ClaimStatus.DRAFT
        and claim.channel == Channel.WINDOW
        and access.role_of(request.user) == Role.CLERK
    ):
        return redirect("web:window_claim_step", claim.pk, draft_state(claim)["step"])
    context = staff_claim_context(request, claim)
    context["errors"] = FieldErrors()
    return render(request, "web/claims/claim.html", context)


@require_POST
@login_required
def staff_claim_withdraw(request: HttpRequest, pk) -> HttpResponse:
    access.require_role(request, CLERK_ONLY)
    claim = access.claim_or_404(request, pk)
    return do_withdraw(request, claim, reverse("web:staff_claim", args=[claim.pk]))


@require_POST
@login_required
def staff_claim_supplement(request: HttpRequest, pk, task: int) -> HttpResponse:
    access.require_role(request, CLERK_ONLY)
    claim = access.claim_or_404(request, pk)
    response = do_supplement(request, claim, task, lambda: staff_claim_context(request, claim))
    return response or redirect("web:staff_claim", claim.pk)
