"""Limits that keep one caller from exhausting the host: request rate per token, and the
number of fields one request may select (depth and aliases use strawberry's own limiters)."""

from __future__ import annotations

import time
from collections.abc import Callable

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

__all__ = ["RateLimiter", "field_count_rule"]


class RateLimiter:
    """A token bucket per key (a hash of the API token): ``per_minute`` requests a minute on
    average, bursts up to ``per_minute``. In memory: one API process, one budget."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> float | None:
        """``None`` if the request may go ahead, else the seconds until one token is back."""
        now = self._clock()
        tokens, then = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > 10_000:
            self._forget_full(now)
        return None

    def _forget_full(self, now: float) -> None:
        # Buckets refilled to capacity carry no information: drop them to bound the memory.
        for key, (tokens, then) in list(self._buckets.items()):
            if tokens + (now - then) * self.rate >= self.capacity:
                del self._buckets[key]


def _count(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: frozenset[str],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            total += 1 + _count(node.selection_set, fragments, visiting)
        elif isinstance(node, InlineFragmentNode):
            total += _count(node.selection_set, fragments, visiting)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            fragment = fragments.get(name)
            # A cycle is reported by graphql-core's own NoFragmentCycles rule.
            if fragment is not None and name not in visiting:
                total += _count(fragment.selection_set, fragments, visiting | {name})
    return total


def field_count_rule(max_fields: int) -> type[ValidationRule]:
    """A validation rule refusing an operation that selects more than ``max_fields`` fields,
    counted with every fragment spread expanded (so a fragment used 100 times counts 100
    times: that is what the server would resolve)."""

    class FieldCountRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                count = _count(definition.selection_set, fragments, frozenset())
                if count > max_fields:
                    name = definition.name.value if definition.name else "anonymous"
                    context.report_error(
                        GraphQLError(
                            f"operation {name!r} selects {count} fields; the limit is "
                            f"{max_fields} (setting api_max_complexity)",
                            definition,
                        )
                    )

    return FieldCountRule
