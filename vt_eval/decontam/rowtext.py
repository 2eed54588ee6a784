"""The audited text of one parsed row: every string-bearing value, parsed so nothing is hidden.

`parse_json` reads a JSON value strictly: a duplicate key anywhere (which `json.loads` would
resolve silently by keeping the last), a number too long to convert, nesting deeper than the
parser can follow, or anything else it cannot read raises `RowProblem` with the skip reason.
`row_text` collects every string of a row (object keys, values, Parquet `binary` values decoded
strictly as UTF-8, Parquet map keys and values), each as its own segment, iteratively (no depth
limit), and rejects strings holding lone surrogates (a `\\ud800` escape) that UTF-8 cannot carry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

Segments = tuple[tuple[str, int, int], ...]  # (field path, start, end) in the joined text

_SURROGATE = re.compile("[\ud800-\udfff]")


class RowProblem(Exception):
    """A row that cannot be audited: `reason` is its skip reason, `detail` says why."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class _DuplicateKeys(dict):  # type: ignore[type-arg]
    """An object with a repeated key (kept to report it; the row is never audited)."""

    def __init__(self, pairs: list[tuple[str, Any]], key: str) -> None:
        super().__init__(pairs)
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) == len(pairs):
        return value
    seen: set[str] = set()
    repeated = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
    return _DuplicateKeys(pairs, repeated)


_DECODER = json.JSONDecoder(object_pairs_hook=_object)  # one decoder: json.loads builds one per call


def parse_json(text: str | bytes) -> Any:
    """One JSON value; RowProblem if it cannot be read exactly (duplicate keys are found later,
    by `row_text`, so a JSON array file can skip only the offending row)."""
    try:
        if isinstance(text, str):
            return _DECODER.decode(text)
        return json.loads(text, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        raise RowProblem("invalid_json", str(exc)) from exc
    except RecursionError as exc:
        raise RowProblem("too_deep", "nesting deeper than the JSON parser can follow") from exc
    except ValueError as exc:  # e.g. an integer longer than int() converts
        raise RowProblem("unparseable_value", str(exc)[:200]) from exc


def _text(value: Any, path: str) -> str | None:
    """The text of a scalar (None: not text). Raises RowProblem for text that cannot be audited."""
    if isinstance(value, str):
        if not value.isascii() and _SURROGATE.search(value):
            raise RowProblem("invalid_unicode", f"{path or 'value'}: a lone surrogate (not encodable "
                                                f"as UTF-8)")
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RowProblem("invalid_utf8", f"{path or 'value'}: binary value is not UTF-8 "
                                             f"({exc.reason} at byte {exc.start})") from exc
    return None


def _is_map(value: Any) -> bool:
    """A Parquet map as pyarrow gives it: a list of (key, value) tuples."""
    return isinstance(value, list) and bool(value) and all(
        isinstance(e, tuple) and len(e) == 2 for e in value)


def flatten(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, text) for every string inside `value`, keys included, depth first. A key's
    path is the value's path with ` (key)`."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, current = stack.pop()
        if isinstance(current, _DuplicateKeys):
            raise RowProblem("duplicate_key", f"{where or 'row'}: key {current.key!r} appears twice")
        if isinstance(current, dict):
            children = [(f"{where}.{k}" if where else str(k), k, v) for k, v in current.items()]
        elif _is_map(current):
            children = [(f"{where}[{i}]", k, v) for i, (k, v) in enumerate(current)]
        elif isinstance(current, (list, tuple)):
            stack.extend((f"{where}[{i}]", v) for i, v in reversed(list(enumerate(current))))
            continue
        else:
            text = _text(current, where)
            if text is not None:
                yield where, text
            continue
        for child, key, sub in reversed(children):
            stack.append((child, sub))
            stack.append((f"{child} (key)", key))


_RECURSION = 64  # deeper than this, `collect` hands the subtree to the iterative `flatten`


def _plain(value: Any) -> bool:
    """A str that needs no further check (ASCII, or no surrogate in it)."""
    return type(value) is str and (value.isascii() or not _SURROGATE.search(value))


_NO_TEXT = (int, float, bool, type(None))


def collect(value: Any, where: str, out: list[tuple[str, str]], depth: int = 0) -> None:
    """`flatten` into `out`, recursively, strings and scalars handled inline (the common shallow
    rows, ~2x faster than the generator); anything unusual goes through `flatten`."""
    kind = type(value)
    if _plain(value):
        out.append((where, value))
    elif kind in _NO_TEXT:
        return
    elif depth > _RECURSION or kind not in (dict, list) or (kind is list and _is_map(value)):
        out.extend(flatten(value, where))  # deep, maps, tuples, bytes, duplicate keys, bad text
    elif kind is dict:
        for key, sub in value.items():
            child = f"{where}.{key}" if where else str(key)
            if _plain(key):
                out.append((child + " (key)", key))
            else:
                collect(key, child + " (key)", out, depth + 1)
            if _plain(sub):
                out.append((child, sub))
            elif type(sub) not in _NO_TEXT:
                collect(sub, child, out, depth + 1)
    else:
        for i, sub in enumerate(value):
            if _plain(sub):
                out.append((f"{where}[{i}]", sub))
            elif type(sub) not in _NO_TEXT:
                collect(sub, f"{where}[{i}]", out, depth + 1)


def _resolve(row: dict[str, Any], field: str) -> tuple[bool, Any]:
    value: Any = row
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


_TEXTUAL = (str, bytes, bytearray, memoryview, dict, list, tuple)


def _non_text(value: Any, field: str) -> str | None:
    """Why a requested field's value is not auditable text (None: it is)."""
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return None
    if not isinstance(value, _TEXTUAL):
        return f"{field} is {type(value).__name__}, not a string"
    if isinstance(value, list) and not _is_map(value):
        for i, sub in enumerate(value):
            if not isinstance(sub, _TEXTUAL):
                return f"{field}[{i}] is {type(sub).__name__}, not a string"
    if next(flatten(value, field), None) is None:
        return f"{field} holds no string"
    return None


def row_text(row: dict[str, Any], fields: tuple[str, ...] | None) -> tuple[str, Segments]:
    """The audited text of a row (segments joined by newlines). Raises RowProblem when it cannot
    be audited: a requested field missing or not text, no string at all, a duplicate key, text
    that is not valid Unicode."""
    parts: list[tuple[str, str]] = []
    collect(row, "", parts)  # also: a duplicate key or bad text anywhere makes the row unreadable
    if fields is None and not parts:
        raise RowProblem("no_text", "no string value in the row")
    if fields is not None:
        parts = []
    for field in fields or ():
        found, value = _resolve(row, field)
        if not found:
            raise RowProblem("missing_text_field", ", ".join(sorted(map(str, row))))
        problem = _non_text(value, field)
        if problem:
            raise RowProblem("non_string_text_field", problem)
        parts.extend(flatten(value, field))
    segments, pieces, offset = [], [], 0
    for path, text in parts:
        segments.append((path, offset, offset + len(text)))
        pieces.append(text)
        offset += len(text) + 1
    return "\n".join(pieces), tuple(segments)
