"""How the service commands print: JSON for machines, rich tables for people, and the
conversions both share (UTC ISO times, exact Decimals, time and duration options).

JSON is stable: times are UTC ISO 8601 strings with milliseconds (``2024-03-01T00:00:00.000Z``),
amounts are strings holding the exact Decimal in plain notation (never a float), enums are
their values, and missing values are ``null``. rich is imported only when a table is printed
(``tbhost --help`` must not load it).
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import click

__all__ = [
    "DURATION",
    "TIME",
    "Column",
    "echo_json",
    "iso",
    "number",
    "plain",
    "record",
    "table",
    "text",
    "when",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

TIME_FIELDS = frozenset(
    {
        "at",
        "ts",
        "created_at",
        "updated_at",
        "started_at",
        "stopped_at",
        "disabled_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "opened_at",
        "closed_at",
        "saved_at",
        "requested_at",
        "feed_ts",
    }
)
"""Top-level record fields holding UTC milliseconds, printed as ISO times."""


def iso(ms: int | None) -> str | None:
    """UTC milliseconds as ISO 8601 with milliseconds and ``Z`` (exact: no float on the way)."""
    if ms is None:
        return None
    when = _EPOCH + timedelta(milliseconds=ms)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def number(value: Decimal) -> str:
    """A Decimal exactly, in plain notation (``1E+3`` prints as ``1000``)."""
    return f"{value:f}"


def plain(value: Any) -> Any:
    """``value`` with every Decimal as exact text and every enum as its value, recursively;
    nested keys are left alone (a strategy setting named ``ts`` is no time)."""
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def record(fields: Mapping[str, Any]) -> dict[str, Any]:
    """One printed record: :func:`plain` values, and top-level time fields as ISO times."""
    return {
        k: iso(v) if k in TIME_FIELDS and isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in plain(fields).items()
    }


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON; anything JSON cannot hold exactly is a bug here, so
    there is no ``default=str`` fallback."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def text(value: Any) -> str:
    """A table cell: ``-`` for nothing, Decimals exact, times as ISO (without ``.000``)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def when(ms: int | None) -> str:
    """A time for a table cell: ISO UTC, milliseconds only when there are some."""
    shown = iso(ms)
    return "-" if shown is None else shown.replace(".000Z", "Z")


Column = tuple[str, str]
"""A table column: its header and its justification (``left`` or ``right``)."""


def table(
    columns: Sequence[Column | str], rows: Iterable[Sequence[Any]], *, title: str = ""
) -> None:
    """Print a rich table (no wrapping: each row stays on one line, whatever the width, so
    the output can be grepped and piped). Columns whose headers are all empty make a table
    without a header: a list of facts."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    headed = any(c if isinstance(c, str) else c[0] for c in columns)
    grid = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        show_header=headed,
        title=title or None,
    )
    for column in columns:
        header, justify = (column, "left") if isinstance(column, str) else column
        grid.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in rows:
        grid.add_row(*(text(cell) for cell in row))
    buffer = io.StringIO()
    Console(file=buffer, width=100_000, highlight=False, emoji=False, markup=False).print(grid)
    click.echo("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()))


_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def _duration_ms(value: str) -> int | None:
    found = _DURATION.match(value.strip().lower())
    if found is None:
        return None
    return int(found.group(1)) * _UNIT_MS[found.group(2)]


class _Duration(click.ParamType[int]):
    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        ms = _duration_ms(str(value))
        if ms is None or ms == 0:
            self.fail(f"{value!r} is not a duration like 30d, 12h, 15m or 2w", param, ctx)
        return ms


class _Time(click.ParamType[int]):
    """An instant: an ISO date or time (UTC unless it names its offset), or a duration
    meaning that long ago (``7d``)."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        ago = _duration_ms(str(value))
        if ago is not None:
            return int(time.time() * 1000) - ago
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not a time like 2024-03-01, 2024-03-01T12:00 or 7d (ago)",
                param,
                ctx,
            )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - _EPOCH) // timedelta(milliseconds=1)


DURATION = _Duration()
"""A duration option (``30d``, ``12h``, ``15m``, ``2w``, ``45s``), as milliseconds."""
TIME = _Time()
"""A time option (``2024-03-01``, ``2024-03-01T12:00:00+02:00``, ``7d`` = 7 days ago), as UTC
milliseconds."""
