"""The ``Mutation`` type: the service layer's commands, as the caller.

Each service method checks the caller's role and writes the change and its audit entry in one
transaction; a refusal arrives here as a typed error (see :mod:`.errors`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from pydantic import SecretStr, ValidationError
from strawberry.types import Info

from tbsdk.credentials import Credentials
from tbsdk.info import RunMode
from tbsdk.model import PositionMode

from ..services import Action, InvalidConfig, authorize
from ..storage import CredentialsError
from ..storage.models import Role
from . import backtests
from ._fields import mutation
from .context import ApiContext, actor_of, services_of
from .events import BacktestJob
from .scalars import JSON, Long
from .types import Account, Bot, CloseRequest, IssuedToken, Token, User

__all__ = ["Mutation"]

Ctx = Info[ApiContext, None]


@strawberry.input
class CreateBotInput:
    name: str
    strategy: str = strawberry.field(description="Strategy entry-point name.")
    account_id: str
    symbols: list[str]
    timeframe: str
    settings: JSON = strawberry.field(
        default_factory=dict, description="Strategy settings; validated by the strategy."
    )
    mode: RunMode = RunMode.PAPER


@strawberry.input
class ConfigureBotInput:
    bot: str = strawberry.field(description="Bot id or name.")
    settings: JSON | None = strawberry.field(
        default=None, description="Merged over the stored settings unless `replace`."
    )
    symbols: list[str] | None = None
    timeframe: str | None = None
    replace: bool = False


@strawberry.input(description="Exchange API key material: stored encrypted, never returned.")
class CredentialsInput:
    api_key: str
    secret: str
    passphrase: str | None = None


@strawberry.input
class AddAccountInput:
    exchange: str = strawberry.field(description="Exchange entry-point name, e.g. paper.")
    label: str
    position_mode: PositionMode = PositionMode.ONE_WAY
    options: JSON = strawberry.field(default_factory=dict, description="Venue options.")
    credentials: CredentialsInput | None = None


@strawberry.input
class BacktestInput:
    strategy: str
    symbol: str
    timeframe: str
    settings: JSON = strawberry.field(default_factory=dict)
    data_exchange: str = "binance"
    start: Long | None = strawberry.field(default=None, description="First candle, epoch ms.")
    end: Long | None = strawberry.field(default=None, description="End (excluded), epoch ms.")
    balance: Decimal = Decimal(10000)
    fee: Decimal = strawberry.field(default=Decimal("0.001"), description="Taker fee rate.")
    maker_fee: Decimal = Decimal("0.001")
    slippage_bps: Decimal = Decimal(0)
    leverage: Decimal = Decimal(1)
    position_mode: PositionMode = PositionMode.ONE_WAY


def _mapping(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidConfig(f"{field} must be a JSON object", (field,))
    return dict(value)


@strawberry.type
class Mutation:
    @mutation(description="Create a bot (state created); traders and admins.")
    async def create_bot(self, info: Ctx, input: CreateBotInput) -> Bot:
        bot = await services_of(info).bots.create(
            actor_of(info),
            input.name,
            input.strategy,
            input.account_id,
            input.symbols,
            input.timeframe,
            _mapping(input.settings, "settings"),
            mode=input.mode,
        )
        return Bot.of(bot)

    @mutation(description="Change a bot's settings, symbols or timeframe.")
    async def configure_bot(self, info: Ctx, input: ConfigureBotInput) -> Bot:
        bot = await services_of(info).bots.configure(
            actor_of(info),
            input.bot,
            settings=None if input.settings is None else _mapping(input.settings, "settings"),
            symbols=input.symbols,
            timeframe=input.timeframe,
            replace=input.replace,
        )
        return Bot.of(bot)

    @mutation(description="Start a created or stopped bot; `bot` is id or name.")
    async def start_bot(self, info: Ctx, bot: str) -> Bot:
        return Bot.of(await services_of(info).bots.start(actor_of(info), bot))

    @mutation(description="Pause a running bot: it keeps its orders, places none.")
    async def pause_bot(self, info: Ctx, bot: str) -> Bot:
        return Bot.of(await services_of(info).bots.pause(actor_of(info), bot))

    @mutation(description="Resume a paused bot.")
    async def resume_bot(self, info: Ctx, bot: str) -> Bot:
        return Bot.of(await services_of(info).bots.resume(actor_of(info), bot))

    @mutation(description="Stop a running, paused or faulted bot.")
    async def stop_bot(self, info: Ctx, bot: str) -> Bot:
        return Bot.of(await services_of(info).bots.stop(actor_of(info), bot))

    @mutation(description="Delete a created or stopped bot; its history stays.")
    async def delete_bot(self, info: Ctx, bot: str) -> bool:
        await services_of(info).bots.delete(actor_of(info), bot)
        return True

    @mutation(description="Ask the host to close every position of the bot.")
    async def close_positions(self, info: Ctx, bot: str) -> CloseRequest:
        return CloseRequest.of(await services_of(info).bots.close_positions(actor_of(info), bot))

    @mutation(description="Add an exchange account (admins).")
    async def add_account(self, info: Ctx, input: AddAccountInput) -> Account:
        credentials = None
        if input.credentials is not None:
            c = input.credentials
            credentials = Credentials(
                api_key=SecretStr(c.api_key),
                secret=SecretStr(c.secret),
                passphrase=None if c.passphrase is None else SecretStr(c.passphrase),
            )
        try:
            account = await services_of(info).accounts.add(
                actor_of(info),
                input.exchange,
                input.label,
                credentials=credentials,
                position_mode=input.position_mode,
                options=_mapping(input.options, "options"),
            )
        except CredentialsError as exc:
            # No secrets key configured, or a broken one: the message says which (never a key).
            raise InvalidConfig(exc.message, ("credentials",)) from None
        return Account.of(account)

    @mutation(description="Remove an account no bot or order refers to (admins).")
    async def remove_account(self, info: Ctx, id: str) -> bool:
        await services_of(info).accounts.remove(actor_of(info), id)
        return True

    @mutation(
        description="Start a backtest on stored candles; returns the job at once. Follow it "
        "with backtestJob(id) or the backtestProgress subscription."
    )
    def run_backtest(self, info: Ctx, input: BacktestInput) -> BacktestJob:
        actor = actor_of(info)
        authorize(actor, Action.BACKTEST_RUN)
        services = services_of(info)
        request = backtests.BacktestRequest(
            strategy=input.strategy,
            symbol=input.symbol,
            timeframe=input.timeframe,
            settings=_mapping(input.settings, "settings"),
            data_exchange=input.data_exchange,
            start=input.start,
            end=input.end,
            balance=input.balance,
            fee=input.fee,
            maker_fee=input.maker_fee,
            slippage_bps=input.slippage_bps,
            leverage=input.leverage,
            position_mode=input.position_mode.value,
        )
        try:
            backtests.check(services.plugins, request)
        except ValidationError as exc:
            raise InvalidConfig(f"invalid backtest input: {exc.errors()[0]['msg']}") from None
        plugins, data_dir = services.plugins, services.settings.data_dir

        def work(on_total: Any, on_progress: Any) -> dict[str, Any]:
            return backtests.run(
                plugins, data_dir, request, on_total=on_total, on_progress=on_progress
            )

        return BacktestJob.of(services.jobs.submit(request, actor.user_id, work))

    @mutation(description="Create a user with a role (admins).")
    async def create_user(self, info: Ctx, username: str, role: Role) -> User:
        return User.of(await services_of(info).users.create(actor_of(info), username, role))

    @mutation(description="Change a user's role (admins).")
    async def set_user_role(self, info: Ctx, user_id: str, role: Role) -> User:
        services = services_of(info)
        user = await services.users.set_role(actor_of(info), user_id, role)
        services.tokens.forget_all()
        return User.of(user)

    @mutation(description="Disable a user: their tokens stop working (admins).")
    async def disable_user(self, info: Ctx, user_id: str) -> User:
        services = services_of(info)
        user = await services.users.disable(actor_of(info), user_id)
        services.tokens.forget_all()
        return User.of(user)

    @mutation(description="Issue an API token (admins). The secret is in this answer only.")
    async def issue_token(
        self, info: Ctx, user_id: str, name: str, expires_at: Long | None = None
    ) -> IssuedToken:
        issued = await services_of(info).users.issue_token(
            actor_of(info), user_id, name, expires_at=expires_at
        )
        return IssuedToken(token=Token.of(issued.info), secret=issued.token)

    @mutation(description="Revoke an API token (admins).")
    async def revoke_token(self, info: Ctx, token_id: str) -> Token:
        services = services_of(info)
        token = await services.users.revoke_token(actor_of(info), token_id)
        services.tokens.forget_all()
        return Token.of(token)
