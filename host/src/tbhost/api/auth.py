"""Who a bearer token stands for, with a short memory.

Checking a token is a database transaction (it also records the time of use); a client that
polls would pay it on every request. A token found valid is trusted for ``ttl_s`` seconds
(setting ``api_token_cache_s``); revoking a token, disabling a user or changing a role through
this API forgets every remembered token at once, so only changes made elsewhere (the CLI,
another host) wait out the ``ttl_s``. Unknown or refused tokens are never remembered: a new
token works at once, and a wrong one is checked every time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from ..services import Actor, UserService

__all__ = ["TokenCache"]

_MAX_ENTRIES = 10_000


class TokenCache:
    def __init__(
        self, users: UserService, ttl_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.users = users
        self.ttl_s = ttl_s
        self._clock = clock
        # Keyed by the token's SHA-256: the secrets themselves are not kept.
        self._entries: dict[str, tuple[Actor, float]] = {}

    async def actor(self, token: str) -> Actor | None:
        if self.ttl_s <= 0:
            return await self.users.actor_for_token(token)
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        actor = await self.users.actor_for_token(token)
        if actor is None:
            self._entries.pop(key, None)
            return None
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (actor, now + self.ttl_s)
        return actor

    def forget_all(self) -> None:
        """After a revocation, a disabled user or a role change: check every token again."""
        self._entries.clear()
