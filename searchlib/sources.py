"""Sources: reading files from disk into documents for the file index the CLI builds.

Supported files:

- ``.txt`` — a first line ``date YYYY-MM-DD Title`` (the seed format) gives ``date`` (a
  DATETIME, so ``date:2024-07`` finds it; a date that does not exist is an error) and
  ``title`` and the rest is ``body``; otherwise the whole text is ``body``.
- ``.md`` — a first line ``# Title`` gives ``title``; the whole text is ``body``.
- ``.jsonl`` — one JSON object a line; its keys become fields (strings are searchable
  text, other values are stored). An ``id`` (or ``_id``) key names the document.

Every document gets ``path`` (its unique id: the absolute file path, plus ``#id`` or
``#line`` for JSON lines) and ``source`` (the absolute file path), so re-indexing a file
replaces exactly the documents it produced before.

Walking a directory skips what is not the user's documents: hidden folders (``.git``
among them), ``node_modules`` and virtualenvs (a folder holding ``pyvenv.cfg``), unless
asked not to, and whatever matches an ``exclude`` glob.

Problems never stop a batch: a file that cannot be read, a line that is not JSON, or a
file that is not valid UTF-8 (read with replacement characters) becomes a
:class:`Problem` naming the file (and line), and the other files are read as usual.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

from searchlib.schema import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Field, Schema

SUPPORTED_SUFFIXES = (".txt", ".md", ".jsonl")
_DATED_FIRST_LINE = re.compile(r"^[ \t]*date[ \t]+(\d{4}-\d{2}-\d{2})[ \t]+(.*\S)[ \t]*$")
_MARKDOWN_TITLE = re.compile(r"^#[ \t]+(.*\S)[ \t]*$")


def file_schema() -> Schema:
    """The schema of an index of files: the fields every file document may have."""
    return Schema(
        path=ID(),
        source=KEYWORD(),
        title=TEXT(boost=1.0),
        date=DATETIME(),
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


#: Folders a walk skips by default besides hidden ones: they hold tools' files, not documents.
SKIPPED_FOLDERS = frozenset({"node_modules"})


def is_skipped_folder(path: Path) -> bool:
    """Whether a walk skips folder ``path`` by default: hidden (``.git``, ``.venv``, ...),
    ``node_modules``, or a virtualenv under any name (it holds ``pyvenv.cfg``)."""
    return path.name.startswith(".") or path.name in SKIPPED_FOLDERS or (path / "pyvenv.cfg").is_file()


def _excluded(relative: str, exclude: Collection[str]) -> bool:
    """Whether a path (relative to the folder walked, with ``/``) matches a glob of
    ``exclude``, by its whole relative path or by its name alone (``*.log``, ``build``,
    ``docs/drafts/*``)."""
    name = PurePosixPath(relative).name
    return any(fnmatchcase(relative, glob) or fnmatchcase(name, glob) for glob in exclude)


def _dangling(path: Path) -> Problem:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return Problem(str(path), f"dangling symbolic link (its target {target} does not exist)")


def find_files(
    paths: Iterable[str | os.PathLike[str]], *, exclude: Collection[str] = (), skip_default: bool = True
) -> Iterator[Path | Problem]:
    """Expand files and directories (recursively) into supported files, in sorted order,
    with a :class:`Problem` for each path that does not exist, each dangling symbolic
    link and each directory that cannot be listed.

    A path given by name is read whatever its name; inside a directory, folders
    :func:`is_skipped_folder` names are skipped (unless ``skip_default`` is false), and
    files and folders matching a glob of ``exclude`` (see :func:`_excluded`)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path, exclude, skip_default)
        elif path.is_file():
            if _excluded(path.name, exclude):
                continue
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path
            else:
                yield Problem(str(path), f"unsupported file type; expected one of {', '.join(SUPPORTED_SUFFIXES)}")
        elif path.is_symlink():
            yield _dangling(path)
        else:
            yield Problem(str(path), "no such file or directory")


def _walk(root: Path, exclude: Collection[str], skip_default: bool) -> Iterator[Path | Problem]:
    """The supported files under ``root`` and the problems met, in sorted order. Linked
    folders are followed, each real folder once (a link to a parent would loop)."""
    found: list[Path | Problem] = []
    seen: set[str] = set()

    def unlistable(exc: OSError) -> None:
        found.append(Problem(str(exc.filename or root), f"cannot list directory ({exc.strerror or exc})"))

    for folder, dirnames, filenames in os.walk(root, onerror=unlistable, followlinks=True):
        here = Path(folder)
        real = os.path.realpath(folder)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        kept = []
        for name in dirnames:
            child = here / name
            relative = child.relative_to(root).as_posix()
            if (skip_default and is_skipped_folder(child)) or _excluded(relative, exclude):
                continue
            kept.append(name)
        dirnames[:] = sorted(kept)
        for name in filenames:
            child = here / name
            if _excluded(child.relative_to(root).as_posix(), exclude):
                continue
            if child.is_symlink() and not child.exists():
                found.append(_dangling(child))
            elif child.suffix.lower() in SUPPORTED_SUFFIXES and child.is_file():
                found.append(child)
    yield from sorted(found, key=lambda item: str(item.location if isinstance(item, Problem) else item))


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
        try:
            documents = [_plain_text(absolute, text)]
        except ValueError as exc:
            problems.append(Problem(str(path), str(exc)))
            documents = []
    return SourceFile(absolute, documents, problems)


def _plain_text(absolute: str, text: str) -> dict[str, Any]:
    """The document of a ``.txt`` file; a ValueError when its first line gives a date
    that does not exist (the file would otherwise be found under no date at all)."""
    first_line, _, rest = text.partition("\n")
    dated = _DATED_FIRST_LINE.match(first_line.rstrip("\r"))
    document: dict[str, Any] = {"path": absolute, "source": absolute}
    if dated:
        try:
            dt.date.fromisoformat(dated.group(1))
        except ValueError:
            raise ValueError(f"the first line's date {dated.group(1)} does not exist; "
                             "write it as a real date, YYYY-MM-DD") from None
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
