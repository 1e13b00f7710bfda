"""Sends hypothesis-graphql generated requests of one kind (queries or mutations) to a running
API; run by ``test_fuzz.py`` as a process of its own, so that queries and mutations are
generated in parallel (generation, not the server, is the slow part).

Usage: python fuzz_worker.py KIND BASE_URL TOKEN SCHEMA_FILE EXAMPLES
Prints one JSON line: {"sent": n} or {"sent": n, "failure": "..."}.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import graphql
import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

SCALARS = {
    "Long": st.one_of(
        st.integers(min_value=-(2**63), max_value=2**63 - 1), st.integers(-5, 2_000)
    ).map(nodes.Int),
    "Decimal": st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=4).map(nodes.String),
        st.sampled_from(["0", "-1", "1e400", "abc", ""]).map(nodes.String),
    ),
    "JSON": st.one_of(
        st.just(nodes.Object([])),
        st.integers(-10, 10).map(nodes.Int),
        st.text(max_size=5).map(nodes.String),
    ),
}


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    text = response.text
    assert "Traceback" not in text, text
    assert 'File "' not in text, text
    for error in response.json().get("errors") or []:
        assert error["extensions"]["code"] != "INTERNAL", error


def run(kind: str, base_url: str, token: str, sdl: str, examples: int) -> int:
    schema = graphql.build_schema(sdl)  # built once: hypothesis-graphql would parse per call
    strategy = (queries if kind == "queries" else mutations)(schema, custom_scalars=SCALARS)
    sent = 0
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,  # the same requests on every run: CI stays stable
            database=None,
            # Generation only: a failure is reported as generated, unshrunk; a passing run
            # takes half the time.
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(query=strategy)
        def fuzz(query: str) -> None:
            nonlocal sent
            response = client.post("/graphql", json={"query": query})
            sent += 1
            check(response)

        fuzz()
    return sent


def main() -> None:
    kind, base_url, token, schema_file, examples = sys.argv[1:6]
    sent = 0
    try:
        sent = run(kind, base_url, token, Path(schema_file).read_text(), int(examples))
    except BaseException:  # noqa: BLE001 - reported to the test, which fails with it
        print(json.dumps({"sent": sent, "failure": traceback.format_exc()}))
        return
    print(json.dumps({"sent": sent}))


if __name__ == "__main__":
    main()
