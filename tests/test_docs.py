"""The docs are held to the code: every hook and group documented, every sample a real file."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from tbsdk import hookspecs
from tbsdk.groups import ENTRY_POINT_GROUPS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
HOOKS_DOC = (DOCS / "plugins" / "hooks.md").read_text()
SAMPLE = re.compile(r"<!-- sample: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)\n```", re.DOTALL)

SPECS = {
    name: fn
    for name, fn in vars(hookspecs).items()
    if name.startswith("tb_") and inspect.isfunction(fn)
}


def test_the_spec_module_has_hooks() -> None:
    assert {"tb_check_order", "tb_register_cli", "tb_startup", "tb_fill"} <= set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_hook_is_documented_with_its_parameters_and_version(name: str) -> None:
    section = re.search(rf"### `{name}`\n(?P<text>.*?)(?=\n##|\Z)", HOOKS_DOC, re.DOTALL)
    assert section, f"docs/plugins/hooks.md has no '### `{name}`' section"
    text = " ".join(section["text"].split())
    params = list(inspect.signature(SPECS[name]).parameters)
    documented = re.search(r"Parameters: (?P<p>.*?)\.", text)
    assert documented, f"{name}: no 'Parameters:' line"
    assert re.findall(r"`(\w+)`", documented["p"]) == params
    version = re.search(r"versionadded:: (\S+)", SPECS[name].__doc__ or "")
    assert version, f"{name} spec lacks a versionadded note"
    assert f"Since {version[1]}." in text


@pytest.mark.parametrize("group", ENTRY_POINT_GROUPS)
def test_every_entry_point_group_is_documented(group: str) -> None:
    assert f"`{group}`" in (DOCS / "architecture.md").read_text()
    guides = "".join(p.read_text() for p in (DOCS / "plugins").glob("*.md"))
    assert group in guides, f"no plugin guide mentions {group}"


def _samples() -> list[tuple[str, str, str]]:
    found = []
    for doc in sorted(DOCS.rglob("*.md")):
        for match in SAMPLE.finditer(doc.read_text()):
            found.append((doc.relative_to(ROOT).as_posix(), match["path"], match["body"]))
    return found


def test_docs_have_samples() -> None:
    docs_with_samples = {doc for doc, _, _ in _samples()}
    assert {"docs/plugins/writing-a-strategy.md", "docs/plugins/writing-an-exchange.md"} <= (
        docs_with_samples
    )


@pytest.mark.parametrize(("doc", "path", "body"), _samples(), ids=lambda v: str(v)[:60])
def test_samples_are_the_files_the_tests_run(doc: str, path: str, body: str) -> None:
    file = ROOT / path
    assert file.is_file(), f"{doc} shows {path}, which does not exist"
    assert body.strip() == file.read_text().strip(), f"{doc}: sample differs from {path}"
    # Samples live where the test suite exercises them: an installed example or a test module.
    assert path.startswith("examples/") or "/tests/" in path or path.startswith("tests/")
