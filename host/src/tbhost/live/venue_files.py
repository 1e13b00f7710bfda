"""The durable side of a paper venue: ``data_dir/paper/<bot_id>.json``, one file per bot.

A real venue keeps its orders, positions and balances whatever happens to the host; the paper
venue of a bot does the same through this file. It holds the venue's saved state, where the
replay feed stands (the open time of the next candle, so a changed replay window still resumes
at the right candle) and, beside them, the strategy state of the same instant. The three are
written together, atomically (temporary file, fsync, rename), after every candle that changed
anything and before the next is processed, so a host killed at any instant resumes from one
consistent point: a candle's events are neither lost nor repeated.

The strategy state is also saved to the database (``strategy_states``) for the rest of the
host to read; the copy in this file is the one that goes with the venue state, and the one a
resumed bot loads.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tbsdk.errors import ConfigError

__all__ = ["VENUE_FILE_VERSION", "VenueFile", "venue_path", "write_atomic"]

VENUE_FILE_VERSION = 1


def venue_path(data_dir: Path, bot_id: str) -> Path:
    return data_dir / "paper" / f"{bot_id}.json"


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` so that a crash leaves either the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class VenueFile:
    """What one bot's paper venue file holds."""

    bot_id: str
    next_ts: int
    """Open time of the next candle to process (the close of the last one processed)."""
    venue_state: dict[str, Any]
    strategy_state: dict[str, Any]

    def write(self, path: Path) -> None:
        write_atomic(
            path,
            json.dumps(
                {
                    "version": VENUE_FILE_VERSION,
                    "bot_id": self.bot_id,
                    "next_ts": self.next_ts,
                    "venue_state": self.venue_state,
                    "strategy_state": self.strategy_state,
                }
            ),
        )

    @classmethod
    def read(cls, path: Path, bot_id: str) -> VenueFile | None:
        """The file of ``bot_id``, or None if there is none yet; a ConfigError says why an
        existing file cannot be used."""
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read the paper venue file {path}: {exc}") from None
        if data.get("version") != VENUE_FILE_VERSION:
            raise ConfigError(
                f"paper venue file {path} has version {data.get('version')!r}, not "
                f"{VENUE_FILE_VERSION}; move it away to start the bot's venue afresh"
            )
        if data.get("bot_id") != bot_id:
            raise ConfigError(f"paper venue file {path} belongs to bot {data.get('bot_id')!r}")
        return cls(bot_id, int(data["next_ts"]), data["venue_state"], data["strategy_state"])
