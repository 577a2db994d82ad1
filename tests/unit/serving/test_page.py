"""The collector's page without Redis or a server: the renderers are pure, so each page is
checked from literal snapshots, worklist rows, timelines and aging reports; the handlers are
checked against a fake read model (400, 404, fragments) and an unreachable Redis (503).

The page in a real browser, on a real worker, is tests/integration/test_collector_page.py.
"""

from __future__ import annotations

import asyncio
import json
from html.parser import HTMLParser
from typing import Any

import pytest
from redis.asyncio import Redis

from processor.demo.devstack import free_port
from processor.serving.aging_view import aging_chart, aging_page
from processor.serving.customer_view import customer_page, invoice_states, timeline_section
from processor.serving.keys import Keys
from processor.serving.markup import HTML_TYPE, customer_href, esc, money
from processor.serving.page import CollectorPage
from processor.serving.queries import BadRequest
from processor.serving.worklist_view import Filters, parse_filters, select, worklist_page

NASTY_ID = 'a&b <c>/d "e" f'
NASTY_NAME = "<script>alert('x')</script> & Co"


class Parsed(HTMLParser):
    """The tags, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def row(customer_id: str, *, priority: int, **extra: Any) -> dict[str, Any]:
    """A worklist row as `read_worklist` returns it."""
    segment = {
        "aging_bucket": "31-60",
        "behavior": "habitually_late",
        "value_tier": "key",
        "risk_bucket": "high",
        "delinquency_type": "strategic",
        "priority": priority,
    }
    return {
        "customer_id": customer_id,
        "priority": priority,
        "customer_name": f"{customer_id} Ltd",
        "segment": {**segment, **extra.pop("segment", {})},
        "outstanding": {"EUR": "1250.50"},
        "oldest_days_past_due": 45,
        "last_change_reason": f"why {customer_id}",
        **extra,
    }


def invoice(invoice_id: str, *, days_past_due: int = 10, **extra: Any) -> dict[str, Any]:
    """An open invoice of a snapshot."""
    return {
        "invoice_id": invoice_id,
        "amount": "1000.00",
        "outstanding": "1000.00",
        "currency": "USD",
        "issued_on": "2026-01-01",
        "due_date": "2026-01-31",
        "days_past_due": days_past_due,
        "to_collect": "1000.00",
        "not_chased": [],
        **extra,
    }


def snapshot(**extra: Any) -> dict[str, Any]:
    """A customer snapshot with the fields the page reads."""
    return {
        "customer_id": NASTY_ID,
        "customer_name": NASTY_NAME,
        "segment": row("x", priority=70)["segment"],
        "risk_score": 64,
        "delinquency_reason": "pays others on time",
        "open_invoices": [invoice("INV-1")],
        "outstanding": {"USD": "1000.00"},
        "late_fees": {},
        "credit": {},
        "disputes": [],
        "commitments": {},
        "holds": [],
        "last_change_reason": "risk_bucket medium→high: 45 days past due",
        "as_of": "2026-03-17",
        "updated_at": "2026-03-17T09:30:00+00:00",
        **extra,
    }


# --- escaping -----------------------------------------------------------------------------


def test_esc_escapes_markup_and_both_quotes() -> None:
    assert (
        esc("""<a href="x">'&'</a>""") == "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
    )


def test_a_customer_link_encodes_the_whole_id_in_one_path_segment() -> None:
    assert customer_href(NASTY_ID) == "/ui/customers/a%26b%20%3Cc%3E%2Fd%20%22e%22%20f"


def test_the_worklist_escapes_ids_names_and_reasons_and_links_each_customer() -> None:
    nasty = row(NASTY_ID, priority=90, customer_name=NASTY_NAME, last_change_reason="<b>x</b>")
    page = Parsed(worklist_page([nasty], Filters()))
    assert [attrs.get("class") for attrs in page.named("a")].count("customer") == 1
    [link] = [attrs for attrs in page.named("a") if attrs.get("class") == "customer"]
    assert link["href"] == customer_href(NASTY_ID)
    assert len(page.named("script")) == 1  # ours, not the name's
    assert page.named("b") == []  # the reason's markup stayed text
    assert NASTY_ID in page.all_text and NASTY_NAME in page.all_text and "<b>x</b>" in page.all_text


def test_the_customer_page_escapes_everything_from_the_snapshot() -> None:
    nasty = snapshot(
        open_invoices=[invoice("<i>INV</i>", not_chased=["dispute <D-1> (open)"])],
        holds=["<H-1>"],
        commitments={"<P-1>": "kept"},
    )
    text = customer_page(
        nasty,
        [
            {
                "at": "2026-03-17T09:00:00+00:00",
                "kind": "action",
                "event_id": "e-1",
                "summary": "<u>reminder</u>",
                "reason": "<em>late</em>",
            }
        ],
    )
    page = Parsed(text)
    assert len(page.named("script")) == 1
    assert [page.named(tag) for tag in ("i", "u", "em", "d-1", "h-1", "p-1")] == [[]] * 6
    for shown in (NASTY_ID, NASTY_NAME, "<i>INV</i>", "<u>reminder</u>", "<em>late</em>"):
        assert shown in page.all_text
    assert page.named("title") and f"{NASTY_NAME} · arpulse" in page.all_text


# --- filters ------------------------------------------------------------------------------


def test_filters_default_to_any_and_an_empty_value_is_any() -> None:
    assert parse_filters({}) == Filters()
    blank = {"aging_bucket": "", "risk_bucket": "", "delinquency_type": "", "currency": ""}
    assert parse_filters(blank) == Filters()
    chosen = parse_filters(
        {
            "aging_bucket": "120+",
            "risk_bucket": "high",
            "delinquency_type": "strategic",
            "currency": "EUR",
            "limit": "5",
        }
    )
    assert chosen == Filters("120+", "high", "strategic", "EUR", 5)
    assert chosen.filters_rows and not Filters(aging_bucket="1-30").filters_rows


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"aging_bucket": "200+"}, "aging_bucket: must be one of current, 1-30"),
        ({"risk_bucket": "extreme"}, "risk_bucket: must be one of low, medium, high"),
        ({"delinquency_type": "lazy"}, "delinquency_type: must be one of none, accidental"),
        ({"currency": "EURO"}, "currency: must be an ISO 4217 code"),
        ({"currency": "XYZ"}, "currency: must be an ISO 4217 code"),
        ({"limit": "lots"}, "limit: must be an integer"),
        ({"limit": "0"}, "limit: must be between 1"),
    ],
)
def test_a_bad_filter_is_refused_naming_it(query: dict[str, str], named: str) -> None:
    with pytest.raises(BadRequest, match=named):
        parse_filters(query)


def test_delinquency_type_and_currency_filter_the_rows_in_priority_order() -> None:
    rows = [
        row("c-1", priority=90),
        row("c-2", priority=80, segment={"delinquency_type": "accidental"}),
        row("c-3", priority=70, outstanding={"USD": "10.00", "EUR": "5.00"}),
        row("c-4", priority=60, outstanding={"USD": "10.00"}),
    ]

    def ids(filters: Filters) -> list[str]:
        return [r["customer_id"] for r in select(rows, filters)]

    assert ids(Filters()) == ["c-1", "c-2", "c-3", "c-4"]
    assert ids(Filters(delinquency_type="strategic")) == ["c-1", "c-3", "c-4"]
    assert ids(Filters(currency="USD")) == ["c-3", "c-4"]
    assert ids(Filters(currency="EUR", delinquency_type="strategic")) == ["c-1", "c-3"]
    assert ids(Filters(risk_bucket="low")) == []
    assert ids(Filters(currency="EUR", limit=2)) == ["c-1", "c-2"]


def test_the_form_shows_the_chosen_filters_and_sits_outside_the_refreshed_part() -> None:
    filters = Filters(risk_bucket="high", currency="JPY")
    text = worklist_page([row("c-1", priority=5)], filters, currencies={"EUR"})
    page = Parsed(text)
    [form] = page.named("form")
    assert (form["method"], form["action"]) == ("get", "/ui")
    assert text.index("</form>") < text.index("<main")
    selected = [attrs["value"] for attrs in page.named("option") if "selected" in attrs]
    assert selected == ["high", "JPY"]
    currencies = text[
        text.index('name="currency"') : text.index("</select>", text.index('name="currency"'))
    ]
    assert [v for v in ("EUR", "JPY") if f'value="{v}"' in currencies] == ["EUR", "JPY"]


def test_a_worklist_row_shows_what_a_collector_needs() -> None:
    text = Parsed(worklist_page([row("c-1", priority=77)], Filters())).all_text
    for shown in (
        "c-1 Ltd",
        "77",
        "31-60",
        "habitually_late",
        "key",
        "high",
        "strategic",
        "1,250.50 EUR",
        "45",
        "why c-1",
    ):
        assert shown in text
    assert "No customer to chase" in Parsed(worklist_page([], Filters())).all_text


# --- the state column ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("not_chased", "days_past_due", "states"),
    [
        ([], 12, ["late"]),
        ([], 0, ["current"]),
        (["dispute D-1 for 200.00 USD (open)"], 12, ["disputed"]),
        (["promise PTP-1 to pay 800.00 USD by 2026-04-01"], 12, ["promised"]),
        (["payment plan PLAN-1 (next instalment 100.00 USD due 2026-04-01)"], 12, ["on plan"]),
        (["on hold H-1, legal until 2026-05-01"], 12, ["held"]),
        (["the customer is on hold H-2, bankruptcy"], 12, ["held"]),
        (["a residue below the USD tolerance"], 12, ["residue"]),
        (
            ["dispute D-1 (open)", "promise PTP-1 to pay 1.00 USD by 2026-04-01"],
            3,
            ["disputed", "promised"],
        ),
    ],
)
def test_the_state_of_an_invoice_comes_from_why_it_is_not_chased(
    not_chased: list[str], days_past_due: int, states: list[str]
) -> None:
    inv = invoice("INV-1", days_past_due=days_past_due, not_chased=not_chased)
    assert invoice_states(inv, []) == states


def test_an_open_dispute_of_the_invoice_shows_it_disputed_even_without_a_clause() -> None:
    inv = invoice("INV-1", not_chased=[])
    opened = {"dispute_id": "D-1", "invoice_id": "INV-1", "outcome": None}
    assert invoice_states(inv, [opened]) == ["disputed"]
    assert invoice_states(inv, [{**opened, "outcome": "rejected"}]) == ["late"]
    assert invoice_states(inv, [{**opened, "invoice_id": "INV-2"}]) == ["late"]


def test_the_invoice_table_has_a_state_column_and_fees_and_offers_only_when_present() -> None:
    plain = customer_page(snapshot())
    assert ">State<" in plain
    assert [h for h in ("Not chased because", "Late fees", "Discount offer") if h in plain] == []
    fees = {
        "fixed": "25.00",
        "interest": "3.10",
        "total": "28.10",
        "days_late": 45,
        "capped": False,
    }
    offer = {"pay_by": "2026-03-20", "pay": "980.00", "saves": "20.00"}
    rich = snapshot(
        open_invoices=[
            invoice("INV-1", late_fees=fees),
            invoice("INV-2", days_past_due=0, discount=offer),
            invoice("INV-3", not_chased=["on hold H-1, legal"]),
        ]
    )
    page = Parsed(customer_page(rich))
    text = page.all_text
    assert ">Not chased because<" in customer_page(rich) and "on hold H-1, legal" in text
    assert "28.10 USD" in text and "fixed 25.00 + interest 3.10, 45 days" in text
    assert "pay 980.00 USD by 2026-03-20" in text and "saves 20.00" in text
    states = [t for t in page.text if t in {"late", "current", "held"}]
    assert states == ["late", "current", "held"]


def test_the_customer_page_shows_segment_risk_outstanding_and_the_latest_reason() -> None:
    text = Parsed(customer_page(snapshot(late_fees={"USD": "28.10"}))).all_text
    for shown in (
        "Risk score",
        "64",
        "high",
        "strategic",
        "key",
        "1,000.00 USD",
        "risk_bucket medium→high: 45 days past due",
        "Late fees accrued",
        "28.10 USD",
        "pays others on time",
        "2026-03-17 09:30:00 UTC",
    ):
        assert shown in text


def test_the_timeline_lists_items_newest_first_with_their_reasons() -> None:
    items = [
        {
            "at": "2026-03-17T09:00:00+00:00",
            "kind": "action",
            "event_id": "e-2",
            "summary": "reminder by email",
            "reason": "INV-1 is 10 days past due",
        },
        {
            "at": "2026-03-07T09:00:00+00:00",
            "kind": "fact",
            "event_id": "e-1",
            "summary": "invoice INV-1 issued",
            "reason": None,
        },
    ]
    text = timeline_section(items)
    assert text.index("reminder by email") < text.index("invoice INV-1 issued")
    assert "INV-1 is 10 days past due" in text and "2026-03-17 09:00:00 UTC" in text
    assert "None" not in Parsed(text).all_text
    assert "Nothing recorded yet" in timeline_section([])


# --- the aging report ---------------------------------------------------------------------

COLUMNS = [
    "current",
    "1-30",
    "31-60",
    "61-90",
    "91-120",
    "120+",
    "total",
    "disputed",
    "promised",
    "on_plan",
    "held",
    "unapplied",
]


def aging_report() -> dict[str, Any]:
    usd = dict.fromkeys(COLUMNS, "0.00") | {
        "current": "500.00",
        "31-60": "1500.00",
        "total": "2000.00",
        "disputed": "200.00",
    }
    eur = dict.fromkeys(COLUMNS, "0.00") | {"120+": "<script>9</script>", "total": "90.00"}
    return {
        "as_of": "2026-03-17",
        "columns": COLUMNS,
        "portfolio": {"USD": usd, "EUR": eur},
        "segments": {"key": {"USD": usd}, "small": {"EUR": eur}},
    }


def test_the_aging_report_has_a_table_and_an_svg_chart_per_currency() -> None:
    text = aging_page(aging_report())
    page = Parsed(text)
    assert [a["aria-label"] for a in page.named("svg")] == ["Aging of EUR", "Aging of USD"]
    assert len(page.named("table")) == 2
    assert [t for t in page.text if t in {"EUR", "USD"}][:2] == ["EUR", "USD"]
    assert "1,500.00" in page.all_text and "as of 2026-03-17" in page.all_text
    assert page.named("script") == [{}]  # the refresh script; the amount's markup is text
    assert "small" in page.all_text and "key" in page.all_text


def test_the_chart_scales_bars_to_the_largest_bucket() -> None:
    buckets = COLUMNS[:6]
    chart = Parsed(aging_chart("USD", buckets, {"current": "500.00", "31-60": "1500.00"}))
    heights = [int(str(r["height"])) for r in chart.named("rect")]
    assert len(heights) == 6
    assert heights[2] == max(heights) > 0 and heights[0] == heights[2] // 3
    assert heights[1] == heights[3] == heights[4] == heights[5] == 0
    empty = Parsed(aging_chart("USD", buckets, {}))
    assert [int(str(r["height"])) for r in empty.named("rect")] == [0] * 6


def test_an_empty_report_says_nothing_is_outstanding() -> None:
    report = {"as_of": "2026-03-17", "columns": COLUMNS, "portfolio": {}, "segments": {}}
    assert "Nothing is outstanding" in aging_page(report)


# --- the page shell and fragments ---------------------------------------------------------


def test_a_whole_page_has_one_main_one_inline_script_and_no_external_asset() -> None:
    for text in (
        worklist_page([row("c-1", priority=1)], Filters()),
        customer_page(snapshot()),
        aging_page(aging_report()),
    ):
        page = Parsed(text)
        assert text.startswith("<!doctype html>") and len(page.named("main")) == 1
        assert page.named("script") == [{}] and page.named("link") == []
        assert "http://" not in text and "https://" not in text and " src=" not in text
        assert 'searchParams.set("fragment", "1")' in text and "3000" in text


def test_fragment_mode_answers_the_main_element_alone() -> None:
    for text in (
        worklist_page([row("c-1", priority=1)], Filters(), fragment=True),
        customer_page(snapshot(), fragment=True),
        aging_page(aging_report(), fragment=True),
    ):
        assert text.startswith('<main id="content">') and text.endswith("</main>")
        assert "<html" not in text and "<script" not in text and "<form" not in text


def test_money_keeps_the_decimals_and_groups_thousands() -> None:
    assert (money("1234567.5"), money("0.00"), money("n/a")) == ("1,234,567.5", "0.00", "n/a")


# --- the handlers -------------------------------------------------------------------------


class FakePipeline:
    """The aging report's reads of the sums: with no scopes, only the latest day decided."""

    def __init__(self, redis: FakeRedis) -> None:
        self._redis = redis
        self._asked: list[str] = []

    def get(self, key: str) -> None:
        self._asked.append(key)

    async def execute(self) -> list[Any]:
        return [self._redis.values.get(k) for k in self._asked]


class FakeRedis:
    """Just the reads the page makes: snapshots, one sorted worklist, timelines, no sums."""

    def __init__(
        self,
        keys: Keys,
        snapshots: dict[str, dict[str, Any]],
        timelines: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.values: dict[str, str] = {
            keys.customer(k): json.dumps(v) for k, v in snapshots.items()
        }
        self._worklist_key = keys.worklist
        self._worklist = sorted(
            ((k, float(v["segment"]["priority"])) for k, v in snapshots.items()),
            key=lambda pair: -pair[1],
        )
        self._timelines = {
            keys.timeline(k): [json.dumps(e) for e in v] for k, v in (timelines or {}).items()
        }
        self.asked = 0

    async def get(self, key: str) -> str | None:
        self.asked += 1
        return self.values.get(key)

    async def mget(self, keys: list[str]) -> list[str | None]:
        self.asked += 1
        return [self.values.get(k) for k in keys]

    async def zrevrange(self, key: str, start: int, end: int, withscores: bool = False) -> Any:
        self.asked += 1
        found = self._worklist if key == self._worklist_key else self._timelines.get(key, [])
        return found[start : end + 1]

    async def smembers(self, key: str) -> set[str]:
        self.asked += 1
        return set()

    def pipeline(self, transaction: bool = True) -> FakePipeline:
        return FakePipeline(self)


def fake_page(
    timelines: dict[str, list[dict[str, Any]]] | None = None, **snapshots: dict[str, Any]
) -> tuple[CollectorPage, FakeRedis]:
    keys = Keys("arpulse-test")
    redis = FakeRedis(keys, snapshots, timelines)
    return CollectorPage(redis=redis, keys=keys), redis  # type: ignore[arg-type]


def test_the_routes_are_the_pages() -> None:
    page, _ = fake_page()
    assert set(page.routes()) == {"/ui", "/ui/customers/{customer_id}", "/ui/aging"}


def test_a_bad_filter_is_a_400_page_naming_it_and_redis_is_not_asked() -> None:
    page, redis = fake_page()
    reply = asyncio.run(page.worklist({"delinquency_type": "<lazy>"}, {}))
    assert (reply.status, reply.content_type) == (400, HTML_TYPE)
    text = Parsed(reply.body.decode()).all_text
    assert "delinquency_type: must be one of" in text and "'<lazy>'" in text
    assert redis.asked == 0
    fragment = asyncio.run(page.worklist({"currency": "??", "fragment": "1"}, {}))
    assert fragment.status == 400 and fragment.body.decode().startswith("<main")


def test_the_worklist_handler_orders_by_priority_and_filters_in_fragments_too() -> None:
    page, _ = fake_page(
        low=snapshot(customer_id="low", segment={**snapshot()["segment"], "priority": 10}),
        high=snapshot(customer_id="high", segment={**snapshot()["segment"], "priority": 90}),
        euro=snapshot(
            customer_id="euro",
            outstanding={"EUR": "5.00"},
            segment={**snapshot()["segment"], "priority": 50},
        ),
    )
    whole = asyncio.run(page.worklist({}, {}))
    assert whole.status == 200 and whole.body.decode().startswith("<!doctype html>")
    links = [
        a["href"] for a in Parsed(whole.body.decode()).named("a") if a.get("class") == "customer"
    ]
    assert links == ["/ui/customers/high", "/ui/customers/euro", "/ui/customers/low"]
    usd = asyncio.run(page.worklist({"currency": "USD", "fragment": "1"}, {}))
    text = usd.body.decode()
    assert text.startswith("<main") and "/ui/customers/euro" not in text
    assert text.index("/ui/customers/high") < text.index("/ui/customers/low")


def test_the_customer_handler_answers_the_page_a_fragment_or_a_404() -> None:
    entry = {
        "at": "2026-03-17T09:00:00+00:00",
        "kind": "action",
        "event_id": "e-1",
        "summary": "reminder by email",
        "reason": "INV-1 is 10 days past due",
    }
    page, _ = fake_page(timelines={NASTY_ID: [entry]}, **{NASTY_ID: snapshot()})
    found = asyncio.run(page.customer({}, {"customer_id": NASTY_ID}))
    text = Parsed(found.body.decode()).all_text
    assert found.status == 200 and NASTY_NAME in text
    assert "Timeline" in text and "INV-1 is 10 days past due" in text
    part = asyncio.run(page.customer({"fragment": "1"}, {"customer_id": NASTY_ID}))
    assert part.status == 200 and part.body.decode().startswith('<main id="content">')
    missing = asyncio.run(page.customer({}, {"customer_id": "<nobody>"}))
    assert missing.status == 404
    text = missing.body.decode()
    assert "Customer not found" in text and "&lt;nobody&gt;" in text and "<nobody>" not in text


def test_the_aging_handler_answers_the_report_before_any_day_is_decided() -> None:
    page, _ = fake_page()
    reply = asyncio.run(page.aging({}, {}))
    text = Parsed(reply.body.decode()).all_text
    assert (reply.status, reply.content_type) == (200, HTML_TYPE)
    assert "no business day decided yet" in text and "Nothing is outstanding" in text
    part = asyncio.run(page.aging({"fragment": "1"}, {}))
    assert part.body.decode().startswith('<main id="content"><h1>Aging report</h1>')


def test_an_unreachable_redis_is_a_503_page_without_the_error() -> None:
    redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    page = CollectorPage(redis=redis, keys=Keys("arpulse-test"))

    async def ask() -> list[Any]:
        try:
            return [
                await page.worklist({}, {}),
                await page.worklist({"currency": "EUR", "fragment": "1"}, {}),
                await page.customer({}, {"customer_id": "c-1"}),
                await page.aging({"fragment": "1"}, {}),
            ]
        finally:
            await redis.aclose()

    for reply in asyncio.run(ask()):
        text = reply.body.decode()
        shown = text[text.index("<main") : text.index("</main>")]  # the page's own script aside
        assert (reply.status, reply.content_type) == (503, HTML_TYPE)
        assert "The read model is unavailable" in shown
        assert "Error" not in shown and "Traceback" not in shown and "127.0.0.1" not in shown
