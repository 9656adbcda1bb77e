"""The oversight pages (workbench ``/workbench/oversight/``): dashboards with server-side SVG
charts, each with its numbers one click away (a ``<details>`` table) and an Excel export, and
the monthly reports (list, generate on demand, download).

Who sees what is :func:`jifen.oversight.figures.scope_for`'s decision: the center and the
Development and Reform Bureau (role ``bureau``) see every section for the whole city; a
reviewer the review and re-examination figures of their department; a clerk the population
of their town. Anybody else gets 403 (``access.denied`` audited). Chart exports and report
downloads are audited (``oversight.chart_exported``, ``oversight.report_downloaded``); no
page shows a person.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jifen.accounts import access, auditing, clock
from jifen.accounts.models import Role
from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.oversight import charts, reports, sections

logger = logging.getLogger(__name__)

BUREAU = "bureau"
#: Roles that may open the oversight pages (what each sees is figures.scope_for's).
OVERSIGHT_ROLES = frozenset({Role.CENTER, BUREAU, Role.REVIEWER, Role.CLERK})
#: Roles that see and download the monthly reports (the city-wide figures).
REPORT_ROLES = frozenset({Role.CENTER, BUREAU})
#: Roles that may generate a report on demand.
GENERATE_ROLES = frozenset({Role.CENTER})


def _month_or_none(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return reports.parse_month(text)
    except ValueError:
        return None


def _period(request: HttpRequest) -> tuple[sections.Period, str]:
    """The month of the page (``?month=YYYY-MM``, default the running month) and an error
    message when the parameter was not a month."""
    now = clock.now()
    today = clock.china_today()
    current = today.replace(day=1)
    raw = request.GET.get("month", "")
    month = _month_or_none(raw)
    error = ""
    if raw and month is None:
        error = _("“%(value)s” is not a month (YYYY-MM): showing the current month.") % {
            "value": raw[:20]
        }
    if month is None or month > current:
        month = current
    snapshot = None if month == current else reports.month_end(month)
    day = today if month == current else reports.month_end(month)
    return sections.Period(month=month, today=day, now=now, snapshot_day=snapshot), error


def _deny(request: HttpRequest, reason: str, object_id: str = "") -> PermissionDenied:
    auditing.access_denied(
        request, reason=reason, object_type="oversight.section", object_id=object_id
    )
    return PermissionDenied()


@dataclass(frozen=True)
class Viewer:
    """Whose figures a page shows: the signed-in user's, or — for the center and the bureau —
    a department's or a town's slice (``?slice=department:<code>`` / ``town:<code>``)."""

    viewer: Any
    label: str
    slice: str = ""

    @property
    def query(self) -> str:
        return f"&slice={self.slice}" if self.slice else ""


def _viewer(request: HttpRequest) -> Viewer:
    """The viewer of this request (403 for a role that has no oversight page; 404 for a slice
    of an unknown unit)."""
    from jifen.org.models import Department, Town

    access.require_role(request, OVERSIGHT_ROLES)
    user = request.user
    raw = request.GET.get("slice", "")
    if raw and access.role_of(user) in REPORT_ROLES:
        kind, _sep, code = raw.partition(":")
        if kind == "department":
            department = Department.objects.filter(code=code).first()
            if department is not None:
                return Viewer(sections.SliceViewer.of_department(department), department.name, raw)
        elif kind == "town":
            town = Town.objects.filter(code=code).first()
            if town is not None:
                return Viewer(sections.SliceViewer.of_town(town), town.name, raw)
        raise Http404
    if user.department_id:
        return Viewer(user, user.department.name)
    if user.town_id:
        return Viewer(user, user.town.name)
    return Viewer(user, _("The whole city"))


def _visible(request: HttpRequest, viewer: Viewer) -> list[str]:
    visible = sections.visible_sections(viewer.viewer)
    if not visible:
        raise _deny(request, "no_section")
    return visible


def _slices(request: HttpRequest) -> dict[str, list[tuple[str, str]]]:
    """The slices the center and the bureau may choose (departments, towns)."""
    from jifen.org.models import Department, Town

    if access.role_of(request.user) not in REPORT_ROLES:
        return {}
    return {
        "departments": [
            (f"department:{c}", n)
            for c, n in Department.objects.order_by("code").values_list("code", "name")
        ],
        "towns": [
            (f"town:{c}", n) for c, n in Town.objects.order_by("code").values_list("code", "name")
        ],
    }


def _chart_view(chart: charts.Chart) -> dict:
    header, rows = charts.table(chart)
    return {
        "chart": chart,
        "svg": mark_safe(charts.render_svg(chart)),  # noqa: S308 - escaped
        "header": header,
        "rows": rows,
    }


@login_required
def dashboard(request: HttpRequest, section: str | None = None) -> HttpResponse:
    """Every section the viewer may see (or one: ``/workbench/oversight/<section>/``)."""
    viewer = _viewer(request)
    visible = _visible(request, viewer)
    if section is not None and section not in sections.SECTIONS:
        raise Http404
    if section is not None and section not in visible:
        if not viewer.slice:
            raise _deny(request, "section", section)
        section = None  # the center looks at a unit whose slice has no such section
    period, error = _period(request)
    shown = [section] if section else visible
    panels = []
    for name in shown:
        panel = sections.panel(name, viewer.viewer, period)
        panels.append({"panel": panel, "charts": [_chart_view(c) for c in panel.charts]})
    role = access.role_of(request.user)
    context = {
        "panels": panels,
        "visible": visible,
        "section": section,
        "titles": {s: sections.section_title(s) for s in visible},
        "period": period,
        "month_value": f"{period.month:%Y-%m}",
        "max_month": f"{clock.china_today():%Y-%m}",
        "error": error,
        "scope_label": viewer.label,
        "slice": viewer.slice,
        "slice_query": viewer.query,
        "slices": _slices(request),
        "reports": role in REPORT_ROLES,
    }
    template = "oversight/dashboard.html"
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "oversight":
        template = "oversight/_page.html"
    return render(request, template, context)


@login_required
def chart_excel(request: HttpRequest, section: str, key: str) -> HttpResponse:
    """One chart's numbers as an Excel workbook (audited ``oversight.chart_exported``)."""
    viewer = _viewer(request)
    visible = _visible(request, viewer)
    if section not in sections.SECTIONS:
        raise Http404
    if section not in visible:
        raise _deny(request, "section", section)
    period, _error = _period(request)
    panel = sections.panel(section, viewer.viewer, period)
    chart = panel.chart(key)
    if chart is None:
        raise Http404
    notes = (
        f"{_('Scope')}: {viewer.label}",
        f"{_('Month')}: {period.label}",
        f"{_('Exported at')}: {clock.now().astimezone(clock.CHINA):%Y-%m-%d %H:%M}",
    )
    data = charts.excel_bytes([_with_notes(chart, notes)])
    record(
        "oversight.chart_exported",
        actor=Actor.for_user(request.user),
        occurred_at=clock.now(),
        object_type="oversight.chart",
        object_id=f"{section}/{key}",
        data={
            "section": section,
            "chart": key,
            "month": period.label,
            "slice": viewer.slice or "own",
        },
        request=request,
    )
    return _attachment(data, f"{key}-{period.label}.xlsx", XLSX)


def _with_notes(chart: charts.Chart, notes: tuple[str, ...]) -> charts.Chart:
    from dataclasses import replace

    return replace(chart, notes=chart.notes + notes)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def _attachment(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


# --- monthly reports -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def report_list(request: HttpRequest) -> HttpResponse:
    """The kept monthly reports (newest first) and, for the center, "generate now"."""
    access.require_role(request, REPORT_ROLES)
    can_generate = access.role_of(request.user) in GENERATE_ROLES
    default_month = reports.previous_month(clock.china_today())
    error = ""
    if request.method == "POST":
        if not can_generate:
            raise _deny(request, "role", "generate")
        month = _month_or_none(request.POST.get("month"))
        if month is None or month > clock.china_today().replace(day=1):
            error = _("Choose a month (YYYY-MM) no later than the current month.")
        else:
            stored = reports.generate(
                month, now=clock.now(), user=request.user, source="demand", request=request
            )
            messages.success(
                request,
                _("The report of %(month)s was generated.") % {"month": f"{month:%Y-%m}"},
            )
            return redirect(reverse("web:oversight:reports") + f"#report-{stored.id}")
    return render(
        request,
        "oversight/reports.html",
        {
            "reports": reports.stored_reports()[:120],
            "can_generate": can_generate,
            "default_month": f"{default_month:%Y-%m}",
            "max_month": f"{clock.china_today():%Y-%m}",
            "error": error,
        },
        status=422 if error else 200,
    )


@login_required
def report_file(request: HttpRequest, report_id: str, kind: str) -> HttpResponse:
    """A kept report's PDF or Excel file (audited ``oversight.report_downloaded``)."""
    access.require_role(request, REPORT_ROLES)
    stored = reports.stored_report(report_id) if kind in reports.KINDS else None
    if stored is None:
        raise access.not_found(request, "oversight.monthly_report", report_id)
    try:
        data = stored.read(kind)
    except (OSError, reports.StoredReportDamaged):
        logger.exception("monthly report %s.%s cannot be served", stored.id, kind)
        raise access.not_found(request, "oversight.monthly_report", report_id) from None
    record(
        "oversight.report_downloaded",
        actor=Actor.for_user(request.user),
        occurred_at=clock.now(),
        object_type="oversight.monthly_report",
        object_id=stored.id,
        data={"month": f"{stored.month:%Y-%m}", "scope": stored.scope, "format": kind},
        request=request,
    )
    name = f"jifen-monthly-{stored.month:%Y-%m}.{kind}"
    return _attachment(data, name, PDF if kind == "pdf" else XLSX)
