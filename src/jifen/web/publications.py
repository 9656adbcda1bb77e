"""The public list (公示名单): no login needed. Only what :func:`jifen.rankings.exports.
public_rows` gives (application number, masked name, rank, points, points by item, place),
with the Excel and PDF downloads from the same rows. Before its first day the list is not
found (404); once its windows are over (or a corrected list replaced it) it is taken down:
410 with a "taken down" page (a corrected list links to its successor)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from jifen.accounts import clock
from jifen.rankings import exports
from jifen.rankings.errors import NotPublic
from jifen.rankings.models import Publication

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _gone_or_missing(request: HttpRequest, pk: int) -> HttpResponse:
    publication = Publication.objects.filter(pk=pk).first()
    today = clock.china_today()
    if publication is None or publication.starts_on > today:
        raise Http404
    successor = getattr(publication, "corrected_by", None)
    if successor is not None and not successor.is_visible_on(today):
        successor = None
    return render(
        request,
        "web/public/taken_down.html",
        {"publication": publication, "successor": successor},
        status=410,
    )


@require_GET
def publication_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    try:
        data = exports.page_data(pk, now=clock.now(), page=page)
    except NotPublic:
        return _gone_or_missing(request, pk)
    columns = [(c["code"], c["label"]) for c in data["columns"]]
    for row in data["rows"]:
        row["cells"] = [
            (label, row["breakdown"][code]) for code, label in columns if code in row["breakdown"]
        ]
    return render(request, "web/public/publication.html", {"pk": pk, "d": data})


def _download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    writer = exports.publication_excel if kind == "xlsx" else exports.publication_pdf
    try:
        body = writer(pk, now=clock.now())
    except NotPublic:
        return _gone_or_missing(request, pk)
    response = HttpResponse(body, content_type=XLSX if kind == "xlsx" else "application/pdf")
    response["Content-Disposition"] = f'attachment; filename="publication-{pk}.{kind}"'
    return response


@require_GET
def publication_excel(request: HttpRequest, pk: int) -> HttpResponse:
    return _download(request, pk, "xlsx")


@require_GET
def publication_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _download(request, pk, "pdf")
