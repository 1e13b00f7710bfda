"""A third-party plugin needs nothing but ``pip install``: no host change, no registration step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "TBHOST_"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_pip_installed_plugin_is_found_by_the_host(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    created = _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    bin_dir = venv / "bin"

    host = _run(bin_dir / "pip", "install", "--quiet", ROOT / "sdk", ROOT / "host", cwd=tmp_path)
    assert host.returncode == 0, host.stderr
    before = _run(bin_dir / "tbhost", "plugins", "--json", cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert "sma_cross" not in before.stdout

    example = ROOT / "examples" / "tb-strategy-example"
    plugin = _run(bin_dir / "pip", "install", "--quiet", example, cwd=tmp_path)
    assert plugin.returncode == 0, plugin.stderr

    listed = _run(bin_dir / "tbhost", "plugins", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    found = {(r["group"], r["name"]): r for r in json.loads(listed.stdout)}
    strategy = found[("tbhost.strategies", "sma_cross")]
    assert strategy["status"] == "ok", strategy
    assert (strategy["distribution"], strategy["version"]) == ("tb-strategy-example", "0.1.0")
    assert found[("tbhost.plugins", "example_hooks")]["status"] == "ok"

    # The hook module's tb_register_cli contribution is a real command of the installed host.
    info = _run(bin_dir / "tbhost", "sma-cross-info", cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert "sma_cross: long above the slow SMA" in info.stdout
