"""One self-contained HTML report: summary, price with trades, equity, drawdown, trade table.

Nothing is fetched when it opens: the CSS is inline and the charts are inline SVG written by
matplotlib with ``svg.fonttype = 'none'``. SVG rather than base64 PNG because the charts stay
sharp at any zoom and their labels are real text (searchable, copyable, in the page's font).
The cost is size: series are thinned to what a chart can show (``_charts.envelope``) and trade
markers are batched, yet seven years of hourly candles with ~1,200 trades still make ~0.9 MB of
SVG where PNGs would be ~0.3 MB; a page of that size still opens at once. The SVG's XML prolog,
RDF metadata and namespace declarations are dropped: HTML needs none of them for inline SVG,
and so the file holds no URL at all.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..engine.backtest import BacktestResult
from ._charts import draw_drawdown, draw_equity, draw_price, pyplot
from .summary import Summary
from .trade_list import trade_rows

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["render_html", "write_html"]

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .2rem .6rem; border-bottom: 1px solid #d0d7de; text-align: left; }
table.summary th { font-weight: 600; white-space: nowrap; }
table.trades td.num { text-align: right; }
table.trades tr.win td.pnl { color: #1a7f37; } table.trades tr.loss td.pnl { color: #cf222e; }
figure { margin: 0; } figure svg { width: 100%; height: auto; }
.muted { color: #656d76; }
"""

_Draw = Callable[["Axes", BacktestResult, Summary], None]


def _svg(draw: _Draw, result: BacktestResult, summary: Summary, height: float) -> str:
    plt = pyplot()
    # A fixed hash salt gives the same element ids on every run, so the same backtest gives the
    # same file.
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tbhost-report"}):
        fig, ax = plt.subplots(figsize=(12, height), layout="constrained")
        draw(ax, result, summary)
        buffer = io.StringIO()
        no_metadata = {"Creator": None, "Date": None, "Format": None, "Type": None}
        fig.savefig(buffer, format="svg", metadata=no_metadata)
        plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    return re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text, count=2)


def _summary_table(summary: Summary) -> str:
    rows = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary.rows()
    )
    return f'<table class="summary">\n{rows}\n</table>'


_TRADE_HEAD = (
    "#",
    "Direction",
    "Qty",
    "Entry (UTC)",
    "Entry price",
    "Exit (UTC)",
    "Exit price",
    "PnL",
    "Fees",
    "Exit reason",
)


def _trade_table(result: BacktestResult) -> str:
    if not result.trades:
        return '<p class="muted">No closed trades.</p>'
    head = "".join(f"<th>{h}</th>" for h in _TRADE_HEAD)
    lines = []
    for i, (trade, row) in enumerate(zip(result.trades, trade_rows(result.trades), strict=True)):
        kind = "win" if trade.pnl > 0 else "loss" if trade.pnl < 0 else "even"
        cells = [
            (str(i + 1), "num"),
            (str(row["direction"]), ""),
            (str(row["qty"]), "num"),
            (str(row["entry_time"]).replace("T", " ").removesuffix("Z"), ""),
            (str(row["entry_price"]), "num"),
            (str(row["exit_time"]).replace("T", " ").removesuffix("Z"), ""),
            (str(row["exit_price"]), "num"),
            (str(row["pnl"]), "num pnl"),
            (str(row["fees"]), "num"),
            (str(row["exit_reason"]), ""),
        ]
        tds = "".join(
            f'<td class="{c}">{html.escape(v)}</td>' if c else f"<td>{html.escape(v)}</td>"
            for v, c in cells
        )
        lines.append(f'<tr class="trade {kind}">{tds}</tr>')
    body = "\n".join(lines)
    return (
        f'<table class="trades">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody>\n</table>"
    )


def render_html(result: BacktestResult, summary: Summary) -> str:
    """The whole report as one HTML document."""
    title = f"Backtest: {summary.strategy} on {summary.symbol} {summary.timeframe}"
    charts = [
        ("Price and trades", draw_price, 5.0),
        ("Equity", draw_equity, 3.5),
        ("Drawdown", draw_drawdown, 2.5),
    ]
    sections = "\n".join(
        f"<h2>{name}</h2>\n<figure>\n{_svg(draw, result, summary, height)}</figure>"
        for name, draw, height in charts
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="muted">{html.escape(summary.start)} to {html.escape(summary.end)} UTC,
{summary.candles:,} candles. Ratios are annualised over 365 days; the risk-free rate is 0.</p>
<h2>Summary</h2>
{_summary_table(summary)}
{sections}
<h2>Trades ({summary.trades})</h2>
{_trade_table(result)}
</body>
</html>
"""


def write_html(result: BacktestResult, summary: Summary, path: Path) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8, ``\\n`` line endings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_html(result, summary).encode("utf-8"))
    return path
