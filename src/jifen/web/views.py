"""The platform's first pages: the home page and a health check."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from jifen.engine import PolicySet
from jifen.scores.policies import current_policies

CHINA = ZoneInfo("Asia/Shanghai")


def policies() -> PolicySet:
    """The policy versions, loaded once per process (files change only with a deployment)."""
    return current_policies()


def home(request: HttpRequest) -> HttpResponse:
    today = dt.datetime.now(CHINA).date()
    in_force = policies().in_force(today)
    return render(request, "web/home.html", {"today": today, "policies": in_force})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for the process supervisor."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok", "database": connection.vendor})
