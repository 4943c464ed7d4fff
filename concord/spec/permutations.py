"""Which permutations a spec runs: its own, or every interleaving in isolationtester's order."""

from __future__ import annotations

from collections.abc import Iterator
from math import comb

from concord.spec.model import PermutationStep, Spec


def permutations(spec: Spec) -> Iterator[tuple[PermutationStep, ...]]:
    """The spec's permutation lines, or, without any, every order that keeps each session's steps in order.

    The generated order is isolationtester's: a depth-first walk that takes the next step of the
    first session that has one left, then of the next session, and so on.
    """
    if spec.permutations:
        for permutation in spec.permutations:
            yield permutation.steps
        return
    piles = [[PermutationStep(step.name) for step in session.steps] for session in spec.sessions]
    yield from _interleavings(piles, [0] * len(piles), [])


def count(spec: Spec) -> int:
    """How many permutations `permutations` yields, without walking them."""
    if spec.permutations:
        return len(spec.permutations)
    total, placed = 1, 0
    for session in spec.sessions:
        # Multinomial coefficient, built one session at a time: choose the new steps' places.
        placed += len(session.steps)
        total *= comb(placed, len(session.steps))
    return total


def _interleavings(
    piles: list[list[PermutationStep]], taken: list[int], chosen: list[PermutationStep]
) -> Iterator[tuple[PermutationStep, ...]]:
    found = False
    for index, pile in enumerate(piles):
        if taken[index] < len(pile):
            found = True
            chosen.append(pile[taken[index]])
            taken[index] += 1
            yield from _interleavings(piles, taken, chosen)
            taken[index] -= 1
            chosen.pop()
    if not found:
        yield tuple(chosen)
