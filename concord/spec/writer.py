"""Print a `Spec` back as spec text that parses to an equal `Spec`."""

from __future__ import annotations

from concord.spec.lexer import IDENTIFIER, KEYWORDS
from concord.spec.model import Blocker, PermutationStep, Spec


def identifier(name: str) -> str:
    """The name as written in a spec: plain where the scanner reads it back whole, else quoted."""
    match = IDENTIFIER.fullmatch(name)
    if match and name not in KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def sql_block(sql: str) -> str:
    return "{ " + sql + " }"


def write_spec(spec: Spec) -> str:
    """The spec as text: one block per line, sessions and permutations in order."""
    lines = [f"setup {sql_block(sql)}" for sql in spec.setups]
    if spec.teardown is not None:
        lines.append(f"teardown {sql_block(spec.teardown)}")
    for session in spec.sessions:
        lines.append(f"session {identifier(session.name)}")
        if session.setup is not None:
            lines.append(f"setup {sql_block(session.setup)}")
        lines.extend(f"step {identifier(step.name)} {sql_block(step.sql)}" for step in session.steps)
        if session.teardown is not None:
            lines.append(f"teardown {sql_block(session.teardown)}")
    for permutation in spec.permutations:
        lines.append("permutation " + " ".join(_pstep(pstep) for pstep in permutation.steps))
    return "\n".join(lines) + "\n"


def _pstep(pstep: PermutationStep) -> str:
    if not pstep.blockers:
        return identifier(pstep.name)
    return f"{identifier(pstep.name)}({', '.join(_blocker(b) for b in pstep.blockers)})"


def _blocker(blocker: Blocker) -> str:
    if blocker.step is None:
        return "*"
    if blocker.notices is None:
        return identifier(blocker.step)
    return f"{identifier(blocker.step)} notices {blocker.notices}"
