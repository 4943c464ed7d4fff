"""The explain tool's own errors, told apart by the command line's exit codes."""

from __future__ import annotations

from concord.errors import ConcordError, InvalidInput


class ExplainUsageError(InvalidInput):
    """The caller named something that is not there: a query, an index, a parameter, or SQL the
    server cannot parse (the command line exits 2)."""


class ExplainFailed(ConcordError):
    """The server could plan the statement but running it failed (the command line exits 1)."""


#: What EXPLAIN can plan (PostgreSQL's EXPLAIN reference); anything else is refused by the
#: server's grammar at its first word.
EXPLAINABLE = "SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES, EXECUTE, DECLARE and CREATE TABLE AS"
#: Commands of PostgreSQL's that EXPLAIN cannot take (a misspelt SELECT stays a syntax error).
OTHER_COMMANDS = frozenset((
    "ABORT", "ALTER", "ANALYZE", "BEGIN", "CALL", "CHECKPOINT", "CLOSE", "CLUSTER", "COMMENT", "COMMIT",
    "COPY", "CREATE", "DEALLOCATE", "DISCARD", "DO", "DROP", "END", "FETCH", "GRANT", "IMPORT", "LISTEN",
    "LOAD", "LOCK", "MOVE", "NOTIFY", "PREPARE", "REASSIGN", "REFRESH", "REINDEX", "RELEASE", "RESET",
    "REVOKE", "ROLLBACK", "SAVEPOINT", "SECURITY", "SET", "SHOW", "START", "TRUNCATE", "UNLISTEN",
    "VACUUM",
))  # fmt: skip


def not_explainable(sql: str, refused: ExplainUsageError) -> ExplainUsageError:
    """A syntax error at the statement's very first word means EXPLAIN cannot take that kind of
    statement (DDL such as DROP TABLE): say so rather than "syntax error"."""
    first = sql.split(None, 1)[0]
    at_first_word = refused.message.lower().endswith(f'syntax error at or near "{first.lower()}"')
    if at_first_word and first.upper() in OTHER_COMMANDS:
        return ExplainUsageError(f"EXPLAIN cannot run {first.upper()}: it plans only {EXPLAINABLE}")
    return refused
