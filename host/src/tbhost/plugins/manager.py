"""``PluginHost``: the one place that talks to pluggy, behind typed methods.

Observer hooks are called one implementation at a time so that a failing plugin is attributed,
logged and, after ``hook_failure_limit`` consecutive failures, quarantined, while the others
still run. ``check_order`` fails closed: an exception or a time-out is a veto.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pluggy

from tbsdk import Exchange, Notifier, Strategy, hookspecs
from tbsdk.errors import ConfigError
from tbsdk.groups import EXCHANGES, NOTIFIERS, PLUGINS, STRATEGIES
from tbsdk.info import BotInfo, HostInfo
from tbsdk.model import Fill, Instrument, Order, OrderIntent, Position
from tbsdk.registrars import CliRegistrar, GraphQLRegistrar, IndicatorRegistrar, TelegramRegistrar

from .discovery import discover
from .records import PluginRecord, PluginStatus

log = logging.getLogger(__name__)


class PluginHost:
    """Holds every discovered plugin and calls their hooks with isolation."""

    def __init__(
        self,
        records: Iterable[PluginRecord] = (),
        *,
        failure_limit: int = 3,
        check_timeout_s: float = 2.0,
    ) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._records: list[PluginRecord] = []
        self._failures: Counter[str] = Counter()
        self.failure_limit = failure_limit
        self.check_timeout_s = check_timeout_s
        for record in records:
            self.add_record(record)

    @classmethod
    def discover(
        cls,
        allow: list[str] | None = None,
        block: list[str] | None = None,
        *,
        failure_limit: int = 3,
        check_timeout_s: float = 2.0,
    ) -> PluginHost:
        """Load every installed plugin (stevedore) and register the hook modules."""
        return cls(
            discover(allow, block), failure_limit=failure_limit, check_timeout_s=check_timeout_s
        )

    # -- registry ---------------------------------------------------------------------------
    @property
    def records(self) -> list[PluginRecord]:
        return list(self._records)

    def add_record(self, record: PluginRecord) -> None:
        self._records.append(record)
        if record.group == PLUGINS and record.status is PluginStatus.OK:
            self._register_hooks(record)

    def register(self, obj: Any, name: str, *, api_version: str | None = None) -> PluginRecord:
        """Register a hook object directly (tests, built-ins); validated like a discovered one."""
        record = PluginRecord(name, PLUGINS, target=repr(obj), distribution=None)
        version = api_version or getattr(obj, "TB_API_VERSION", None)
        from tbsdk import check_api_version

        record.api_version = version
        if problem := check_api_version(f"plugin {name!r}", version):
            record.fail(PluginStatus.INCOMPATIBLE, problem)
        else:
            record.obj = obj
        self.add_record(record)
        return record

    def unregister(self, name: str) -> None:
        """Remove a hook plugin registered under ``name`` (no error if absent)."""
        plugin = self._pm.get_plugin(name)
        if plugin is not None:
            self._pm.unregister(plugin, name)
        self._records = [r for r in self._records if not (r.group == PLUGINS and r.name == name)]

    def _register_hooks(self, record: PluginRecord) -> None:
        try:
            self._pm.register(record.obj, name=record.name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            record.fail(PluginStatus.FAILED, f"invalid hook implementation: {exc}")
            return
        unknown = [
            caller.name
            for caller in self._pm.get_hookcallers(record.obj) or []
            if not caller.has_spec()
        ]
        wrappers = [
            impl.function.__name__
            for caller in self._pm.get_hookcallers(record.obj) or []
            for impl in caller.get_hookimpls()
            if impl.plugin is record.obj and (impl.hookwrapper or impl.wrapper)
        ]
        if unknown or wrappers:
            self._pm.unregister(record.obj, record.name)
            known = ", ".join(sorted(n for n in dir(self._pm.hook) if n.startswith("tb_")))
            record.fail(
                PluginStatus.FAILED,
                f"unknown hook(s) {', '.join(unknown)}; known hooks: {known}"
                if unknown
                else f"hook wrappers are not supported: {', '.join(wrappers)}",
            )

    def component(self, group: str, name: str) -> Any:
        """The loaded class registered as ``name`` in ``group``; a ConfigError says why not."""
        candidates = [r for r in self._records if r.group == group and r.name == name]
        for record in candidates:
            if record.status is PluginStatus.OK:
                return record.obj
        if candidates:
            record = candidates[0]
            raise ConfigError(f"{group} plugin {name!r} is {record.status}: {record.reason}")
        available = ", ".join(
            sorted(r.name for r in self._records if r.group == group and r.status == "ok")
        )
        raise ConfigError(
            f"no {group} plugin named {name!r}; available: {available or 'none installed'}"
        )

    def strategy_class(self, name: str) -> type[Strategy[Any]]:
        cls: type[Strategy[Any]] = self.component(STRATEGIES, name)
        return cls

    def exchange_class(self, name: str) -> type[Exchange]:
        cls: type[Exchange] = self.component(EXCHANGES, name)
        return cls

    def notifier_class(self, name: str) -> type[Notifier]:
        cls: type[Notifier] = self.component(NOTIFIERS, name)
        return cls

    # -- calling hooks -----------------------------------------------------------------------
    def _impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        caller: pluggy.HookCaller = getattr(self._pm.hook, hook_name)
        # pluggy runs the last registered (and tryfirst) implementation first.
        return list(reversed(caller.get_hookimpls()))

    def _plugin_name(self, impl: pluggy.HookImpl) -> str:
        return impl.plugin_name

    @staticmethod
    def _call(impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> Any:
        return impl.function(*(kwargs[arg] for arg in impl.argnames))

    async def _observe(self, hook_name: str, **kwargs: Any) -> None:
        for impl in self._impls(hook_name):
            name = self._plugin_name(impl)
            try:
                result = self._call(impl, kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # noqa: BLE001 - isolation: a plugin's bug stays there
                self._record_failure(name, hook_name, exc)
            else:
                self._failures[name] = 0

    def _record_failure(self, name: str, hook_name: str, exc: Exception) -> None:
        self._failures[name] += 1
        count = self._failures[name]
        log.error(
            "plugin %s raised in %s (%d/%d): %s: %s",
            name,
            hook_name,
            count,
            self.failure_limit,
            type(exc).__name__,
            exc,
            exc_info=exc,
        )
        if count >= self.failure_limit:
            self.quarantine(
                name,
                f"{count} consecutive failures, last in {hook_name}: {type(exc).__name__}: {exc}",
            )

    def quarantine(self, name: str, reason: str) -> None:
        """Unregister plugin ``name`` from every hook and mark it quarantined."""
        plugin = self._pm.get_plugin(name)
        if plugin is not None:
            self._pm.unregister(plugin, name)
        for record in self._records:
            if record.group == PLUGINS and record.name == name:
                record.fail(PluginStatus.QUARANTINED, reason)
        log.error("plugin %s quarantined: %s", name, reason)

    async def check_order(
        self, bot: BotInfo, intent: OrderIntent, instrument: Instrument
    ) -> str | None:
        """Ask every ``tb_check_order``; return the veto reasons joined, or None to allow."""
        kwargs = {"bot": bot, "intent": intent, "instrument": instrument}
        vetoes: list[str] = []
        for impl in self._impls("tb_check_order"):
            name = self._plugin_name(impl)
            try:
                verdict = await asyncio.wait_for(
                    self._run_check(impl, kwargs), timeout=self.check_timeout_s
                )
            except TimeoutError:
                vetoes.append(f"{name}: check timed out after {self.check_timeout_s}s")
            except Exception as exc:  # isolation: a broken check vetoes, it never crashes
                log.error("tb_check_order of %s raised: %s", name, exc, exc_info=exc)
                vetoes.append(f"{name}: check failed ({type(exc).__name__}: {exc})")
            else:
                if verdict is not None:
                    vetoes.append(f"{name}: {verdict or 'vetoed without a reason'}")
        return "; ".join(vetoes) or None

    async def _run_check(self, impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> Any:
        if inspect.iscoroutinefunction(impl.function):
            return await self._call(impl, kwargs)
        # A synchronous check may block; a thread lets the time limit still apply.
        return await asyncio.to_thread(self._call, impl, kwargs)

    # -- typed hook facade -------------------------------------------------------------------
    async def startup(self, host: HostInfo) -> None:
        await self._observe("tb_startup", host=host)

    async def shutdown(self, host: HostInfo) -> None:
        await self._observe("tb_shutdown", host=host)

    async def bot_started(self, bot: BotInfo) -> None:
        await self._observe("tb_bot_started", bot=bot)

    async def bot_stopped(self, bot: BotInfo, reason: str) -> None:
        await self._observe("tb_bot_stopped", bot=bot, reason=reason)

    async def order_updated(self, bot: BotInfo, order: Order) -> None:
        await self._observe("tb_order_updated", bot=bot, order=order)

    async def fill(self, bot: BotInfo, fill: Fill, order: Order) -> None:
        await self._observe("tb_fill", bot=bot, fill=fill, order=order)

    async def position_changed(self, bot: BotInfo, position: Position) -> None:
        await self._observe("tb_position_changed", bot=bot, position=position)

    async def signal(self, bot: BotInfo, name: str, data: dict[str, Any]) -> None:
        await self._observe("tb_signal", bot=bot, name=name, data=data)

    def register_cli(self, registrar: CliRegistrar) -> None:
        self._register_surface("tb_register_cli", registrar)

    def register_graphql(self, registrar: GraphQLRegistrar) -> None:
        self._register_surface("tb_register_graphql", registrar)

    def register_telegram(self, registrar: TelegramRegistrar) -> None:
        self._register_surface("tb_register_telegram", registrar)

    def register_indicators(self, registrar: IndicatorRegistrar) -> None:
        self._register_surface("tb_register_indicators", registrar)

    def _register_surface(self, hook_name: str, registrar: Any) -> None:
        for impl in self._impls(hook_name):
            name = self._plugin_name(impl)
            if hasattr(registrar, "current_plugin"):
                registrar.current_plugin = name
            try:
                self._call(impl, {"registrar": registrar})
            except Exception as exc:  # isolation: the surface starts without this plugin
                log.error("plugin %s failed in %s: %s", name, hook_name, exc, exc_info=exc)
                if hasattr(registrar, "discard"):
                    registrar.discard(name)  # nothing half-added by a plugin that failed
                for record in self._records:
                    if record.group == PLUGINS and record.name == name:
                        record.reason = f"{hook_name} failed: {type(exc).__name__}: {exc}"
