"""The Idempotency-Key protocol (``jifen.api.idempotency.idempotent``) on a small test view:
missing key, replay, another body, a duplicate while the first is handled (409), failures that
free the key (it is taken in the handler's transaction), and concurrent requests with one key
(PostgreSQL, threads) that do the work once."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from jifen.accounts import clock
from jifen.api.idempotency import idempotent
from jifen.audit.actors import Actor
from jifen.audit.models import AuditEntry
from jifen.audit.services import record
from jifen.idempotency import services
from jifen.idempotency.models import IdempotencyRecord, IdempotencyState
from tests.factories import make_user

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="threads need separate connections to one database; the SQLite test database "
    "is in memory (shared cache), so the threaded tests run on PostgreSQL",
)
ACTION = "test.idempotent_work"


class Boom(Exception):
    pass


class WorkView(GenericAPIView):
    """Does 'work' (an audit entry) and answers 201; the body can ask for a delay or a failure."""

    parser_classes = [JSONParser, MultiPartParser]
    delay = 0.0

    @idempotent
    def post(self, request, name="x"):
        data = request.data
        if data.get("fail") == "exception":
            record(ACTION, actor=Actor.for_user(request.user), occurred_at=clock.now())
            raise Boom
        if data.get("fail") == "500":
            record(ACTION, actor=Actor.for_user(request.user), occurred_at=clock.now())
            return Response({"detail": "upstream down"}, status=503)
        if data.get("fail") == "400":
            return Response({"field": "n", "code": "bad", "detail": "n is bad"}, status=400)
        if data.get("fail") == "404":
            from django.http import Http404

            raise Http404
        time.sleep(self.delay)
        entry = record(
            ACTION, actor=Actor.for_user(request.user), occurred_at=clock.now(), object_id=name
        )
        files = {k: f.size for k, f in request.FILES.items()}
        return Response({"work": entry.sequence, "name": name, "files": files}, status=201)


factory = APIRequestFactory()


def call(user, body=None, *, key="key-1", path="/api/work/x", fmt="json", view=None, **kw):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    request = factory.post(path, body if body is not None else {}, format=fmt, **headers)
    force_authenticate(request, user=user)
    response = (view or WorkView.as_view())(request, **kw)
    response.render()
    return response


def work_done() -> int:
    return AuditEntry.objects.filter(action=ACTION).count()


@pytest.fixture
def user(db):
    return make_user("resident")


def test_a_missing_key_is_refused_naming_the_header(user):
    response = call(user, {"n": 1}, key=None)
    assert response.status_code == 400
    assert response.data["field"] == "Idempotency-Key"
    assert response.data["code"] == "idempotency.key_missing"
    assert work_done() == 0 and not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["", "   ", "ключ", "a b", "x" * 256])
def test_a_malformed_key_is_refused(user, key):
    response = call(user, {"n": 1}, key=key)
    assert response.status_code == 400
    assert response.data["field"] == "Idempotency-Key"
    assert work_done() == 0


def test_a_replay_returns_the_stored_response_without_doing_the_work_again(user):
    first = call(user, {"n": 1, "m": [1, 2]})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    again = call(user, {"m": [1, 2], "n": 1})  # same body, other key order
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.data == first.data
    assert work_done() == 1
    stored = IdempotencyRecord.objects.get()
    assert (stored.state, stored.response_status) == (IdempotencyState.COMPLETED, 201)
    assert (stored.method, stored.path) == ("POST", "/api/work/x")


def test_the_same_key_with_another_body_or_path_gets_422(user):
    assert call(user, {"n": 1}).status_code == 201
    other_body = call(user, {"n": 2})
    assert other_body.status_code == 422
    assert other_body.data["code"] == "idempotency.key_reused"
    assert other_body.data["field"] == "Idempotency-Key"
    other_path = call(user, {"n": 1}, path="/api/work/y", name="y")
    assert other_path.status_code == 422
    assert work_done() == 1


def test_keys_belong_to_one_user(user):
    other = make_user("resident")
    assert call(user, {"n": 1}).status_code == 201
    response = call(other, {"n": 1})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert work_done() == 2


@needs_postgresql
def test_a_duplicate_while_the_first_is_in_progress_gets_409(user):
    import psycopg

    settings_dict = connection.settings_dict
    other = psycopg.connect(
        dbname=settings_dict["NAME"], user=settings_dict["USER"], host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432, password=settings_dict["PASSWORD"] or None,
    )  # fmt: skip
    try:
        # Another request's transaction holds the key (what ``begin`` takes first).
        other.execute("BEGIN")
        other.execute("SELECT pg_advisory_xact_lock(%s, %s)", services.lock_keys(user.pk, "key-1"))
        response = call(user, {"n": 1})
        assert response.status_code == 409
        assert response.data["code"] == "idempotency.in_progress"
        assert response["Retry-After"] == "1"
        assert work_done() == 0
        other.execute("ROLLBACK")  # the first request failed: the key is free again
        assert call(user, {"n": 1}).status_code == 201
        assert work_done() == 1
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_taking_a_key_outside_the_handlers_transaction_is_refused():
    user = make_user("resident")
    with pytest.raises(RuntimeError, match="inside the handler's transaction"):
        services.begin(
            user=user, key="key-1", method="POST", path="/api/work/x", digest="0" * 64,
            now=clock.now(),
        )  # fmt: skip
    assert not IdempotencyRecord.objects.exists()


def test_an_exception_rolls_the_work_back_and_frees_the_key(user):
    with pytest.raises(Boom):
        call(user, {"fail": "exception"})
    assert work_done() == 0  # the handler's writes rolled back
    assert not IdempotencyRecord.objects.exists()
    with pytest.raises(Boom):
        call(user, {"fail": "exception"})  # the same key may be retried


def test_a_5xx_rolls_the_work_back_and_frees_the_key(user):
    response = call(user, {"fail": "500"})
    assert response.status_code == 503
    assert work_done() == 0
    assert not IdempotencyRecord.objects.exists()


def test_a_4xx_is_stored_and_replayed(user):
    first = call(user, {"fail": "400"})
    assert first.status_code == 400
    again = call(user, {"fail": "400"})
    assert again.status_code == 400 and again["Idempotent-Replayed"] == "true"
    assert again.data == first.data


def test_a_drf_exception_in_the_handler_becomes_its_response_and_is_stored(user):
    response = call(user, {"fail": "404"})
    assert response.status_code == 404
    assert IdempotencyRecord.objects.get().response_status == 404


def test_multipart_bodies_are_compared_by_their_file_contents(user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload(content):
        return {"note": "a", "file": SimpleUploadedFile("a.png", content)}

    first = call(user, upload(b"one"), fmt="multipart")
    assert first.status_code == 201 and first.data["files"] == {"file": 3}
    assert call(user, upload(b"one"), fmt="multipart")["Idempotent-Replayed"] == "true"
    assert call(user, upload(b"two"), fmt="multipart").status_code == 422
    assert work_done() == 1


def test_purge_forgets_old_records(user):
    call(user, {"n": 1})
    assert services.purge(now=clock.now() + dt.timedelta(days=2)) == 1


def test_atomic_requests_are_off(settings):
    # The key must be committed before the handler runs: a request-wide transaction would
    # hide it from a concurrent duplicate.
    assert not settings.DATABASES["default"].get("ATOMIC_REQUESTS")


@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_requests_with_one_key_do_the_work_once():
    user = make_user("resident")

    class SlowView(WorkView):
        delay = 0.5

    view = SlowView.as_view()
    start = threading.Barrier(4)
    statuses: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            start.wait(timeout=30)
            response = call(user, {"n": 1}, view=view)
            statuses.append((response.status_code, "Idempotent-Replayed" in response))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    # The first holds the key while it works; the duplicates are told so (409, retry later).
    assert sorted(status for status, _replayed in statuses) == [201, 409, 409, 409]
    assert not any(replayed for _status, replayed in statuses)
    assert work_done() == 1
    assert call(user, {"n": 1}, view=view)["Idempotent-Replayed"] == "true"
    assert work_done() == 1
