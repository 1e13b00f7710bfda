"""runBacktest: a job id at once, progress by query and subscription, the summary at the end."""

from __future__ import annotations

import asyncio

from .kit import Api
from .test_subscriptions import subscribed

RUN = (
    """mutation($i: BacktestInput!) { runBacktest(input: $i) { id status params { strategy } } }"""
)
JAN_2023 = {"start": 1_672_531_200_000, "end": 1_675_209_600_000}  # [2023-01-01, 2023-02-01)


async def test_a_backtest_job_reports_progress_and_its_summary(api: Api) -> None:
    started = await api.data(
        RUN,
        {
            "i": {
                "strategy": "rsi_reversal",
                "symbol": "BTC/USDT",
                "timeframe": "1h",
                **JAN_2023,
                "settings": {"qty": "0.01"},
                "fee": "0.0005",
            }
        },
        role="trader",
    )
    job = started["runBacktest"]
    assert job["status"] in ("QUEUED", "RUNNING")
    assert job["params"] == {"strategy": "rsi_reversal"}
    query = """subscription($j: String!) { backtestProgress(jobId: $j) {
        status progress candlesDone candlesTotal summary { candles trades netPnl } } }"""
    async with subscribed(api, query, {"j": job["id"]}) as ws:
        frames = []
        while True:
            message = await ws.receive_json(timeout=60)
            if message["type"] == "complete":
                break
            assert message["type"] == "next", message
            frames.append(message["payload"]["data"]["backtestProgress"])
    last = frames[-1]
    assert last["status"] == "SUCCEEDED"
    assert last["progress"] == 1.0
    assert last["candlesTotal"] == 744  # 31 days of hourly candles
    assert last["summary"]["candles"] == 744
    progress = [f["progress"] for f in frames]
    assert progress == sorted(progress)
    done = await api.data(
        "query($j: String!) { backtestJob(id: $j) { status summary { netPnl trades metrics } } }",
        {"j": job["id"]},
        role="viewer",
    )
    summary = done["backtestJob"]["summary"]
    assert summary["netPnl"] == summary["metrics"]["net_pnl"]  # exact Decimal text
    assert summary["trades"] == summary["metrics"]["trades"] == last["summary"]["trades"]
    listed = await api.data("{ backtestJobs { id status } }", role="viewer")
    assert listed["backtestJobs"] == [{"id": job["id"], "status": "SUCCEEDED"}]


async def test_a_bad_backtest_is_refused_at_once_or_fails_its_job(api: Api) -> None:
    base = {"strategy": "rsi_reversal", "symbol": "BTC/USDT", "timeframe": "1h"}
    for change, field in (
        ({"strategy": "nope"}, "strategy"),
        ({"timeframe": "9h"}, "timeframe"),
        ({"symbol": "BTCUSDT"}, "symbol"),
        ({"settings": {"rsi_length": 0}}, "rsi_length"),
        ({"balance": "0"}, "balance"),
    ):
        error = await api.error(RUN, {"i": {**base, **change}}, role="trader")
        assert error["extensions"]["code"] == "INVALID_CONFIG", (change, error)
        assert error["extensions"]["fields"] == [field]
    viewer = await api.error(RUN, {"i": base}, role="viewer")
    assert viewer["extensions"]["code"] == "FORBIDDEN"
    assert (viewer["extensions"]["action"], viewer["extensions"]["role"]) == (
        "backtest.run",
        "viewer",
    )

    no_candles = await api.data(RUN, {"i": {**base, "dataExchange": "kraken"}}, role="trader")
    job_id = no_candles["runBacktest"]["id"]
    for _ in range(100):
        got = await api.data(
            "query($j: String!) { backtestJob(id: $j) { status error } }", {"j": job_id}
        )
        if got["backtestJob"]["status"] == "FAILED":
            break
        await asyncio.sleep(0.05)
    assert got["backtestJob"]["status"] == "FAILED"
    assert "kraken" in got["backtestJob"]["error"]
    missing = await api.error('{ backtestJob(id: "nope") { id } }')
    assert missing["extensions"]["code"] == "NOT_FOUND"
