"""The engines ``benchmarks/run.py`` compares, behind one small interface.

Each engine module defines one :class:`Engine` subclass. An engine builds its index at
``path`` from the whole corpus (``build``, timed), opens it from disk again for
searching (``open``, untimed), answers ``search(words, k)`` with ranked
``(document id, score)`` pairs and reports its on-disk ``size``. The modules are imported
only by name (:func:`load_engine`), so a worker process imports just the engine it runs.

What every engine is configured to do, as far as it allows:

- index ``title`` and ``text`` (two fields, or one concatenated text where the engine has
  no fields), keep positions, and store only ``id`` (what a search returns), so that
  index sizes compare the same stored content;
- lowercase, drop English stop words, stem with Porter;
- rank with BM25, k1=1.2 and b=0.75, matching any of the query's words (OR);
- index with ``threads`` threads where the engine takes a thread count
  (:attr:`Engine.threaded`), else with one.

``notes`` on each class says where an engine differs.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import shutil
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from bench_data import Doc, directory_size

K1 = 1.2
B = 0.75

Hits = list[tuple[str, float]]

#: Engine key (as given to ``--engines``) -> "module:Class" under this package.
ENGINES: dict[str, str] = {
    "searchlib": "searchlib:Searchlib",
    "whoosh": "whoosh:Whoosh",
    "tantivy": "tantivy:Tantivy",
    "fts5": "fts5:Fts5",
    "bm25s": "bm25s:Bm25s",
}

#: The engine the others are compared with (ratios are engine / reference).
REFERENCE = "searchlib"


class Engine(ABC):
    """One search engine under test. Subclasses fill in the class attributes."""

    #: Row label in the results.
    label: ClassVar[str]
    #: Distribution whose version is reported (see :meth:`version`).
    package: ClassVar[str]
    #: Fields, analysis, ranking and threads, where they differ from the common setup.
    notes: ClassVar[dict[str, str]]
    #: Whether the engine indexes with a given number of threads; ``run.py`` runs such
    #: an engine once per ``--threads`` count and the others once.
    threaded: ClassVar[bool] = False

    def __init__(self, path: Path, threads: int = 1) -> None:
        if threads != 1 and not self.threaded:
            raise ValueError(f"{self.label} takes no thread count")
        self.path = path
        self.threads = threads

    def fresh_directory(self) -> None:
        """Remove what a previous run left at ``path`` and create it empty."""
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)

    @abstractmethod
    def build(self, docs: Sequence[Doc]) -> None:
        """Index every document and persist the index at ``path`` (the timed step)."""

    @abstractmethod
    def open(self) -> None:
        """Open the index at ``path`` for searching."""

    @abstractmethod
    def search(self, words: Sequence[str], k: int) -> Hits:
        """The ``k`` best documents for ``words`` combined with OR, best first."""

    def close(self) -> None:
        """Release what :meth:`open` acquired."""

    def size(self) -> int:
        """Bytes the index takes on disk."""
        return directory_size(self.path)

    @classmethod
    def version(cls) -> str:
        return importlib.metadata.version(cls.package)


def load_engine(key: str) -> type[Engine]:
    """Import the engine registered under ``key`` and return its class."""
    try:
        module_name, class_name = ENGINES[key].split(":")
    except KeyError:
        raise ValueError(f"unknown engine {key!r}; choose from {', '.join(ENGINES)}") from None
    module = importlib.import_module(f"engines.{module_name}")
    engine: type[Engine] = getattr(module, class_name)
    return engine
