"""Find and load plugins from entry points with stevedore, one failure never stopping the rest.

Each entry point ends as a :class:`PluginRecord`: ``ok`` with its loaded object, or ``failed`` /
``incompatible`` / ``blocked`` with a reason an operator can act on.
"""

from __future__ import annotations

import importlib.metadata as md
import logging
from collections import defaultdict
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from stevedore import NamedExtensionManager

from tbsdk import Exchange, Notifier, Strategy, check_api_version
from tbsdk.exchange import ExchangeCapabilities
from tbsdk.groups import ENTRY_POINT_GROUPS, EXCHANGES, NOTIFIERS, PLUGINS, STRATEGIES
from tbsdk.strategy import StrategyConfig

from .records import PluginRecord, PluginStatus

log = logging.getLogger(__name__)

HOST_DISTRIBUTION = "tbhost"
_BASES: dict[str, type] = {STRATEGIES: Strategy, EXCHANGES: Exchange, NOTIFIERS: Notifier}


def _entry_points(groups: Iterable[str]) -> dict[str, list[PluginRecord]]:
    """Every declared entry point of ``groups`` with the distribution that declares it."""
    wanted = set(groups)
    found: dict[str, list[PluginRecord]] = defaultdict(list)
    seen: set[tuple[str, str, str]] = set()
    for dist in md.distributions():
        dist_name = dist.metadata["Name"]
        for ep in dist.entry_points:
            # The same distribution can be visible twice on sys.path; count it once.
            if ep.group in wanted and (ep.group, ep.name, dist_name) not in seen:
                seen.add((ep.group, ep.name, dist_name))
                found[ep.group].append(
                    PluginRecord(ep.name, ep.group, ep.value, dist_name, dist.version)
                )
    return found


def _matches(record: PluginRecord, names: Iterable[str]) -> bool:
    wanted = set(names)
    return bool(wanted & {record.name, record.key, record.distribution or ""})


def _apply_lists(record: PluginRecord, allow: list[str] | None, block: list[str]) -> None:
    if _matches(record, block):
        record.fail(PluginStatus.BLOCKED, "blocked by the plugins_block setting")
    elif (
        allow is not None
        and record.distribution != HOST_DISTRIBUTION
        and not _matches(record, allow)
    ):
        record.fail(PluginStatus.BLOCKED, "not in the plugins_allow setting")


def _mark_clashes(records: list[PluginRecord]) -> None:
    by_name: dict[str, list[PluginRecord]] = defaultdict(list)
    for record in records:
        by_name[record.name].append(record)
    for name, same in by_name.items():
        if len(same) > 1:
            dists = ", ".join(sorted(r.distribution or "?" for r in same))
            # Which one would trade is ambiguous, so none may. Blocking one does not resolve
            # the clash: stevedore loads by name, so it would import the blocked one too.
            for record in same:
                record.fail(
                    PluginStatus.FAILED,
                    f"name {name!r} is declared by several distributions ({dists}); "
                    "uninstall all but one of them",
                )


def _declared_version(group: str, obj: Any) -> Any:
    if group == PLUGINS:
        return getattr(obj, "TB_API_VERSION", None)
    return getattr(obj, "api_version", None)


def _shape_error(group: str, obj: Any) -> str | None:
    """Why a loaded object cannot serve as a component of ``group``, or None."""
    if group == PLUGINS:
        if not isinstance(obj, ModuleType | type) and not hasattr(obj, "__dict__"):
            return (
                "a tbhost.plugins entry point must name a module or object with @hookimpl functions"
            )
        return None
    base = _BASES[group]
    if not (isinstance(obj, type) and issubclass(obj, base)):
        return f"entry point must name a subclass of tbsdk.{base.__name__}, got {obj!r}"
    if abstract := getattr(obj, "__abstractmethods__", None):
        missing = ", ".join(sorted(abstract))
        return f"{obj.__name__} does not implement: {missing}"
    if group == STRATEGIES:
        config = getattr(obj, "config_class", None)
        if not (isinstance(config, type) and issubclass(config, StrategyConfig)):
            return f"{obj.__name__}.config_class must be a subclass of tbsdk.StrategyConfig"
    if group == EXCHANGES and not isinstance(
        getattr(obj, "capabilities", None), ExchangeCapabilities
    ):
        return f"{obj.__name__}.capabilities must be a tbsdk.ExchangeCapabilities"
    return None


def _check_loaded(record: PluginRecord, obj: Any) -> None:
    declared = _declared_version(record.group, obj)
    record.api_version = declared if isinstance(declared, str) else None
    component = f"plugin {record.name!r} ({record.distribution} {record.version})"
    if problem := check_api_version(component, declared):
        status = PluginStatus.FAILED if declared is None else PluginStatus.INCOMPATIBLE
        record.fail(status, problem)
    elif problem := _shape_error(record.group, obj):
        record.fail(PluginStatus.FAILED, problem)
    else:
        record.obj = obj


def _load_group(group: str, records: list[PluginRecord]) -> None:
    pending = {r.name: r for r in records if r.status is PluginStatus.OK}
    if not pending:
        return

    def on_failure(_manager: Any, entry_point: md.EntryPoint, exc: BaseException) -> None:
        record = pending[entry_point.name]
        log.warning("plugin %s failed to load: %s", record.key, exc, exc_info=exc)
        record.fail(PluginStatus.FAILED, f"import failed: {type(exc).__name__}: {exc}")

    manager = NamedExtensionManager(
        group,
        names=list(pending),
        on_load_failure_callback=on_failure,
        on_missing_entrypoints_callback=lambda _names: None,
    )
    for extension in manager:
        record = pending.get(extension.name)
        if record is not None and record.status is PluginStatus.OK:
            _check_loaded(record, extension.plugin)
    for record in pending.values():
        if record.status is PluginStatus.OK and record.obj is None:
            record.fail(PluginStatus.FAILED, "entry point could not be loaded")


def discover(
    allow: list[str] | None = None,
    block: list[str] | None = None,
    groups: Iterable[str] = ENTRY_POINT_GROUPS,
) -> list[PluginRecord]:
    """Load every plugin of ``groups``; return one record per entry point, failures included."""
    everything: list[PluginRecord] = []
    for group, records in _entry_points(groups).items():
        _mark_clashes(records)
        for record in records:
            if record.status is PluginStatus.OK:
                _apply_lists(record, allow, block or [])
        _load_group(group, records)
        everything.extend(records)
    order = {g: i for i, g in enumerate(ENTRY_POINT_GROUPS)}
    everything.sort(key=lambda r: (order.get(r.group, 99), r.name, r.distribution or ""))
    return everything
