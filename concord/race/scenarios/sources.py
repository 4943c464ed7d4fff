"""Finding a scenario that is not built in: by file, by module, or by entry point.

``--scenario`` (and an experiment file's ``scenario``) names a scenario one of four ways:

- a built-in name (``counter``, ``transfer`` ...);
- ``path/to/file.py:NAME`` (the object ``NAME`` in that file) or ``path/to/file.py`` (the module
  itself is the scenario: ``name``, ``invariant`` and the three functions at its top level);
- ``package.module:NAME``, imported from the Python path;
- the name of an entry point an installed package registers in the group ``concord.scenarios``
  (``[project.entry-points."concord.scenarios"] bank = "mypkg.scenarios:bank"``).

Built-in names win over entry points of the same name. A file or module is imported once per
process; what does not load is one `InvalidInput` line (exit 2) saying why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from concord.errors import InvalidInput
from concord.race.scenarios.user.program import Target
from concord.race.scenarios.user.scenario import UserScenario

GROUP = "concord.scenarios"
_loaded: dict[Target, UserScenario] = {}


def is_source(spec: str) -> bool:
    """Whether ``spec`` names a file or a module rather than a scenario by name."""
    left = spec.rpartition(":")[0] if ":" in spec else spec
    return ":" in spec or _is_path(left)


def _is_path(text: str) -> bool:
    return text.endswith(".py") or os.sep in text or Path(text).expanduser().is_dir()


def load_scenario(spec: str) -> UserScenario:
    """The scenario ``spec`` names (file, module or entry point); `InvalidInput` when it cannot."""
    spec = spec.strip()
    if is_source(spec):
        target = parse(spec)
    else:
        entry = find_entry_point(spec)
        if entry is None:
            return unknown(spec)
        target = Target("module", entry.module, entry.attr or None)
    if target not in _loaded:
        _loaded[target] = UserScenario(target.load(), spec, target)
    return _loaded[target]


def parse(spec: str) -> Target:
    """``file.py[:NAME]`` or ``package.module:NAME`` as a `Target` (files by absolute path)."""
    left, colon, attribute = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if colon and not attribute.isidentifier():
        raise InvalidInput(
            f"scenario {spec!r}: after the colon comes the name of an object, not {attribute!r}"
        )
    if _is_path(left):
        return Target("file", str(Path(left).expanduser().absolute()), attribute or None)
    if not all(part.isidentifier() for part in left.split(".")):
        raise InvalidInput(f"scenario {spec!r}: give path/to/file.py:NAME or package.module:NAME")
    return Target("module", left, attribute or None)


def relative_to(spec: str, folder: Path) -> str:
    """A relative file ``spec`` in an experiment file, as a path from ``folder`` (the file's own)."""
    if not is_source(spec):
        return spec
    left = spec.rpartition(":")[0] if ":" in spec else spec
    if not (left.endswith(".py") or os.sep in left) or Path(left).expanduser().is_absolute():
        return spec
    return str(folder / left) + spec[len(left) :]


def entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=GROUP), key=lambda e: e.name)


def find_entry_point(name: str) -> metadata.EntryPoint | None:
    wanted = _key(name)
    return next((e for e in entry_points() if _key(e.name) == wanted), None)


def unknown(name: str) -> UserScenario:
    from concord.race.scenarios import SCENARIOS

    installed = [e.name for e in entry_points() if _key(e.name) not in SCENARIOS]
    raise InvalidInput(
        f"unknown scenario {name!r}: choose one of {', '.join([*SCENARIOS, *installed])}, "
        "or name your own: path/to/file.py:NAME or package.module:NAME"
    )


@dataclass(frozen=True)
class Listed:
    """One line of `concord scenarios`."""

    name: str
    source: str  # "built in", an entry point's "module:attr", or what the user named
    invariant: str
    summary: str = ""
    error: str | None = None  # an installed scenario that does not load says why here


def available() -> list[Listed]:
    """The built-in scenarios, then every installed one (entry points), with their invariants."""
    from concord.race.scenarios import SCENARIOS

    out = [Listed(name, "built in", cls.invariant, cls.summary) for name, cls in SCENARIOS.items()]
    for entry in entry_points():
        if _key(entry.name) in SCENARIOS:
            out.append(
                Listed(entry.name, entry.value, "", error=f"shadowed by the built-in {_key(entry.name)}")
            )
            continue
        try:
            found = load_scenario(entry.name)
        except InvalidInput as exc:
            out.append(Listed(entry.name, entry.value, "", error=exc.message))
            continue
        out.append(Listed(entry.name, entry.value, found.invariant, found.summary))
    return out


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-")
