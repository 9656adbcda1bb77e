"""The workbench pages: the center starts a simulation (a job, audited), reads the histogram
and the numbers, downloads Excel and PDF; nobody else may (403, ``access.denied``)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from jifen.audit.models import AuditEntry
from jifen.jobs.models import Job
from jifen.jobs.worker import work_once
from jifen.policies.services import save_draft_text
from jifen.simulations.errors import NotAllowed
from jifen.simulations.models import Simulation, SimulationStatus
from jifen.simulations.services import start_simulation
from tests.factories import PASSWORD, make_user
from tests.simulations.conftest import NOW

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_center_runs_a_simulation_and_reads_the_figures(client, center, residents, draft):
    signed_in(client, center)
    page = client.get(reverse("simulations:list") + f"?draft={draft.pk}")
    assert page.status_code == 200
    assert f'value="{draft.pk}" selected' in page.content.decode()

    response = client.post(reverse("simulations:start"), {"draft": draft.pk, "scenario": ""})
    simulation = Simulation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("simulations:detail", args=[simulation.pk])
    assert simulation.status == SimulationStatus.QUEUED
    assert simulation.draft_policy == draft.policy_id
    job = Job.objects.get(kind="simulations.run")
    assert job.args == {"simulation": simulation.pk}
    entry = AuditEntry.objects.get(action="simulation.run")
    assert entry.actor_id == str(center.pk) or entry.actor_user_id == center.pk
    assert entry.data["policy_id"] == draft.policy_id
    assert entry.data["job"] == job.pk

    waiting = client.get(reverse("simulations:detail", args=[simulation.pk]))
    assert 'http-equiv="refresh"' in waiting.content.decode()

    assert work_once(worker="test", kinds=["simulations.run"]) is not None
    simulation.refresh_from_db()
    assert simulation.status == SimulationStatus.DONE, simulation.error
    assert simulation.residents == len(residents)

    html = client.get(reverse("simulations:detail", args=[simulation.pk])).content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="histogram"' in html
    assert 'href="#band-0"' in html and 'id="band-0"' in html  # a bar links to its numbers
    assert '<script src="http' not in html and "cdn" not in html  # nothing from outside
    chart = html[html.index("<figure>") : html.index("</figure>")]
    assert "<script" not in chart  # drawn on the server
    summary = simulation.figures["summary"]
    assert f'<td class="num">{summary["gain"]}</td>' in html
    assert 'id="by-town"' in html and 'id="by-item"' in html

    xlsx = client.get(reverse("simulations:excel", args=[simulation.pk]))
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames[:4] == ["概要", "积分分布", "按镇街", "按指标"]
    bands = list(book["积分分布"].iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in bands] == simulation.figures["histogram"]["before"]
    assert [row[2] for row in bands] == simulation.figures["histogram"]["after"]

    pdf = client.get(reverse("simulations:pdf", args=[simulation.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"STSong-Light" in pdf.content


@pytest.mark.parametrize("role", ["clerk", "reviewer", "resident", "auditor"])
def test_only_the_center_simulates(client, role, center, draft):
    simulation = start_simulation(user=center, draft=draft, now=NOW)
    other = make_user(role)
    signed_in(client, other)
    before = AuditEntry.objects.filter(action="access.denied").count()
    urls = [
        reverse("simulations:list"),
        reverse("simulations:detail", args=[simulation.pk]),
        reverse("simulations:excel", args=[simulation.pk]),
        reverse("simulations:pdf", args=[simulation.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("simulations:start"), {"draft": draft.pk}).status_code == 403
    assert AuditEntry.objects.filter(action="access.denied").count() == before + 5
    assert Simulation.objects.count() == 1
    with pytest.raises(NotAllowed):
        start_simulation(user=other, draft=draft, now=NOW)
    assert AuditEntry.objects.filter(action="simulation.run").count() == 1


def test_an_invalid_draft_is_refused_naming_the_field(client, center, draft):
    text = draft.text.replace("cap: 200", "cap: -5", 1)
    save_draft_text(draft, text, user=center, now=NOW)
    signed_in(client, center)
    response = client.post(reverse("simulations:start"), {"draft": draft.pk})
    assert response.status_code == 422
    assert 'data-field="cap"' in response.content.decode()
    assert not Simulation.objects.exists()
    assert not AuditEntry.objects.filter(action="simulation.run").exists()
