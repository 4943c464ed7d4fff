"""`concord explain`: query plans of the statements the library really issues."""

from __future__ import annotations

from typing import Annotated

import typer

from concord.cli.common import DatabaseUrl, Json, render
from concord.cli.errors import UsageError
from concord.explain import (
    Comparison,
    ExplainUsageError,
    describe_queries,
    explain_all,
    explain_query,
    explain_sql,
)
from concord.explain import (
    render as draw,
)
from concord.explain.params import parse_assignments


def explain(
    name: Annotated[
        str | None,
        typer.Argument(help="A named query (run without arguments to list them).", show_default=False),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="NAME=VALUE for a parameter of the query; repeat for several.",
            show_default=False,
        ),
    ] = None,
    sql: Annotated[
        str | None,
        typer.Option(
            "--sql", help="Explain this one statement instead of a named query.", show_default=False
        ),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Run every named query; print a summary table.")
    ] = False,
    without_index: Annotated[
        str | None,
        typer.Option(
            "--without-index",
            help="Also plan with this index dropped (rolled back), side by side.",
            show_default=False,
        ),
    ] = None,
    no_analyze: Annotated[bool, typer.Option("--no-analyze", help="Plan without executing.")] = False,
    statement_timeout: Annotated[
        str | None,
        typer.Option(
            "--statement-timeout",
            metavar="SECONDS",
            help="Cancel a statement on the server after this long. Default: 60.",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """List the named queries, or show the plan of one, of all, or of any single statement.

    Plans come from EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON), which runs the statement, inside a
    transaction that is always rolled back: an UPDATE or DELETE explained leaves its rows as they
    were. The rollback cannot undo what acts outside the transaction: a sequence's nextval stays
    consumed, pg_terminate_backend has ended its session, dblink's work on another connection
    stays done (a NOTIFY is never sent). --without-index drops the index inside that transaction;
    DROP INDEX locks the table (ACCESS EXCLUSIVE) until the rollback, so lock_timeout is 2 s:
    behind a running race it fails (exit 3) instead of hanging. A statement still running after
    --statement-timeout is cancelled on the server (exit 1), as it is on Ctrl-C or SIGTERM.

    Exit codes: 0 shown; 2 unknown query, parameter or index, more than one statement, SQL the
    server cannot parse or resolve (SQLSTATE class 42), or a bad --statement-timeout; 1 the
    statement failed while running (division by zero, say) or ran past --statement-timeout; 3 a
    lock was not granted within 2 s; 130 Ctrl-C; 143 SIGTERM.
    """
    analyze = not no_analyze
    timeout = {} if statement_timeout is None else {"statement_timeout_s": statement_timeout}
    try:
        given = parse_assignments(param or [])
        if sql is not None:
            _refuse_together(name=name, all_=all_, without_index=without_index, given=given, what="--sql")
            one = explain_sql(database_url, sql, analyze=analyze, **timeout)
            render(one.as_dict(), as_json=as_json, human=lambda c: c.print(draw.explained(one)))
        elif all_:
            _refuse_together(name=name, all_=False, without_index=without_index, given=given, what="--all")
            items = explain_all(database_url, analyze=analyze, **timeout)
            render(
                [_summary_row(i) for i in items],
                as_json=as_json,
                human=lambda c: c.print(draw.summary(items)),
            )
        elif name is None:
            if without_index or given:
                raise UsageError("--param and --without-index need a query name")
            entries = describe_queries(database_url, **timeout)
            render(entries, as_json=as_json, human=lambda c: c.print(draw.listing(entries)))
        else:
            result = explain_query(
                database_url, name, given, analyze=analyze, without_index=without_index, **timeout
            )
            if isinstance(result, Comparison):
                render(result.as_dict(), as_json=as_json, human=lambda c: c.print(draw.comparison(result)))
            else:
                render(result.as_dict(), as_json=as_json, human=lambda c: c.print(draw.explained(result)))
    except ExplainUsageError as exc:  # unknown names, bad parameters, unparsable SQL: exit 2
        raise UsageError(exc.message) from exc


def _refuse_together(
    *, name: str | None, all_: bool, without_index: str | None, given: dict, what: str
) -> None:
    if name is not None or all_ or without_index or given:
        raise UsageError(f"{what} goes alone: not with a query name, --all, --param or --without-index")


def _summary_row(item) -> dict:
    document = item.as_dict()
    if "skipped" in document:
        return document
    return {
        key: document[key]
        for key in ("name", "shape", "indexes", "seq_scans", "execution_ms", "flags", "params")
    }
