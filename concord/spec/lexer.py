"""Tokens of the spec language, as isolationtester's scanner (specscanner.l) cuts them.

Two details matter for identical output: an SQL block ends at the first ``}`` (there is no
nesting and no quoting inside it), and only blanks (space, tab, CR, FF), not newlines, are
trimmed at its two ends, so a step written over several lines is printed with its newlines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from concord.spec.model import SpecError

KEYWORDS = frozenset({"notices", "permutation", "session", "setup", "step", "teardown"})

# Bytes 0x80-0xFF count as identifier characters in the C scanner; any non-ASCII character here.
IDENTIFIER = re.compile(r"[A-Za-z_\u0080-\U0010ffff][A-Za-z_0-9$\u0080-\U0010ffff]*")
_BLANKS = re.compile(r"[ \t\r\f]*")
_COMMENT = re.compile(r"#[^\n\r]*")
_DIGITS = re.compile(r"[0-9]+")
_SQL_END = re.compile(r"[ \t\r\f]*\}")


def _end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where ``pattern``, which matches at ``pos`` (blanks: maybe none; a comment: its ``#``), ends."""
    match = pattern.match(text, pos)
    assert match is not None
    return match.end()


@dataclass(frozen=True)
class Token:
    kind: str  # a keyword, "identifier", "sql", "integer", one of ",()*", or "end"
    value: str
    line: int


def tokenize(text: str, path: str) -> list[Token]:
    """Cut ``text`` into tokens; raise `SpecError` (with the line) where the scanner would stop."""
    tokens: list[Token] = []
    pos, line = 0, 1
    while pos < len(text):
        char = text[pos]
        if char == "\n":
            pos, line = pos + 1, line + 1
        elif char in " \t\r\f":
            pos += 1
        elif char == "#":
            pos = _end(_COMMENT, text, pos)
        elif char == '"':
            value, pos = _quoted(text, pos + 1, path, line)
            tokens.append(Token("identifier", value, line))
        elif char == "{":
            start = line
            value, pos, line = _sql_block(text, _end(_BLANKS, text, pos + 1), path, line)
            tokens.append(Token("sql", value, start))
        elif match := IDENTIFIER.match(text, pos):
            word = match.group()
            tokens.append(Token(word if word in KEYWORDS else "identifier", word, line))
            pos = match.end()
        elif match := _DIGITS.match(text, pos):
            tokens.append(Token("integer", match.group(), line))
            pos = match.end()
        elif char in ",()*":
            tokens.append(Token(char, char, line))
            pos += 1
        else:
            raise SpecError(path, line, f'syntax error: unexpected character "{char}"')
    tokens.append(Token("end", "", line))
    return tokens


def _quoted(text: str, pos: int, path: str, line: int) -> tuple[str, int]:
    chars: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == '"':
            if text.startswith('""', pos):
                chars.append('"')
                pos += 2
                continue
            return "".join(chars), pos + 1
        if char == "\n":
            raise SpecError(path, line, "unexpected newline in quoted identifier")
        chars.append(char)
        pos += 1
    raise SpecError(path, line, "unterminated quoted identifier")


def _sql_block(text: str, pos: int, path: str, line: int) -> tuple[str, int, int]:
    start, first_line = pos, line
    while pos < len(text):
        if end := _SQL_END.match(text, pos):
            return text[start:pos], end.end(), line
        if text[pos] == "\n":
            line += 1
        pos += 1
    raise SpecError(path, first_line, "unterminated sql block")
