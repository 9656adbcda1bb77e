"""The rows of one import: checked before the transaction, applied inside it.

Used by :func:`jifen.feeds.importer.import_batch`, which owns the transaction, the batch row
and its audit entry. Rows are applied in file order in three passes, so that the audit
chain's lock (taken by registrations and permit changes) is held only at the end of the
transaction: facts of residents already known; then registrations of new residents with
their facts; then permit status changes. Rows of one batch never depend on each other (a
record given twice for one resident is rejected), so the order does not change the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

from jifen.audit.actors import Actor
from jifen.facts import services as fact_services
from jifen.facts.errors import FactError
from jifen.facts.models import FactSource
from jifen.facts.services import NewFact
from jifen.feeds.formats import FeedFormat
from jifen.feeds.models import FeedBatch
from jifen.feeds.parsing import ParsedFile
from jifen.feeds.validation import CheckedRow, Checker, RowRejected
from jifen.identity import InvalidIdentityNumber, mask_identity_number
from jifen.org.models import Department
from jifen.residents.errors import PermitStatusUnchanged, ResidentError
from jifen.residents.models import PermitChangeSource, ResidencePermit, Resident
from jifen.residents.pii import identity_index, permit_index

REJECTED = "rejected"
#: Every outcome a report row can have.
OUTCOMES = (*fact_services.OUTCOMES, REJECTED)
_LOOKUP_CHUNK = 500
#: Rows written per call of ``apply_facts`` (and per step of the progress bar).
FACT_CHUNK = 1000

#: ``progress(done, total)``: rows processed so far and rows in the file.
ProgressCallback = Callable[[int, int], None]


def _entry(number: int, record_id: str, identity: str, rule: str, outcome: str) -> dict[str, Any]:
    return {
        "row": number,
        "record_id": record_id,
        "identity": identity,
        "rule": rule,
        "outcome": outcome,
        "field": "",
        "code": "",
        "reason": "",
        "reason_zh": "",
    }


def _is_domain_error(exc: Exception) -> bool:
    """Refusals by another app's service (registration, permit change) reject the row;
    anything else is a fault that aborts the whole batch."""
    return isinstance(exc, ResidentError | ValidationError | InvalidIdentityNumber | FactError)


def _messages(exc: Exception, row: CheckedRow) -> tuple[str, str]:
    """The refusal in English and Chinese, with no identity number in clear."""

    def render() -> str:
        if isinstance(exc, ValidationError):
            return "; ".join(str(m) for m in exc.messages)
        return str(getattr(exc, "message", None) or exc)

    with translation.override("en"):
        en = render()
    with translation.override("zh-hans"):
        zh = render()
    number = row.identity.number
    masked = mask_identity_number(number)
    return en.replace(number, masked), zh.replace(number, masked)


def _error_code(exc: Exception, default: str) -> str:
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) and code else default


class BatchRows:
    """The rows of one import: :meth:`check_rows` outside the transaction, :meth:`apply`
    inside it, then :meth:`report` and :meth:`counts` for the batch."""

    def __init__(
        self,
        feed: FeedFormat,
        owner: Department,
        parsed: ParsedFile,
        checker: Checker,
        *,
        now: dt.datetime,
        actor: Actor,
        progress: ProgressCallback | None,
    ) -> None:
        self.feed = feed
        self.owner = owner
        self.parsed = parsed
        self.checker = checker
        self.now = now
        self.actor = actor
        self.progress = progress
        self.entries: dict[int, dict[str, Any]] = {}
        self.checked: list[CheckedRow] = []
        self.affected: set = set()
        self.permit_changes = 0
        self.registered = 0
        self.residents: dict[str, Resident] = {}
        self.total = len(parsed.rows)
        self._departments: dict[str, Department] = {owner.code: owner}
        self._done = 0

    # --- before the transaction -----------------------------------------------------------

    def check_rows(self) -> None:
        self.total = len(self.parsed.rows)
        for row in self.parsed.rows:
            values = row.values
            record_id = (values.get("record_id") or "")[:80]
            masked = mask_identity_number(values.get("identity_number") or "")
            rule = (values.get("rule") or "")[:60]
            if row.problem is not None:
                p = row.problem
                self._reject(row.number, record_id, masked, rule, p.field, p.code, p.en, p.zh)
                continue
            try:
                checked = self.checker.check(row.number, values)
            except RowRejected as exc:
                self._reject(
                    row.number, record_id, masked, rule, exc.field, exc.code, exc.en, exc.zh
                )
                continue
            self.entries[row.number] = _entry(row.number, record_id, masked, rule, "")
            self.checked.append(checked)
        # The raw cells are not needed any more; a large file's rows are most of the memory.
        self.parsed.rows.clear()
        self.residents = self._find_residents(c.identity.number for c in self.checked)

    def _find_residents(self, numbers: Iterable[str]) -> dict[str, Resident]:
        by_index = {identity_index(n): n for n in set(numbers)}
        found: dict[str, Resident] = {}
        indexes = list(by_index)
        for start in range(0, len(indexes), _LOOKUP_CHUNK):
            chunk = indexes[start : start + _LOOKUP_CHUNK]
            for resident in Resident.objects.filter(identity_number_index__in=chunk):
                found[by_index[resident.identity_number_index]] = resident
        return found

    # --- inside the transaction -----------------------------------------------------------

    def apply(self, batch: FeedBatch) -> None:
        self.batch = batch
        seen: dict[tuple, int] = {}
        later: list[CheckedRow] = []
        permits: list[CheckedRow] = []
        known: list[CheckedRow] = []
        for row in self.checked:
            if row.permit is not None:
                permits.append(row)
            elif row.identity.number in self.residents:
                known.append(row)
            else:
                later.append(row)
        self._apply_facts(known, seen)
        self._register(later + permits)
        waiting = []
        for row in later:
            if self.entries[row.number]["outcome"] == REJECTED:
                continue
            if row.identity.number not in self.residents:
                self._unknown_resident(row)
            else:
                waiting.append(row)
        self._apply_facts(waiting, seen)
        for row in permits:
            resident = self.residents.get(row.identity.number)
            if self.entries[row.number]["outcome"] == REJECTED:
                continue
            if resident is None:
                self._unknown_resident(row)
            else:
                self._apply_permit(row, resident, seen)

    def _register(self, rows: list[CheckedRow]) -> None:
        """Register each unknown resident from the first row (in file order) that carries
        registration data; only the public-security feed carries it."""
        if not self.feed.registers_residents:
            return
        from jifen.residents.services import register_resident

        for row in sorted(rows, key=lambda r: r.number):
            if row.registration is None or row.identity.number in self.residents:
                continue
            reg = row.registration
            try:
                with transaction.atomic():
                    resident = register_resident(
                        identity_number=row.identity.number,
                        name=reg.name,
                        town=reg.town,
                        now=self.now,
                        actor=self.actor,
                        permit_number=reg.permit_number or None,
                        permit_issued_on=reg.permit_issued_on,
                    )
            except Exception as exc:
                if not _is_domain_error(exc):
                    raise
                en, zh = _messages(exc, row)
                self._reject_checked(
                    row,
                    getattr(exc, "field", "") or "identity_number",
                    _error_code(exc, "registration_refused"),
                    f"the resident could not be registered: {en}",
                    f"无法登记该人员：{zh}",
                )
                continue
            self.residents[row.identity.number] = resident
            self.entries[row.number]["registered"] = True
            self.registered += 1
            self.affected.add(resident.pk)

    def _apply_facts(self, rows: list[CheckedRow], seen: dict[tuple, int]) -> None:
        """Write the facts of ``rows`` (residents known) through ``apply_facts``, a chunk of
        rows at a time so the progress bar moves."""
        pending: list[tuple[CheckedRow, NewFact]] = []
        for row in rows:
            spec = row.fact
            assert spec is not None
            resident = self.residents[row.identity.number]
            if self._duplicate(row, (resident.pk, spec.key), seen):
                continue
            fact = NewFact(
                resident=resident,
                kind=spec.kind,
                code=spec.code,
                key=spec.key,
                department=self._department(spec.department),
                source=FactSource.FEED,
                level=spec.level,
                quantity=spec.quantity,
                date=spec.date,
                until=spec.until,
                act=spec.act,
                source_ref=f"{self.feed.code}:{row.record_id}",
            )
            pending.append((row, fact))
        for start in range(0, len(pending), FACT_CHUNK):
            self._write_chunk(pending[start : start + FACT_CHUNK])

    def _write_chunk(self, chunk: list[tuple[CheckedRow, NewFact]]) -> None:
        while chunk:
            try:
                outcomes = fact_services.apply_facts(
                    [fact for _, fact in chunk], batch=self.batch, now=self.now
                )
            except FactError as exc:
                # Refused before anything was written: reject that row, write the others.
                if exc.index is None:
                    raise
                row = chunk[exc.index][0]
                message = str(exc.message)
                self._reject_checked(row, exc.field, exc.code, message, message)
                chunk = chunk[: exc.index] + chunk[exc.index + 1 :]
                continue
            for (row, fact), outcome in zip(chunk, outcomes, strict=True):
                self.entries[row.number]["outcome"] = outcome
                if outcome != fact_services.UNCHANGED:
                    self.affected.add(fact.resident.pk)
            self._tick(len(chunk))
            return

    def _apply_permit(self, row: CheckedRow, resident: Resident, seen: dict[tuple, int]) -> None:
        from jifen.residents import services as resident_services

        spec = row.permit
        assert spec is not None
        if self._duplicate(row, (resident.pk, "permit", row.record_id), seen):
            return
        source_ref = f"{self.feed.code}:{row.record_id}"
        permit = self._permit_of(row, resident)
        if permit is None:
            return
        if permit.history.filter(source_ref=source_ref).exists():
            # This record was applied by an earlier batch: a replayed row changes nothing.
            self._unchanged(row)
            return
        try:
            with transaction.atomic():
                resident_services.change_permit_status(
                    permit,
                    status=spec.status,
                    effective_on=spec.effective_on,
                    source=PermitChangeSource.FEED,
                    source_ref=source_ref,
                    reason=spec.reason,
                    now=self.now,
                    actor=self.actor,
                )
        except PermitStatusUnchanged:
            self._unchanged(row)
            return
        except Exception as exc:
            if not _is_domain_error(exc):
                raise
            en, zh = _messages(exc, row)
            field = getattr(exc, "field", "") or "status"
            self._reject_checked(
                row,
                "date" if field == "effective_on" else field,
                _error_code(exc, "permit_change_refused"),
                f"the permit status could not be changed: {en}",
                f"无法变更居住证状态：{zh}",
            )
            return
        self.entries[row.number]["outcome"] = fact_services.ACCEPTED
        self.permit_changes += 1
        self._tick()

    def _duplicate(self, row: CheckedRow, key: tuple, seen: dict[tuple, int]) -> bool:
        first = seen.setdefault(key, row.number)
        if first == row.number:
            return False
        self._reject_checked(
            row,
            "record_id",
            "duplicate_in_batch",
            f"the same record for this resident is already in row {first} of this file",
            f"本文件第{first}行已报送该人员的同一记录",
        )
        return True

    def _unknown_resident(self, row: CheckedRow) -> None:
        self._reject_checked(
            row,
            "identity_number",
            "unknown_resident",
            "unknown resident: no resident with this identity number is registered",
            "未登记的人员：平台中没有该身份证号码的新市民",
        )

    def _department(self, code: str) -> Department:
        if code not in self._departments:
            self._departments[code] = Department.objects.get(code=code)
        return self._departments[code]

    def _permit_of(self, row: CheckedRow, resident: Resident) -> ResidencePermit | None:
        from jifen.residents.services import current_permit, normalise_permit_number

        spec = row.permit
        assert spec is not None
        if not spec.permit_number:
            permit = current_permit(resident)
        else:
            try:
                number = normalise_permit_number(spec.permit_number)
            except ResidentError:
                number = ""
            permit = (
                resident.permits.filter(number_index=permit_index(number)).first()
                if number
                else None
            )
        if permit is None:
            self._reject_checked(
                row,
                "permit_number",
                "unknown_permit",
                "the resident has no such residence permit"
                if spec.permit_number
                else "the resident has no residence permit",
                "该人员没有此居住证" if spec.permit_number else "该人员没有居住证",
            )
        return permit

    def _unchanged(self, row: CheckedRow) -> None:
        self.entries[row.number]["outcome"] = fact_services.UNCHANGED
        self._tick()

    def _reject(
        self,
        number: int,
        record_id: str,
        identity: str,
        rule: str,
        field: str,
        code: str,
        en: str,
        zh: str,
    ) -> None:
        entry = _entry(number, record_id, identity, rule, REJECTED)
        entry.update(field=field, code=code, reason=en, reason_zh=zh)
        self.entries[number] = entry
        self._tick()

    def _reject_checked(self, row: CheckedRow, field: str, code: str, en: str, zh: str) -> None:
        entry = self.entries[row.number]
        entry.update(outcome=REJECTED, field=field, code=code, reason=en, reason_zh=zh)
        self._tick()

    def _tick(self, rows: int = 1) -> None:
        self._done += rows
        if self.progress is not None:
            self.progress(self._done, self.total)

    # --- the report -----------------------------------------------------------------------

    def report(self) -> list[dict[str, Any]]:
        return [self.entries[n] for n in sorted(self.entries)]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((*fact_services.OUTCOMES, REJECTED, "registered"), 0)
        for entry in self.entries.values():
            counts[entry["outcome"]] += 1
        counts["registered"] = self.registered
        return counts
