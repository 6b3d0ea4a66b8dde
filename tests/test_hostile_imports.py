"""Hostile projects for import: bounded, contained, one crewbench error, nothing written.

Issue 15 items 6, 7, 9: zips with 100,000 entries, faked sizes or encrypted entries; json5 at
~15 s per MB; symlinks that carried a file from outside the project into roles/; bad
pyproject/meta; --overwrite silently changing every crew that shares a role.
"""

from __future__ import annotations

import struct
import time
import zipfile
from pathlib import Path

import pytest

from crewbench.definitions.workspace import Workspace
from crewbench.errors import CrewbenchError
from crewbench.exchange.import_read import MAX_JSONC_BYTES, MAX_ZIP_ENTRIES
from crewbench.exchange.importer import import_project

GOOD_YAML = ("agents:\n  a:\n    role: R\n    goal: G\n    backstory: B\n"
             "tasks:\n  - name: t\n    description: d\n    expected_output: o\n    agent: a\n")


@pytest.fixture
def ws(scenarios_only_workspace) -> Workspace:
    return scenarios_only_workspace


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def refused(path, ws, *, match: str, seconds: float = 5.0):
    before = snapshot(ws.root)
    start = time.perf_counter()
    with pytest.raises(CrewbenchError, match=match):
        import_project(path, ws)
    assert time.perf_counter() - start < seconds
    assert snapshot(ws.root) == before


def test_zip_with_too_many_entries(ws, tmp_path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("p/crew.yaml", GOOD_YAML)
        for index in range(MAX_ZIP_ENTRIES + 1):
            archive.writestr(f"p/junk/{index}.txt", "")
    refused(path, ws, match="entries")


def _patch_zip(path: Path, *, size: int | None = None, flag: int | None = None) -> None:
    """Rewrite the member headers: a lying uncompressed size, or an 'encrypted' flag."""
    data = bytearray(path.read_bytes())
    for signature, size_at, flag_at in ((b"PK\x03\x04", 22, 6), (b"PK\x01\x02", 24, 8)):
        at = data.find(signature)
        while at != -1:
            if size is not None:
                data[at + size_at:at + size_at + 4] = struct.pack("<I", size)
            if flag is not None:
                data[at + flag_at:at + flag_at + 2] = struct.pack("<H", flag)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_zip_with_faked_sizes(ws, tmp_path):
    path = tmp_path / "faked.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("p/crew.yaml", GOOD_YAML + "# " + "x" * 200_000 + "\n")
    _patch_zip(path, size=100)
    refused(path, ws, match="zip")


def test_zip_with_an_encrypted_entry(ws, tmp_path):
    path = tmp_path / "encrypted.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("p/crew.yaml", GOOD_YAML)
    _patch_zip(path, flag=0x1)
    refused(path, ws, match="encrypted")


def test_folder_import_refuses_a_symlink_out_of_the_project(ws, tmp_path):
    outside = tmp_path / "secret.yaml"
    outside.write_text(GOOD_YAML)
    project = tmp_path / "project"
    project.mkdir()
    (project / "crew.yaml").symlink_to(outside)
    refused(project, ws, match="outside the project")


def test_json_project_agent_linked_from_outside(ws, tmp_path):
    outside = tmp_path / "agent.jsonc"
    outside.write_text('{"role": "R", "goal": "G", "backstory": "stolen"}')
    project = tmp_path / "p"
    (project / "agents").mkdir(parents=True)
    (project / "crew.jsonc").write_text('{"agents": ["a"], "tasks": [{"name": "t", "description": "d", '
                                        '"expected_output": "o", "agent": "a"}]}')
    (project / "agents" / "a.jsonc").symlink_to(outside)
    refused(project, ws, match="outside the project")


def test_huge_jsonc_is_refused_before_json5_parses_it(ws, tmp_path):
    project = tmp_path / "p"
    (project / "agents").mkdir(parents=True)
    (project / "crew.jsonc").write_text('{"agents": ["a"], "pad": "' + "x" * MAX_JSONC_BYTES + '"}')
    refused(project, ws, match="larger than", seconds=2.0)


@pytest.mark.parametrize("pyproject", [
    "[tool]\ncrewbench = 5\n",
    "[tool.crewbench]\nextra = \"{not json\"\n",
    "project = 3\n",
    "not toml at all [[[\n",
])
def test_bad_pyproject_is_a_clean_error(ws, tmp_path, pyproject):
    project = tmp_path / "p"
    (project / "agents").mkdir(parents=True)
    (project / "crew.jsonc").write_text('{"agents": ["a"], "tasks": [{"name": "t", "description": "d", '
                                        '"expected_output": "o", "agent": "a"}]}')
    (project / "agents" / "a.jsonc").write_text('{"role": "R", "goal": "G", "backstory": "B"}')
    (project / "pyproject.toml").write_text(pyproject)
    before = snapshot(ws.root)
    try:
        import_project(project, ws)
    except CrewbenchError:
        assert snapshot(ws.root) == before


def test_non_utf8_and_bad_meta_line(ws, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(GOOD_YAML.encode() + b"# \xff\xfe\n")
    refused(path, ws, match="UTF-8")
    from crewbench.exchange.export import META_PREFIX

    path.write_text(f"{META_PREFIX}{{not json\n" + GOOD_YAML)
    refused(path, ws, match="JSON")


def test_overwrite_names_the_other_crews_a_shared_role_changes(ws, tmp_path):
    (ws.roles_dir / "a.yaml").write_text("role: Old\ngoal: g\nbackstory: b\n")
    for crew in ("alpha", "beta"):
        (ws.crews_dir / f"{crew}.yaml").write_text(
            "agents: {a: a}\ntasks: [{name: t, description: d, expected_output: o, agent: a}]\n")
    path = tmp_path / "new.yaml"
    path.write_text("name: gamma\n" + GOOD_YAML)
    with pytest.raises(CrewbenchError, match="alpha, beta"):
        import_project(path, ws)
    result = import_project(path, ws, overwrite=True)
    assert any("alpha, beta" in w for w in result.warnings)
