"""Order sizes in contracts (hyperrsi spec §9, §10 size, §15.2 hedge target).

``q = floor_to(M · leverage / (P · ct), lot_step)`` for a margin M at price P, or
``floor_to(contracts · factor, lot_step)``; below ``min_size`` the size is raised to it (the
order then exceeds the configured size, which the caller logs) and above ``max_size`` it is
capped. Leverage only scales notional; it never enters PnL.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tbsdk.model import Instrument
from tbsdk.money import floor_to

__all__ = ["Sized", "base_margin", "contracts_for_count", "contracts_for_margin", "limit_size"]

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Sized:
    """A size and, when a venue limit changed it, why (for the log)."""

    qty: Decimal
    adjusted: str | None = None


def limit_size(raw: Decimal, inst: Instrument) -> Sized:
    """``raw`` floored to the lot step, raised to ``min_size``, capped at ``max_size``."""
    qty = floor_to(raw, inst.lot_step)
    if qty < inst.min_size:
        return Sized(
            inst.min_size,
            f"size {qty} is below the minimum {inst.min_size}: raised to the minimum, the order "
            "exceeds the configured size",
        )
    if inst.max_size is not None and qty > inst.max_size:
        return Sized(inst.max_size, f"size {qty} is above the maximum {inst.max_size}: capped")
    return Sized(qty)


def contracts_for_margin(margin: Decimal, leverage: int, price: Decimal, inst: Instrument) -> Sized:
    """Contracts whose notional at ``price`` is ``margin · leverage`` (§9)."""
    return limit_size(margin * leverage / (price * inst.contract_size), inst)


def contracts_for_count(contracts: Decimal, factor: Decimal, inst: Instrument) -> Sized:
    """``contracts · factor`` contracts (``investment_type = contracts``)."""
    return limit_size(contracts * factor, inst)


def base_margin(investment_type: str, investment: Decimal, equity: Decimal) -> Decimal | None:
    """The margin of the initial entry, or None in the contracts mode (§9)."""
    if investment_type == "margin_quote":
        return investment
    if investment_type == "percent_of_equity":
        return equity * investment / _HUNDRED
    return None
