"""Instruments the paper exchange tests trade (one definition for every test module)."""

from __future__ import annotations

from decimal import Decimal as D

from tbsdk.model import Instrument, MarketType

SWAP = Instrument(
    exchange="paper",
    symbol="BTC/USDT:USDT",
    base="BTC",
    quote="USDT",
    settle="USDT",
    type=MarketType.SWAP,
    contract_size=D("0.1"),
    tick_size=D("0.1"),
    lot_step=D(1),
    min_size=D(1),
    min_notional=D(5),
    max_leverage=D(100),
    maker_fee=D("0.0002"),
    taker_fee=D("0.0005"),
)

SPOT = Instrument(
    exchange="paper",
    symbol="ETH/USDT",
    base="ETH",
    quote="USDT",
    tick_size=D("0.01"),
    lot_step=D("0.001"),
    min_size=D("0.001"),
    min_notional=D(10),
    maker_fee=D("0.001"),
    taker_fee=D("0.001"),
)

ETH_SWAP = Instrument(
    exchange="paper",
    symbol="ETH/USDT:USDT",
    base="ETH",
    quote="USDT",
    settle="USDT",
    type=MarketType.SWAP,
    contract_size=D("0.01"),
    tick_size=D("0.01"),
    lot_step=D(1),
    min_size=D(1),
    max_leverage=D(50),
    maker_fee=D("0.0002"),
    taker_fee=D("0.0005"),
)
