"""Alembic environment of the host's storage.

The host runs migrations on a connection it opened (``Database.upgrade``); the connection is
handed over in ``config.attributes["connection"]``. Run through the ``alembic`` command line,
``sqlalchemy.url`` of the config is used instead.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tbhost.storage._migrate import render_item
from tbhost.storage.models import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        render_item=render_item,
        # SQLite cannot ALTER most things: Alembic rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("tbhost migrations run online only: use `tbhost db upgrade`")
given = config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    asyncio.run(_run_from_url(config.get_main_option("sqlalchemy.url") or ""))
