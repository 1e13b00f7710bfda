"""``AcyclicExecutionContext``: strawberry's graphql-core execution context, minus the reference
cycle every execution made.

graphql-core 3.3 gives each execution context ``async_helpers``, the ``gather`` and ``track``
that resolvers find on ``info``, as methods bound to the context itself: context -> helpers ->
bound method -> context. The cycle held everything of the request: the answer's field plans,
our :class:`~.context.ApiContext`, starlette's ``Request`` and uvicorn's request-response
cycle, ~70 objects a request that only the cyclic garbage collector could free: at 200
requests/s ~1,000 collections in 30 s freed ~380,000 such objects, and what outlived the
young generations reached the oldest, whose full passes (4-40 ms, up to ~120 ms seen) stalled
every request behind them. Without the cycle the same run had 30 collections, none full.

Here the helpers reach the context through a weak reference: while the context executes, its
own frames keep it alive, so the helpers behave exactly as graphql-core's; once the answer is
built, reference counting frees the request's objects at once.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Sequence
from typing import Any

from graphql import Executor, GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["AcyclicExecutionContext"]


class AcyclicExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _weak_helpers(self)

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        """A subscription event's copy: helpers of its own, not the subscription's context's
        (the same work either way: the copy shares ``is_awaitable`` and the set of work
        settled in the background)."""
        executor = super().build_per_event_executor(payload)
        executor.async_helpers = _weak_helpers(executor)
        return executor


def _weak_helpers(context: Executor[Any]) -> GraphQLResolveInfoHelpers:
    ref = weakref.ref(context)

    def alive() -> Executor[Any]:
        found = ref()
        if found is None:
            raise RuntimeError("the GraphQL execution these helpers belong to has ended")
        return found

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        return alive().gather_async_work(values)

    def track(values: Sequence[Any]) -> None:
        alive().track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)
