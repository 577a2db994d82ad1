"""The collector's page's HTML shell: the document, its stylesheet, its refresh script.

Pure (data in, HTML text out), so every page is unit-tested without Redis or a server. Anything
that comes from the read model goes through `esc`: customer ids, names and reasons are arbitrary
text, and none of it may open a tag or leave an attribute. No external asset is linked: the page
works where the worker runs, with no CDN.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

# One small stylesheet, inline.
STYLE = """
.notice{background:#fff3cd;border:1px solid #e0c36a;padding:.5em .8em;border-radius:4px}
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:.6em 1.2em;display:flex;flex-wrap:wrap;
gap:.4em 1.5em;align-items:center}
header a{color:#fff}nav a{margin-right:1em}
main{padding:1em 1.2em}
h1{font-size:1.4em;margin:.2em 0 .6em}h2{font-size:1.1em;margin:1.2em 0 .4em}
table{border-collapse:collapse;background:#fff;margin-bottom:1em}
th,td{border:1px solid #d5d9e0;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eceff3}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
form.filters{display:flex;flex-wrap:wrap;gap:.5em;align-items:end}
form.filters label{display:flex;flex-direction:column;font-size:.85em}
.id{color:#5b6573;font-size:.85em}.muted{color:#5b6573}
.state{display:inline-block;padding:0 .4em;border-radius:.6em;background:#e3e7ec;margin:1px}
.state-late{background:#f7d4d4}.state-disputed{background:#f5e1b8}
.state-promised,.state-on-plan{background:#d4e8f7}.state-held{background:#dcd4f7}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dl.facts dt{color:#5b6573}dl.facts dd{margin:0}
.when{white-space:nowrap}
#refresh-status{font-size:.85em;opacity:.8;margin:0}
svg text{font:11px system-ui,sans-serif}
"""

# Refreshes the main element every 3 s without a reload: fetches the same URL (so the filters
# the form submitted stay) with fragment=1 and swaps in the main element it answers. The form
# lives outside the main element, so a choice not yet submitted survives a refresh. On an
# error the last view stays and the status line says why.
SCRIPT = """
(() => {
  const status = document.getElementById("refresh-status");
  async function refresh() {
    const url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    try {
      const reply = await fetch(url, {cache: "no-store", headers: {Accept: "text/html"}});
      if (!reply.ok) {
        const why = reply.status === 503 ? "the read model is unavailable" : "HTTP " + reply.status;
        throw new Error(why);
      }
      const parsed = new DOMParser().parseFromString(await reply.text(), "text/html");
      const fresh = parsed.querySelector("main");
      const current = document.querySelector("main");
      if (fresh && current) {
        current.replaceWith(document.adoptNode(fresh));
      }
      status.textContent = "Updated " + new Date().toLocaleTimeString();
    } catch (error) {
      status.textContent = "Not updated: " + error.message + "; showing the last view";
    } finally {
      window.setTimeout(refresh, 3000);
    }
  }
  window.setTimeout(refresh, 3000);
})();
"""

HTML_TYPE = "text/html; charset=utf-8"


def esc(value: object) -> str:
    """Text as HTML, quotes included (safe in element content and in quoted attributes)."""
    return html.escape(str(value), quote=True)


def customer_href(customer_id: str) -> str:
    """The customer's page; the id URL-encoded whole (a `/` in it stays in the one segment)."""
    return "/ui/customers/" + quote(customer_id, safe="")


def money(amount: object) -> str:
    """A decimal string with thousands separators (as received if it is not a number)."""
    try:
        return f"{Decimal(str(amount)):,}"
    except (InvalidOperation, ValueError):
        return str(amount)


def money_lines(by_currency: Mapping[str, object] | None) -> str:
    """Amounts per currency, one per line; an em dash when there are none."""
    if not by_currency:
        return '<span class="muted">—</span>'
    return "<br>".join(
        f"{esc(money(amount))} {esc(currency)}" for currency, amount in sorted(by_currency.items())
    )


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], *, numeric: set[int]) -> str:
    """A table of already-rendered cells; `headers` are plain text, columns in `numeric` right."""

    def cell(tag: str, index: int, content: str) -> str:
        css = ' class="num"' if index in numeric else ""
        return f"<{tag}{css}>{content}</{tag}>"

    head = "".join(cell("th", i, esc(h)) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def main_element(content: str) -> str:
    """The part that the refresh script replaces (and `fragment=1` answers alone)."""
    return f'<main id="content">{content}</main>'


def document(*, title: str, main: str, header: str = "") -> str:
    """A whole page: navigation and `header` (kept across refreshes), `main`, the script."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · arpulse</title><style>{STYLE}</style></head><body>"
        '<header><nav><a href="/ui">Worklist</a><a href="/ui/aging">Aging</a></nav>'
        f'{header}<p id="refresh-status" role="status"></p></header>'
        f"{main}<script>{SCRIPT}</script></body></html>"
    )


def message_page(title: str, text: str, *, fragment: bool = False) -> str:
    """A page that only says something (a bad filter, an unknown customer, Redis down)."""
    main = main_element(f"<h1>{esc(title)}</h1><p>{esc(text)}</p>")
    return main if fragment else document(title=title, main=main)


STALE_NOTICE = (
    "The read model is being rebuilt (Redis lost its data): customers may be missing and"
    " figures short for a few moments."
)


def with_stale_notice(page: str) -> str:
    """`page` (whole or fragment) with the stale notice at the top of its main part."""
    opening = '<main id="content">'
    notice = f'<p class="notice" role="alert">{esc(STALE_NOTICE)}</p>'
    return page.replace(opening, opening + notice, 1)
