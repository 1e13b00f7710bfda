"""Refresh every ``<!-- sample: PATH -->`` code block in docs/ from the file it names.

    uv run python scripts/sync_doc_samples.py

tests/test_docs.py fails when a sample and its file differ; this brings them back in line.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = re.compile(r"(<!-- sample: (?P<path>\S+) -->\n```\w*\n)(?P<body>.*?)(\n```)", re.DOTALL)


def main() -> None:
    for doc in sorted((ROOT / "docs").rglob("*.md")):
        text = doc.read_text()
        new = SAMPLE.sub(lambda m: m[1] + (ROOT / m["path"]).read_text().rstrip() + m[4], text)
        if new != text:
            doc.write_text(new)
            print(f"updated {doc.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
