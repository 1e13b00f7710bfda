"""Exchange credentials: resolved at run time from a reference, never logged or serialised."""

from __future__ import annotations

from pydantic import SecretStr

from .model._base import FrozenModel

__all__ = ["Credentials"]


class Credentials(FrozenModel):
    """API key material. ``SecretStr`` keeps the values out of ``repr``, logs and JSON."""

    api_key: SecretStr
    secret: SecretStr
    passphrase: SecretStr | None = None
