"""No response ever holds an API secret, a credential, a token hash or the secrets key; a new
token's secret appears once, in the answer of the mutation that issued it."""

from __future__ import annotations

from sqlalchemy import select

from tbhost.storage.models import ApiTokenRow

from .conftest import SECRETS_KEY
from .kit import Api
from .test_bots_and_trading import create_bot
from .test_subscriptions import events, subscribed

API_KEY = "AKIA-scan-me-1234567890"
SECRET = "sk-scan-me-abcdefghijklmnop"
PASSPHRASE = "pp-scan-me-0987"


async def test_no_response_leaks_a_secret(api: Api) -> None:
    account = await api.data(
        "mutation($i: AddAccountInput!) { addAccount(input: $i) { id } }",
        {
            "i": {
                "exchange": "paper",
                "label": "with-keys",
                "credentials": {"apiKey": API_KEY, "secret": SECRET, "passphrase": PASSPHRASE},
            }
        },
    )
    issued = await api.post(
        'mutation($u: String!) { issueToken(userId: $u, name: "scan") { secret token { id } } }',
        {"u": api.user_ids["viewer"]},
    )
    new_secret = issued.json()["data"]["issueToken"]["secret"]
    await create_bot(api)
    async with subscribed(
        api, 'subscription { botStateChanges(after: "0") { action actor } }'
    ) as ws:
        await events(ws, 1, api)
    everything = """query($a: String!, $u: String!) {
      me { id username role }
      accounts { id exchange label options hasCredentials createdBy }
      account(id: $a) { id options }
      users { id username role }
      tokens(userId: $u) { id name prefix createdAt lastUsedAt }
      auditLog(limit: 500) { items { action details targetId } }
      bots { id config }
      plugins { name reason }
      strategies { name jsonSchema }
    }"""
    ids = {"a": account["addAccount"]["id"], "u": api.user_ids["viewer"]}
    for role in ("admin", "viewer"):
        await api.post(everything, ids, role=role)
    for path in ("/healthz", "/readyz", "/metrics"):
        api.bodies.append((await api.client.get(api.url + path)).text)
    error = await api.post(
        "mutation($i: AddAccountInput!) { addAccount(input: $i) { id } }",
        {
            "i": {
                "exchange": "paper",
                "label": "with-keys",
                "credentials": {"apiKey": API_KEY, "secret": SECRET},
            }
        },
    )  # a duplicate label: the error must not echo the input
    assert error.json()["errors"][0]["extensions"]["code"] == "CONFLICT"

    async with api.db.transaction() as s:
        hashes = list(await s.scalars(select(ApiTokenRow.token_hash)))
    assert len(hashes) == 4
    never = [API_KEY, SECRET, PASSPHRASE, SECRETS_KEY, *hashes, *api.tokens.values()]
    assert len(api.bodies) >= 10
    for body in api.bodies:
        for secret in never:
            assert secret not in body, f"a response holds a secret: {body[:200]}"
    assert sum(new_secret in body for body in api.bodies) == 1
    assert new_secret in issued.text
