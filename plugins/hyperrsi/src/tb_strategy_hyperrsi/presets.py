"""Built-in presets: named, versioned partial settings (hyperrsi spec §18).

Effective settings = defaults ⊕ preset ⊕ instance overrides. ``preset_id`` is ``name`` (the
latest version) or ``name@version``; :func:`apply_preset` runs before validation, so a preset
value is validated exactly like a value typed by the operator, and an explicit setting always
wins over the preset's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["PRESETS", "Preset", "apply_preset", "find_preset"]


@dataclass(frozen=True, slots=True)
class Preset:
    """A named, versioned partial settings map."""

    name: str
    version: int
    description: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def preset_id(self) -> str:
        return f"{self.name}@{self.version}"


def _preset(name: str, version: int, description: str, **settings: Any) -> Preset:
    return Preset(name, version, description, MappingProxyType(settings))


PRESETS: tuple[Preset, ...] = (
    _preset("default", 1, "The spec defaults, unchanged."),
    _preset(
        "protected",
        1,
        "Defaults with a 5 % stop-loss anchored beyond the last DCA level and trailing from TP2.",
        use_sl=True,
        sl_value="5",
        use_sl_on_last=True,
        trailing_start_point="tp2",
    ),
    _preset(
        "swing_1h",
        1,
        "Hourly chart, wider DCA and take-profit distances, three entries at most.",
        timeframe="1h",
        pyramiding_limit=3,
        pyramiding_value="5",
        tp1_value="3",
        tp2_value="5",
        tp3_value="8",
        cooldown_time=3000,
    ),
    _preset(
        "no_trend",
        1,
        "RSI signals only: no trend veto and no trend exit.",
        use_trend_logic=False,
        use_trend_close=False,
    ),
)
"""Every built-in preset, all versions."""


def find_preset(preset_id: str) -> Preset:
    """The preset named by ``name`` (latest version) or ``name@version``; ``KeyError`` names the
    known ids when there is none."""
    name, _, version = preset_id.partition("@")
    matches = [p for p in PRESETS if p.name == name and (not version or str(p.version) == version)]
    if not matches:
        known = ", ".join(p.preset_id for p in PRESETS)
        raise KeyError(f"preset_id {preset_id!r} is not a built-in preset (known: {known})")
    return max(matches, key=lambda p: p.version)


def apply_preset(data: Any) -> Any:
    """Raw settings with the preset's values filled in under the explicit ones."""
    if not isinstance(data, Mapping):
        return data
    preset_id = data.get("preset_id")
    if not preset_id:
        return data
    try:
        preset = find_preset(str(preset_id))
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    # The resolved id is stored so the snapshot says which version was applied.
    return {**preset.settings, **data, "preset_id": preset.preset_id}
