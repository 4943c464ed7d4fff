"""Histories checked like Jepsen's Elle: list-append and rw-register, cycles and explanations.

`load_history` reads and validates an Elle history (JSON array or JSON Lines); `check_history`
infers version orders, builds the dependency graph, searches it for cycles and returns the
elle-cli result map (`CheckResult.document`).
"""

from concord.history.check import CheckResult, FoundCycle, check_history
from concord.history.load import History, load_history, parse_history, parse_json
from concord.history.model import MODELS, MalformedHistory, Txn

__all__ = [
    "MODELS",
    "CheckResult",
    "FoundCycle",
    "History",
    "MalformedHistory",
    "Txn",
    "check_history",
    "load_history",
    "parse_history",
    "parse_json",
]
