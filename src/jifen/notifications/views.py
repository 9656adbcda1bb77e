"""Inbox pages: ``/me/inbox/`` (residents) and ``/workbench/inbox/`` (staff); mark as read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from jifen.accounts import access, clock
from jifen.accounts.models import Role
from jifen.notifications.services import inbox_for, mark_all_read, mark_read

RESIDENT_ROLES = frozenset({Role.RESIDENT})
PAGE_SIZE = 30


def _inbox_url(request: HttpRequest) -> str:
    if access.role_of(request.user) == Role.RESIDENT:
        return reverse("web:inbox")
    return reverse("web:staff_inbox")


def _page(request: HttpRequest, roles: frozenset[str]) -> HttpResponse:
    access.require_role(request, roles)
    notifications = inbox_for(request.user).order_by("-created_at", "-id")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "unread": inbox_for(request.user).filter(read_at__isnull=True).count(),
        "read_all_url": reverse("web:inbox_read_all"),
    }
    return render(request, "notifications/inbox.html", context)


@login_required
def resident_inbox(request: HttpRequest) -> HttpResponse:
    return _page(request, RESIDENT_ROLES)


@login_required
def staff_inbox(request: HttpRequest) -> HttpResponse:
    return _page(request, access.WORKBENCH_ROLES)


INBOX_ROLES = RESIDENT_ROLES | access.WORKBENCH_ROLES


@login_required
@require_POST
def read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read; ``open`` follows its link (a path on this site only)."""
    access.require_role(request, INBOX_ROLES)
    notification = inbox_for(request.user).filter(pk=pk).first()
    if notification is None:
        raise access.not_found(request, "notifications.notification", pk)
    mark_read(notification, now=clock.now())
    target = notification.link if request.POST.get("open") else ""
    if not (
        target
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
        and target.startswith("/")
    ):
        target = _inbox_url(request)
    return HttpResponseRedirect(target)


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    access.require_role(request, INBOX_ROLES)
    mark_all_read(request.user, now=clock.now())
    return HttpResponseRedirect(_inbox_url(request))
