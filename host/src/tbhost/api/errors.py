"""Typed GraphQL errors: every error carries ``extensions.code`` and the request id.

Service errors keep their message (it names the field or object and says why); anything
unexpected becomes ``INTERNAL`` with only the request id, so no traceback, exception text or
secret ever reaches a client. The full exception is logged server-side with the same id.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from graphql import GraphQLError

from ..services import Conflict, Forbidden, InvalidConfig, NotFound, ServiceError

__all__ = ["ApiError", "Code", "error_body", "type_errors"]

log = logging.getLogger("tbhost.api")


class Code(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INVALID_CONFIG = "INVALID_CONFIG"
    BAD_REQUEST = "BAD_REQUEST"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"


class ApiError(Exception):
    """An error a resolver raises on purpose, with its code; the message goes to the client."""

    def __init__(self, code: Code, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = extensions


def error_body(code: Code, message: str, request_id: str) -> dict[str, Any]:
    """A GraphQL-shaped body for answers given before any GraphQL runs (401, 429)."""
    return {"errors": [{"message": message, "extensions": {"code": code, "requestId": request_id}}]}


def _classify(error: GraphQLError) -> tuple[Code, str, dict[str, Any]]:
    original = error.original_error
    if isinstance(original, ApiError):
        return original.code, original.message, dict(original.extensions)
    if isinstance(original, ServiceError):
        extra: dict[str, Any] = {}
        if isinstance(original, Forbidden):
            code = Code.FORBIDDEN
            extra = {"action": original.action, "role": original.role}
        elif isinstance(original, InvalidConfig):
            code, extra = Code.INVALID_CONFIG, {"fields": list(original.fields)}
        elif isinstance(original, NotFound):
            code = Code.NOT_FOUND
        elif isinstance(original, Conflict):
            code = Code.CONFLICT
        else:
            code = Code.BAD_REQUEST
        return code, original.message, extra
    if original is None or error.path is None:
        # Syntax, validation and variable-coercion errors: graphql-core's messages name the
        # field or argument and hold no server state.
        return Code.BAD_REQUEST, error.message, {}
    return Code.INTERNAL, "internal error; quote the request id when reporting it", {}


def type_errors(errors: list[GraphQLError], request_id: str) -> None:
    """Give every error its code and the request id, in place (strawberry hands the same
    error objects on to the response), and log the unexpected ones with their traceback.
    Typing an error twice changes nothing."""
    for error in errors:
        if isinstance(error.extensions, dict) and "code" in error.extensions:
            continue
        code, message, extra = _classify(error)
        if code is Code.INTERNAL:
            log.error(
                "request %s: unexpected error in %s",
                request_id,
                ".".join(map(str, error.path or [])) or "operation",
                exc_info=error.original_error,
            )
        error.message = message
        error.extensions = {**extra, "code": code.value, "requestId": request_id}
        _detach(error)


def _detach(error: GraphQLError) -> None:
    """Let go of the exception behind ``error`` and of its traceback: the client is sent only
    the message, locations, path and extensions (an unexpected error's traceback was logged
    already). Kept, the traceback's frames hold the execution context, which holds this error
    in its collected errors: a reference cycle per failed request, holding the whole request,
    that only the cyclic garbage collector could free."""
    error.original_error = None
    error.cause = None
    error.__cause__ = None
    error.__context__ = None
    error.__traceback__ = None
