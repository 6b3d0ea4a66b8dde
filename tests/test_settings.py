"""crewbench's settings: one object read from the environment, never showing a secret."""

from __future__ import annotations

import logging
from pathlib import Path

from crewbench.definitions.settings import DEFAULT_MODEL, Settings, load_settings
from crewbench.definitions.toolrefs import allowed_tool_modules
from crewbench.definitions.workspace import Workspace


def test_defaults_without_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.workspace_root() == tmp_path.resolve()
    assert settings.db_path() == (tmp_path / "runs.db").resolve()
    assert settings.model == DEFAULT_MODEL == "sim:small"
    assert settings.base_url_value() is None
    assert settings.tool_modules() == frozenset()
    assert settings.remote_allowed is False


def test_each_variable_maps_to_its_field(tmp_path):
    settings = load_settings({
        "CREWBENCH_WORKSPACE": str(tmp_path), "CREWBENCH_DB": str(tmp_path / "x.db"),
        "CREWBENCH_MODEL": "openai/gpt-4o-mini", "CREWBENCH_ALLOWED_TOOL_MODULES": " a.b , ,c ",
        "CREWBENCH_ALLOW_REMOTE": "1", "CREWBENCH_HOME": str(tmp_path / "h"),
        "OPENAI_API_KEY": "sk-not-a-setting",
    })
    assert settings.workspace_root() == tmp_path.resolve()
    assert settings.db_path() == (tmp_path / "x.db").resolve()
    assert settings.model == "openai/gpt-4o-mini"
    assert settings.tool_modules() == frozenset({"a.b", "c"})
    assert settings.remote_allowed is True
    assert settings.home == str(tmp_path / "h")
    assert "sk-not-a-setting" not in repr(settings)


def test_empty_variable_counts_as_unset_and_odd_values_do_not_crash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"CREWBENCH_WORKSPACE": "", "CREWBENCH_ALLOW_REMOTE": "yes please"})
    assert settings.workspace_root() == tmp_path.resolve()
    assert settings.remote_allowed is False  # only "1" opens the app to the network, as before


def test_explicit_root_wins_over_the_environment(tmp_path):
    other = tmp_path / "other"
    settings = load_settings({"CREWBENCH_WORKSPACE": str(tmp_path)})
    assert settings.workspace_root(other) == other.resolve()


def test_base_url_credentials_never_shown(caplog):
    url = "http://user:hunter2@localhost:8000/v1"
    settings = load_settings({"CREWBENCH_BASE_URL": url})
    assert settings.base_url_value() == url
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("crewbench.test").info("settings %s %r", settings, settings)
    shown = caplog.text + repr(settings) + str(settings) + settings.model_dump_json()
    assert "hunter2" not in shown


def test_settings_are_frozen():
    settings = load_settings({})
    try:
        settings.model = "x"  # type: ignore[misc]
    except Exception as exc:  # noqa: BLE001 — pydantic's frozen-instance error
        assert "frozen" in str(exc).lower()
    else:
        raise AssertionError("settings must not be changed in place")
    assert isinstance(settings, Settings)


def test_os_environ_is_read_at_call_time(tmp_path, monkeypatch):
    monkeypatch.setenv("CREWBENCH_WORKSPACE", str(tmp_path))
    assert Workspace().root == tmp_path.resolve()
    monkeypatch.setenv("CREWBENCH_ALLOWED_TOOL_MODULES", "my_company.tools")
    assert allowed_tool_modules(None) == frozenset({"my_company.tools"})
    monkeypatch.setenv("CREWBENCH_DB", str(tmp_path / "r.db"))
    assert load_settings().db_path() == Path(tmp_path / "r.db").resolve()


def test_provider_keys_are_read_at_call_time_and_only_their_name_comes_back(monkeypatch):
    from crewbench.definitions.settings import environment, key_present
    from crewbench.llm.providers import available_providers

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    assert key_present("OPENAI_API_KEY") is None and available_providers()["openai"] is False
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary")
    assert key_present("GEMINI_API_KEY", "OPENAI_API_KEY") == "OPENAI_API_KEY"
    assert available_providers()["openai"] is True
    assert key_present("X_KEY", environ={"X_KEY": ""}) is None  # empty is unset, as for settings
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:1")
    assert environment()["OLLAMA_HOST"] == "127.0.0.1:1"  # live: set after import, still seen
