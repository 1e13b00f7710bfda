"""Cold start of ``tbhost --help``: a new interpreter per run, median of N runs.

uv run python bench/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    exe = shutil.which("tbhost") or sys.exit("tbhost is not on PATH; run through `uv run`")
    baseline = [sys.executable, "-c", "pass"]
    for label, cmd in (("python -c pass", baseline), ("tbhost --help", [exe, "--help"])):
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"{label:16s} median {statistics.median(times):6.1f} ms  "
            f"min {min(times):6.1f} ms  max {max(times):6.1f} ms  ({args.runs} runs)"
        )


if __name__ == "__main__":
    main()
