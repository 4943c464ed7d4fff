"""The options that name a race matrix, declared once for `concord race` and `concord sweep`."""

from __future__ import annotations

from typing import Annotated

import typer

LIST_HELP = "comma-separated, or all"

Scenario = Annotated[
    str | None,
    typer.Option(
        "--scenario",
        "-s",
        show_default=False,
        help="counter, assign, wip-limit, claim-queue, transfer, list-append, an installed scenario's "
        "name, or your own: path/to/file.py:NAME or package.module:NAME (see `concord scenarios`). "
        "Default: counter.",
    ),
]
Strategy = Annotated[
    str | None,
    typer.Option(
        "--strategy",
        show_default=False,
        help=f"Locking strategies ({LIST_HELP}): none, pessimistic, ordered, nowait, skip_locked, "
        "optimistic, advisory. Default: the scenario's own set.",
    ),
]
Isolation = Annotated[
    str | None,
    typer.Option(
        "--isolation",
        "-i",
        show_default=False,
        help=f"Isolation levels ({LIST_HELP}): 'read committed', 'repeatable read', serializable. "
        "Default: read committed (wip-limit: all three).",
    ),
]
Executor = Annotated[
    str | None,
    typer.Option(
        "--executor",
        "-e",
        show_default=False,
        help=(
            "threads, processes or asyncio (on uvloop where installed; CONCORD_EVENT_LOOP=asyncio "
            "for asyncio's own loop). Default: threads."
        ),
    ),
]
Duration = Annotated[
    float | None,
    typer.Option("--duration", "-d", show_default=False, help="Seconds per cell (per run). Default: 3."),
]
Ops = Annotated[
    int | None,
    typer.Option(
        "--ops", show_default=False, help="Operations per cell (per run) in total, instead of a duration."
    ),
]
MaxTries = Annotated[
    int | None,
    typer.Option(
        "--max-tries",
        show_default=False,
        help="Attempts per operation before giving up (conflicts are retried with jittered backoff). "
        "Default: 10.",
    ),
]
NoWaits = Annotated[
    bool,
    typer.Option(
        "--no-waits",
        help="Do not sample where the workers' time went (no wait profile, no server counters): "
        "a run that pays nothing for it.",
    ),
]
ShowWaits = Annotated[
    bool,
    typer.Option(
        "--waits",
        help="Print each cell's whole wait profile, its top blocking edges, CPU and the server's counters.",
    ),
]
