"""Parse a spec file into a `Spec`, with the checks isolationtester makes before it connects.

The grammar is specparse.y's: ``setup* teardown? session+ permutation*``. Errors carry the file
and line; steps defined but never used in a permutation are warnings, which isolationtester
prints (``unused step name: X``) and the runner reproduces.
"""

from __future__ import annotations

from pathlib import Path

from concord.spec.lexer import Token, tokenize
from concord.spec.model import Blocker, Permutation, PermutationStep, Session, Spec, SpecError, Step


def parse_file(path: str | Path) -> Spec:
    """Read and parse one spec file; `SpecError` names the file and line of the first problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(name, 0, f"cannot read the spec: {getattr(exc, 'strerror', None) or exc}") from exc
    return parse(text, name)


def parse(text: str, path: str = "<spec>") -> Spec:
    """Parse spec text; ``path`` only names the source in error messages."""
    spec = _Parser(tokenize(text, path), path).spec()
    check(spec, path)
    return spec


def unused_steps(spec: Spec) -> list[str]:
    """Steps no permutation names, sorted as isolationtester warns about them (none without permutations)."""
    if not spec.permutations:
        return []
    used = {pstep.name for permutation in spec.permutations for pstep in permutation.steps}
    names = (step.name for session in spec.sessions for step in session.steps)
    return sorted((name for name in names if name not in used), key=lambda name: name.encode())


def check(spec: Spec, path: str) -> None:
    """isolationtester's check_testspec: unique step names, known steps, sound blockers."""
    seen: set[str] = set()
    for session in spec.sessions:
        for step in session.steps:
            if step.name in seen:
                raise SpecError(path, step.line, f"duplicate step name: {step.name}")
            seen.add(step.name)
    steps = spec.steps()
    for permutation in spec.permutations:
        _check_permutation(permutation, steps, path)


def _check_permutation(permutation: Permutation, steps: dict[str, tuple[int, Step]], path: str) -> None:
    line = permutation.line
    for pstep in permutation.steps:
        if pstep.name not in steps:
            raise SpecError(path, line, f'undefined step "{pstep.name}" specified in permutation')
    # A blocker may name only a step of this same permutation (one not used here cannot run concurrently).
    named = {pstep.name for pstep in permutation.steps}
    for pstep in permutation.steps:
        for blocker in pstep.blockers:
            if blocker.step is None:
                continue
            if blocker.step not in named:
                raise SpecError(
                    path,
                    line,
                    f'undefined blocking step "{blocker.step}" referenced in permutation step "{pstep.name}"',
                )
            if steps[blocker.step][0] == steps[pstep.name][0]:
                raise SpecError(
                    path, line, f'permutation step "{pstep.name}" cannot block on its own session'
                )


class _Parser:
    def __init__(self, tokens: list[Token], path: str) -> None:
        self.tokens, self.pos, self.path = tokens, 0, path

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def take(self, kind: str, what: str) -> Token:
        token = self.token
        if token.kind != kind:
            found = "end of file" if token.kind == "end" else f'"{token.value}"'
            raise SpecError(self.path, token.line, f"syntax error: expected {what}, found {found}")
        self.pos += 1
        return token

    def accept(self, kind: str) -> Token | None:
        return self.take(kind, kind) if self.token.kind == kind else None

    def sql_after(self, keyword: str) -> str | None:
        return self.take("sql", f"{{ sql }} after {keyword}").value if self.accept(keyword) else None

    def spec(self) -> Spec:
        setups = []
        while (sql := self.sql_after("setup")) is not None:
            setups.append(sql)
        teardown = self.sql_after("teardown")
        sessions = [self.session()]
        while self.token.kind == "session":
            sessions.append(self.session())
        permutations = []
        while self.token.kind == "permutation":
            permutations.append(self.permutation())
        self.take("end", "session, permutation or end of file")
        return Spec(tuple(sessions), tuple(setups), teardown, tuple(permutations))

    def session(self) -> Session:
        line = self.take("session", "session").line
        name = self.take("identifier", "a session name").value
        setup = self.sql_after("setup")
        steps = [self.step()]
        while self.token.kind == "step":
            steps.append(self.step())
        return Session(name, tuple(steps), setup, self.sql_after("teardown"), line)

    def step(self) -> Step:
        line = self.take("step", "step").line
        name = self.take("identifier", "a step name").value
        return Step(name, self.take("sql", f"{{ sql }} for step {name}").value, line)

    def permutation(self) -> Permutation:
        line = self.take("permutation", "permutation").line
        steps = [self.permutation_step()]
        while self.token.kind == "identifier":
            steps.append(self.permutation_step())
        return Permutation(tuple(steps), line)

    def permutation_step(self) -> PermutationStep:
        name = self.take("identifier", "a step name").value
        if not self.accept("("):
            return PermutationStep(name)
        blockers = [self.blocker()]
        while self.accept(","):
            blockers.append(self.blocker())
        self.take(")", '")"')
        return PermutationStep(name, tuple(blockers))

    def blocker(self) -> Blocker:
        if self.accept("*"):
            return Blocker(None)
        step = self.take("identifier", 'a step name or "*"').value
        if self.accept("notices"):
            return Blocker(step, int(self.take("integer", "a number of notices").value))
        return Blocker(step)
