"""Market rules for backtests on stored candles, where no venue is asked for them."""

from __future__ import annotations

from decimal import Decimal

from tbsdk.model import Instrument, MarketType


def backtest_instrument(
    exchange: str,
    symbol: str,
    *,
    tick: Decimal = Decimal("0.01"),
    lot: Decimal = Decimal("0.00001"),
    min_notional: Decimal = Decimal(5),
    maker_fee: Decimal = Decimal("0.001"),
    taker_fee: Decimal = Decimal("0.001"),
    contract_size: Decimal = Decimal(1),
) -> Instrument:
    """An instrument for ``symbol`` (ccxt unified; ``BASE/QUOTE:SETTLE`` means a swap).

    Defaults are Binance BTC/USDT spot's rules; pass the venue's real ones for other markets.
    """
    pair, _, settle = symbol.partition(":")
    base, sep, quote = pair.partition("/")
    if not sep or not base or not quote:
        raise ValueError(f"{symbol!r} is not a ccxt unified symbol like BTC/USDT or BTC/USDT:USDT")
    return Instrument(
        exchange=exchange,
        symbol=symbol,
        base=base,
        quote=quote,
        settle=settle or None,
        type=MarketType.SWAP if settle else MarketType.SPOT,
        contract_size=contract_size,
        tick_size=tick,
        lot_step=lot,
        min_notional=min_notional,
        maker_fee=maker_fee,
        taker_fee=taker_fee,
    )
