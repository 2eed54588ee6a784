"""Load a benchmark's items: from a user path, the shipped snapshot, or Hugging Face (in that order).

Every row is checked; a bad row is reported by file and row id and either skipped (listed in the
results) or fatal, as the card says. Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
import json
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vt_eval.cards import Card
from vt_eval.errors import DataError
from vt_eval.util import sha256_bytes

SourceKind = Literal["user-path", "snapshot", "huggingface"]


@dataclass(frozen=True)
class Item:
    """One benchmark problem. `row` keeps every original column for graders that need more."""

    id: str
    question: str
    answer: str
    row: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class RowProblem:
    file: str
    row: str  # row id when known, else "line N" / "row N"
    reason: str
    action: Literal["skipped", "fatal"]

    def __str__(self) -> str:
        return f"{self.file} [{self.row}]: {self.reason} ({self.action})"


@dataclass(frozen=True)
class LoadedBenchmark:
    card: Card
    items: tuple[Item, ...]
    source_kind: SourceKind
    location: str
    sha256: str
    revision: str
    problems: tuple[RowProblem, ...] = ()

    def provenance(self) -> dict[str, Any]:
        return {
            "benchmark": self.card.name,
            "source_kind": self.source_kind,
            "location": self.location,
            "sha256": self.sha256,
            "revision": self.revision,
            "items": len(self.items),
            "row_problems": [str(p) for p in self.problems],
        }


RawRow = tuple[str, dict[str, Any] | None, str | None]  # (row label, row or None, parse error)
RowReader = Callable[[bytes, Card], Iterator[RawRow]]


def utf8_text(data: bytes, strip_bom: bool = False) -> str:
    """Strict UTF-8: a file that is not is refused with the line and byte where it breaks."""
    try:
        return data.decode("utf-8-sig" if strip_bom else "utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(f"not UTF-8 at line {line} (byte {exc.start}: {exc.reason}); re-encode "
                        f"the file as UTF-8") from exc


def _read_jsonl(data: bytes, card: Card) -> Iterator[RawRow]:
    for number, line in enumerate(utf8_text(data).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield f"line {number}", None, f"invalid JSON: {exc.msg} (column {exc.colno})"
            continue
        if not isinstance(row, dict):
            yield f"line {number}", None, "row is not a JSON object"
            continue
        yield f"line {number}", row, None


def _read_csv(data: bytes, card: Card) -> Iterator[RawRow]:
    reader = csv.DictReader(io.StringIO(utf8_text(data, strip_bom=True)))
    for number, row in enumerate(reader, 1):
        if None in row:  # more fields than the header: the row's quoting is broken
            yield f"row {number}", None, f"{len(row[None]) } extra field(s): broken quoting"
            continue
        yield f"row {number}", dict(row), None


def _read_json(data: bytes, card: Card) -> Iterator[RawRow]:
    try:
        rows = json.loads(utf8_text(data))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    if not isinstance(rows, list):
        raise DataError("a .json benchmark file must hold a list of row objects")
    for number, row in enumerate(rows, 1):
        yield f"row {number}", row, None if isinstance(row, dict) else "row is not an object"


def _read_zip(data: bytes, card: Card) -> Iterator[RawRow]:
    """One member of a (possibly password-protected) zip, decrypted in memory, never on disk.
    Card options: `zip_member` (required) and `zip_password`; the member's extension picks the
    row format (csv, jsonl, json)."""
    import zipfile

    member = str(card.options.get("zip_member", ""))
    inner = member.rsplit(".", 1)[-1]
    if inner not in ("csv", "jsonl", "json"):
        raise DataError(f"{card.name}: options.zip_member must name a .csv/.jsonl/.json member "
                        f"(got {member!r})")
    password = card.options.get("zip_password")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            payload = archive.read(member, pwd=str(password).encode() if password else None)
    except KeyError as exc:
        raise DataError(f"{card.name}: the zip has no member {member!r}") from exc
    except RuntimeError as exc:  # zipfile's "Bad password" / "encrypted, password required"
        raise DataError(f"{card.name}: cannot decrypt {member!r}: {exc} (check "
                        f"options.zip_password in the card)") from exc
    except (zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{card.name}: damaged zip or wrong password for {member!r}: {exc}") from exc
    yield from ROW_READERS[inner](payload, card)


ROW_READERS: dict[str, RowReader] = {"jsonl": _read_jsonl, "csv": _read_csv, "json": _read_json,
                                     "zip": _read_zip}


def _row_to_item(card: Card, row: dict[str, Any]) -> tuple[Item | None, str | None]:
    fields = card.fields
    needed = {fields.id, fields.question, fields.answer, *fields.required}
    missing = sorted(k for k in needed if k not in row)
    if missing:
        return None, f"missing column(s) {missing}"
    empty = sorted(k for k in needed if row[k] is None or str(row[k]).strip() == "")
    if empty:
        return None, f"empty column(s) {empty}"
    item_id = str(row[fields.id]).strip()
    return Item(id=item_id, question=str(row[fields.question]), answer=str(row[fields.answer]),
                row=row), None


def parse_items(card: Card, data: bytes, file_label: str) -> tuple[list[Item], list[RowProblem]]:
    """Rows -> items, with every rejected row reported."""
    if card.local.format not in ROW_READERS:
        raise DataError(f"{card.name}: no reader for format '{card.local.format}'")
    action: Literal["skipped", "fatal"] = "skipped" if card.on_malformed == "skip" else "fatal"
    items: list[Item] = []
    problems: list[RowProblem] = []
    seen: set[str] = set()
    try:
        rows = list(ROW_READERS[card.local.format](data, card))
    except (DataError, csv.Error) as exc:
        raise DataError(f"{card.name}: {file_label}: {exc}") from exc
    for label, row, error in rows:
        item, reason = (None, error) if row is None else _row_to_item(card, row)
        row_id = str(row.get(card.fields.id, label)).strip() if row else label
        if item is not None and item.id in seen:
            item, reason = None, f"duplicate id '{item.id}'"
        if item is not None and item.id in card.known_bad:
            item, reason = None, f"known upstream bug: {card.known_bad[item.id]}"
            problems.append(RowProblem(file_label, row_id, reason, "skipped"))
            continue
        if item is None:
            problems.append(RowProblem(file_label, row_id, reason or "invalid row", action))
            continue
        seen.add(item.id)
        items.append(item)
    return items, problems


def _locate(card: Card, data_dir: Path | None, user_path: Path | None) -> tuple[SourceKind, Path] | None:
    if user_path is not None:
        if not user_path.is_file():
            raise DataError(f"{card.name}: data file {user_path} does not exist")
        return "user-path", user_path
    if data_dir is not None:
        relative = Path(card.local.file).relative_to("data") if card.local.file.startswith("data/") \
            else Path(card.local.file)
        for candidate in (data_dir / relative, data_dir / relative.name):
            if candidate.is_file():
                return "user-path", candidate
    if card.local_path.is_file():
        return "snapshot", card.local_path
    return None


def load_benchmark(card: Card, data_dir: Path | None = None, user_path: Path | None = None,
                   allow_download: bool = True) -> LoadedBenchmark:
    """Load and validate a benchmark; raise DataError on fatal row problems."""
    located = _locate(card, data_dir, user_path)
    if located is None:
        if not allow_download:
            name = Path(card.local.file).name
            raise DataError(f"{card.name}: no local copy; pass --data-dir DIR with DIR/{name} "
                            f"(docs/code-suite.md says how to make it), or name it with "
                            f"--benchmarks {card.name} to download "
                            f"{card.source.hf_repo or card.source.repo}@{card.source.revision[:12]}")
        return _load_from_hub(card)
    kind, path = located
    data = path.read_bytes()
    digest = sha256_bytes(data)
    if kind == "snapshot" and digest != card.local.sha256:
        raise DataError(f"{card.name}: shipped snapshot {path} has sha256 {digest}, card says "
                        f"{card.local.sha256}; the installation is corrupt, reinstall vt-eval")
    items, problems = parse_items(card, data, str(path))
    revision = card.source.revision if digest == card.local.sha256 else "unknown (user file)"
    return _finish(card, items, problems, kind, str(path), digest, revision)


def _finish(card: Card, items: list[Item], problems: list[RowProblem], kind: SourceKind,
            location: str, digest: str, revision: str) -> LoadedBenchmark:
    fatal = [p for p in problems if p.action == "fatal"]
    if fatal:
        listing = "\n  ".join(str(p) for p in fatal)
        raise DataError(f"{card.name}: {len(fatal)} malformed row(s); the card says stop:\n  {listing}")
    if not items:
        raise DataError(f"{card.name}: {location} holds no valid items")
    return LoadedBenchmark(card, tuple(items), kind, location, digest, revision, tuple(problems))


def _load_from_hub(card: Card) -> LoadedBenchmark:
    """Last resort: the pinned Hugging Face revision (needs network and `datasets`)."""
    if not card.source.hf_repo:
        raise DataError(f"{card.name}: no local copy found and the card names no Hugging Face repo; "
                        f"pass --data-dir")
    try:
        import datasets  # heavy; only needed here
        dataset = datasets.load_dataset(card.source.hf_repo, card.source.hf_config,
                                        revision=card.source.revision, split=card.source.split)
    except Exception as exc:  # any failure here means "not available", whatever its type
        raise DataError(
            f"{card.name}: no local copy and the download of {card.source.hf_repo}@"
            f"{card.source.revision[:12]} failed ({type(exc).__name__}: {exc}). Offline? "
            f"Pass --data-dir DIR with {card.local.file.removeprefix('data/')} inside."
        ) from exc
    lines = "\n".join(json.dumps(r, sort_keys=True, default=str) for r in dataset)
    data = lines.encode("utf-8")
    jsonl_card = card.model_copy(update={"local": card.local.model_copy(update={"format": "jsonl"})})
    items, problems = parse_items(jsonl_card, data, f"hf://{card.source.hf_repo}")
    return _finish(card, items, problems, "huggingface", f"hf://{card.source.hf_repo}",
                   sha256_bytes(data), card.source.revision)
