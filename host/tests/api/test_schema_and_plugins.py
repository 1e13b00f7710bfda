"""The exported schema matches the code; plugins extend the schema through the registrar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import strawberry

from tbhost.api import build_schema, schema_sdl
from tbhost.api.registrar import SchemaRegistrar
from tbhost.api.schema import ApiSchema
from tbhost.plugins import PluginHost
from tbhost.settings import Settings
from tbsdk import hookimpl

from .conftest import api_settings, start_api

SCHEMA_FILE = Path(__file__).parents[3] / "docs" / "api" / "schema.graphql"


def test_the_exported_schema_has_not_drifted(schema: ApiSchema) -> None:
    assert SCHEMA_FILE.read_text() == schema_sdl(schema), (
        f"{SCHEMA_FILE} is out of date; regenerate it with: "
        "uv run tbhost api schema --write docs/api/schema.graphql"
    )


def _registrar() -> SchemaRegistrar:
    return SchemaRegistrar(
        {"query": {"me", "bots"}, "mutation": {"startBot"}}, lambda n: n == "Bot"
    )


def _info() -> str:
    return "x"


def test_the_registrar_refuses_clashes_and_bad_names() -> None:
    registrar = _registrar()
    registrar.current_plugin = "one"
    registrar.add_query("oneInfo", _info, "about one")
    with pytest.raises(ValueError, match="query 'bots' already exists in the core schema"):
        registrar.add_query("bots", _info)
    with pytest.raises(ValueError, match="mutation 'startBot' already exists in the core"):
        registrar.add_mutation("startBot", _info)
    registrar.current_plugin = "two"
    with pytest.raises(ValueError, match=r"query 'oneInfo' already exists \(added by one\)"):
        registrar.add_query("oneInfo", _info)
    with pytest.raises(ValueError, match="not a valid GraphQL name"):
        registrar.add_query("has space", _info)
    with pytest.raises(TypeError, match="must be callable"):
        registrar.add_query("notCallable", "text")  # type: ignore[arg-type]

    @strawberry.type(name="Bot")
    class Clash:
        x: int

    with pytest.raises(ValueError, match="type 'Bot' already exists in the core schema"):
        registrar.add_type(Clash)
    with pytest.raises(TypeError, match=r"strawberry\.type"):
        registrar.add_type(int)
    registrar.discard("one")
    assert registrar.additions == []


@strawberry.type
class Weather:
    sunny: bool


def _weather() -> Weather:
    return Weather(sunny=True)


def _ping() -> str:
    return "pong"


class GoodPlugin:
    TB_API_VERSION = "1.0"

    @hookimpl
    def tb_register_graphql(self, registrar: Any) -> None:
        registrar.add_type(Weather)
        registrar.add_query("weather", _weather, "Today's weather.")
        registrar.add_mutation("ping", _ping, "Answers pong.")


class ClashingPlugin:
    TB_API_VERSION = "1.0"

    @hookimpl
    def tb_register_graphql(self, registrar: Any) -> None:
        registrar.add_query("later", _info)
        registrar.add_query("bots", _info)  # refused: the plugin's "later" goes too


class BrokenPlugin:
    TB_API_VERSION = "1.0"

    def _bad(self) -> NoSuchType:  # type: ignore[name-defined]  # noqa: F821
        raise AssertionError

    @hookimpl
    def tb_register_graphql(self, registrar: Any) -> None:
        registrar.add_query("broken", self._bad)  # fails when the schema is built


def test_failing_plugins_are_left_out_and_recorded(tmp_path: Path) -> None:
    host = PluginHost()
    good = host.register(GoodPlugin(), "good")
    clashing = host.register(ClashingPlugin(), "clashing")
    broken = host.register(BrokenPlugin(), "broken")
    sdl = schema_sdl(build_schema(Settings(data_dir=tmp_path), host))
    assert "weather: Weather!" in sdl
    assert "ping: String!" in sdl
    assert "later" not in sdl
    assert "broken" not in sdl
    assert good.reason is None
    assert "query 'bots' already exists" in str(clashing.reason)
    assert str(broken.reason).startswith("tb_register_graphql:")


async def test_plugin_fields_are_served_and_viewers_may_not_call_plugin_mutations(
    tmp_path: Path, migrated_template: Path
) -> None:
    host = PluginHost()
    host.register(GoodPlugin(), "good")
    schema = build_schema(api_settings(tmp_path), host)
    api = await start_api(tmp_path, migrated_template, host, schema)
    try:
        assert await api.data("{ weather { sunny } }", role="viewer") == {
            "weather": {"sunny": True}
        }
        assert await api.data("mutation { ping }", role="trader") == {"ping": "pong"}
        refused = await api.error("mutation { ping }", role="viewer")
        assert refused["extensions"]["code"] == "FORBIDDEN"
        assert "needs role trader or admin" in refused["message"]
    finally:
        await api.close()
