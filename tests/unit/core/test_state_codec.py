"""The state codec: every field round-trips, an older format still reads, records stay small."""

from __future__ import annotations

import json
from decimal import Decimal

from processor.core.policy_file import load_policy
from processor.core.state_codec import FORMAT, _document, decode_state, encode_state
from processor.domain.decide import on_event
from processor.domain.ledger import ArchivedInvoice, Opening
from processor.domain.state import CustomerState
from tests.support.builders import CUSTOMER, at, day, due, inv, pay


def test_state_codec_round_trips_a_rich_state() -> None:
    policy = load_policy(None)
    state = CustomerState(customer_id=CUSTOMER)
    for fact, now in [
        (inv("A", "100.00", due=30), at(0)),
        (inv("B", "70.00", issued=3, due=33, currency="EUR"), at(3)),
        (pay("P0", "5.00", on=4, invoice_id="ZZZ"), at(4)),
        (due("A", on=30), at(31)),
        (pay("P1", "130.00", on=40, invoice_id="A"), at(40)),
    ]:
        progress = on_event(state, fact, now=now, policy=policy)
        assert progress.applied
        state = progress.state
    assert (
        state.flags
        and state.done_steps
        and state.segment
        and state.ledger.credit
        and state.ledger.held
    )
    assert decode_state(encode_state(state)) == state


FORMAT_1 = (
    b'{"v":1,"id":"cust-1","name":null,"inv":[["A","e-A","100.00","USD","2026-01-01","2026-01-31"],'
    b'["B","e-B","70.00","EUR","2026-01-04","2026-02-03"]],"pay":[["P0","e-P0","5.00","USD",'
    b'"2026-01-05","ZZZ"],["P1","e-P1","130.00","USD","2026-02-10","A"]],"due":[["A","e-due-A",'
    b'"2026-01-31"]],"seen":["e-A","e-A-again","e-B","e-P0","e-P1","e-due-A"],"flags":{"A":'
    b'"due_date_event","B":"clock"},"done":{"A":["low.d1.reminder","thank_you.late_invoice_paid"],'
    b'"B":["low.d1.reminder"]},"seg":["1-30","new","small","low",18],"on":"2026-02-10","why":'
    b'"aging_bucket current\\u21921-30, priority 0\\u219218: oldest unpaid invoice A is 1 day past '
    b'due; new (0 of 0 paid invoices late); risk score 25, small value","at":'
    b'"2026-02-10T12:00:00+00:00","contact":{"email":"2026-02-10"},"tz":null,"exp":["low",'
    b'[["1-30","EUR","70.00"]]],"wake":null,"pv":null}'
)


def test_a_state_written_before_retention_still_decodes_with_nothing_archived() -> None:
    state = decode_state(FORMAT_1)
    ledger = state.ledger
    assert ledger.archived_through is None
    assert ledger.opening_credit == {} and ledger.opening_paid == {}
    assert ledger.credit == {"USD": Decimal("30.00")} and ledger.held == ("p:P0",)
    # Seen ids are dated like their facts; the repeat takes the newest fact date.
    assert state.seen == {
        "e-A": day(0),
        "e-B": day(3),
        "e-P0": day(4),
        "e-P1": day(40),
        "e-due-A": day(30),
        "e-A-again": day(40),
    }
    assert state.flags == {"A": "due_date_event", "B": "clock"}
    # It is written back in the current format, and that round-trips.
    again = encode_state(state)
    assert json.loads(again)["v"] == FORMAT and decode_state(again) == state


def test_state_codec_round_trips_an_archived_state() -> None:
    policy = load_policy(None)
    state = CustomerState(customer_id=CUSTOMER)
    for fact, now in [
        (pay("H", "5.00", on=3, invoice_id="GHOST"), at(3)),  # held, kept through the archive
        (inv("A", "100.00", due=30), at(0)),
        (inv("A", "100.00", due=30, event_id="e-A-again"), at(1)),  # a repeat under a new id
        (pay("PA", "130.00", on=20, invoice_id="A"), at(20)),  # 30.00 on account
        (inv("K", "80.00", issued=10, due=40, currency="EUR"), at(10)),
        (pay("U", "30.00", on=41, currency="EUR"), at(41)),  # pays K, still owing after it
        (pay("PK", "10.00", on=45, invoice_id="K", currency="EUR"), at(45)),
        (inv("B", "50.00", issued=700, due=730), at(700)),
        (due("B", on=730, event_id="e-due-B"), at(731)),
        (due("B", on=730, event_id="e-due-B-again"), at(732)),  # kept with its own date
    ]:
        state = on_event(state, fact, now=now, policy=policy).state
    ledger = state.ledger
    assert ledger.archived_through == day(41)
    assert sorted(ledger.invoices) == ["B", "K"] and sorted(ledger.payments) == ["H", "PK"]
    assert ledger.opening_credit == {"USD": Decimal("30.00")}
    assert ledger.opening_paid == {"K": Opening(paid=Decimal("30.00"), last_paid_on=day(41))}
    assert ledger.archived_invoices == {"A": ArchivedInvoice(currency="USD", settled_on=day(20))}
    assert "e-A-again" not in state.seen and state.seen["e-due-B-again"] == day(730)
    raw = encode_state(state)
    assert decode_state(raw) == state
    assert encode_state(decode_state(raw)) == raw


def test_the_encoded_state_of_a_steady_payer_stops_growing() -> None:
    """Ten years of monthly invoices, each paid a few days late (so one is nearly always open):
    the stored record is no bigger in year ten than in year three, once archived invoices are
    forgotten (here after two years; by default ten, so a default record grows a few bytes per
    settled invoice for ten years, then stops)."""
    base = load_policy(None)
    policy = base.model_copy(
        update={"history": base.history.model_copy(update={"remember_archived_days": 730})}
    )
    state = CustomerState(customer_id=CUSTOMER)
    sizes = []
    for n in range(120):
        issued = 30 * n
        for fact, now in [
            (inv(f"I{n:03d}", "100.00", issued=issued, due=issued + 30), at(issued)),
            (due(f"I{n:03d}", on=issued + 30), at(issued + 31)),
            (pay(f"P{n:03d}", "100.00", on=issued + 35, invoice_id=f"I{n:03d}"), at(issued + 35)),
        ]:
            state = on_event(state, fact, now=now, policy=policy).state
        sizes.append(len(encode_state(state)))
    assert max(sizes[84:]) <= max(sizes[24:36]) * 1.05
    assert sizes[-1] < sizes[24] * 2


def test_a_state_with_every_lifecycle_fact_round_trips_in_format_4() -> None:
    """Credit notes, write-offs, voids, due-date changes, reversals, unapplied cash, disputes,
    promises, plans, holds, contacts sent, bounced channels and reached rungs, statuses, tasks
    and first contacts: decoded exactly as encoded, and encoded again byte for byte."""
    from tests.support.builders import (
        credit,
        dispute,
        hold,
        move_due,
        outcome,
        plan,
        promise,
        resolve,
        reverse,
        void,
        write_off,
    )
    from tests.support.play import timeline

    policy = load_policy(None)
    state, decisions = timeline(
        policy,
        (inv("A", "300.00", issued=0, due=30), at(0)),
        (inv("B", "200.00", issued=1, due=31), at(1)),
        (inv("C", "50.00", issued=2, due=32), at(2)),
        (inv("V", "70.00", issued=2, due=32), at(2)),
        (credit("CN1", "20.00", on=5, invoice_id="A"), at(5)),
        (credit("CN2", "5.00", on=5, invoice_id="NOPE"), at(5)),
        (void("V", on=6), at(6)),
        (move_due("B", to=45, on=7), at(7)),
        (pay("P1", "50.00", on=8, invoice_id="C"), at(8)),
        (reverse("P1", on=12), at(12)),
        (pay("P2", "9.00", on=12, invoice_id="A", currency="EUR"), at(12)),
        (dispute("D1", "A", on=20, amount="30.00"), at(20)),
        (due("A", on=30), at(31, hour=8)),
        (promise("PR1", "100.00", by=60, on=40, invoice_ids=("B",)), at(40)),
        (plan("PL", ("C",), [(70, "25.00"), (100, "25.00")], on=41), at(41)),
        (hold("H1", on=42, until=50), at(42)),
        (resolve("D1", "rejected", on=55), at(55)),
        (write_off("C", on=56, amount="10.00"), at(56)),
        until=at(120),
    )
    # An outcome reports on a recent contact (the last few are remembered).
    last = [a for d in decisions for a in d.actions if a.channel in ("email", "letter", "phone")]
    state = on_event(
        state, outcome(last[-1].event_id, "bounced", on=121), now=at(121), policy=policy
    ).state
    assert state.ledger.credit_notes and state.ledger.voids and state.ledger.reversals
    assert state.collection.promises and state.collection.plans and state.collection.holds
    assert state.statuses and state.tasks and state.collection.bounced
    raw = encode_state(state)
    assert decode_state(raw) == state
    assert encode_state(decode_state(raw)) == raw


def test_a_profile_round_trips_and_a_format_4_zone_becomes_a_profile_zone() -> None:
    from processor.domain.facts import CreditScore
    from processor.domain.state import apply
    from tests.support.builders import profile

    state = CustomerState(customer_id=CUSTOMER)
    for fact in (
        profile(on=1, time_zone="Europe/Berlin", country="DE", credit_score=CreditScore(score=7)),
        profile(on=2, credit_limit=(("USD", Decimal("900.00")),), channels=frozenset({"email"})),
        inv("A", "100.00", due=30),
    ):
        state = apply(state, fact)
    raw = encode_state(state)
    assert decode_state(raw) == state
    document = json.loads(raw)
    assert len(document["pf"]) == 2  # one entry per update, each listing the fields it set
    # A format 4 record named the zone its invoices gave: it reads as a profile's zone
    old = {
        k: v
        for k, v in json.loads(
            encode_state(apply(CustomerState(customer_id=CUSTOMER), inv("A")))
        ).items()
    }
    old.update(v=4, tz="Asia/Tokyo")
    back = decode_state(json.dumps(old).encode())
    assert back.profile.time_zone == "Asia/Tokyo"
    assert back.profile.versions["time_zone"][1] == ""  # any real update replaces it


def test_a_record_compressed_with_format_3_s_dictionary_still_reads() -> None:
    import zlib

    from processor.core import state_codec

    state = CustomerState(customer_id=CUSTOMER)
    policy = load_policy(None)
    for n in range(12):  # enough history for a record worth compressing
        state = on_event(state, inv(f"I{n}", issued=n, due=n + 30), now=at(n), policy=policy).state
    raw = encode_state(state)
    assert raw[:1] != b"{"
    plain = zlib.decompressobj(zdict=state_codec._ZDICT_5).decompress(raw)
    packer = zlib.compressobj(1, zdict=state_codec._ZDICT)
    older = packer.compress(plain) + packer.flush()
    assert older != raw and decode_state(older) == decode_state(raw) == state


def test_terms_and_a_discount_taken_round_trip_in_format_6() -> None:
    policy = load_policy(None)
    state = CustomerState(customer_id=CUSTOMER)
    for fact, now in [
        (inv("A", "1000.00", terms="2/10 net 30"), at(0)),
        (inv("B", "500.00", issued=1, due=31, terms="1% 15 net 45"), at(1)),
        (inv("C", "70.00", issued=2, due=32, terms="net 30"), at(2)),
        (pay("P", "980.00", on=6, invoice_id="A"), at(6)),
    ]:
        state = on_event(state, fact, now=now, policy=policy).state
    assert state.ledger.balances["A"].discounted == Decimal(20)
    raw = encode_state(state)
    decoded = decode_state(raw)
    assert decoded == state
    assert decoded.ledger.invoices["B"].terms is not None
    assert decoded.ledger.invoices["C"].terms is None  # no discount: nothing to keep
    document = _document(raw)  # compressed or not
    assert document["v"] == FORMAT == 6
    assert document["terms"] == {"A": "2/10 net 30", "B": "1% 15 net 45"}
    assert document["disc"] == {"A": "20.00"}
