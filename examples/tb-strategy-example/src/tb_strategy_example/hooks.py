"""Hooks of the example plugin: a CLI command, a GraphQL field and a pre-trade size limit."""

from __future__ import annotations

from decimal import Decimal

import click

from tbsdk import BotInfo, hookimpl
from tbsdk.model import Instrument, OrderIntent
from tbsdk.registrars import CliRegistrar, GraphQLRegistrar

TB_API_VERSION = "1.0"
MAX_NOTIONAL = Decimal(100_000)


@click.command("sma-cross-info")
def sma_cross_info() -> None:
    """Explain the sma_cross strategy."""
    click.echo("sma_cross: long above the slow SMA, flat below it.")


@hookimpl
def tb_register_cli(registrar: CliRegistrar) -> None:
    registrar.add_command(sma_cross_info)


def example_info() -> str:
    """A plain function is enough for a scalar field: no strawberry import needed."""
    return "tb-strategy-example: sma_cross and rsi_reversal strategies, order value limit"


@hookimpl
def tb_register_graphql(registrar: GraphQLRegistrar) -> None:
    registrar.add_query("exampleInfo", example_info, "What the example plugin provides.")


@hookimpl
async def tb_check_order(bot: BotInfo, intent: OrderIntent, instrument: Instrument) -> str | None:
    # async: it only computes, so the host runs it on its loop, without a thread per order.
    price = intent.price or intent.trigger_price
    if price is not None and instrument.notional(intent.qty, price) > MAX_NOTIONAL:
        return f"order value above {MAX_NOTIONAL} {instrument.quote}"
    return None
