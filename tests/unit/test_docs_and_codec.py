"""The README documents every setting; the state codec round-trips every field."""

from __future__ import annotations

from pathlib import Path

from processor.domain.decide import handle
from processor.domain.state import CustomerState
from processor.policy_file import load_policy
from processor.settings import ENV_PREFIX, Settings
from processor.state_codec import decode_state, encode_state
from tests.unit.domain.builders import CUSTOMER, at, due, inv, pay

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_documents_every_setting() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        f"{ENV_PREFIX}{name.upper()}"
        for name in Settings.model_fields
        if f"`{ENV_PREFIX}{name.upper()}`" not in text
    ]
    assert missing == []


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
        decision = handle(state, fact, now=now, policy=policy)
        assert decision is not None
        state = decision.state
    assert (
        state.flags
        and state.done_steps
        and state.segment
        and state.ledger.credit
        and state.ledger.held
    )
    assert decode_state(encode_state(state)) == state
