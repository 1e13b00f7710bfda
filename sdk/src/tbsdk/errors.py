"""The one error hierarchy of TradingBoost.

Every error raised on purpose by the SDK, the host or a plugin derives from :class:`TbError`.
Each carries a message written for the person who has to act on it, and a ``retryable`` flag that
tells the caller whether the same call may succeed if simply tried again later.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "ExchangeError",
    "ExchangeUnavailable",
    "IllegalTransition",
    "IncompatiblePlugin",
    "InsufficientFunds",
    "InvalidOrder",
    "OrderNotFound",
    "OrderVetoed",
    "RateLimited",
    "TbError",
]


class TbError(Exception):
    """Root of every deliberate TradingBoost error.

    ``message`` says what was wrong and how to fix it; ``retryable`` says whether repeating the
    same call later may succeed (a timeout is retryable, a malformed order is not).
    """

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        return self.message


class ConfigError(TbError):
    """A configuration value is invalid; the message names the field and the accepted values."""


class IllegalTransition(TbError):
    """An order was asked to move to a status its state machine does not allow."""


class IncompatiblePlugin(TbError):
    """A plugin targets an SDK API version this SDK cannot serve."""


class OrderVetoed(TbError):
    """A pre-trade check refused an order intent; the message names the check and its reason."""


class ExchangeError(TbError):
    """Base of every error an exchange adapter raises; adapters map venue errors onto subclasses."""


class AuthenticationError(ExchangeError):
    """The venue refused the credentials (wrong key, expired key, missing permission)."""


class InsufficientFunds(ExchangeError):
    """Not enough balance or margin for the order."""


class InvalidOrder(ExchangeError):
    """The venue (or the adapter, before sending) refused the order as malformed.

    Examples: size below the minimum, price off the tick grid, reduce-only with no position.
    """


class OrderNotFound(ExchangeError):
    """No order with the given id exists on the venue."""


class RateLimited(ExchangeError):
    """The venue asked us to slow down; retry after ``retry_after`` seconds when given."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ExchangeUnavailable(ExchangeError):
    """The venue could not be reached or answered with a server error; retry later."""

    retryable = True
