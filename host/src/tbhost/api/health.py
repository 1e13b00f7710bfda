"""``/healthz`` (the process answers), ``/readyz`` (storage, plugins and exchanges, each with
status and latency) and ``/metrics`` (Prometheus). None of them needs a token, so none of them
says anything a stranger may not know: counts, statuses and latencies only.

Readiness: the API is ready when storage answers and at least one plugin of each required
group (strategies, exchanges) loaded; a failed plugin alone does not make it unready (its
reason is listed by the ``plugins`` query). Exchanges are reported but do not decide
readiness: one venue being down must not take the API, which is how bots get stopped, away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from tbsdk.groups import EXCHANGES, STRATEGIES

from ..plugins.records import PluginStatus
from ..services import SYSTEM
from .metrics import CONTENT_TYPE
from .state import ApiServices

__all__ = ["REQUIRED_GROUPS", "health_router", "readiness"]

log = logging.getLogger(__name__)

REQUIRED_GROUPS = (STRATEGIES, EXCHANGES)
EXCHANGE_CHECK_TIMEOUT_S = 5.0


def _ms(begun: float) -> float:
    return round((time.perf_counter() - begun) * 1000, 3)


async def _storage(services: ApiServices) -> dict[str, Any]:
    begun = time.perf_counter()
    try:
        async with services.db.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; its kind is reported, not its text
        return {"status": "error", "latency_ms": _ms(begun), "error": type(exc).__name__}
    return {"status": "ok", "latency_ms": _ms(begun), "backend": services.db.backend}


def _plugins(services: ApiServices) -> dict[str, Any]:
    begun = time.perf_counter()
    loaded: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for record in services.plugins.records:
        (loaded if record.status is PluginStatus.OK else failed)[record.group] += 1
    missing = [g for g in REQUIRED_GROUPS if loaded[g] == 0]
    return {
        "status": "error" if missing else "ok",
        "latency_ms": _ms(begun),
        "loaded": sum(loaded.values()),
        "failed": sum(failed.values()),
        "groups": {g: {"loaded": loaded[g], "failed": failed[g]} for g in sorted(loaded | failed)},
        **({"missing_groups": missing} if missing else {}),
    }


async def _exchange(services: ApiServices, exchange: str) -> dict[str, Any]:
    begun = time.perf_counter()
    try:
        cls = services.plugins.exchange_class(exchange)
    except Exception:  # noqa: BLE001 - a missing or failed plugin: reported as such
        return {"status": "error", "latency_ms": _ms(begun), "error": "no exchange plugin loaded"}
    if exchange == "paper":
        return {"status": "ok", "latency_ms": _ms(begun)}  # simulated: always reachable
    try:
        venue = cls(cls.config_class.model_validate({}))
        try:
            await asyncio.wait_for(venue.load_markets(), EXCHANGE_CHECK_TIMEOUT_S)
        finally:
            await venue.close()
    except TimeoutError:
        services.metrics.exchange_error(exchange, "timeout")
        return {"status": "error", "latency_ms": _ms(begun), "error": "timeout"}
    except Exception as exc:  # noqa: BLE001 - reachability check: any failure is "not reachable"
        services.metrics.exchange_error(exchange, type(exc).__name__)
        return {"status": "error", "latency_ms": _ms(begun), "error": type(exc).__name__}
    seconds = time.perf_counter() - begun
    services.metrics.exchange_call(exchange, "load_markets", seconds)
    return {"status": "ok", "latency_ms": _ms(begun)}


async def readiness(services: ApiServices) -> tuple[bool, dict[str, Any]]:
    storage = await _storage(services)
    plugins = _plugins(services)
    exchanges: dict[str, Any] = {}
    if storage["status"] == "ok":
        accounts = await services.accounts.list(SYSTEM)
        names = sorted({a.exchange for a in accounts})
        results = await asyncio.gather(*(_exchange(services, n) for n in names))
        exchanges = dict(zip(names, results, strict=True))
    ready = storage["status"] == "ok" and plugins["status"] == "ok"
    return ready, {
        "status": "ready" if ready else "not ready",
        "checks": {"storage": storage, "plugins": plugins, "exchanges": exchanges},
    }


def health_router(services: ApiServices) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        ready, body = await readiness(services)
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics")
    async def metrics() -> Response:
        try:
            await services.metrics.refresh(services.db)
        except Exception as exc:  # noqa: BLE001 - storage down: the request histogram still answers
            log.warning("metrics: cannot read the trading gauges: %s", type(exc).__name__)
        return Response(services.metrics.render(), media_type=CONTENT_TYPE)

    return router
