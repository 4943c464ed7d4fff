"""The explain tool's own errors, told apart by the command line's exit codes."""

from __future__ import annotations

from concord.errors import ConcordError, InvalidInput


class ExplainUsageError(InvalidInput):
    """The caller named something that is not there: a query, an index, a parameter, or SQL the
    server cannot parse (the command line exits 2)."""


class ExplainFailed(ConcordError):
    """The server could plan the statement but running it failed (the command line exits 1)."""
