"""The review dashboard: a department's tasks by state, due today, due within 3 working days,
overdue; the center's backlog and overdue count per department; the query layer
(jifen.claims.dashboard) on its own."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.accounts import access
from jifen.claims import dashboard, services
from jifen.claims.models import ReviewTask
from tests.factories import NOW, make_resident
from tests.web import test_claims_support as support
from tests.web.test_claims_support import bravery, file_claim, task_of, volunteer

at, cw, evidence_root = support.at, support.cw, support.evidence_root

pytestmark = pytest.mark.django_db

JUNE = NOW.tzinfo


def day(d: int) -> dt.datetime:
    return dt.datetime(2025, 6, d, 9, 0, tzinfo=JUNE)


@pytest.fixture
def tasks(cw):
    """Public security: one accepted on 06-02 (due 06-16), one accepted on 06-05 (due 06-19),
    one submitted, one waiting for materials; social work: one accepted on 06-02."""
    residents = [cw.alice] + [make_resident(town="wutong") for _ in range(3)]
    claims = [
        file_claim(
            cw,
            [bravery(), volunteer()] if i == 0 else [bravery()],
            user=cw.alice_user if i == 0 else cw.clerk_wutong,
            resident=r,
        )
        for i, r in enumerate(residents)
    ]
    psb = [task_of(c, "public_security_bureau") for c in claims]
    services.accept(psb[0], user=cw.reviewer_psb, now=day(2))
    services.accept(psb[1], user=cw.reviewer_psb, now=day(5))
    services.request_materials(psb[3], user=cw.reviewer_psb, items=["x"], now=day(2))
    social = task_of(claims[0], "social_work_dept")
    services.accept(social, user=cw.user("reviewer_social"), now=day(2))
    return psb, social


def test_figures_of_a_department(cw, tasks):
    scoped = access.tasks_for(cw.reviewer_psb)
    window = dashboard.due_window(dt.date(2025, 6, 16))
    assert window.soon_until == dt.date(2025, 6, 19)
    figures = dashboard.figures(scoped, window)
    assert figures.backlog == 4
    assert figures.by_state["accepted"] == 2 and figures.by_state["submitted"] == 1
    assert figures.by_state["materials_requested"] == 1
    assert (figures.due_today, figures.due_soon, figures.overdue) == (1, 1, 0)
    later = dashboard.figures(scoped, dashboard.due_window(dt.date(2025, 6, 17)))
    assert (later.due_today, later.due_soon, later.overdue) == (0, 1, 1)


def test_center_rows_per_department(cw, tasks):
    window = dashboard.due_window(dt.date(2025, 6, 17))
    rows = dashboard.by_department(access.tasks_for(cw.center), window)
    by_code = {r.department.code: r.figures for r in rows}
    assert by_code["public_security_bureau"].backlog == 4
    assert by_code["public_security_bureau"].overdue == 1
    assert by_code["social_work_dept"].overdue == 1 and by_code["social_work_dept"].backlog == 1
    assert rows[0].department.code == "public_security_bureau"  # busiest first
    assert access.tasks_for(cw.center).count() == ReviewTask.objects.count()


def test_filter_due_matches_the_figures(cw, tasks):
    psb, _social = tasks
    window = dashboard.due_window(dt.date(2025, 6, 16))
    scoped = access.tasks_for(cw.reviewer_psb)
    assert list(dashboard.filter_due(scoped, "today", window)) == [psb[0]]
    assert list(dashboard.filter_due(scoped, "soon", window)) == [psb[1]]
    with pytest.raises(ValueError):
        dashboard.due_q("tomorrow", window)


def test_a_calendar_gap_leaves_due_soon_unknown(cw, tasks):
    window = dashboard.due_window(dt.date(2099, 12, 30))
    assert window.soon_until is None and window.calendar_gap is not None
    figures = dashboard.figures(access.tasks_for(cw.reviewer_psb), window)
    assert figures.due_soon is None
    assert figures.overdue == 2  # both accepted tasks are long overdue by then


def test_the_department_dashboard_page(client, cw, tasks, at):
    at.set(day(16))
    client.force_login(cw.reviewer_psb)
    response = client.get("/workbench/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>1</strong>" in page.split('id="fig-due-today"')[1][:80]
    assert 'id="state-accepted">2<' in page
    assert 'id="departments"' not in page  # only the center sees every department
    assert "社工部" not in page


def test_the_center_dashboard_lists_every_department(client, cw, tasks, at):
    at.set(day(17))
    client.force_login(cw.center)
    page = client.get("/workbench/dashboard/").content.decode()
    row = page.split('id="dept-public_security_bureau"')[1].split("</tr>")[0]
    assert '<td class="num backlog">4</td>' in row and "<strong>1</strong>" in row
    assert 'id="dept-social_work_dept"' in page


@pytest.mark.parametrize("name", ["alice_user", "clerk_wutong", "auditor", "security_admin"])
def test_the_dashboard_is_for_reviewers_and_the_center(client, cw, name):
    client.force_login(cw.user(name))
    assert client.get("/workbench/dashboard/").status_code == 403
