"""The center's simulation pages (``/workbench/simulations/``): start a simulation of a draft
(optionally with a scenario), follow its job, read the figures — the histogram as an inline
SVG and every number in a table one click away — and download them as Excel or PDF.
Center role only (others: 403 and ``access.denied``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jifen.accounts import access, clock
from jifen.accounts.models import Role
from jifen.policies.errors import PolicyVersionError
from jifen.policies.models import PolicyState, PolicyVersion
from jifen.scenarios.models import ScenarioVersion, VersionStatus
from jifen.simulations import services
from jifen.simulations.errors import SimulationError
from jifen.simulations.models import Simulation, SimulationStatus
from jifen.simulations.simulation_report import write_excel, write_pdf
from jifen.simulations.svg import histogram_svg

CENTER = frozenset({Role.CENTER})


def _choices() -> dict:
    return {
        "drafts": PolicyVersion.objects.exclude(state=PolicyState.PUBLISHED).order_by("-pk"),
        "scenarios": ScenarioVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .select_related("scenario")
        .order_by("scenario__code"),
    }


@login_required
def simulation_list(request: HttpRequest) -> HttpResponse:
    access.require_role(request, CENTER)
    selected = request.GET.get("draft", "")
    return render(
        request,
        "simulations/list.html",
        {
            "simulations": Simulation.objects.select_related(
                "created_by", "scenario_version__scenario"
            )[:50],
            "selected": selected,
            **_choices(),
        },
    )


@login_required
@require_POST
def simulation_start(request: HttpRequest) -> HttpResponse:
    access.require_role(request, CENTER)
    error = None
    draft = PolicyVersion.objects.filter(pk=_int(request.POST.get("draft"))).first()
    scenario = None
    if request.POST.get("scenario"):
        scenario = ScenarioVersion.objects.filter(pk=_int(request.POST.get("scenario"))).first()
        if scenario is None:
            error = {"field": "scenario", "message": _("Choose a published scenario.")}
    if draft is None:
        error = {"field": "draft", "message": _("Choose a draft policy version.")}
    if error is None:
        try:
            simulation = services.start_simulation(
                user=request.user, draft=draft, scenario_version=scenario, now=clock.now()
            )
        except (SimulationError, PolicyVersionError) as exc:
            error = {"field": exc.field or "", "message": str(exc.message), "code": exc.code}
        else:
            return HttpResponseRedirect(reverse("simulations:detail", args=[simulation.pk]))
    return render(
        request,
        "simulations/list.html",
        {
            "simulations": Simulation.objects.all()[:50],
            "selected": request.POST.get("draft", ""),
            "error": error,
            **_choices(),
        },
        status=422,
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def _simulation(request: HttpRequest, pk: int) -> Simulation:
    access.require_role(request, CENTER)
    return get_object_or_404(
        Simulation.objects.select_related("draft", "created_by", "scenario_version__scenario"),
        pk=pk,
    )


@login_required
def simulation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    simulation = _simulation(request, pk)
    figures = simulation.figures or {}
    context = {"simulation": simulation, "figures": figures, "done": False}
    if simulation.status == SimulationStatus.DONE and figures:
        hist = figures["histogram"]
        context.update(
            done=True,
            svg=mark_safe(  # noqa: S308 - built from numbers and escaped labels
                histogram_svg(hist, before_label=_("in force"), after_label=_("draft"))
            ),
            bands=[
                {
                    "index": i,
                    "low": hist["edges"][i],
                    "high": hist["edges"][i + 1],
                    "before": hist["before"][i],
                    "after": hist["after"][i],
                    "change": hist["after"][i] - hist["before"][i],
                }
                for i in range(len(hist["before"]))
            ],
            not_scored=sorted(
                {
                    **figures.get("not_scored_before", {}),
                    **figures.get("not_scored_after", {}),
                }.items()
            ),
        )
    return render(request, "simulations/detail.html", context)


def _download(simulation: Simulation, content: bytes, ext: str, content_type: str):
    response = HttpResponse(content, content_type=content_type)
    name = f"simulation-{simulation.pk}-{simulation.draft_policy}.{ext}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def simulation_excel(request: HttpRequest, pk: int) -> HttpResponse:
    simulation = _simulation(request, pk)
    if simulation.status != SimulationStatus.DONE:
        return HttpResponse(status=409)
    return _download(
        simulation,
        write_excel(simulation),
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@login_required
def simulation_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    simulation = _simulation(request, pk)
    if simulation.status != SimulationStatus.DONE:
        return HttpResponse(status=409)
    return _download(simulation, write_pdf(simulation), "pdf", "application/pdf")
