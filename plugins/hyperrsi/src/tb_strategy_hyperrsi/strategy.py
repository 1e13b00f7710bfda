"""HYPERRSI: RSI entries on one linear contract, vetoed by a multi-timeframe trend state, with
DCA, three take-profit levels, one protective stop (stop-loss, break-even, trailing), a trend
exit and an optional opposite-side hedge (hyperrsi spec, cited as §n).

The handlers follow §8: ``on_candle`` of the chart timeframe decides (trailing, trend exit, DCA,
entry, in that order); order events update the modelled position and its protective orders;
``save_state`` / ``load_state`` persist everything of §17, so a restarted instance continues
exactly.

**Backtest speed** (``candle_filter``): the RSI, ATR and trend state of the whole chart series
are computed once, vectorised (:mod:`.feed`), and the mask is empty: which chart bar the
strategy needs next depends on the state it is in, so :mod:`.wakeups` plans it after every
event from the table (the next entry-signal bar a side could act on while flat; while a
position is open, a DCA bar, the opposite trend extreme, a price level reached, a TP retry)
and arms it as a wake-up timer. In paper and live mode the same values come from streaming
indicators advanced from ``ctx.history``.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from tbsdk import ConfigError, JsonState, RunMode, Strategy, StrategyConfig, StrategyContext
from tbsdk.ids import bot_key
from tbsdk.model import (
    Candle,
    CandleArrays,
    CandleClosed,
    FillEvent,
    MarginMode,
    OrderUpdate,
    PositionChanged,
    StopReason,
    Tick,
    TimerFired,
)

from . import events, reconcile
from .config import HyperRsiConfig
from .entries import evaluate_dca, evaluate_entry
from .exits import MAIN_ROLES, market_exit
from .feed import BarFeed, BarValues
from .hedging import close_hedge, refresh_hedge_orders
from .intrabar import on_tick as intrabar_tick
from .protection import check_touch_activation, place_pending_tps, refresh_stop, trail_bar
from .runtime import Runtime
from .state import SCHEMA_VERSION, HyperRsiState
from .validation import config_warnings, venue_problems
from .wakeups import WAKE_TIMER, Wakeups

__all__ = ["HyperRsi"]


_INDICATOR_SETTINGS = (
    "symbol", "timeframe", "rsi_length", "trend_timeframe", "use_longer_trend",
    "longer_trend_ma", "use_trend_logic", "use_trend_close",
)  # fmt: skip
"""Settings whose change makes the saved indicator states meaningless (§18)."""


def _settings_hash(snapshot: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()


class HyperRsi(Strategy[HyperRsiConfig]):
    """The HYPERRSI strategy (entry point ``hyperrsi``)."""

    name: ClassVar[str] = "hyperrsi"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = HyperRsiConfig

    def __init__(self, config: HyperRsiConfig) -> None:
        super().__init__(config)
        self.state = HyperRsiState()
        self.feed = BarFeed(config)
        self.rt = Runtime(config, self.state, self.feed)
        self.wakeups = Wakeups(self.rt)
        self._loaded: HyperRsiState | None = None
        self._load_note: str | None = None

    # -- backtest table ----------------------------------------------------------------------
    def candle_filter(
        self, symbol: str, timeframe: str, candles: CandleArrays
    ) -> npt.NDArray[np.bool_] | None:
        cfg = self.config
        if symbol != cfg.symbol or not self.feed.can_tabulate():
            return None
        if timeframe in self.feed.trend_tfs and timeframe != cfg.timeframe:
            # Trend candles are read from the table built on the chart series.
            return np.zeros(len(candles), dtype=np.bool_)
        if timeframe != cfg.timeframe:
            return None
        table = self.feed.build_table(candles)
        self.wakeups.use_table(table)
        # Every chart bar the strategy needs is asked for by :mod:`.wakeups` from the state it
        # is in; a static mask would hold thousands of signal bars that decide nothing.
        return np.zeros(len(candles), dtype=np.bool_)

    # -- lifecycle ---------------------------------------------------------------------------
    def on_start(self, ctx: StrategyContext) -> None:
        cfg, st, rt = self.config, self.state, self.rt
        rt.attach(ctx)
        problems = venue_problems(cfg, rt.inst, ctx.position_mode)
        if problems:
            raise ConfigError(f"hyperrsi settings refused: {'; '.join(problems)}")
        for warning in config_warnings(cfg):
            ctx.log.warning("hyperrsi settings: %s", warning)
        if self._load_note is not None:
            ctx.log.warning(self._load_note)
        snapshot = cfg.model_dump(mode="json")
        changed = bool(st.settings_hash) and st.settings_hash != _settings_hash(snapshot)
        st.settings_snapshot, st.settings_hash = snapshot, _settings_hash(snapshot)
        st.bot6 = bot_key(ctx.bot.account_id, ctx.bot.bot_id)
        if changed or st.resume_on_start:
            st.entries_paused, st.consecutive_failures, st.resume_on_start = False, 0, False
        ctx.subscribe(cfg.symbol, cfg.timeframe, warmup=cfg.warmup_bars)
        for tf in self.feed.trend_tfs:
            ctx.subscribe(cfg.symbol, tf, warmup=cfg.warmup_bars)
        if cfg.signal_mode == "intrabar":
            ctx.subscribe_ticks(cfg.symbol, min_interval_s=cfg.intrabar_min_interval_s)
        if st.position.side is None and st.hedge.size == 0:
            # §8.2 step 2; with a position open the venue keeps its terms (changing them could
            # move the liquidation price under the position), so they are left as they are.
            ctx.set_leverage(cfg.symbol, Decimal(cfg.leverage), MarginMode(cfg.margin_mode))
        else:
            ctx.log.info("position open: leverage and margin mode left as the venue has them")
        reconcile.at_start(rt, ctx)
        if changed and st.phase == "open":
            self._apply_new_settings(ctx)
        if st.stop.retry_at is not None:
            ctx.set_timer(events.PROTECT_RETRY_TIMER, st.stop.retry_at)
        if ctx.mode is not RunMode.BACKTEST:
            # Backtests skip this timer: a simulated venue never diverges from the model, and a
            # 60 s timer would make the engine process every candle.
            ctx.set_timer(reconcile.RECONCILE_TIMER, ctx.now() + reconcile.RECONCILE_INTERVAL)
        else:
            # The candle table is built after on_start; until the next event plans the
            # wake-ups, watch every candle.
            self.wakeups.deliver_all(ctx)
        rt.notify(ctx, "settings_applied", "settings applied", changed=changed)
        self._end(ctx)

    def _apply_new_settings(self, ctx: StrategyContext) -> None:
        """§18: TP/SL/trailing changes re-price the open position's ladder and stop."""
        st = self.state
        if not any(lvl.status == "filled" for lvl in st.tps):
            pos = st.position
            ref = pos.last_fill_price or pos.avg or Decimal(0)
            bar = self.feed.latest(ctx)
            from .protection import rebuild

            rebuild(self.rt, ctx, ref, bar.atr if bar is not None else float("nan"))

    def on_stop(self, ctx: StrategyContext, reason: StopReason) -> None:
        """§8.8 for an operator stop or removal. A shutdown (host restart) or the end of a
        backtest leaves everything as it is: the saved state resumes management."""
        st, rt = self.state, self.rt
        if reason not in (StopReason.OPERATOR, StopReason.REMOVED):
            return
        st.resume_on_start = reason is StopReason.OPERATOR
        rt.desk.cancel_where(ctx, ("ent", "d0", "he"))
        if self.config.on_stop_action == "close_position":
            rt.desk.cancel_where(ctx, MAIN_ROLES)
            if st.phase == "open":
                market_exit(rt, ctx, "xmn", "manual")
            close_hedge(rt, ctx, "manual")

    # -- events ------------------------------------------------------------------------------
    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        cfg = self.config
        if event.symbol != cfg.symbol or event.timeframe != cfg.timeframe:
            return  # trend candles are read from history when a chart bar needs them
        self.rt.held_levels.clear()
        candle = event.candle
        bar = self.feed.at_bar(ctx, candle.ts)
        if bar is None:
            return  # stale: this bar was decided already
        self.wakeups.seen(candle.ts)
        if event.replay:
            self._replay(candle)
        else:
            self._decide(ctx, bar, candle)
        self._end(ctx)

    def _decide(self, ctx: StrategyContext, bar: BarValues, candle: Candle) -> None:
        """§8.3 step 3-4 for a closed chart bar."""
        cfg, st, rt = self.config, self.state, self.rt
        close_time = candle.ts + rt.period
        if st.phase == "open":
            check_touch_activation(rt, ctx, candle.high, candle.low)
            stop = trail_bar(rt, ctx, candle.high, candle.low)
            if stop is not None:
                beyond = candle.close <= stop if st.position.m > 0 else candle.close >= stop
                if beyond:
                    # The resting stop was lower during the bar, so it could not trigger.
                    market_exit(rt, ctx, "xtr", "trailing_stop")
                else:
                    refresh_stop(rt, ctx)
        against = -2 if st.position.m > 0 else 2
        if st.phase == "open" and bar.ready and cfg.use_trend_close and bar.trend == against:
            market_exit(rt, ctx, "xtc", "trend_reversal")
        if st.phase == "open":
            evaluate_dca(rt, ctx, bar, candle.close, candle.ts, close_time)
        exited = st.last_exit_ts is not None and candle.ts < st.last_exit_ts <= close_time
        if st.phase == "flat" and not exited:
            evaluate_entry(rt, ctx, bar, candle.close, candle.ts, close_time)

    def _replay(self, candle: Candle) -> None:
        """A catch-up candle after a restart moves only indicators and the trailing extreme."""
        tr, pos = self.state.trailing, self.state.position
        if tr.active and tr.extreme is not None:
            tr.extreme = max(tr.extreme, candle.high) if pos.m > 0 else min(tr.extreme, candle.low)

    def on_tick(self, ctx: StrategyContext, event: Tick) -> None:
        if self.config.signal_mode != "intrabar" or event.symbol != self.config.symbol:
            return
        self.rt.held_levels.clear()
        intrabar_tick(self.rt, ctx, event)
        self._end(ctx)

    def on_fill(self, ctx: StrategyContext, event: FillEvent) -> None:
        self.rt.held_levels.clear()
        events.on_fill(self.rt, ctx, event)
        self._end(ctx)

    def on_order_update(self, ctx: StrategyContext, event: OrderUpdate) -> None:
        self.rt.held_levels.clear()
        events.on_order_update(self.rt, ctx, event)
        self._end(ctx)

    def on_position_changed(self, ctx: StrategyContext, event: PositionChanged) -> None:
        if event.position.symbol != self.config.symbol:
            return
        self.rt.held_levels.clear()
        reconcile.check_positions(self.rt, ctx)
        self._end(ctx)

    def on_timer(self, ctx: StrategyContext, event: TimerFired) -> None:
        self.rt.held_levels.clear()
        if event.name == WAKE_TIMER:
            self.wakeups.fired()  # the plan made in _end asks for this bar's candle
        elif event.name == events.PROTECT_RETRY_TIMER:
            self.state.stop.retry_at = None
            if self.state.phase in ("open", "closing"):
                refresh_stop(self.rt, ctx, new_phase=self.state.stop.client_id is None)
        elif event.name == reconcile.RECONCILE_TIMER:
            reconcile.check_positions(self.rt, ctx)
            ctx.set_timer(reconcile.RECONCILE_TIMER, event.ts + reconcile.RECONCILE_INTERVAL)
        self._end(ctx)

    def _end(self, ctx: StrategyContext) -> None:
        """After every event: required orders that are missing are placed, the hedge follows
        the main position, and (backtests) the next candles to watch are planned."""
        st = self.state
        if st.phase == "open":
            place_pending_tps(self.rt, ctx)
            if st.stop.retry_at is None and not self.rt.desk.live(st.stop.client_id):
                refresh_stop(self.rt, ctx)  # a required stop that is missing (§8.5, §16)
        if st.hedge.size > 0:
            refresh_hedge_orders(self.rt, ctx)
        self.wakeups.plan(ctx)

    # -- persistence -------------------------------------------------------------------------
    def save_state(self) -> JsonState:
        self.state.indicators = self.feed.get_state()
        return self.state.model_dump(mode="json")

    def load_state(self, state: JsonState) -> None:
        if state.get("schema_version") != SCHEMA_VERSION:
            self._load_note = (
                f"saved state schema {state.get('schema_version')!r} is not {SCHEMA_VERSION}: "
                "indicators are rebuilt from history and the position from the venue"
            )
            return
        loaded = HyperRsiState.model_validate(state)
        for name, field in HyperRsiState.model_fields.items():
            if field.exclude:
                continue
            setattr(self.state, name, getattr(loaded, name))
        before = loaded.settings_snapshot
        now = self.config.model_dump(mode="json")
        changed = [k for k in _INDICATOR_SETTINGS if before and before.get(k) != now.get(k)]
        if changed:
            # §18: the indicators of other settings are worth nothing; re-warm from history.
            self.feed.set_state({})
            self._load_note = f"{', '.join(changed)} changed: indicators are rebuilt from history"
            return
        try:
            self.feed.set_state(loaded.indicators)
        except (KeyError, TypeError, ValueError) as exc:
            self.feed.set_state({})
            self._load_note = (
                f"indicator state unusable ({exc}); rebuilt from history: values may differ "
                "slightly from an uninterrupted run"
            )
