from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """Base of every domain value: immutable, strict about unknown fields, JSON round-trippable."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)
