"""Import never rewrites what it was told not to, and the role prefix is honoured (issue 14
item 6); the import page names its own fields in errors, not CLI flags."""

from __future__ import annotations

from crewbench.exchange.export import export_crew
from crewbench.exchange.importer import import_project


def _snapshot(ws) -> dict[str, bytes]:
    return {str(p.relative_to(ws.root)): p.read_bytes()
            for folder in (ws.roles_dir, ws.crews_dir) for p in sorted(folder.glob("*.yaml"))}


def test_import_without_overwrite_leaves_existing_files_byte_for_byte(tmp_workspace, tmp_path):
    exported = export_crew(tmp_workspace.crew("mini_sequential"), "jsonc", tmp_path, workspace=tmp_workspace)
    before = _snapshot(tmp_workspace)
    result = import_project(exported.path, tmp_workspace, overwrite=False)
    assert result.crew_name == "mini_sequential"
    assert _snapshot(tmp_workspace) == before  # same meaning: nothing rewritten (comments kept)


def test_role_prefix_applies_to_crewbench_exports_too(tmp_workspace, tmp_path):
    exported = export_crew(tmp_workspace.crew("mini_sequential"), "yaml", tmp_path, workspace=tmp_workspace)
    result = import_project(exported.path, tmp_workspace, name="mini_imported", role_prefix="imp_")
    assert sorted(p.name for p in result.role_paths) == ["imp_mini_reviewer.yaml", "imp_mini_router.yaml",
                                                        "imp_mini_urgency.yaml"]
    crew = tmp_workspace.crew("mini_imported")
    assert set(crew.agent_refs.values()) == {"imp_mini_router", "imp_mini_urgency", "imp_mini_reviewer"}


def test_browser_messages_name_fields_not_flags():
    from crewbench.ui.export import for_browser

    message = for_browser("crews/x.yaml already exists with different content; pass --overwrite, "
                          "--name for another crew name, or --role-prefix for other role names")
    assert "--" not in message
    assert 'tick "Overwrite existing …"' in message and '"Role file prefix"' in message
