"""Discovery through real installed distributions, in a fresh process, as an operator runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .distributions import run_tbhost, write_distribution

GOOD_STRATEGY = """
    from typing import ClassVar
    from tbsdk import Strategy, StrategyConfig

    class GoodConfig(StrategyConfig):
        pass

    class Good(Strategy[GoodConfig]):
        name: ClassVar[str] = "good"
        api_version: ClassVar[str] = "1.0"
        config_class = GoodConfig

        def on_candle(self, ctx, event):
            pass
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    write_distribution(
        site,
        "tb-good",
        {"tbhost.strategies": {"good": "good_plugin:Good"}},
        {"good_plugin": GOOD_STRATEGY},
    )
    write_distribution(
        site,
        "tb-broken",
        {"tbhost.strategies": {"broken": "broken_plugin:Broken"}},
        {"broken_plugin": "raise RuntimeError('database driver missing')\n"},
    )
    write_distribution(
        site,
        "tb-future",
        {"tbhost.strategies": {"future": "future_plugin:Future"}},
        {"future_plugin": GOOD_STRATEGY.replace('"1.0"', '"2.0"').replace("Good", "Future")},
        version="3.1.4",
    )
    write_distribution(
        site,
        "tb-unversioned",
        {"tbhost.plugins": {"unversioned": "unversioned_hooks"}},
        {"unversioned_hooks": "from tbsdk import hookimpl\n"},
    )
    write_distribution(
        site,
        "tb-badsig",
        {"tbhost.plugins": {"badsig": "badsig_hooks"}},
        {
            "badsig_hooks": """
            from tbsdk import hookimpl
            TB_API_VERSION = "1.0"

            @hookimpl
            def tb_bot_started(bot, colour):
                pass
        """
        },
    )
    write_distribution(
        site,
        "tb-unknownhook",
        {"tbhost.plugins": {"unknownhook": "unknown_hooks"}},
        {
            "unknown_hooks": """
            from tbsdk import hookimpl
            TB_API_VERSION = "1.0"

            @hookimpl
            def tb_on_moon(bot):
                pass
        """
        },
    )
    write_distribution(
        site,
        "tb-notastrategy",
        {"tbhost.strategies": {"notastrategy": "nots:Thing"}},
        {"nots": "class Thing:\n    api_version = '1.0'\n"},
    )
    write_distribution(
        site,
        "tb-blockme",
        {"tbhost.strategies": {"blockme": "blockme_plugin:Good"}},
        {"blockme_plugin": "raise SystemExit('a blocked plugin must never be imported')\n"},
    )
    return site


def _plugins(site: Path, **env: str) -> tuple[dict[str, dict[str, Any]], str]:
    result = run_tbhost("plugins", "--json", site=site, env=env)
    assert result.returncode == 0, result.stderr
    return {r["name"]: r for r in json.loads(result.stdout)}, result.stderr


def test_each_failure_is_recorded_and_the_rest_works(site: Path) -> None:
    found, stderr = _plugins(site, TBHOST_PLUGINS_BLOCK='["tb-blockme"]')

    assert found["good"]["status"] == "ok"
    assert found["good"]["distribution"] == "tb-good"
    assert found["good"]["version"] == "1.0.0"
    assert found["good"]["api_version"] == "1.0"
    assert found["log"]["status"] == "ok"  # the built-in notifier goes through the same path

    assert found["broken"]["status"] == "failed"
    assert found["broken"]["reason"] == "import failed: RuntimeError: database driver missing"
    assert "database driver missing" in stderr  # logged with its traceback

    future = found["future"]
    assert future["status"] == "incompatible"
    assert "plugin 'future' (tb-future 3.1.4) targets SDK API 2.0" in future["reason"]
    assert "this host runs SDK API 1.0" in future["reason"]

    assert found["unversioned"]["status"] == "failed"
    assert "does not declare the SDK API version" in found["unversioned"]["reason"]

    assert found["badsig"]["status"] == "failed"
    assert "colour" in found["badsig"]["reason"]
    assert found["unknownhook"]["status"] == "failed"
    assert "unknown hook(s) tb_on_moon" in found["unknownhook"]["reason"]

    assert found["notastrategy"]["status"] == "failed"
    assert "subclass of tbsdk.Strategy" in found["notastrategy"]["reason"]

    assert found["blockme"]["status"] == "blocked"
    assert "plugins_block" in found["blockme"]["reason"]


def test_allow_list_keeps_builtins_and_named_plugins_only(site: Path) -> None:
    found, _ = _plugins(site, TBHOST_PLUGINS_ALLOW='["good"]')
    assert found["good"]["status"] == "ok"
    assert found["log"]["status"] == "ok"
    assert found["broken"]["status"] == "blocked"
    assert found["broken"]["reason"] == "not in the plugins_allow setting"


def test_human_table_lists_reasons_and_exits_zero(site: Path) -> None:
    result = run_tbhost("plugins", site=site, env={"TBHOST_PLUGINS_BLOCK": '["blockme"]'})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "GROUP", "DISTRIBUTION", "VERSION", "API", "STATUS"]
    assert any(line.split()[:2] == ["good", "tbhost.strategies"] for line in lines)
    assert "tbhost.strategies:broken (failed): import failed" in result.stdout
    assert result.stdout.rstrip().endswith("plugins ok.")


def test_name_clash_refuses_both(tmp_path: Path) -> None:
    for dist in ("tb-one", "tb-two"):
        write_distribution(
            tmp_path,
            dist,
            {"tbhost.strategies": {"same": f"{dist.replace('-', '_')}:Good"}},
            {dist.replace("-", "_"): GOOD_STRATEGY},
        )
    found = json.loads(run_tbhost("plugins", "--json", site=tmp_path).stdout)
    same = [r for r in found if r["name"] == "same"]
    assert [r["status"] for r in same] == ["failed", "failed"]
    assert "declared by several distributions (tb-one, tb-two)" in same[0]["reason"]
