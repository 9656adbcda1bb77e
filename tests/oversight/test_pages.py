"""The oversight pages over HTTP, per role, against the hand-built population of
tests/oversight/test_figures.py: the center sees every section with SVG charts and their
numbers tables, a reviewer their department's reviews, a clerk their town's population;
anybody else 403 (audited); each chart exports to Excel (audited)."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from jifen.accounts import clock
from jifen.audit.models import AuditEntry
from tests.factories import make_user
from tests.oversight import test_figures as hand_built

NOW = hand_built.NOW
#: The hand-built population of the figures' tests (towns, scores, tasks, feeds).
population = hand_built.population

URL = "/workbench/oversight/"


@pytest.fixture
def pinned(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def client_for(client, user):
    client.force_login(user)
    return client


def numbers(html: str, key: str) -> list[list[str]]:
    """The rows of chart ``key``'s numbers table (text of the cells)."""
    block = html.split(f'id="numbers-{key}"', 1)[1].split("</details>", 1)[0]
    body = block.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[c.strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


def nonzero(rows: list[list[str]]) -> list[list[str]]:
    """The rows with any figure (every town and department is listed, most with zeros)."""
    return sorted(r[1:] for r in rows if any(v not in ("0", "—") for v in r[1:]))


def keyfig(html: str, section: str, *labels: str) -> str:
    """A key figure by its label (English, or Chinese once the translations are merged)."""
    block = html.split(f'id="keyfigs-{section}"', 1)[1].split("</dl>", 1)[0]
    for label in labels:
        match = re.search(rf"<dt>{re.escape(label)}</dt><dd>(.*?)</dd>", block)
        if match:
            return match.group(1)
    raise AssertionError((labels, block))


def denied(path: str) -> bool:
    return AuditEntry.objects.filter(
        action="access.denied", data__path=path, result="denied"
    ).exists()


def test_the_center_sees_every_section_with_charts_and_numbers(client, population, pinned):
    response = client_for(client, population["center"]).get(URL, {"month": "2025-06"})
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("population", "scores", "feeds", "reviews", "reexaminations", "scenarios"):
        assert f'id="section-{section}"' in html
    assert html.count('role="img"') >= 10
    assert "<script" not in html.split("<main>", 1)[1]  # charts need no JavaScript
    # population: by town (valid, lapsed, cleared), the lapse reasons, permits per month
    assert nonzero(numbers(html, "population-by-town")) == [["1", "1", "1"], ["2", "1", "0"]]
    assert sorted(numbers(html, "lapse-reasons")) == [["已离开桐乡", "1"], ["逾期未签注", "1"]]
    assert numbers(html, "permits-by-month")[-2:] == [
        ["2025-05", "1", "1", "0"],
        ["2025-06", "2", "1", "1"],
    ]
    # scores: the histogram and the movement since May
    assert keyfig(html, "scores", "Valid scores", "有效积分") == "3"
    assert keyfig(html, "scores", "Mean total", "平均总分") == "45.92"
    assert keyfig(html, "reviews", "Overdue review tasks", "超期审核任务") == "1"
    histogram = numbers(html, "score-histogram")
    assert [r for r in histogram if r[1] != "0"] == [["10–20", "1"], ["50–60", "1"], ["70–80", "1"]]
    # reviews: backlog, times in working days, within 10
    assert nonzero(numbers(html, "backlog-by-department")) == [["1", "0"], ["3", "1"]]
    assert nonzero(numbers(html, "review-times")) == [["1.5", "2"], ["7.5", "11"]]
    assert nonzero(numbers(html, "review-within-10")) == [["100"], ["75"]]
    # feeds: the late department is marked
    assert 'class="late"' in html
    # each chart links its Excel export
    assert f'href="{URL}population/population-by-town.xlsx?month=2025-06"' in html


def test_a_reviewer_sees_their_departments_reviews_only(client, population, pinned):
    c = client_for(client, population["hrss_reviewer"])
    html = c.get(URL).content.decode()
    assert 'id="section-reviews"' in html and 'id="section-reexaminations"' in html
    assert 'id="section-population"' not in html and 'id="section-feeds"' not in html
    assert [row[1:] for row in numbers(html, "backlog-by-department")] == [["1", "0"]]
    assert c.get(f"{URL}population/").status_code == 403
    assert denied(f"{URL}population/")
    assert c.get(f"{URL}population/population-by-town.xlsx").status_code == 403
    assert c.get(f"{URL}reports/").status_code == 403


def test_a_clerk_sees_their_towns_population_only(client, population, pinned):
    c = client_for(client, population["clerk"])
    html = c.get(URL).content.decode()
    assert 'id="section-population"' in html
    assert 'id="section-reviews"' not in html and 'id="section-scores"' not in html
    assert [row[1:] for row in numbers(html, "population-by-town")] == [["2", "1", "0"]]
    assert c.get(f"{URL}reviews/").status_code == 403
    assert c.get(f"{URL}reviews/backlog-by-town.xlsx").status_code == 403


@pytest.mark.parametrize("role", ["auditor", "system_admin", "security_admin", "resident"])
def test_other_roles_are_refused_and_audited(client, population, pinned, role):
    kwargs = {"resident": population["people"]["r1"]} if role == "resident" else {}
    user = make_user(role, username=f"u-{role}", **kwargs)
    c = client_for(client, user)
    for path in (URL, f"{URL}scores/", f"{URL}scores/score-histogram.xlsx", f"{URL}reports/"):
        assert c.get(path).status_code == 403, path
        assert denied(path)


def test_anonymous_is_sent_to_log_in(client, population):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_unknown_section_or_chart_is_404(client, population, pinned):
    c = client_for(client, population["center"])
    assert c.get(f"{URL}nothing/").status_code == 404
    assert c.get(f"{URL}scores/nothing.xlsx").status_code == 404


def test_a_chart_exports_to_excel_audited(client, population, pinned):
    c = client_for(client, population["center"])
    response = c.get(f"{URL}reviews/review-times.xlsx", {"month": "2025-06"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="review-times-2025-06.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    data = sorted(r[1:3] for r in rows[-2:])
    assert data == [[1.5, 2], [7.5, 11]]  # numbers, not text
    entry = AuditEntry.objects.get(action="oversight.chart_exported")
    assert entry.object_id == "reviews/review-times"
    assert entry.data["month"] == "2025-06"


def test_a_bad_month_falls_back_to_the_current_month(client, population, pinned):
    c = client_for(client, population["center"])
    response = c.get(f"{URL}reviews/", {"month": "June"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and 'value="2025-06"' in html


def test_the_month_form_swaps_the_panels_with_htmx(client, population, pinned):
    c = client_for(client, population["center"])
    response = c.get(
        f"{URL}reviews/", {"month": "2025-05"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="oversight"
    )
    html = response.content.decode()
    assert html.startswith('<div id="oversight">') and "<html" not in html
    # decisions in May: one (hrss, 9 working days: 7 May → 20 May)
    assert nonzero(numbers(html, "review-times")) == [["9", "9"]]


def test_the_nav_links_the_oversight_pages(client, population, pinned):
    for user in (population["center"], population["clerk"], population["hrss_reviewer"]):
        html = client_for(client, user).get("/workbench/oversight/").content.decode()
        assert 'id="nav-oversight"' in html


def test_the_center_looks_at_a_departments_or_a_towns_slice(client, population, pinned):
    c = client_for(client, population["center"])
    html = c.get(URL, {"slice": "department:hrss_bureau"}).content.decode()
    assert 'id="section-reviews"' in html and 'id="section-population"' not in html
    assert [row[1:] for row in numbers(html, "backlog-by-department")] == [["1", "0"]]
    assert "&amp;slice=department:hrss_bureau" in html  # the links keep the slice
    html = c.get(f"{URL}reviews/", {"slice": "town:wutong"}).content.decode()
    assert 'id="section-population"' in html and 'id="section-reviews"' not in html
    assert [row[1:] for row in numbers(html, "population-by-town")] == [["2", "1", "0"]]
    assert c.get(URL, {"slice": "town:nowhere"}).status_code == 404
    response = c.get(f"{URL}population/population-by-town.xlsx", {"slice": "town:wutong"})
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="oversight.chart_exported")
    assert entry.data["slice"] == "town:wutong"


def test_staff_cannot_choose_another_slice(client, population, pinned):
    c = client_for(client, population["hrss_reviewer"])
    assert c.get(URL, {"slice": "department:public_security_bureau"}).status_code == 200
    html = c.get(URL, {"slice": "department:public_security_bureau"}).content.decode()
    # the slice parameter is ignored: still the reviewer's own department
    assert [row[1:] for row in numbers(html, "backlog-by-department")] == [["1", "0"]]
    assert 'name="slice"' not in html


def test_the_bureau_sees_every_section_but_no_personal_data(client, population, pinned):
    from jifen.accounts import access

    bureau = make_user("bureau", username="bureau1")
    response = client_for(client, bureau).get(URL, {"month": "2025-06"})
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("population", "scores", "feeds", "reviews", "reexaminations", "scenarios"):
        assert f'id="section-{section}"' in html
    # Figures only: no resident look-up, no residents, claims or evidence in scope.
    assert client.get("/workbench/").status_code == 403
    assert denied("/workbench/")
    assert not access.residents_for(bureau).exists()
    assert not access.claims_for(bureau).exists()
    assert not access.evidence_for(bureau).exists()
