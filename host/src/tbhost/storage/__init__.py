"""SQL storage: models, migrations, the ``Database`` and the repositories the services call.

Repositories are modules of async functions under :mod:`tbhost.storage.repos`, one per
aggregate; each takes an ``AsyncSession`` whose transaction the caller owns.
"""

from __future__ import annotations

from .crypto import CredentialsCipher, generate_key
from .database import Database, DbStatus, normalize_url, open_database
from .errors import (
    AlreadyExists,
    AppendOnlyViolation,
    CredentialsError,
    DatabaseUnavailable,
    DatabaseUrlError,
    DuplicateClientOrderId,
    NotFound,
    SchemaOutdated,
    StorageError,
)

__all__ = [
    "AlreadyExists",
    "AppendOnlyViolation",
    "CredentialsCipher",
    "CredentialsError",
    "Database",
    "DatabaseUnavailable",
    "DatabaseUrlError",
    "DbStatus",
    "DuplicateClientOrderId",
    "NotFound",
    "SchemaOutdated",
    "StorageError",
    "generate_key",
    "normalize_url",
    "open_database",
]
