"""Alembic driven from code: the shipped migrations, run on a connection the host opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from ._types import ExactDecimal, StrEnumType

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "diff_with_models",
    "downgrade",
    "head_revision",
    "render_item",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An in-memory Alembic config (no alembic.ini) for the migrations in this package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the host ships at least one migration"
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


def diff_with_models(connection: Connection) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""
    from .models import Base

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_item": render_item}
    )
    diffs: list[Any] = compare_metadata(context, Base.metadata)
    return diffs


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write the host's column types into new migrations as plain SQLAlchemy types, so a
    migration never depends on code that may change after it was written."""
    if type_ != "type":
        return False
    if isinstance(obj, ExactDecimal):
        return 'sa.Numeric().with_variant(sa.Text(), "sqlite")'
    if isinstance(obj, StrEnumType):
        return f"sa.String(length={obj.length})"
    return False
