"""Errors of the SQL storage. Each message says what went wrong and what to do about it."""

from __future__ import annotations

from tbsdk.errors import TbError

__all__ = [
    "AlreadyExists",
    "AppendOnlyViolation",
    "CredentialsError",
    "DatabaseUnavailable",
    "DatabaseUrlError",
    "DuplicateClientOrderId",
    "NotFound",
    "SchemaOutdated",
    "StorageError",
]


class StorageError(TbError):
    """Base of every storage error."""


class DatabaseUrlError(StorageError):
    """The database URL cannot be used: malformed, or a driver the host does not support."""


class DatabaseUnavailable(StorageError):
    """The database server cannot be reached or refused the connection."""

    retryable = True


class SchemaOutdated(StorageError):
    """The database is not at the migration head this host needs."""


class AlreadyExists(StorageError):
    """A row with the same unique key is already stored."""


class DuplicateClientOrderId(AlreadyExists):
    """An order with this client order id is already stored for the account.

    This is what makes a re-submission idempotent: the second attempt to store the same intent
    is refused, and the caller continues with the order that is already there.
    """


class NotFound(StorageError):
    """The row asked for does not exist."""


class AppendOnlyViolation(StorageError):
    """An attempt to change or remove a row of an append-only table (the audit log)."""


class CredentialsError(StorageError):
    """Exchange credentials cannot be encrypted or decrypted (no key, wrong key, damaged)."""
