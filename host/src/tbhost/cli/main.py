"""``tbhost``: the entry point. Keep imports here to click only (``--help`` must be instant)."""

from __future__ import annotations

import click

from .lazy import LazyGroup

COMMANDS: dict[str, tuple[str, str]] = {
    "plugins": ("tbhost.cli.plugins_cmd:plugins", "List installed plugins and their status."),
    "config": ("tbhost.cli.config_cmd:config", "Show the effective settings (secrets masked)."),
    "data": ("tbhost.cli.data_cmd:data", "Import and inspect stored candles."),
    "backtest": ("tbhost.cli.backtest_cmd:backtest", "Backtest a strategy on stored candles."),
    "paper": ("tbhost.cli.paper_cmd:paper", "Run a paper bot on replayed candles, resumable."),
    "db": ("tbhost.cli.db_cmd:db", "Migrate and check the SQL database."),
    "accounts": ("tbhost.cli.accounts_cmd:accounts", "Add, list and remove exchange accounts."),
    "bots": ("tbhost.cli.bots_cmd:bots", "Create, configure, run, show, close and delete bots."),
    "orders": ("tbhost.cli.records_cmd:orders", "List stored orders (filters, pages)."),
    "fills": ("tbhost.cli.records_cmd:fills", "List stored fills (filters, pages)."),
    "positions": ("tbhost.cli.records_cmd:positions", "List the bots' open positions."),
    "trades": ("tbhost.cli.records_cmd:trades", "List closed round-trip trades (filters, pages)."),
    "pnl": ("tbhost.cli.records_cmd:pnl", "Realised PnL per bot, exact."),
    "users": ("tbhost.cli.users_cmd:users", "Add, list, change the role of and disable users."),
    "tokens": ("tbhost.cli.users_cmd:tokens", "Create, list and revoke API tokens."),
    "audit": ("tbhost.cli.audit_cmd:audit", "List the audit log: every change and who made it."),
    "run": ("tbhost.cli.run_cmd:run", "Run every bot stored as running, until stopped."),
    "api": ("tbhost.cli.api_cmd:api", "Serve the GraphQL API alone, or print its schema."),
}


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import version

    from tbsdk._version import API_VERSION

    click.echo(f"tbhost {version('tbhost')} (tbsdk API {API_VERSION})")
    ctx.exit()


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Plugins can add commands of their own; `tbhost plugins` lists what is installed.",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_version,
    help="Show the host version and the SDK API version, then exit.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="Settings file (default: $TBHOST_CONFIG or ./tbhost.toml).",
)
@click.option("--data-dir", type=click.Path(file_okay=False), help="Data directory.")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Log verbosity.",
)
@click.pass_context
def cli(
    ctx: click.Context, config_file: str | None, data_dir: str | None, log_level: str | None
) -> None:
    """TradingBoost host: run trading bots built from strategy and exchange plugins.

    Settings come from TBHOST_* environment variables, then tbhost.toml, then these flags
    (later wins).
    """
    ctx.meta["tbhost.flags"] = {
        "config_file": config_file,
        "data_dir": data_dir,
        "log_level": log_level,
    }


def main() -> None:
    cli()
