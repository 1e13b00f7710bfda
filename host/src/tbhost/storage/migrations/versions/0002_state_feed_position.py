"""Strategy state snapshots record where the bot's market-data feed stood.

``strategy_states.feed_ts`` is the open time of the first candle the strategy had not yet
handled when the snapshot was taken: a restarted bot delivers candles from there on. Older
snapshots have none (NULL) and resume at the venue's clock.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("strategy_states") as batch:
        batch.add_column(sa.Column("feed_ts", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("strategy_states") as batch:
        batch.drop_column("feed_ts")
