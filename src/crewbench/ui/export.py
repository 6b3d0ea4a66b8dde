"""Export / import page: a crew as a CrewAI project (JSON or classic), YAML or JSON; an
experiment's results as CSV or JSON; a CrewAI project imported from an uploaded zip.

Everything goes through ``crewbench.exchange.export`` / ``crewbench.exchange.importer`` (which validate before
writing anything); the page only writes into a temporary folder and hands the bytes to the
browser, so an export never touches the workspace.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from crewbench.errors import CrewbenchError
from crewbench.ui import state

__all__ = ["crew_download", "render", "results_downloads"]

PAGE = "export"
CREW_FORMATS = {
    "CrewAI JSON project (zip)": "jsonc",
    "CrewAI classic project (zip)": "classic",
    "CrewDefinition YAML": "yaml",
    "CrewDefinition JSON": "json",
}


def _k(name: str) -> str:
    return state.key(PAGE, name)


def crew_download(crew_name: str, fmt: str, model: str) -> tuple[list[tuple[str, bytes]], list[str]]:
    """([(file name, bytes)], warnings) of a crew export. A project is one zip; a bare
    definition is its file, plus a zip with the tool sources it brings along, if any."""
    from crewbench.exchange.export import export_crew, render_export

    ws = state.workspace()
    spec = ws.crew(crew_name)
    downloads: list[tuple[str, bytes]] = []
    if fmt in ("yaml", "json"):
        files = render_export(spec, fmt, model=model, workspace=ws)
        main = f"{spec.name}.{fmt}"
        if main in files:
            downloads.append((main, files[main].encode("utf-8")))
        if len(files) == 1 and downloads:
            return downloads, []
    with tempfile.TemporaryDirectory(prefix="crewbench-export-") as tmp:
        result = export_crew(spec, fmt, tmp, model=model, workspace=ws, as_zip=True)
        downloads.append((result.path.name, result.path.read_bytes()))
        return downloads, list(result.warnings)


def results_downloads(experiment_id: str, fmt: str) -> list[tuple[str, bytes]]:
    from crewbench.exchange.export import export_results

    with tempfile.TemporaryDirectory(prefix="crewbench-results-") as tmp:
        return [(p.name, p.read_bytes()) for p in export_results(state.store(), experiment_id, fmt, tmp)]


def render() -> None:
    st.title("Export / import")
    try:
        from crewbench.exchange import export as export_module
    except ImportError:
        st.info("Export (crewbench.exchange.export) is not available yet.")
        return
    tab_crew, tab_results, tab_import = st.tabs(["Export a crew", "Export results", "Import a project"])
    with tab_crew:
        _crew_tab(export_module.DEFAULT_MODEL)
    with tab_results:
        _results_tab()
    with tab_import:
        _import_tab()


def _crew_tab(default_model: str) -> None:
    ws = state.workspace()
    names = ws.crew_names()
    if not names:
        st.info("No crews to export yet.")
        return
    c1, c2, c3 = st.columns(3)
    crew = c1.selectbox("Crew", names, key=_k("crew"))
    label = c2.radio("Format", list(CREW_FORMATS), key=_k("format"))
    model = c3.text_input("Model for the exported agents", value=default_model, key=_k("model"),
                          help="The simulator never leaves crewbench: agents without a real model get this one. "
                               "The key is read from the environment when the project runs.")
    fmt = CREW_FORMATS[label]
    try:
        downloads, warnings = crew_download(crew, fmt, model)
    except CrewbenchError as exc:
        st.error(str(exc))
        return
    for warning in warnings:
        st.warning(warning)
    for index, (file_name, data) in enumerate(downloads):
        zipped = file_name.endswith(".zip")
        st.download_button(f"Download {file_name}" + (" (with tool sources)" if zipped and index else ""),
                           data, file_name=file_name, key=_k(f"download:{index}"),
                           mime="application/zip" if zipped else "text/plain",
                           type="primary" if index == 0 else "secondary", icon=":material/download:")
    if fmt in ("jsonc", "classic"):
        st.caption("Unzip, then `crewai run` inside the folder (it installs the project with uv).")
    else:
        with st.expander("Preview"):
            st.code(downloads[0][1].decode("utf-8"), language=fmt)


def _results_tab() -> None:
    by_id = state.experiments_with_runs(state.db_path())
    if not by_id:
        st.info("No experiment has runs yet.")
        return
    c1, c2 = st.columns([2, 1])
    exp_id = c1.selectbox("Experiment", list(by_id), key=_k("experiment"),
                          format_func=lambda i: state.experiment_label(by_id[i]))
    fmt = c2.radio("Format", ["csv", "json"], horizontal=True, key=_k("results_format"))
    if by_id[exp_id]["simulated"]:
        st.caption(f"{state.SIM_BADGE} the files say so too (a `# simulated: true` line, or `\"simulated\": true`).")
    try:
        files = results_downloads(exp_id, fmt)
    except CrewbenchError as exc:
        st.error(str(exc))
        return
    cols = st.columns(max(len(files), 1))
    for col, (name, data) in zip(cols, files):
        col.download_button(name, data, file_name=name, key=_k(f"res:{name}"),
                            mime="text/csv" if name.endswith(".csv") else "application/json",
                            icon=":material/download:")


# The importer speaks CLI; on this page the same choices are fields.
_FLAGS = {"--overwrite": '"Overwrite existing …"', "--role-prefix": '"Role file prefix"',
          "--name": '"Crew name"', "--process": '"Process"'}


def for_browser(message: str) -> str:
    """An importer message with its CLI flags named as this page's fields."""
    for flag, field in _FLAGS.items():
        message = message.replace(f"pass {flag}", f"tick {field}" if flag == "--overwrite" else f"set {field}")
        message = message.replace(flag, field)
    return message


def _import_tab() -> None:
    try:
        from crewbench.exchange.importer import ProcessRequired, import_project, read_project
    except ImportError:
        st.info("Import (crewbench.exchange.importer) is not available yet.")
        return
    st.caption("A zip of a CrewAI project (`crewai create crew …`, JSON or classic layout), or a "
               "CrewDefinition YAML/JSON file. Nothing in it is executed; roles and the crew are "
               "validated before anything is written to the workspace.")
    upload = st.file_uploader("Project", type=["zip", "yaml", "yml", "json", "jsonc"], key=_k("upload"))
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("Crew name (blank = the project's)", key=_k("import_name"))
    prefix = c2.text_input("Role file prefix (avoids clashes)", key=_k("import_prefix"))
    process = c3.selectbox("Process", [None, "sequential", "hierarchical", "concurrent"], key=_k("import_process"),
                           format_func=lambda p: "(read from the project)" if p is None else p)
    overwrite = st.checkbox("Overwrite existing roles/crew of the same name", key=_k("overwrite"))
    if upload is None:
        return
    ws = state.workspace()
    with tempfile.TemporaryDirectory(prefix="crewbench-import-") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        kwargs = {"process": process, "name": name.strip() or None, "role_prefix": prefix.strip()}
        try:
            plan = read_project(path, workspace=ws, **kwargs)
        except ProcessRequired as exc:
            st.warning(f"{for_browser(str(exc))} Pick the process above.")
            return
        except CrewbenchError as exc:
            st.error(for_browser(str(exc)))
            return
        st.markdown(f"**{plan.kind}** project → crew `{plan.crew_name}` with roles "
                    + ", ".join(f"`{r}`" for r in plan.roles))
        for warning in plan.warnings:
            st.warning(warning)
        if st.button("Import into the workspace", type="primary", key=_k("do_import")):
            try:
                result = import_project(path, ws, overwrite=overwrite, **kwargs)
            except CrewbenchError as exc:
                st.error(for_browser(str(exc)))
            else:
                st.success(f"Imported crew {result.crew_name} ({len(result.role_paths)} roles). "
                           "Open it in the Crew builder.")
