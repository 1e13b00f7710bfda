"""Symbol rotation of adaptive grids (grid spec §4.10): which symbols may trade, how they are
scored, and which start when a slot is free.

The bot keeps up to ``max_active_symbols`` adaptive engines running. Every
``rank_refresh_minutes`` (while a slot is free) it asks the host's backtest service to run this
strategy with the same settings on each candidate symbol (``symbol_mode = fixed``,
``eval_timeframe = 15m``) over the last ``rank_lookback_days``; the score is the backtest's net
PnL divided by the grid notional G (§4.8). Free slots are filled by the positions found on the
account first, then the symbols that were active before a restart, then by score (positive
scores only; ties: higher 24h quote volume, then symbol name). Scores are kept between
refreshes, so a slot freed by a completed symbol is filled at once from the cache.

This module is pure bookkeeping (no context calls): :class:`~tb_strategy_grid.strategy.Grid`
drives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tbsdk.model import Instrument

from .config import GridConfig

__all__ = [
    "BUILTIN_BAN_LIST",
    "RANK_WARMUP_MS",
    "STABLECOIN_BASES",
    "Rotation",
    "Score",
    "grid_notional",
    "rank_order",
    "rank_settings",
    "rank_window",
    "universe",
]

STABLECOIN_BASES = frozenset({"USDC", "USDT", "DAI", "FDUSD", "TUSD", "USTC", "BUSD"})
"""Bases never traded in rotation (§4.10)."""

BUILTIN_BAN_LIST = frozenset(
    {"XEC", "USTC", "USDC", "TRY", "CEL", "GAL", "OMG", "SPELL", "KSM", "GPT", "BLOCK", "FRONT"}
    | {"TURBO", "ZERO", "MSN", "FET"}
)
"""Bases the spec bans from rotation whatever the settings (§4.10)."""

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
REGIME_MS = 4 * HOUR_MS

ADX_PERIOD = 28
"""``tb_strategy_grid.adaptive.regime.ADX_PERIOD`` (not imported: the adaptive engine loads
only when an adaptive bot starts)."""

RANK_WARMUP_MS = 2 * ADX_PERIOD * REGIME_MS
"""History a ranking backtest gets before its window: the engine trades only once ADX(28) of
the 4h candles is defined, after 56 closed 4h candles (§4.2). Without it a 14-day window would
trade less than 5 days, and windows under 10 days never."""

RANK_EVAL_TIMEFRAME = "15m"


@dataclass(frozen=True)
class Score:
    """One symbol's ranking result."""

    value: Decimal
    """Net PnL of the ranking backtest / G."""
    volume: Decimal | None
    """24h quote volume at the end of the window (first tie-break)."""
    ts: int
    """When the ranking round that produced it started."""

    def to_json(self) -> dict[str, Any]:
        volume = None if self.volume is None else str(self.volume)
        return {"value": str(self.value), "volume": volume, "ts": self.ts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Score:
        volume = data["volume"]
        return cls(Decimal(data["value"]), None if volume is None else Decimal(volume), data["ts"])


def _listed(inst: Instrument, entries: Iterable[str]) -> bool:
    """``ban_list`` / ``white_list`` entries name symbols (exactly) or base assets (any case)."""
    base = inst.base.upper()
    return any(e == inst.symbol or e.upper() == base for e in entries)


def universe(
    markets: Iterable[Instrument],
    reference: Instrument,
    config: GridConfig,
    completed: Iterable[str] = (),
) -> list[str]:
    """The symbols rotation may trade, sorted (§4.10): the account's instruments of the
    reference's market type, quote and settle currency, minus stablecoin bases, the built-in
    ban list and ``ban_list``, intersected with ``white_list`` when it is not empty, minus the
    ``completed`` symbols when ``exclude_completed``. Symbols other bots on the account trade
    change while the bot runs; the rotator leaves them out when it picks candidates."""
    done = set(completed) if config.exclude_completed else set()
    found = []
    for inst in markets:
        if (inst.type, inst.quote, inst.settle) != (
            reference.type,
            reference.quote,
            reference.settle,
        ):
            continue
        base = inst.base.upper()
        if base in STABLECOIN_BASES or base in BUILTIN_BAN_LIST or _listed(inst, config.ban_list):
            continue
        if config.white_list and not _listed(inst, config.white_list):
            continue
        if inst.symbol not in done:
            found.append(inst.symbol)
    return sorted(found)


def grid_notional(config: GridConfig) -> Decimal:
    """``G`` of §4.8: Σ level_capital_j · leverage over the N rungs."""
    leverage = Decimal(config.leverage)
    return sum(
        (config.capital_of_rung(j) * leverage for j in range(1, config.grid_num + 1)), Decimal(0)
    )


def rank_order(scores: dict[str, Score]) -> list[str]:
    """Symbols with a positive score, best first: score, then 24h quote volume, then name."""
    positive = [(s, v) for s, v in scores.items() if v.value > 0]
    positive.sort(key=lambda sv: (-sv[1].value, -(sv[1].volume or Decimal(0)), sv[0]))
    return [s for s, _ in positive]


def rank_window(now: int, config: GridConfig) -> tuple[int, int]:
    """``[start, end)`` of a ranking backtest at ``now``: the last ``rank_lookback_days``
    (from the first 4h boundary in them, where a 4h candle can close) plus the warm-up."""
    since = now - config.rank_lookback_days * DAY_MS
    first_4h = -(-since // REGIME_MS) * REGIME_MS
    return first_4h - RANK_WARMUP_MS, now


def rank_settings(config: GridConfig, symbol: str) -> dict[str, Any]:
    """The settings of the bot, as a fixed grid on ``symbol`` evaluated on 15m candles.

    ``custom_stop_minutes`` is lengthened by the warm-up in front of the window: a live bot
    starts with its history and can trade at once, the ranking backtest only once the warm-up
    has passed, and its inactivity clock must start there too (else every ranking of a bot
    with an inactivity stop shorter than the warm-up would complete before trading)."""
    settings = config.snapshot()
    settings.update(
        symbol_mode="fixed", symbols=[symbol], eval_timeframe=RANK_EVAL_TIMEFRAME, symbol=None
    )
    if config.custom_stop_minutes is not None:
        settings["custom_stop_minutes"] = config.custom_stop_minutes + RANK_WARMUP_MS // 60_000
    return settings


@dataclass
class Rotation:
    """What rotation remembers (persisted in the bot's state, §6)."""

    active: list[str] = field(default_factory=list)
    """Symbols with a running engine, in start order."""
    completed: list[str] = field(default_factory=list)
    """Symbols that completed during this run (§4.9)."""
    refused: list[str] = field(default_factory=list)
    """Symbols whose market refused the settings at start (not tried again in this run)."""
    scores: dict[str, Score] = field(default_factory=dict)
    ranked_at: int | None = None
    """Start of the last complete ranking round."""
    next_refresh: int | None = None
    """When the next ranking round is due."""
    round_ts: int | None = None
    """Start of the ranking round in flight, if any."""
    pending: dict[str, str] = field(default_factory=dict)
    """Backtests of the round in flight not answered yet: request id -> symbol."""

    def free_slots(self, config: GridConfig) -> int:
        return max(0, config.max_active_symbols - len(self.active))

    def start_order(
        self,
        candidates: Sequence[str],
        with_positions: Iterable[str],
        previously_active: Iterable[str],
        use_scores: bool,
    ) -> list[str]:
        """§4.10 order of starting, each symbol once, only ``candidates``: positions on the
        account, then the symbols active before a restart, then (``use_scores``) by cached
        score, positive scores only."""
        allowed = set(candidates)
        ranked = rank_order(self.scores) if use_scores else []
        order: list[str] = []
        for symbol in [*with_positions, *previously_active, *ranked]:
            if symbol in allowed and symbol not in order:
                order.append(symbol)
        return order

    def request_id(self, symbol: str) -> str:
        """Id of the ranking backtest of ``symbol`` in the round in flight."""
        return f"rank:{self.round_ts}:{symbol}"

    def to_json(self) -> dict[str, Any]:
        return {
            "active": list(self.active),
            "completed": list(self.completed),
            "refused": list(self.refused),
            "scores": {s: v.to_json() for s, v in sorted(self.scores.items())},
            "ranked_at": self.ranked_at,
            "next_refresh": self.next_refresh,
            "round_ts": self.round_ts,
            "pending": dict(self.pending),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rotation:
        return cls(
            active=list(data["active"]),
            completed=list(data["completed"]),
            refused=list(data.get("refused", [])),
            scores={s: Score.from_json(v) for s, v in data["scores"].items()},
            ranked_at=data["ranked_at"],
            next_refresh=data["next_refresh"],
            round_ts=data["round_ts"],
            pending=dict(data["pending"]),
        )
