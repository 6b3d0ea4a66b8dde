"""``crewbench serve-local``: a real local model (llama.cpp via xllamacpp) on 127.0.0.1."""

from __future__ import annotations

import signal
import threading

import click

from crewbench.cli.common import friendly_errors

__all__ = ["register"]


@click.command("serve-local")
@click.argument("model_path", type=click.Path(dir_okay=False))
@click.option("--port", default=8080, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option("--threads", default=1, show_default=True, type=int,
              help="CPU threads (1 is fastest on a busy 2-core machine).")
@click.option("--ctx", default=4096, show_default=True, type=int, help="Context length per slot, tokens.")
@click.option("--parallel", default=1, show_default=True, type=int, help="Requests served at once.")
@click.option("--alias", default=None, help="Model name to serve as (default: from the file name).")
@click.option("--verbose", is_flag=True, help="Show llama.cpp's own log.")
@friendly_errors
def serve_local(model_path, port, threads, ctx, parallel, alias, verbose):
    """Serve a GGUF model with llama.cpp's OpenAI-compatible server on 127.0.0.1 (needs '.[local]')."""
    from crewbench.llm.local_server import INSTALL_HINT, have_xllamacpp, start_local_server

    if not have_xllamacpp():
        raise click.ClickException(f"serve-local needs the optional llama.cpp server: {INSTALL_HINT}")
    server = start_local_server(model_path, port=port, threads=threads, ctx=ctx, parallel=parallel,
                                alias=alias, quiet=not verbose)
    click.echo(f"serving {model_path} as {server.alias} on {server.base_url}")
    click.echo(f"use: crewbench run --model {server.model} --base-url {server.base_url} --crew ...")
    click.echo("Ctrl-C stops the server.", err=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def register(cli: click.Group) -> None:
    cli.add_command(serve_local)
