"""The what-if report as a chart (PNG): DSO, CEI and cash collected by month, one line per policy.

matplotlib is an optional extra (`pip install 'arpulse[charts]'`), imported only when a chart is
asked for; the Agg backend renders without a screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from processor.errors import ConfigError


def write_chart(summaries: Sequence[dict[str, Any]], names: Sequence[str], path: Path) -> None:
    """Three panels over the simulated months, per currency: DSO (countback), CEI, cash."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("--chart: needs matplotlib (pip install 'arpulse[charts]')") from None
    currencies = sorted(
        {c for s in summaries for m in s.get("collection_by_month", {}).values() for c in m}
    )
    figure, (dso, cei, cash) = plt.subplots(3, 1, figsize=(10, 10))
    colours = {c: f"C{n}" for n, c in enumerate(currencies)}
    for run, (summary, name) in enumerate(zip(summaries, names, strict=True)):
        style = {"linestyle": ("-", "--", ":")[run % 3], "marker": "o"}
        by_month: dict[str, dict[str, dict[str, Any]]] = summary.get("collection_by_month", {})
        months = list(by_month)
        collected: dict[str, dict[str, str]] = summary.get("cash_collected_by_month", {})
        for currency in currencies:
            line = {**style, "color": colours[currency], "label": f"{name} {currency}"}
            dso.plot(
                months, [_value(by_month[m], currency, "dso_countback") for m in months], **line
            )
            cei.plot(months, [_value(by_month[m], currency, "cei_percent") for m in months], **line)
            paid = [float(Decimal(collected[m].get(currency, "0"))) for m in collected]
            cash.plot(list(collected), paid, **line)
    dso.set_title("DSO, countback (days) at each month's end")
    cei.set_title("CEI (%) over the window ending at each month's end")
    cash.set_title("cash collected, by month received")
    for axes in (dso, cei, cash):
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small")
        axes.tick_params(axis="x", labelrotation=45)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _value(row: dict[str, dict[str, Any]], currency: str, key: str) -> float:
    value = row.get(currency, {}).get(key)
    return float("nan") if value is None else float(value)
