"""`concord serve`: the HTTP shim under uvicorn (needs the `api` extra)."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from typing import Annotated

import typer

from concord.cli.common import DatabaseUrl, error_console
from concord.cli.errors import UsageError
from concord.errors import ConcordError


def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind; loopback unless you say otherwise.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.", min=1)] = 1,
    max_body: Annotated[
        int | None,
        typer.Option(
            "--max-body",
            help="Largest request body in bytes, else 413 (default: CONCORD_MAX_BODY_BYTES, else 1 MiB).",
            min=1,
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the task board over HTTP (OpenAPI docs at /docs)."""
    try:
        import uvicorn
    except ImportError as exc:
        raise UsageError("concord serve needs the api extra: pip install 'concord[api]'") from exc
    _check_bindable(host, port)
    if not _is_loopback(host):
        error_console().print(f"[yellow]warning:[/] binding to {host}: the API has no authentication")
    from concord.api.limits import MAX_BODY_ENV, max_body_bytes
    from concord.db.urls import resolve_url

    # Checked here, once, so a bad limit is refused before uvicorn starts; workers read it back.
    os.environ[MAX_BODY_ENV] = str(max_body_bytes(max_body))
    # Resolve (and start the embedded server) once here; workers read the URL from the environment.
    os.environ["CONCORD_DATABASE_URL"] = resolve_url(database_url).render_as_string(hide_password=False)
    uvicorn.run(
        "concord.api:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


def _check_bindable(host: str, port: int) -> None:
    """Bind a socket to ``host:port`` and let it go, so that a bad host or a busy port is one line
    here rather than uvicorn's log and its exit 3 (which concord keeps for conflicts)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"--host {host!r} is neither an IP address nor a known host name") from exc
    with socket.socket(family, kind, proto) as probe:
        # uvicorn binds with SO_REUSEADDR too: a port left in TIME_WAIT is free to it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConcordError(f"port {port} on {host} is in use") from exc
            if exc.errno == errno.EADDRNOTAVAIL:
                raise UsageError(f"--host {host} is not an address of this machine") from exc
            raise ConcordError(f"cannot listen on port {port} of {host}: {exc.strerror}") from exc


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
