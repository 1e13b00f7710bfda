"""Start-time checks of the settings against the market and the account (grid spec §3, §5.1).

They need the instrument and the account's position mode, which the settings alone do not
know, so they run in ``on_start``; each raises :class:`~tbsdk.errors.ConfigError` naming the
setting and what would be accepted.
"""

from __future__ import annotations

from tbsdk.errors import ConfigError
from tbsdk.model import Instrument, PositionMode

from .config import GridConfig, GridDirection

__all__ = ["check_market"]


def check_market(config: GridConfig, inst: Instrument, position_mode: PositionMode) -> None:
    """Refuse settings the market or the account cannot carry.

    * spot: ``direction`` long only, ``leverage`` 1 (spot is unlevered);
    * ``leverage`` at most the instrument's maximum;
    * classic ``neutral`` on futures needs a one-way account (the grid nets by design);
      adaptive ``neutral`` on futures needs a hedge-mode account (independent books).
    """
    where = f"{inst.symbol} ({inst.type.value})"
    if not inst.is_derivative:
        if config.direction is not GridDirection.LONG:
            raise ConfigError(
                f"direction = {config.direction.value} needs a futures instrument; {where} is "
                "spot, which is long-only: use direction = long or a perpetual"
            )
        if config.leverage != 1:
            raise ConfigError(f"leverage = {config.leverage} on {where}: spot is unlevered, use 1")
    if inst.max_leverage is not None and config.leverage > inst.max_leverage:
        raise ConfigError(
            f"leverage = {config.leverage} is above the maximum {inst.max_leverage} of {where}"
        )
    if inst.is_derivative and config.direction is GridDirection.NEUTRAL:
        want = PositionMode.ONE_WAY if config.mode.is_classic else PositionMode.HEDGE
        if position_mode is not want:
            raise ConfigError(
                f"mode = {config.mode.value} with direction = neutral needs a {want.value} "
                f"account; this account is {position_mode.value}"
            )
