"""The spec language as isolationtester's scanner and grammar read it (no database)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from concord.spec import (
    Blocker,
    Permutation,
    PermutationStep,
    Session,
    Spec,
    SpecError,
    Step,
    parse,
    write_spec,
)
from concord.spec.lexer import KEYWORDS
from concord.spec.permutations import count, permutations

# Names: plain identifiers, keywords (which must be quoted) and odd text with quotes and spaces.
names = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_$]{0,8}", fullmatch=True),
    st.sampled_from(sorted(KEYWORDS)),
    st.text(alphabet=string.ascii_letters + ' "-#(){}*,é', min_size=1, max_size=8),
)
# SQL as the scanner can return it: no "}", no blank (space, tab, CR, FF) at either end.
sql = st.text(
    alphabet=string.ascii_letters + string.digits + " \t\n;'\"#(){*,é", min_size=1, max_size=30
).filter(lambda text: "}" not in text and text[0] not in " \t\r\f" and text[-1] not in " \t\r\f")


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    step_names = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    cut = (
        sorted(draw(st.sets(st.integers(1, len(step_names) - 1), max_size=2))) if len(step_names) > 1 else []
    )
    groups = [step_names[a:b] for a, b in zip([0, *cut], [*cut, len(step_names)], strict=True)]
    sessions = tuple(
        Session(
            draw(names),
            tuple(Step(name, draw(sql)) for name in group),
            draw(st.none() | sql),
            draw(st.none() | sql),
        )
        for group in groups
    )
    session_of = {step.name: i for i, s in enumerate(sessions) for step in s.steps}
    permutations_ = []
    for _ in range(draw(st.integers(0, 3))):
        chosen = draw(st.lists(st.sampled_from(step_names), min_size=1, max_size=5))
        psteps = []
        for name in chosen:
            others = [other for other in chosen if session_of[other] != session_of[name]]
            blockers = draw(
                st.lists(
                    st.just(Blocker(None))
                    | st.builds(Blocker, st.sampled_from(others), st.none() | st.integers(0, 99))
                    if others
                    else st.just(Blocker(None)),
                    max_size=2,
                )
            )
            psteps.append(PermutationStep(name, tuple(blockers)))
        permutations_.append(Permutation(tuple(psteps)))
    setups = tuple(draw(st.lists(sql, max_size=2)))
    return Spec(sessions, setups, draw(st.none() | sql), tuple(permutations_))


@given(specs())
def test_a_printed_spec_parses_back_to_the_same_spec(spec: Spec) -> None:
    assert parse(write_spec(spec)) == spec


def test_an_sql_block_keeps_its_newlines_and_loses_only_blanks_at_its_ends() -> None:
    spec = parse("session s\nstep a {  \n  SELECT 1;\n\t }\n")
    assert spec.sessions[0].steps[0].sql == "\n  SELECT 1;\n"


def test_an_sql_block_ends_at_the_first_closing_brace() -> None:
    # isolationtester has no nesting or quoting inside a block: the "}" of '{1}' ends it.
    with pytest.raises(SpecError) as raised:
        parse("session s step a { SELECT '{1}' }", "f.spec")
    assert str(raised.value) == """f.spec:1: syntax error: unexpected character "'\""""


def test_quoted_names_keep_case_and_doubled_quotes_and_comments_are_skipped() -> None:
    spec = parse(
        '# comment\nsession "S 1" # another\nstep "Say ""hi""" { SELECT 1 }\npermutation "Say ""hi"""\n'
    )
    assert spec.sessions[0].name == "S 1"
    assert spec.permutations[0].steps[0].name == 'Say "hi"'


def test_blocker_markers_are_parsed_with_their_kinds() -> None:
    spec = parse("session a step a1 {x}\nsession b step b1 {y}\npermutation a1(*, b1, b1 notices 2) b1")
    assert spec.permutations[0].steps[0].blockers == (Blocker(None), Blocker("b1"), Blocker("b1", 2))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("session s\nstep a { SELECT 1 }\n\nstep a { SELECT 2 }", "f.spec:4: duplicate step name: a"),
        (
            "session s\nstep a { SELECT 1 }\npermutation a b",
            'f.spec:3: undefined step "b" specified in permutation',
        ),
        (
            "session s step a {x}\nsession t step b {y}\npermutation a(c) b",
            'f.spec:3: undefined blocking step "c" referenced in permutation step "a"',
        ),
        (
            "session s step a {x} step b {y}\npermutation a(b) b",
            'f.spec:2: permutation step "a" cannot block on its own session',
        ),
        ("session s\nstep a {\nSELECT 1", "f.spec:2: unterminated sql block"),
        ('session "s\n', "f.spec:1: unexpected newline in quoted identifier"),
        ("session s\n  step a { SELECT 1 } ;", 'f.spec:2: syntax error: unexpected character ";"'),
        ("setup { x }\nstep a { y }", 'f.spec:2: syntax error: expected session, found "step"'),
        ("session setup step a { x }", 'f.spec:1: syntax error: expected a session name, found "setup"'),
        ("", "f.spec:1: syntax error: expected session, found end of file"),
    ],
)
def test_a_broken_spec_is_refused_with_its_file_and_line(text: str, message: str) -> None:
    with pytest.raises(SpecError) as raised:
        parse(text, "f.spec")
    assert str(raised.value) == message


def test_without_permutation_lines_every_interleaving_runs_in_isolationtesters_order() -> None:
    spec = parse("session a step a1 {x} step a2 {x}\nsession b step b1 {x} step b2 {x}")
    orders = [" ".join(p.name for p in steps) for steps in permutations(spec)]
    assert orders == [
        "a1 a2 b1 b2",
        "a1 b1 a2 b2",
        "a1 b1 b2 a2",
        "b1 a1 a2 b2",
        "b1 a1 b2 a2",
        "b1 b2 a1 a2",
    ]
    assert count(spec) == 6


def test_the_number_of_interleavings_is_the_multinomial_coefficient() -> None:
    spec = parse(
        "session a step a1 {x} step a2 {x}\nsession b step b1 {x}\nsession c step c1 {x} step c2 {x}"
    )
    assert count(spec) == len(list(permutations(spec))) == 30
