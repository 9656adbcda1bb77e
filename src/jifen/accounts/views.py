"""Login, logout and the landing page after login."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from jifen.accounts.forms import LoginForm
from jifen.accounts.models import Role


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): ends the session; the logout is audited by a signal receiver."""

    next_page = "accounts:login"


@login_required
def landing(request: HttpRequest) -> HttpResponse:
    """Where each role starts: residents their points, staff the workbench."""
    role = request.user.role
    if role == Role.RESIDENT:
        return redirect("web:portal")
    if role in (Role.CLERK, Role.REVIEWER, Role.CENTER):
        return redirect("web:workbench")
    if request.user.is_staff:
        return redirect("admin:index")
    return redirect("web:home")
