"""The center's calendar pages (``/workbench/calendar/``): years, days, versions, problems.

Center role only (others: 403 and ``access.denied``). Changes create a new version through
:mod:`jifen.calendars.services` (audited ``calendar.changed``).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from jifen.accounts import access, clock
from jifen.accounts.models import Role
from jifen.calendars import services
from jifen.calendars.errors import CalendarChangeRefused
from jifen.calendars.forms import DayForm, NoticeForm
from jifen.calendars.models import CalendarDay, CalendarVersion, CalendarYear
from jifen.workdays import CalendarFileError

CENTER = frozenset({Role.CENTER})
WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))


def _overview_context(request: HttpRequest, **extra) -> dict:
    _calendar, number = services.current_calendar()
    today = clock.china_today()
    years = list(CalendarYear.objects.filter(version_id=number).order_by("-year"))
    covered = {y.year for y in years}
    upcoming = [y for y in (today.year, today.year + 1) if y not in covered]
    return {
        "version": CalendarVersion.objects.select_related("created_by").get(number=number),
        "versions": CalendarVersion.objects.select_related("created_by").order_by("-number")[:20],
        "years": years,
        "problems": services.open_problems(),
        "upcoming_uncovered": upcoming,
        "day_form": extra.pop("day_form", None) or DayForm(),
        "notice_form": extra.pop("notice_form", None) or NoticeForm(),
        **extra,
    }


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    access.require_role(request, CENTER)
    return render(request, "calendars/overview.html", _overview_context(request))


@login_required
def year_days(request: HttpRequest, year: int) -> HttpResponse:
    access.require_role(request, CENTER)
    calendar, number = services.current_calendar()
    if year not in calendar.years:
        days = []
    else:
        days = [
            {"day": d, "weekday": WEEKDAYS[d.date.weekday()]}
            for d in CalendarDay.objects.filter(version_id=number, date__year=year).order_by("date")
        ]
    context = {
        "year": year,
        "covered": year in calendar.years,
        "version": number,
        "days": days,
        "workdays": (
            calendar.workdays_between(dt.date(year - 1, 12, 31), dt.date(year, 12, 31))
            if year in calendar.years and year - 1 in calendar.years
            else None
        ),
        "year_row": CalendarYear.objects.filter(version_id=number, year=year).first(),
        "day_form": DayForm(),
    }
    return render(request, "calendars/year.html", context)


@login_required
@require_POST
def set_day(request: HttpRequest) -> HttpResponse:
    access.require_role(request, CENTER)
    form = DayForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            version = services.set_day(
                date=data["date"],
                is_workday=data["is_workday"],
                name=data["name"],
                reason=data["reason"],
                user=request.user,
                now=clock.now(),
                request=request,
            )
        except CalendarChangeRefused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(
                request,
                _("Calendar version %(version)s saved: %(date)s changed.")
                % {"version": version.number, "date": data["date"].isoformat()},
            )
            return HttpResponseRedirect(reverse("web:calendar_year", args=[data["date"].year]))
    return render(
        request, "calendars/overview.html", _overview_context(request, day_form=form), status=400
    )


@login_required
@require_POST
def import_notice(request: HttpRequest) -> HttpResponse:
    access.require_role(request, CENTER)
    form = NoticeForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = upload.read().decode("utf-8")
            version = services.import_notice(
                text,
                file=upload.name,
                user=request.user,
                now=clock.now(),
                note=form.cleaned_data["note"],
                request=request,
            )
        except UnicodeDecodeError:
            form.add_error("file", _("%(file)s is not UTF-8 text.") % {"file": upload.name})
        except CalendarFileError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(
                request,
                _("Calendar version %(version)s saved from %(file)s.")
                % {"version": version.number, "file": upload.name},
            )
            return HttpResponseRedirect(reverse("web:calendar"))
    return render(
        request,
        "calendars/overview.html",
        _overview_context(request, notice_form=form),
        status=400,
    )
