"""Write real (uncompressed) installed distributions into a folder for discovery tests.

A ``*.dist-info`` folder with ``METADATA`` and ``entry_points.txt`` is exactly what pip leaves
behind, so ``importlib.metadata`` and stevedore discover these like any installed plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def write_distribution(
    site: Path,
    name: str,
    entry_points: dict[str, dict[str, str]],
    modules: dict[str, str],
    version: str = "1.0.0",
) -> None:
    site.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, eps in entry_points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{ep} = {target}" for ep, target in eps.items())
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


def run_tbhost(
    *args: str, site: Path | None = None, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tbhost ARGS`` in a fresh process that also sees ``site``."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("TBHOST_CONFIG", None)
    if site is not None:
        full_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(site), full_env.get("PYTHONPATH", "")) if p
        )
    return subprocess.run(
        [sys.executable, "-m", "tbhost", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
        check=False,
    )
