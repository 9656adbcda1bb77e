"""Application numbers: a prefix, the China year and six digits (``SQ2026000123``).

One counter row per prefix and year (``claims_numbercounter``) serves claims (``SQ``),
corrections (``GZ``), enrollments (``YY``), re-examinations (``FH``) and fraud cases (``WG``). The
number is drawn with one ``UPDATE … RETURNING`` (PostgreSQL, and SQLite from 3.35): the row lock
it takes is held until the caller's transaction ends, so numbers are given in commit order and
a rolled-back caller gives its number back — no gaps, no duplicates. The first number of a
year creates the row (a concurrent creator makes the insert fail; the update is then retried).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction

from jifen.claims.models import NumberCounter
from jifen.scores.services import china_date


def next_number(prefix: str, now: dt.datetime) -> str:
    """The next number with ``prefix`` in the China year of ``now`` (inside a transaction)."""
    if not connection.in_atomic_block:
        raise RuntimeError("next_number() must run inside the transaction that uses the number")
    year = china_date(now).year
    quote = connection.ops.quote_name
    table, last = quote(NumberCounter._meta.db_table), quote("last")
    update = (
        f"UPDATE {table} SET {last} = {last} + 1 "  # noqa: S608 — names from the model, values are parameters
        f"WHERE {quote('prefix')} = %s AND {quote('year')} = %s RETURNING {last}"
    )
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(update, [prefix, year])
            row = cursor.fetchone()
        if row is not None:
            return f"{prefix}{year}{row[0]:06d}"
        try:
            with transaction.atomic():
                NumberCounter.objects.create(prefix=prefix, year=year, last=1)
            return f"{prefix}{year}{1:06d}"
        except IntegrityError:
            continue  # created concurrently: draw from it
    raise RuntimeError(f"no number counter for {prefix} {year}")
