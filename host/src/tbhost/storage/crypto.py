"""Exchange credentials encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The key comes from the ``secrets_key`` setting (``TBHOST_SECRETS_KEY``): one Fernet key, or
several separated by commas to rotate keys (the first encrypts, every one decrypts). The
plaintext names the account it belongs to, so an encrypted blob copied onto another account's
row does not decrypt there.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from tbsdk.credentials import Credentials

from .errors import CredentialsError

__all__ = ["CredentialsCipher", "generate_key"]

_GENERATE = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


def generate_key() -> str:
    """A new random key for ``TBHOST_SECRETS_KEY``."""
    return Fernet.generate_key().decode()


class CredentialsCipher:
    """Encrypts :class:`~tbsdk.credentials.Credentials` for one account row and back."""

    def __init__(self, key: SecretStr | None) -> None:
        if key is None or not key.get_secret_value().strip():
            raise CredentialsError(
                "no secrets key: exchange credentials are stored encrypted, so set "
                "TBHOST_SECRETS_KEY (or secrets_key in tbhost.toml) to a key made with: "
                f"{_GENERATE}"
            )
        keys = [part.strip() for part in key.get_secret_value().split(",") if part.strip()]
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except ValueError:
            # Never echo the key, not even a wrong one.
            raise CredentialsError(
                f"the secrets key is not a Fernet key (32 url-safe base64-encoded bytes); "
                f"make one with: {_GENERATE}"
            ) from None

    def __repr__(self) -> str:
        return "CredentialsCipher(<key hidden>)"

    def encrypt(self, account_id: str, credentials: Credentials) -> bytes:
        passphrase = credentials.passphrase
        plain = {
            "account_id": account_id,
            "api_key": credentials.api_key.get_secret_value(),
            "secret": credentials.secret.get_secret_value(),
            "passphrase": None if passphrase is None else passphrase.get_secret_value(),
        }
        return self._fernet.encrypt(json.dumps(plain).encode())

    def decrypt(self, account_id: str, blob: bytes) -> Credentials:
        try:
            plain = json.loads(self._fernet.decrypt(blob))
        except InvalidToken:
            raise CredentialsError(
                f"cannot decrypt the credentials of account {account_id}: the secrets key is "
                "not the one they were encrypted with (or the stored value is damaged); set "
                "TBHOST_SECRETS_KEY to that key, or add it after a comma while rotating keys"
            ) from None
        if plain.get("account_id") != account_id:
            raise CredentialsError(
                f"the stored credentials of account {account_id} belong to another account; "
                "store them again for this account"
            )
        return Credentials(
            api_key=plain["api_key"], secret=plain["secret"], passphrase=plain["passphrase"]
        )
