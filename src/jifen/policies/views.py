"""The center's policy pages (``/workbench/policies/``): versions, a draft from the version in
force, edits of items, rules, points, caps and windows (every input is named by the loader's
path, so an error names its field), the readable diff, approval by another center user,
publication, export. Center role only (others: 403 and ``access.denied``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jifen.accounts import access, clock
from jifen.accounts.models import Role
from jifen.engine import PolicyError
from jifen.policies import services
from jifen.policies.content import canonical_text, load_text
from jifen.policies.errors import InvalidPolicy, PolicyVersionError
from jifen.policies.models import PolicyState, PolicyVersion
from jifen.scores.policies import current_policies

CENTER = frozenset({Role.CENTER})
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _url(version: PolicyVersion) -> str:
    return reverse("policies:detail", args=[version.pk])


# --- paths and values --------------------------------------------------------------------


def _tokens(path: str) -> list[str | int]:
    return [int(i) if i else key for key, i in _TOKEN.findall(path)]


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``items[3].rules[1].points`` in ``data``; ``None`` removes an optional key."""
    *parents, last = _tokens(path)
    node: Any = data
    for token in parents:
        node = node[token]
    if value is None and isinstance(node, dict):
        node.pop(last, None)
    else:
        node[last] = value


def get_path(data: Any, path: str) -> Any:
    for token in _tokens(path):
        try:
            data = data[token]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def number(text: str) -> Any:
    """A number as the YAML loader would read it (int, or an exact Decimal); else the text,
    which the loader then refuses naming the field."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


_RULE_NUMBERS = (
    "points",
    "cap",
    "window_years",
    "unit",
    "base_points",
    "base_from_age",
    "max_age",
    "points_per_year_younger",
)


def editable_fields(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The value inputs of the edit form, grouped: top level, each item with its rules, the
    deductions. Every input's name is the loader's path of the value."""
    groups = [
        {
            "title": _("Version"),
            "fields": [
                {"name": "cap", "label": _("tier cap")},
                {"name": "source.document", "label": _("source document"), "text": True},
                {"name": "source.clause", "label": _("source clause"), "text": True},
                {"name": "title.zh", "label": _("title (zh)"), "text": True},
                {"name": "title.en", "label": _("title (en)"), "text": True},
            ],
            "remove": None,
        }
    ]
    for i, item in enumerate(data.get("items") or []):
        base = f"items[{i}]"
        fields = [{"name": f"{base}.cap", "label": _("item cap")}]
        for j, rule in enumerate(item.get("rules") or []):
            rbase = f"{base}.rules[{j}]"
            code = rule.get("code")
            for key in _RULE_NUMBERS:
                if key in rule or key in ("cap", "window_years"):
                    fields.append(
                        {"name": f"{rbase}.{key}", "label": f"{code} › {key}", "rule": rbase}
                    )
            for level in rule.get("levels") or {}:
                fields.append({"name": f"{rbase}.levels.{level}", "label": f"{code} › {level}"})
        groups.append(
            {
                "title": f"{item.get('code')} — {get_path(item, 'name.zh') or ''}",
                "fields": fields,
                "remove": base,
                "rules": [
                    (f"{base}.rules[{j}]", r.get("code"))
                    for j, r in enumerate(item.get("rules") or [])
                ],
            }
        )
    deductions = []
    for k, deduction in enumerate(data.get("deductions") or []):
        dbase = f"deductions[{k}]"
        deductions.append({"name": f"{dbase}.points", "label": f"{deduction.get('code')} › points"})
        if not deduction.get("while_listed"):
            deductions.append(
                {
                    "name": f"{dbase}.window_years",
                    "label": f"{deduction.get('code')} › window_years",
                }
            )
    if deductions:
        groups.append({"title": _("Deductions"), "fields": deductions, "remove": None})
    for group in groups:
        for f in group["fields"]:
            f["value"] = _show(get_path(data, f["name"]))
    return groups


# --- pages -------------------------------------------------------------------------------


@login_required
def version_list(request: HttpRequest) -> HttpResponse:
    access.require_role(request, CENTER)
    today = clock.china_today()
    context = {
        "versions": PolicyVersion.objects.select_related("proposed_by", "approved_by"),
        "in_force": current_policies().in_force(today),
        "today": today,
        "error": None,
    }
    status = 200
    if request.method == "POST":
        try:
            if request.FILES.get("file"):
                upload = request.FILES["file"]
                version = services.import_draft(
                    upload.read().decode("utf-8", errors="replace"),
                    user=request.user,
                    now=clock.now(),
                    name=upload.name,
                )
            else:
                version = services.draft_from_in_force(
                    scope=request.POST.get("scope", ""), user=request.user, now=clock.now()
                )
        except PolicyVersionError as exc:
            context["error"] = exc
            status = exc.status
        else:
            messages.success(request, _("Draft %(id)s created.") % {"id": version.policy_id})
            return HttpResponseRedirect(_url(version))
    return render(request, "policies/list.html", context, status=status)


def _detail(
    request: HttpRequest,
    version: PolicyVersion,
    *,
    data: dict[str, Any] | None = None,
    error: PolicyVersionError | None = None,
    text: str | None = None,
    status: int = 200,
) -> HttpResponse:
    problem = None
    try:
        stored = load_text(version.text, version.policy_id)
        services.draft_policy(version)
    except (PolicyError, InvalidPolicy) as exc:
        problem = exc
        stored = None
    base, changes = (None, [])
    if stored is not None:
        with contextlib.suppress(PolicyError):
            base, changes = services.version_diff(version)
    data = data if data is not None else stored
    context = {
        "version": version,
        "groups": editable_fields(data) if data is not None and version.is_draft else [],
        "base": base,
        "changes": changes,
        "problem": problem,
        "error": error,
        "errors": {error.field: str(error.message)} if error and error.field else {},
        "text": text if text is not None else version.text,
        "can_approve": version.is_draft and version.proposed_by_id != request.user.pk,
        "posted": request.POST if request.method == "POST" else {},
    }
    return render(request, "policies/detail.html", context, status=status)


@login_required
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, CENTER)
    return _detail(request, get_object_or_404(PolicyVersion, pk=pk))


@login_required
@require_POST
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the value inputs, or add/remove an item or a rule."""
    access.require_role(request, CENTER)
    version = get_object_or_404(PolicyVersion, pk=pk)
    data = load_text(version.text, version.policy_id)
    action = request.POST.get("action", "values")
    if action == "remove":
        *parent, index = _tokens(request.POST.get("path", ""))
        container: Any = data
        try:
            for token in parent:
                container = container[token]
            container.pop(index)
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
    elif action == "add_item":
        _add_item(data, request.POST)
    else:
        allowed = {f["name"]: f for g in editable_fields(data) for f in g["fields"]}
        for name, field in allowed.items():
            if name in request.POST:
                value = request.POST[name]
                set_path(data, name, value.strip() if field.get("text") else number(value))
        data["reference_values"] = request.POST.get("reference_values") == "on"
    try:
        services.save_draft(version, data, user=request.user, now=clock.now())
    except PolicyVersionError as exc:
        return _detail(request, version, data=data, error=exc, status=exc.status)
    messages.success(request, _("Draft saved."))
    return HttpResponseRedirect(_url(version))


@login_required
@require_POST
def version_text(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the whole YAML text (kept as work in progress even when not valid yet)."""
    access.require_role(request, CENTER)
    version = get_object_or_404(PolicyVersion, pk=pk)
    try:
        version = services.save_draft_text(
            version, request.POST.get("text", ""), user=request.user, now=clock.now()
        )
    except PolicyVersionError as exc:
        return _detail(
            request, version, error=exc, text=request.POST.get("text"), status=exc.status
        )
    return HttpResponseRedirect(_url(version))


def _add_item(data: dict[str, Any], p: Any) -> None:
    rule: dict[str, Any] = {
        "code": p.get("rule_code", "").strip(),
        "kind": p.get("kind", "flag"),
        "name": {"zh": p.get("rule_zh", "").strip(), "en": p.get("rule_en", "").strip()},
        "points": number(p.get("points", "")),
    }
    if number(p.get("window_years", "")) is not None:
        rule["window_years"] = number(p.get("window_years", ""))
    data.setdefault("items", []).append(
        {
            "code": p.get("code", "").strip(),
            "name": {"zh": p.get("name_zh", "").strip(), "en": p.get("name_en", "").strip()},
            "cap": number(p.get("cap", "")),
            "rules": [rule],
        }
    )


def _date(value: str, field: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidPolicy(_("Enter a date as YYYY-MM-DD."), field=field) from None


@login_required
@require_POST
def version_approve(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, CENTER)
    version = get_object_or_404(PolicyVersion, pk=pk)
    try:
        version = services.approve(
            version,
            user=request.user,
            document_number=request.POST.get("document_number", ""),
            document_date=_date(request.POST.get("document_date", ""), "document_date"),
            effective_from=_date(request.POST.get("effective_from", ""), "effective_from"),
            now=clock.now(),
        )
    except PolicyVersionError as exc:
        return _detail(request, version, error=exc, status=exc.status)
    messages.success(request, _("Version %(id)s approved.") % {"id": version.policy_id})
    return HttpResponseRedirect(_url(version))


@login_required
@require_POST
def version_publish(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, CENTER)
    version = get_object_or_404(PolicyVersion, pk=pk)
    try:
        version = services.publish(version, user=request.user, now=clock.now())
    except PolicyVersionError as exc:
        return _detail(request, version, error=exc, status=exc.status)
    messages.success(
        request,
        _("Version %(id)s published: in force from %(day)s.")
        % {"id": version.policy_id, "day": version.effective_from.isoformat()},
    )
    return HttpResponseRedirect(_url(version))


@login_required
def version_export(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, CENTER)
    version = get_object_or_404(PolicyVersion, pk=pk)
    text = version.text
    if version.content_hash:
        text = canonical_text(load_text(version.text, version.policy_id))
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{version.policy_id}.yaml"'
    return response


__all__ = [
    "PolicyState",
    "version_approve",
    "version_detail",
    "version_edit",
    "version_export",
    "version_list",
    "version_publish",
    "version_text",
]
