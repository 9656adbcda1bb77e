"""The review dashboard: a department's tasks by state, due today, due within 3 working days
and overdue; the center additionally sees every department's backlog and overdue count, and
the calendar's configuration problems. Figures come from :mod:`jifen.claims.dashboard` over
the tasks :func:`jifen.accounts.access.tasks_for` gives the user."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jifen.accounts import access, clock
from jifen.accounts.models import Role
from jifen.claims import dashboard

DASHBOARD_ROLES = frozenset({Role.REVIEWER, Role.CENTER})


@login_required
def review_dashboard(request: HttpRequest) -> HttpResponse:
    access.require_role(request, DASHBOARD_ROLES)
    tasks = access.tasks_for(request.user)
    window = dashboard.due_window(clock.china_today(), now=clock.now())
    center = access.role_of(request.user) == Role.CENTER
    context = {
        "window": window,
        "figures": dashboard.figures(tasks, window),
        "center": center,
        "department": request.user.department,
        "rows": dashboard.by_department(tasks, window) if center else [],
        "calendar_problems": [],
    }
    if center:
        from jifen.calendars.services import open_problems

        context["calendar_problems"] = list(open_problems())
    return render(request, "web/review/dashboard.html", context)
