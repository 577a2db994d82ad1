"""The collector's page in a real browser on a real worker: Debian's chromium, driven by
Playwright, reads /ui, a customer's page and the aging report while events go in through Kafka.

A worker of its own (its own input topics and Redis prefix) holds only this test's customers,
so the worklist it shows is exactly theirs. The screenshots it takes are the ones in docs/
(with ARPULSE_UPDATE_SCREENSHOTS=1; otherwise they go to build/screenshots).
Playwright never downloads a browser here: `make test` installs chromium (`system-chromium`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from processor.demo.devstack import DevStack
from schemas import topics
from tests.support import factories as f
from tests.support.harness import OwnWorker, WorkerProcess, notice_policy, own_worker

# Never fetch a browser of Playwright's own, whatever calls it from here.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots go to build/screenshots; ARPULSE_UPDATE_SCREENSHOTS=1 writes the README's instead.
ROOT = Path(__file__).resolve().parents[2]
IMAGES = (
    ROOT / "docs" / "images"
    if os.environ.get("ARPULSE_UPDATE_SCREENSHOTS") == "1"
    else ROOT / "build" / "screenshots"
)
UPDATE_WITHIN_MS = 10_000

# An id with every character that must be URL-encoded in a link and escaped in the page.
ACME, ACME_NAME = "acme & co/<eu> 1", "Acme & Co <EU>"
BETA, BETA_NAME = "beta-2", "Beta GmbH"
GAMMA, GAMMA_NAME = "gamma-3", "Gamma Supplies"


@pytest_asyncio.fixture
async def own(stack: DevStack, workdir: Path) -> AsyncIterator[OwnWorker]:
    async with own_worker(
        kafka=stack.kafka_bootstrap,
        redis_url=stack.redis_url,
        workdir=workdir,
        prefix="arpulse-page",
        **notice_policy(workdir),
    ) as started:
        yield started


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-chromium` (Debian's chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


async def publish_portfolio(own: OwnWorker) -> None:
    """Three customers with late invoices (one of them disputed), Acme the largest debt."""
    acme_due = f.last_weekday(45)
    await own.send(
        topics.INVOICE_ISSUED,
        f.invoice(
            ACME,
            "A-1",
            amount="12500.00",
            currency="EUR",
            issued_on=f.days_ago(75),
            due_date=acme_due,
            customer_name=ACME_NAME,
        ),
    )
    await own.send(
        topics.INVOICE_ISSUED,
        f.invoice(
            ACME,
            "A-2",
            amount="800.00",
            issued_on=f.days_ago(5),
            due_date=f.days_ago(-25),
            customer_name=ACME_NAME,
        ),
    )
    await own.send(topics.DUE_DATE_PASSED, f.due_passed(ACME, "A-1", due_date=acme_due))
    issued, notice = f.late_invoice(BETA, "B-1", amount="900.00", customer_name=BETA_NAME)
    await own.send(topics.INVOICE_ISSUED, issued)
    await own.send(
        topics.INVOICE_ISSUED,
        f.invoice(
            BETA,
            "B-2",
            amount="300.00",
            issued_on=f.days_ago(40),
            due_date=f.last_weekday(8),
            customer_name=BETA_NAME,
        ),
    )
    await own.send(topics.DUE_DATE_PASSED, notice)
    await own.send(
        topics.COLLECTION_UPDATES,
        f.event(
            BETA,
            "dispute.opened",
            dispute_id="D-1",
            invoice_id="B-2",
            opened_on=f.days_ago(3),
            reason="goods damaged",
        ),
    )
    gamma_due = f.last_weekday(20)
    await own.send(
        topics.INVOICE_ISSUED,
        f.invoice(
            GAMMA,
            "G-1",
            amount="2400.00",
            issued_on=f.days_ago(50),
            due_date=gamma_due,
            customer_name=GAMMA_NAME,
        ),
    )
    await own.send(topics.DUE_DATE_PASSED, f.due_passed(GAMMA, "G-1", due_date=gamma_due))


async def worklist_of_three(worker: WorkerProcess, timeout: float = 15.0) -> list[str]:
    """The worklist's ids by priority, from the JSON API, once all three are on it."""
    deadline = time.monotonic() + timeout
    ids: list[str] = []
    while time.monotonic() < deadline:
        status, body = await asyncio.to_thread(worker.http, "/worklist")
        if status == 200:
            ids = [item["customer_id"] for item in body["items"]]
            if set(ids) == {ACME, BETA, GAMMA}:
                return ids
        await asyncio.sleep(0.1)
    raise AssertionError(f"the worklist never held the three customers: {ids}")


async def shown_rows(page: Page) -> list[tuple[str, int]]:
    """(customer id, priority) of each worklist row, top to bottom."""
    cells = await page.locator("main tbody tr").evaluate_all(
        "rows => rows.map(r => [r.querySelector('.id').textContent, r.cells[1].textContent])"
    )
    return [(str(cid), int(priority)) for cid, priority in cells]


async def test_a_collector_filters_the_worklist_opens_a_customer_and_sees_it_change(
    browser: Browser, own: OwnWorker
) -> None:
    await publish_portfolio(own)
    [action, *_] = await own.harness.wait_for(
        topics.COLLECTION_ACTIONS, customer_id=ACME, timeout=15.0
    )
    by_priority = await worklist_of_three(own.worker)
    assert by_priority[0] == ACME, by_priority  # the largest, oldest debt comes first

    page = await browser.new_page(viewport={"width": 1360, "height": 760})
    reply = await page.goto(own.worker.url + "/ui")
    assert reply is not None and reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    rows = await shown_rows(page)
    assert [cid for cid, _ in rows] == by_priority
    assert [p for _, p in rows] == sorted((p for _, p in rows), reverse=True)
    IMAGES.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(IMAGES / "collector-worklist.png"), full_page=True)

    # A filter is a plain GET form: EUR leaves Acme alone, and the form keeps the choice.
    await page.select_option("select[name=currency]", "EUR")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**/ui?*currency=EUR*")
    assert [cid for cid, _ in await shown_rows(page)] == [ACME]
    assert await page.input_value("select[name=currency]") == "EUR"

    # Its link opens its page (the id URL-encoded whole: a `/` in it stays one segment).
    await page.locator("a.customer", has_text=ACME_NAME).click()
    await page.wait_for_url("**/ui/customers/*")
    assert page.url == own.worker.url + "/ui/customers/" + quote(ACME, safe="")
    assert await page.locator("main h1").inner_text() == f"{ACME_NAME} {ACME}"
    main = await page.locator("main").inner_text()
    assert "12,500.00 EUR" in main
    invoices = page.locator("main .invoices tbody tr")
    states = {
        await row.locator("td").first.inner_text(): await row.locator(".state").all_inner_texts()
        for row in await invoices.all()
    }
    assert states == {"A-1": ["late"], "A-2": ["current"]}
    snapshot = await own.harness.snapshot(own.worker, quote(ACME, safe=""))
    assert snapshot["last_change_reason"] in main  # the latest reason, as the snapshot says
    # The action's reason is on the customer's timeline (polled: the page refreshes itself).
    timeline = page.locator("main .timeline")
    await expect(timeline).to_contain_text(str(action.value["reason"]), timeout=UPDATE_WITHIN_MS)

    # A payment changes the outstanding on the open page, without a reload.
    await page.evaluate("window.loadedOnce = true")
    await own.send(
        topics.PAYMENT_RECEIVED,
        f.payment(
            ACME,
            "PAY-1",
            amount="2500.00",
            currency="EUR",
            received_on=f.days_ago(0),
            invoice_id="A-1",
        ),
    )
    await page.wait_for_function(
        "() => document.querySelector('main').innerText.includes('10,000.00 EUR')",
        timeout=UPDATE_WITHIN_MS,
    )
    assert await page.evaluate("window.loadedOnce === true"), "the page was reloaded"
    await page.screenshot(path=str(IMAGES / "collector-customer.png"), full_page=True)

    # The aging report: a chart and a table per currency, with the payment counted.
    await page.click("nav >> text=Aging")
    await page.wait_for_url("**/ui/aging")
    await expect(page.locator("main svg")).to_have_count(2)
    eur = page.locator("main section.currency", has_text="EUR")
    await expect(eur.locator("tbody tr").first).to_contain_text(
        "10,000.00", timeout=UPDATE_WITHIN_MS
    )
    usd = page.locator("main section.currency", has_text="USD")
    await expect(usd.locator("tbody tr").first).to_contain_text("4,400.00")
    await page.close()
