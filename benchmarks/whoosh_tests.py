"""Run a selection of Whoosh's own test functions against searchlib.compat.whoosh.

Whoosh's tests ship in its source distribution, not in the installed package. Get them
once with the ordinary client (nothing is fetched when this script runs)::

    pip download whoosh==2.7.4 --no-binary :all: --no-deps -d /tmp/whoosh-sdist
    python benchmarks/whoosh_tests.py /tmp/whoosh-sdist/Whoosh-2.7.4.zip   # or the unpacked tests/ folder

Each chosen test module is run with its imports changed and nothing else: ``whoosh.X``
becomes ``searchlib.compat.whoosh.X``, except ``whoosh.compat`` (Whoosh's Python 2/3
helpers such as ``u`` and ``xrange``, not its search API), which stays Whoosh's. Whoosh's
test helpers (``TempIndex``, ``RamStorage().create_index``) are given here as a
searchlib index in a temporary directory. A name the compatibility layer lacks is
stood in for by a placeholder that raises ``Unsupported`` naming it when used, so the
tests that need it fail with that reason and the others still run.

It prints how many pass, and for each failing test why (the exception and its first
line), grouped by reason; ``--json`` writes the same as data.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import json
import re
import shutil
import signal
import sys
import tempfile
import types
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: The test modules chosen: those exercising the API the compatibility layer provides
#: (indexing, writing, searching, results).
MODULES = ("test_searching", "test_results", "test_writing", "test_indexing")
PREFIX = "searchlib.compat.whoosh"
SECONDS_PER_TEST = 30


class _Placeholder:
    """Stands in for a Whoosh name the compatibility layer lacks: any use raises."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        from searchlib.compat.whoosh import Unsupported

        raise Unsupported(f"whoosh.{self._name}")

    __call__ = _refuse

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Placeholder(f"{self._name}.{attribute}")


class _StubModule(types.ModuleType):
    """A Whoosh module the compatibility layer does not have: its names are placeholders."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(f"{self.__name__[len(PREFIX) + 1:]}.{name}")


class _StubFinder:
    """Makes ``searchlib.compat.whoosh.X`` importable for every X, a stub where missing."""

    @staticmethod
    def find_spec(fullname: str, path: Any, target: Any = None) -> Any:
        if not fullname.startswith(PREFIX + "."):
            return None
        import importlib.machinery

        for finder in sys.meta_path:
            if finder is _StubFinder:
                continue
            spec = getattr(finder, "find_spec", lambda *a: None)(fullname, path, target)
            if spec is not None:
                return None  # the real module
        return importlib.machinery.ModuleSpec(fullname, _StubLoader(), is_package=True)


class _StubLoader:
    @staticmethod
    def create_module(spec: Any) -> types.ModuleType:
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    @staticmethod
    def exec_module(module: types.ModuleType) -> None:
        pass


def _install_helpers() -> None:
    """Whoosh's test helpers, as searchlib indexes in temporary directories."""
    from searchlib.compat.whoosh import index

    @contextlib.contextmanager
    def temp_index(schema: Any, basename: str = "", parentdir: Any = None, **options: Any) -> Iterator[Any]:
        folder = tempfile.mkdtemp(prefix="whoosh-test-")
        try:
            yield index.create_in(folder, schema)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    class RamStorage:
        def create_index(self, schema: Any, indexname: str | None = None, **options: Any) -> Any:
            return index.create_in(tempfile.mkdtemp(prefix="whoosh-test-"), schema, indexname)

    testing = importlib.import_module(f"{PREFIX}.util.testing")
    testing.TempIndex = temp_index  # type: ignore[attr-defined]
    filestore = importlib.import_module(f"{PREFIX}.filedb.filestore")
    filestore.RamStorage = RamStorage  # type: ignore[attr-defined]


def _rewrite(source: str) -> str:
    """The module with its imports of Whoosh changed to the compatibility layer's."""
    def change(match: re.Match[str]) -> str:
        module = match.group(2)
        if module == "whoosh.compat" or module.startswith("whoosh.compat."):
            return match.group(0)
        return match.group(1) + PREFIX + module[len("whoosh"):]
    return re.sub(r"^(\s*(?:from|import)\s+)(whoosh(?:\.[\w.]+)?)", change, source, flags=re.MULTILINE)


def _load(name: str, source: str) -> types.ModuleType:
    """Execute a test module; a name missing from a compat module becomes a placeholder."""
    rewritten = _rewrite(source)
    for _ in range(50):
        module = types.ModuleType(name)
        try:
            exec(compile(rewritten, f"{name}.py", "exec"), module.__dict__)  # noqa: S102
            return module
        except ImportError as exc:
            found = re.search(r"cannot import name '(\w+)' from '([\w.]+)'", str(exc))
            if found is None:
                raise
            target = sys.modules[found.group(2)]
            setattr(target, found.group(1), _Placeholder(f"{found.group(2)[len(PREFIX) + 1:]}.{found.group(1)}"))
    raise RuntimeError(f"{name}: too many missing names")


def _sources(location: Path) -> dict[str, str]:
    if location.suffix == ".zip":
        with zipfile.ZipFile(location) as archive:
            return {Path(n).stem: archive.read(n).decode("utf-8") for n in archive.namelist()
                    if re.search(r"/tests/test_\w+\.py$", n)}
    folder = location / "tests" if (location / "tests").is_dir() else location
    return {path.stem: path.read_text("utf-8") for path in folder.glob("test_*.py")}


class _Timeout(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout(f"took more than {SECONDS_PER_TEST} s")


def run(location: Path) -> list[dict[str, str]]:
    sys.meta_path.insert(0, _StubFinder)  # type: ignore[arg-type]
    _install_helpers()
    sources = _sources(location)
    outcomes: list[dict[str, str]] = []
    signal.signal(signal.SIGALRM, _on_alarm)
    for name in MODULES:
        if name not in sources:
            raise SystemExit(f"{location} has no {name}.py; give Whoosh's sdist or its tests/ folder")
        module = _load(name, sources[name])
        for function_name, function in sorted(vars(module).items()):
            if not (function_name.startswith("test") and inspect.isfunction(function)):
                continue
            if function.__module__ != name and getattr(function, "__code__", None) is None:
                continue
            if inspect.signature(function).parameters:
                outcomes.append({"test": f"{name}.{function_name}", "outcome": "skipped", "why": "takes fixtures"})
                continue
            signal.alarm(SECONDS_PER_TEST)
            try:
                function()
                outcome, why = "passed", ""
            except BaseException as exc:  # noqa: BLE001 - any failure is reported, the run goes on
                if isinstance(exc, KeyboardInterrupt):
                    raise
                first = (str(exc).splitlines() or [""])[0][:160]
                outcome, why = "failed", f"{type(exc).__name__}: {first}"
            finally:
                signal.alarm(0)
            outcomes.append({"test": f"{name}.{function_name}", "outcome": outcome, "why": why})
    return outcomes


def _reason_group(why: str) -> str:
    """A failure's reason without the specifics, to count tests by reason."""
    if why.startswith("Unsupported"):
        return why
    if why.startswith("AssertionError"):
        return "AssertionError (a different result)"
    return why.split(":")[0] + ": " + re.sub(r"'[^']*'|\d+", "…", why.partition(": ")[2])[:80]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("location", type=Path, help="Whoosh's sdist (.zip) or its unpacked folder or tests/ folder")
    parser.add_argument("--json", dest="json_file", type=Path, default=None, help="Also write the outcomes as JSON.")
    args = parser.parse_args()
    outcomes = run(args.location)
    ran = [o for o in outcomes if o["outcome"] != "skipped"]
    passed = [o for o in ran if o["outcome"] == "passed"]
    print(f"{len(passed)} of {len(ran)} Whoosh test functions pass on searchlib.compat.whoosh "
          f"({len(outcomes) - len(ran)} skipped); modules: {', '.join(MODULES)}")
    print("\nfailures by reason:")
    for reason, count in Counter(_reason_group(o["why"]) for o in ran if o["outcome"] == "failed").most_common():
        print(f"  {count:>3}  {reason}")
    print("\neach test:")
    for outcome in outcomes:
        print(f"  {outcome['outcome']:<7} {outcome['test']}" + (f"  -- {outcome['why']}" if outcome["why"] else ""))
    if args.json_file is not None:
        args.json_file.write_text(json.dumps(outcomes, indent=2))


if __name__ == "__main__":
    main()
