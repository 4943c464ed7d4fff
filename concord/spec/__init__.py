"""`concord spec`: PostgreSQL's isolation test specs, run with isolationtester's semantics.

`parse` / `parse_file` read the spec language, `permutations` lists what a spec runs,
`run_specs` runs parsed specs on a server (each in a database of its own) and returns their
output byte for byte as isolationtester prints it, compared with expected files when given.
"""

from concord.spec.model import Blocker, Permutation, PermutationStep, Session, Spec, SpecError, Step
from concord.spec.parser import parse, parse_file
from concord.spec.permutations import permutations
from concord.spec.suite import PlannedSpec, SpecOutcome, default_step_timeout, plan, run_specs
from concord.spec.writer import write_spec

__all__ = [
    "Blocker",
    "Permutation",
    "PermutationStep",
    "PlannedSpec",
    "Session",
    "Spec",
    "SpecError",
    "SpecOutcome",
    "Step",
    "default_step_timeout",
    "parse",
    "parse_file",
    "permutations",
    "plan",
    "run_specs",
    "write_spec",
]
