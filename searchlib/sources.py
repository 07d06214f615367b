"""Sources: reading files from disk into documents for the file index the CLI builds.

Supported files:

- ``.txt`` — a first line ``date YYYY-MM-DD Title`` (the seed format) gives ``date`` and
  ``title`` and the rest is ``body``; otherwise the whole text is ``body``.
- ``.md`` — a first line ``# Title`` gives ``title``; the whole text is ``body``.
- ``.jsonl`` — one JSON object a line; its keys become fields (strings are searchable
  text, other values are stored). An ``id`` (or ``_id``) key names the document.

Every document gets ``path`` (its unique id: the absolute file path, plus ``#id`` or
``#line`` for JSON lines) and ``source`` (the absolute file path), so re-indexing a file
replaces exactly the documents it produced before.

Problems never stop a batch: a file that cannot be read, a line that is not JSON, or a
file that is not valid UTF-8 (read with replacement characters) becomes a
:class:`Problem` naming the file (and line), and the other files are read as usual.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from searchlib.schema import BOOLEAN, ID, KEYWORD, NUMERIC, STORED, TEXT, Field, Schema

SUPPORTED_SUFFIXES = (".txt", ".md", ".jsonl")
_DATED_FIRST_LINE = re.compile(r"^[ \t]*date[ \t]+(\d{4}-\d{2}-\d{2})[ \t]+(.*\S)[ \t]*$")
_MARKDOWN_TITLE = re.compile(r"^#[ \t]+(.*\S)[ \t]*$")


def file_schema() -> Schema:
    """The schema of an index of files: the fields every file document may have."""
    return Schema(
        path=ID(),
        source=KEYWORD(),
        title=TEXT(boost=1.0),
        date=KEYWORD(),
        body=TEXT(),
    )


@dataclass(frozen=True)
class Problem:
    """Something wrong with one input; ``is_error`` if it was not indexed."""

    location: str
    message: str
    is_error: bool = True

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class SourceFile:
    """One file's documents and what went wrong while reading it."""

    path: str
    documents: list[dict[str, Any]]
    problems: list[Problem]


def find_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path | Problem]:
    """Expand files and directories (recursively) into supported files, in sorted order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                found = sorted(
                    p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                )
            except OSError as exc:
                yield Problem(str(path), f"cannot list directory ({exc.strerror or exc})")
                continue
            yield from found
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path
            else:
                yield Problem(str(path), f"unsupported file type; expected one of {', '.join(SUPPORTED_SUFFIXES)}")
        else:
            yield Problem(str(path), "no such file or directory")


def read_source(path: Path) -> SourceFile:
    """Read one supported file into documents."""
    absolute = str(path.resolve())
    problems: list[Problem] = []
    try:
        data = path.read_bytes()
    except OSError as exc:
        return SourceFile(absolute, [], [Problem(str(path), f"cannot read ({exc.strerror or exc})")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        problems.append(
            Problem(str(path), f"not valid UTF-8 (first bad byte at {exc.start}); "
                    "indexed with replacement characters", is_error=False)
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        documents = list(_json_lines(absolute, str(path), text, problems))
    elif suffix == ".md":
        documents = [_markdown(absolute, text)]
    else:
        documents = [_plain_text(absolute, text)]
    return SourceFile(absolute, documents, problems)


def _plain_text(absolute: str, text: str) -> dict[str, Any]:
    first_line, _, rest = text.partition("\n")
    dated = _DATED_FIRST_LINE.match(first_line.rstrip("\r"))
    document: dict[str, Any] = {"path": absolute, "source": absolute}
    if dated:
        document.update(date=dated.group(1), title=dated.group(2), body=rest.strip())
    else:
        document["body"] = text.strip()
    return document


def _markdown(absolute: str, text: str) -> dict[str, Any]:
    document: dict[str, Any] = {"path": absolute, "source": absolute, "body": text.strip()}
    titled = _MARKDOWN_TITLE.match(text.partition("\n")[0].rstrip("\r"))
    if titled:
        document["title"] = titled.group(1)
    return document


def _json_lines(absolute: str, shown: str, text: str, problems: list[Problem]) -> Iterator[dict[str, Any]]:
    # Only "\n" ends a line: U+2028 and friends may stand unescaped inside JSON strings.
    for line_number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        location = f"{shown}:{line_number}"
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            problems.append(Problem(location, f"not valid JSON ({getattr(exc, 'msg', exc)})"))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(location, f"expected a JSON object, got {type(record).__name__}"))
            continue
        document: dict[str, Any] = {}
        for key, value in record.items():
            name = "id" if key == "_id" else key
            if name in ("path", "source") or not name or name.startswith("_"):
                problems.append(Problem(location, f"key {key!r} is reserved or invalid; skipped", is_error=False))
                continue
            document[name] = str(value) if name == "id" and isinstance(value, int) else value
        key_value = document.get("id")
        suffix = str(key_value) if isinstance(key_value, (str, int)) else str(line_number)
        document.update(path=f"{absolute}#{suffix}", source=absolute)
        yield document


def field_for_value(name: str, value: Any) -> Field:
    """The field a new JSON key gets: ``id`` is a keyword, strings are text, numbers are
    NUMERIC and booleans BOOLEAN (so ranges and ``--sort`` work on them), a non-empty
    list of strings a multi-valued KEYWORD (tags: filters and ``--facet`` work on it),
    others stored."""
    if name == "id" or (isinstance(value, list) and value and all(isinstance(item, str) for item in value)):
        return KEYWORD()
    if isinstance(value, bool):
        return BOOLEAN()
    if isinstance(value, (int, float)) and math.isfinite(value):
        return NUMERIC("float")
    return TEXT() if isinstance(value, str) else STORED()
