"""``tbhost --help`` must stay instant: it may import click and nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "pydantic",
    "pydantic_settings",
    "stevedore",
    "pluggy",
    "numpy",
    "tbsdk",
    "ccxt",
    "sqlalchemy",
    "fastapi",
    "strawberry",
    "telegram",
    "pandas",
    "pyarrow",
    "rich",
]

PROBE = """
import json, sys
from click.testing import CliRunner
from tbhost.cli.main import cli
result = CliRunner().invoke(cli, ["--help"])
assert result.exit_code == 0, result.output
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy})))
"""


def test_help_imports_nothing_heavy() -> None:
    code = PROBE.format(heavy=set(HEAVY))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
