"""Customer state <-> compact JSON bytes, for the changelog-backed table.

Money is written as decimal strings and dates as ISO strings; a format version leads every record
so a later release can migrate old changelogs instead of misreading them.

Format 2 adds retention: `arch` (archived through, or null), `open` (the cash on account the
archived history left), `paid` (what it paid on invoices still owing), `gone` (archived invoices
still remembered: currency and settlement date), and a date for every seen event id: `seen`
lists the ids of facts held, dated like their fact, and `seen_on` dates the others. Format 1
records (written before retention) still decode: nothing archived, and seen ids dated from their
facts. An older release refuses format 2 rather than lose what the archived history left.

Format 3 is the same content, smaller and quicker to read. Dates are day numbers (days since
1970-01-01); late-flag detections are one letter; each invoice row carries its stored balance
(paid amount, last payment and settlement days), so reading a record no longer re-derives the
ledger; and the seen event ids list only what the facts held do not already say: `seen` maps the
other ids (or a held fact's id seen on another date) to their day, and `unseen` names held facts
whose id is not among them (states written by hand; retention keeps every held fact's id). A
record is that JSON document, or its zlib compression (which never starts with `{`) when that
is smaller. Formats 1 and 2 still decode.

Format 4 adds contract 1.1's lifecycle, each key written only when it holds something (a record
of a customer with only invoices and payments is format 3's plus each invoice's `occurred_at`):
invoice rows gain `occurred_at` (Unix seconds when a whole UTC second, else RFC 3339) and, when
adjusted, the issued due date, the credited and
written-off amounts and how the invoice was closed; `cn` credit notes, `wo` write-offs, `void`
voids, `dchg` due-date changes, `rev` reversals; `held` names its sources (`p:`/`c:`); `col` the
disputes, promises, plans, holds, contacts sent, bounced channels and reached rungs; `st` the
commitment statuses published, `tk` the once-only tasks raised, `fc` first contacts. Format 3
records decode as the same state with none of these.

Format 5 adds the customer's profile (`pf`, written only when one was received: per update that
set a field, its `occurred_at`, event id and the fields it set, numbered as `PROFILE_FIELDS`)
and the segment's delinquency type (a sixth item of `seg`), and drops `tz` (the zone a
customer's invoices named, outside the contract). Older records decode with no profile, or,
when their invoices named a zone, a profile holding that zone as if set at the epoch (any real
profile update replaces it).

Format 6 adds payment terms: `terms` maps an invoice whose terms grant an early-payment discount
to their text (read again on decoding), and `disc` an invoice settled with the discount to the
discount taken. Older records decode with neither.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from processor.domain.calendar import AS_DUE_UTC
from processor.domain.collection import (
    EMPTY,
    Collection,
    Dispute,
    Hold,
    Plan,
    Promise,
    Sent,
)
from processor.domain.facts import CreditScore, Instalment
from processor.domain.ledger import (
    ZERO,
    ArchivedInvoice,
    Balance,
    ClosedBy,
    CreditNote,
    DueChange,
    DueNotice,
    Invoice,
    Ledger,
    Opening,
    Payment,
    Reversal,
    Void,
    WriteOff,
    settle,
)
from processor.domain.profile import NO_PROFILE, PROFILE_FIELDS, Profile
from processor.domain.retention import dated_seen, fact_dates
from processor.domain.segmentation import Exposure, exposure
from processor.domain.state import CustomerState, Segment
from processor.domain.terms import terms_of

FORMAT = 6
READABLE = frozenset({1, 2, 3, 4, 5, FORMAT})
# A record is compressed from this size (bytes) on, when compressing makes it smaller.
COMPRESS_FROM = 1024
# The preset dictionary compressed records are made with: part of format 3, never to be changed
# (a different one needs a new format). It holds what most records say: keys, codes, words.
_ZDICT = (
    b'"credit":{},"held":[],"arch":null,"open":{},"paid":{},"gone":{},"seen":{},"unseen":[],'
    b'"flags":{"d","c","l"},"done":{"thank_you.late_invoice_paid",".reminder",".call",'
    b'".final_notice",".payment_plan",".credit_hold",".agency","low.d","medium.d","high.d",'
    b'"seg":["current","1-30","31-60","61-90","91-120","120+","new","on_time",'
    b'"occasionally_late","habitually_late","small","mid","key","low","medium","high"],'
    b'"why":"aging_bucket current\\u2192, behavior , value_tier , risk_bucket , priority : '
    b"oldest unpaid invoice is days past due; no unpaid invoice is past due; nothing unpaid; "
    b"new (0 of 0 paid invoices late); on time ( of paid invoices late, average days late); "
    b'risk score , small value","at":"T00:00:00+00:00","contact":{"email":"phone":"letter":},'
    b'"tz":null,"exp":["low",[["current","USD","EUR","GBP","wake":null,"pv":null}'
    b'{"v":3,"id":"","name":"","inv":[["INV-","evt-",null,null],"-issued","-paid","-due",'
    b'"pay":[["PAY-","due":[["'
)
# Format 5's dictionary: format 3's, then what contract 1.1's profiles, delinquency types and
# risk reasons add (the end of a dictionary is what zlib finds first). Never to be changed either;
# a record names its dictionary (zlib's DICTID), so records of both still read.
_ZDICT_5 = _ZDICT + (
    b'"pf":[[,"evt-cust--profile-1",{"0":"1":"2":"3":"4":"5":"6":"7":"America/New_York",'
    b'"America/Los_Angeles","America/Chicago","Europe/Berlin","Europe/London","smb","enterprise",'
    b'"bureau","email","letter","phone",'
    b'"why":"aging_bucket current\\u2192, delinquency_type none\\u2192accidental, disorganized, '
    b"strategic, distressed, USD past due (minor stake); (small stake); (mid stake); (key stake); "
    b"unpaid past due, average days late); risk score (days late , behaviour , amount past due , "
    b"credit limit use , credit score , repeated disputes , broken promises ), small value, "
    b"mid value, key value (smb customer), owes of a USD credit limit, credit score ; accidental "
    b"delinquency (a reliable payer's first delay); disorganized delinquency ( of invoices late, "
    b"average days); strategic delinquency ( contacts about one invoice ignored (nothing paid, no "
    b"reply)); distressed delinquency ("
)
_DICTIONARIES = {zlib.adler32(d): d for d in (_ZDICT, _ZDICT_5)}
_EPOCH = date(1970, 1, 1).toordinal()
_DETECTED = {"due_date_event": "d", "clock": "c", "late_payment": "l"}
_DETECTED_BY: dict[str, Any] = {code: name for name, code in _DETECTED.items()}
_json_text = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
_json_text_decode = json.JSONDecoder().decode


def _json_encode(document: dict[str, Any]) -> bytes:
    """Compact JSON (orjson: about ten times the standard library's speed on a state).

    Text orjson refuses (a lone surrogate, which UTF-8 cannot carry) is written as the
    standard library writes it, escaped; either decodes to the same document.
    """
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:
        return _json_text(document).encode("ascii")


def _json_decode(raw: bytes) -> Any:
    """The document of `_json_encode`'s bytes (or of an older record, ASCII-escaped JSON)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _json_text_decode(raw.decode("utf-8"))


def _day(value: date) -> int:
    return value.toordinal() - _EPOCH


def _oday(value: date | None) -> int | None:
    return None if value is None else value.toordinal() - _EPOCH


def _from_day(value: int) -> date:
    return date.fromordinal(value + _EPOCH)


def _from_oday(value: int | None) -> date | None:
    return None if value is None else date.fromordinal(value + _EPOCH)


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class Wake:
    """A stored state's next wake-up and the policy version it was computed under."""

    at: datetime | None
    policy_version: str | None


def encode_state(
    state: CustomerState, *, contribution: Exposure | None = None, wake: Wake | None = None
) -> bytes:
    """Serialize a state (format 3), compressed when that makes it smaller.

    `contribution` is the state's `exposure()` (the worker passes it, aged on the customer's
    calendar; without it, due dates are aged as they are, in UTC); `wake` is
    its next wake-up, kept in the record so recovery can rebuild the schedule from it alone.
    """
    ledger = state.ledger
    balances = ledger.balances
    invoices = []
    for i in ledger.invoices.values():
        b = balances[i.invoice_id]
        paid = str(b.paid)
        amount = str(i.amount)
        row: list[Any] = [
            i.invoice_id,
            i.event_id,
            amount,
            i.currency,
            _day(i.issued_on),
            _day(i.due_date),
            1 if paid == amount else 0 if paid == "0" else paid,
            _oday(b.last_paid_on),
            _oday(b.settled_on),
            _instant(i.occurred_at),
        ]
        if (
            i.issued_due is not None
            or b.credited
            or b.written_off
            or b.closed_by != _default_closed(b.outstanding)
        ):
            row += [
                _oday(i.issued_due),
                str(b.credited),
                str(b.written_off),
                b.closed_by,
            ]
        invoices.append(row)
    seen, unseen = _seen_v3(state)
    document: dict[str, Any] = {
        "v": FORMAT,
        "id": state.customer_id,
        "name": state.customer_name,
        "inv": invoices,
        "pay": [
            [p.payment_id, p.event_id, str(p.amount), p.currency, _day(p.received_on), p.invoice_id]
            for p in ledger.payments.values()
        ],
        "due": [_notice_row(k, n) for k, n in ledger.due_notices.items()],
        "credit": {currency: str(amount) for currency, amount in ledger.credit.items()},
        "held": ledger.held,
        "arch": _oday(ledger.archived_through),
        "open": {currency: str(amount) for currency, amount in ledger.opening_credit.items()},
        "paid": {k: _opening_row(o) for k, o in ledger.opening_paid.items()},
        "gone": {k: [a.currency, _day(a.settled_on)] for k, a in ledger.archived_invoices.items()},
        "seen": seen,
        "unseen": unseen,
        "flags": {k: _DETECTED[v] for k, v in state.flags.items()},
        "done": {k: sorted(v) for k, v in state.done_steps.items()},
        "seg": None if state.segment is None else _segment_list(state.segment),
        "on": _oday(state.assessed_on),
        "why": state.last_reason,
        "at": None if state.decided_at is None else state.decided_at.isoformat(),
        "contact": {channel: _day(day) for channel, day in state.last_contact.items()},
        "exp": _exposure_list(
            contribution if contribution is not None else exposure(state, AS_DUE_UTC)
        ),
        "wake": None if wake is None or wake.at is None else wake.at.isoformat(),
        "pv": None if wake is None else wake.policy_version,
    }
    _encode_lifecycle(state, document)
    if not state.profile.is_empty:
        document["pf"] = _profile_doc(state.profile)
    raw = _json_encode(document)
    if len(raw) >= COMPRESS_FROM:
        packer = zlib.compressobj(1, zdict=_ZDICT_5)
        packed = packer.compress(raw) + packer.flush()
        if len(packed) < len(raw):
            return packed
    return raw


def _profile_doc(profile: Profile) -> list[Any]:
    """The profile as its updates set it: [[instant, event id, {field number: value}], ...].

    Fields are numbered by `PROFILE_FIELDS`; a field is listed under the update that set it, so
    an update's id and instant are written once however many fields it set.
    """
    groups: dict[tuple[datetime, str], dict[str, Any]] = {}
    for number, name in enumerate(PROFILE_FIELDS):
        value = getattr(profile, name)
        if value is None:
            continue
        if name == "credit_limit":
            value = {c: str(a) for c, a in sorted(value.items())}
        elif name == "credit_score":
            value = [value.score, value.source, _oday(value.as_of)]
        elif name == "channels":
            value = sorted(value)
        groups.setdefault(profile.versions[name], {})[str(number)] = value
    return [[_instant(at), event_id, values] for (at, event_id), values in sorted(groups.items())]


def _decode_profile(doc: list[Any] | None, zone: str | None) -> Profile:
    if doc is None:
        if zone is None:
            return NO_PROFILE
        return Profile(time_zone=zone, versions={"time_zone": (_LEGACY_ZONE_AT, "")})
    values: dict[str, Any] = {}
    versions: dict[str, tuple[datetime, str]] = {}
    for at, event_id, fields in doc:
        when = _from_instant(at)
        assert when is not None
        version = (when, event_id)
        for number, value in fields.items():
            name = PROFILE_FIELDS[int(number)]
            versions[name] = version
            values[name] = value
    if "credit_limit" in values:
        values["credit_limit"] = {c: Decimal(a) for c, a in values["credit_limit"].items()}
    if "credit_score" in values:
        score, source, as_of = values["credit_score"]
        values["credit_score"] = CreditScore(score=score, source=source, as_of=_from_oday(as_of))
    if "channels" in values:
        values["channels"] = frozenset(values["channels"])
    return Profile(**values, versions=versions)


_LEGACY_ZONE_AT = datetime(1970, 1, 1, tzinfo=UTC)


def _default_closed(outstanding: Decimal) -> ClosedBy | None:
    return "paid" if outstanding == ZERO else None


def _notice_row(invoice_id: str, notice: DueNotice) -> list[Any]:
    row: list[Any] = [invoice_id, notice.event_id, _day(notice.due_date)]
    if notice.occurred_at is not None:
        row.append(notice.occurred_at.isoformat())
    return row


def _opening_row(opening: Opening) -> list[Any]:
    row: list[Any] = [str(opening.paid), _oday(opening.last_paid_on)]
    if opening.credited:
        row.append(str(opening.credited))
    return row


def _instant(value: datetime | None) -> int | str | None:
    """An instant, compactly: Unix seconds when it is a whole second in UTC, else RFC 3339."""
    if value is None:
        return None
    if value.microsecond == 0 and value.utcoffset() == timedelta(0):
        return int(value.timestamp())
    return value.isoformat()


def _from_instant(value: int | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _from_money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _encode_lifecycle(state: CustomerState, document: dict[str, Any]) -> None:
    """Format 4's keys, each only when it holds something."""
    ledger = state.ledger
    if ledger.credit_notes:
        document["cn"] = [
            [
                c.credit_note_id,
                c.event_id,
                str(c.amount),
                c.currency,
                _day(c.issued_on),
                c.invoice_id,
                c.reason,
            ]
            for c in ledger.credit_notes.values()
        ]
    if ledger.write_offs:
        document["wo"] = [
            [
                w.event_id,
                w.invoice_id,
                _day(w.written_off_on),
                _money(w.amount),
                w.reason,
                _iso(w.occurred_at),
            ]
            for w in ledger.write_offs.values()
        ]
    if ledger.voids:
        document["void"] = {
            k: [v.event_id, _day(v.voided_on), v.reason, _iso(v.occurred_at)]
            for k, v in ledger.voids.items()
        }
    if ledger.due_changes:
        document["dchg"] = {
            k: [c.event_id, _day(c.due_date), _day(c.changed_on), c.reason, _iso(c.occurred_at)]
            for k, c in ledger.due_changes.items()
        }
    if ledger.reversals:
        document["rev"] = {
            k: [r.event_id, _day(r.reversed_on), r.reason] for k, r in ledger.reversals.items()
        }
    collection = state.collection
    if not collection.empty or collection.sent:
        document["col"] = _collection_doc(collection)
    if state.statuses:
        document["st"] = dict(sorted(state.statuses.items()))
    if state.tasks:
        document["tk"] = sorted(state.tasks)
    if state.first_contact:
        document["fc"] = {k: _day(v) for k, v in state.first_contact.items()}
    _encode_terms(ledger, document)


def _encode_terms(ledger: Ledger, document: dict[str, Any]) -> None:
    """Format 6's keys: invoices' discount terms, and the discounts taken."""
    terms = {k: i.terms.text for k, i in ledger.invoices.items() if i.terms is not None}
    if terms:
        document["terms"] = terms
        discounted = {k: str(b.discounted) for k, b in ledger.balances.items() if b.discounted}
        if discounted:
            document["disc"] = discounted


def _collection_doc(c: Collection) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if c.disputes:
        doc["d"] = {
            k: [
                d.invoice_id,
                _oday(d.opened_on),
                _money(d.amount),
                d.reason,
                _oday(d.resolved_on),
                d.outcome,
            ]
            for k, d in c.disputes.items()
        }
    if c.promises:
        doc["pr"] = {
            k: [
                str(p.amount),
                p.currency,
                _day(p.promised_on),
                _day(p.made_on),
                list(p.invoice_ids),
                p.source,
            ]
            for k, p in c.promises.items()
        }
    if c.plans:
        doc["pl"] = {
            k: [
                p.currency,
                list(p.invoice_ids),
                [[_day(i.due_date), str(i.amount)] for i in p.instalments],
                _day(p.agreed_on),
            ]
            for k, p in c.plans.items()
        }
    if c.holds:
        doc["h"] = {
            k: [_oday(h.set_on), h.invoice_id, _oday(h.until), h.reason, _oday(h.released_on)]
            for k, h in c.holds.items()
        }
    if c.sent:
        doc["s"] = {
            k: [s.action, s.channel, s.rule_id, list(s.invoice_ids), s.offset, _iso(s.not_before)]
            for k, s in c.sent.items()
        }
    if c.bounced:
        doc["b"] = sorted(c.bounced)
    if c.reached:
        doc["r"] = {k: sorted(v) for k, v in c.reached.items()}
    return doc


def _decode_collection(doc: dict[str, Any] | None) -> Collection:
    if not doc:
        return EMPTY
    return Collection(
        disputes={
            k: Dispute(
                dispute_id=k,
                invoice_id=inv,
                opened_on=_from_oday(opened),
                amount=_from_money(amount),
                reason=reason,
                resolved_on=_from_oday(resolved),
                outcome=outcome,
            )
            for k, (inv, opened, amount, reason, resolved, outcome) in doc.get("d", {}).items()
        },
        promises={
            k: Promise(
                promise_id=k,
                amount=Decimal(amount),
                currency=currency,
                promised_on=_from_day(promised),
                made_on=_from_day(made),
                invoice_ids=tuple(invoices),
                source=source,
            )
            for k, (amount, currency, promised, made, invoices, source) in doc.get("pr", {}).items()
        },
        plans={
            k: Plan(
                plan_id=k,
                currency=currency,
                invoice_ids=tuple(invoices),
                instalments=tuple(
                    Instalment(due_date=_from_day(day), amount=Decimal(amount))
                    for day, amount in parts
                ),
                agreed_on=_from_day(agreed),
            )
            for k, (currency, invoices, parts, agreed) in doc.get("pl", {}).items()
        },
        holds={
            k: Hold(
                hold_id=k,
                set_on=_from_oday(set_on),
                invoice_id=inv,
                until=_from_oday(until),
                reason=reason,
                released_on=_from_oday(released),
            )
            for k, (set_on, inv, until, reason, released) in doc.get("h", {}).items()
        },
        sent={
            k: Sent(
                action=action,
                channel=channel,
                rule_id=rule,
                invoice_ids=tuple(invoices),
                offset=offset,
                not_before=_from_iso(nb),
            )
            for k, (action, channel, rule, invoices, offset, nb) in doc.get("s", {}).items()
        },
        bounced=frozenset(doc.get("b", ())),
        reached={k: frozenset(v) for k, v in doc.get("r", {}).items()},
    )


def _seen_v3(state: CustomerState) -> tuple[dict[str, int], list[str]]:
    """The seen ids the held facts do not say (with their days), and held facts' ids unseen."""
    facts = fact_dates(state.ledger)
    seen = state.seen
    other = {i: _day(on) for i, on in sorted(seen.items()) if facts.get(i) != on}
    unseen = sorted(i for i in facts if i not in seen)
    return other, unseen


def _document(raw: bytes) -> dict[str, Any]:
    """The JSON document of a record (decompressed first if it is compressed)."""
    if raw[:1] != b"{":
        # zlib's header names the preset dictionary (FDICT flag, then its Adler-32)
        zdict = _DICTIONARIES[int.from_bytes(raw[2:6], "big")] if raw[1] & 0x20 else b""
        unpacker = zlib.decompressobj(zdict=zdict)
        raw = unpacker.decompress(raw) + unpacker.flush()
    document: dict[str, Any] = _json_decode(raw)
    return document


def _exposure_list(value: Exposure) -> list[Any]:
    return [value.risk_bucket, [[b, c, str(a)] for b, c, a in value.outstanding]]


def exposure_of_raw(raw: bytes | None) -> Exposure:
    """A stored state's portfolio contribution, read without rebuilding the state (recovery)."""
    if raw is None:
        return Exposure(risk_bucket=None, outstanding=())
    risk, rows = _document(raw)["exp"]
    return Exposure(risk_bucket=risk, outstanding=tuple((b, c, Decimal(a)) for b, c, a in rows))


def wake_of_raw(raw: bytes) -> Wake:
    """A stored state's next wake-up, read without rebuilding the state (recovery)."""
    document = _document(raw)
    at = document.get("wake")
    return Wake(
        at=None if at is None else datetime.fromisoformat(at), policy_version=document.get("pv")
    )


def _segment_list(segment: Segment) -> list[Any]:
    return [
        segment.aging_bucket,
        segment.behavior,
        segment.value_tier,
        segment.risk_bucket,
        segment.priority,
        segment.delinquency_type,
    ]


def decode_state(raw: bytes) -> CustomerState:
    """Rebuild a state written by `encode_state` (this release's format, or format 1 or 2)."""
    doc = _document(raw)
    version = doc.get("v")
    if version in (3, 4, 5, FORMAT):
        return _decode_v3(doc)
    if version not in READABLE:
        raise ValueError(f"unsupported state format {version!r}")
    return _decode_v2(doc)


def _decode_v3(doc: dict[str, Any]) -> CustomerState:
    """Formats 3 to 6 (format 3 has none of the lifecycle keys, 6 adds the terms)."""
    invoices = {}
    balances = {}
    terms = doc.get("terms", {})
    discounts = doc.get("disc", {})
    for row in doc["inv"]:
        invoice_id, event_id, amount_text, currency, issued, due, paid, last, settled = row[:9]
        occurred = row[9] if len(row) > 9 else None
        amount = Decimal(amount_text)
        paid_amount = ZERO if paid == 0 else Decimal(amount_text if paid == 1 else paid)
        issued_due, credited, written_off = None, ZERO, ZERO
        if len(row) > 10:
            issued_due, credited, written_off = row[10], Decimal(row[11]), Decimal(row[12])
        discounted = Decimal(discounts[invoice_id]) if invoice_id in discounts else ZERO
        outstanding = amount - paid_amount - credited - written_off - discounted
        closed_by: ClosedBy | None = row[13] if len(row) > 10 else _default_closed(outstanding)
        if closed_by == "voided":
            outstanding = ZERO
        invoices[invoice_id] = Invoice(
            invoice_id=invoice_id,
            event_id=event_id,
            amount=amount,
            currency=currency,
            issued_on=_from_day(issued),
            due_date=_from_day(due),
            occurred_at=_from_instant(occurred),
            issued_due=_from_oday(issued_due),
            terms=terms_of(terms.get(invoice_id)),
        )
        balances[invoice_id] = Balance(
            paid=paid_amount,
            outstanding=outstanding,
            last_paid_on=_from_oday(last),
            settled_on=_from_oday(settled),
            credited=credited,
            written_off=written_off,
            closed_by=closed_by,
            discounted=discounted,
        )
    held = tuple(doc["held"])
    if doc["v"] == 3:
        held = tuple(f"p:{k}" for k in held)
    ledger = Ledger(
        invoices=invoices,
        payments={
            payment_id: Payment(
                payment_id=payment_id,
                event_id=event_id,
                amount=Decimal(amount),
                currency=currency,
                received_on=_from_day(received),
                invoice_id=invoice_id,
            )
            for payment_id, event_id, amount, currency, received, invoice_id in doc["pay"]
        },
        due_notices={
            row[0]: DueNotice(
                event_id=row[1],
                due_date=_from_day(row[2]),
                occurred_at=_from_iso(row[3]) if len(row) > 3 else None,
            )
            for row in doc["due"]
        },
        balances=balances,
        credit={c: Decimal(a) for c, a in doc["credit"].items()},
        held=held,
        credit_notes={
            k: CreditNote(
                credit_note_id=k,
                event_id=evt,
                amount=Decimal(amount),
                currency=currency,
                issued_on=_from_day(day),
                invoice_id=inv,
                reason=reason,
            )
            for k, evt, amount, currency, day, inv, reason in doc.get("cn", ())
        },
        write_offs={
            evt: WriteOff(
                event_id=evt,
                invoice_id=inv,
                written_off_on=_from_day(day),
                amount=_from_money(amount),
                reason=reason,
                occurred_at=_from_iso(occ),
            )
            for evt, inv, day, amount, reason, occ in doc.get("wo", ())
        },
        voids={
            k: Void(
                event_id=evt, voided_on=_from_day(day), reason=reason, occurred_at=_from_iso(occ)
            )
            for k, (evt, day, reason, occ) in doc.get("void", {}).items()
        },
        due_changes={
            k: DueChange(
                event_id=evt,
                due_date=_from_day(due),
                changed_on=_from_day(changed),
                reason=reason,
                occurred_at=_from_iso(occ),
            )
            for k, (evt, due, changed, reason, occ) in doc.get("dchg", {}).items()
        },
        reversals={
            k: Reversal(event_id=evt, reversed_on=_from_day(day), reason=reason)
            for k, (evt, day, reason) in doc.get("rev", {}).items()
        },
        archived_through=_from_oday(doc["arch"]),
        opening_credit={c: Decimal(a) for c, a in doc["open"].items()},
        opening_paid={
            k: Opening(
                paid=Decimal(row[0]),
                last_paid_on=_from_oday(row[1]),
                credited=Decimal(row[2]) if len(row) > 2 else ZERO,
            )
            for k, row in doc["paid"].items()
        },
        archived_invoices={
            k: ArchivedInvoice(currency=currency, settled_on=_from_day(on))
            for k, (currency, on) in doc["gone"].items()
        },
    )
    seen = fact_dates(ledger)
    for event_id in doc["unseen"]:
        del seen[event_id]
    seen.update((k, _from_day(on)) for k, on in doc["seen"].items())
    seg = doc["seg"]
    at = doc["at"]
    return CustomerState(
        customer_id=doc["id"],
        customer_name=doc["name"],
        ledger=ledger,
        seen=seen,
        flags={k: _DETECTED_BY[v] for k, v in doc["flags"].items()},
        done_steps={k: frozenset(v) for k, v in doc["done"].items()},
        segment=None if seg is None else _segment(seg),
        assessed_on=_from_oday(doc["on"]),
        last_reason=doc["why"],
        decided_at=None if at is None else datetime.fromisoformat(at),
        last_contact={k: _from_day(v) for k, v in doc["contact"].items()},
        profile=_decode_profile(doc.get("pf"), doc.get("tz")),
        collection=_decode_collection(doc.get("col")),
        statuses=doc.get("st", {}),
        tasks=frozenset(doc.get("tk", ())),
        first_contact={k: _from_day(v) for k, v in doc.get("fc", {}).items()},
    )


def _segment(seg: list[Any]) -> Segment:
    return Segment(
        aging_bucket=seg[0],
        behavior=seg[1],
        value_tier=seg[2],
        risk_bucket=seg[3],
        priority=seg[4],
        delinquency_type=seg[5] if len(seg) > 5 else "none",
    )


def _decode_v2(doc: dict[str, Any]) -> CustomerState:
    """Formats 1 and 2: balances re-derived from the facts, seen ids dated from them."""
    invoices = {
        row[0]: Invoice(
            invoice_id=row[0],
            event_id=row[1],
            amount=Decimal(row[2]),
            currency=row[3],
            issued_on=date.fromisoformat(row[4]),
            due_date=date.fromisoformat(row[5]),
        )
        for row in doc["inv"]
    }
    payments = {
        row[0]: Payment(
            payment_id=row[0],
            event_id=row[1],
            amount=Decimal(row[2]),
            currency=row[3],
            received_on=date.fromisoformat(row[4]),
            invoice_id=row[5],
        )
        for row in doc["pay"]
    }
    notices = {
        row[0]: DueNotice(event_id=row[1], due_date=date.fromisoformat(row[2]))
        for row in doc["due"]
    }
    opening = Ledger(
        due_notices=notices,
        archived_through=_date(doc.get("arch")),
        opening_credit={c: Decimal(a) for c, a in doc.get("open", {}).items()},
        opening_paid={
            k: Opening(paid=Decimal(paid), last_paid_on=_date(on))
            for k, (paid, on) in doc.get("paid", {}).items()
        },
        archived_invoices={
            k: ArchivedInvoice(currency=currency, settled_on=date.fromisoformat(on))
            for k, (currency, on) in doc.get("gone", {}).items()
        },
    )
    ledger = settle(replace(opening, invoices=invoices, payments=payments))
    seen = dated_seen(ledger, doc["seen"])  # format 1: every id, undated
    seen.update((k, date.fromisoformat(on)) for k, on in doc.get("seen_on", {}).items())
    seg = doc["seg"]
    return CustomerState(
        customer_id=doc["id"],
        customer_name=doc["name"],
        ledger=ledger,
        seen=seen,
        flags=doc["flags"],
        done_steps={k: frozenset(v) for k, v in doc["done"].items()},
        segment=None if seg is None else _segment(seg),
        assessed_on=_date(doc["on"]),
        last_reason=doc["why"],
        decided_at=None if doc.get("at") is None else datetime.fromisoformat(doc["at"]),
        last_contact={k: date.fromisoformat(v) for k, v in doc.get("contact", {}).items()},
        profile=_decode_profile(None, doc.get("tz")),
    )
