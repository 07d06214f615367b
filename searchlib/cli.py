"""The ``searchlib`` command line: thin wrappers over the public API.

The options are parsed by the standard library's :mod:`argparse`: every ``searchlib
query`` starts a process, and a richer command-line library costs more to import than
the search itself (Click, with the modules it pulls in, was 41 M of the 407 M instructions
a query process ran; argparse is about 9 M).

Exit status: 0 on success, 1 when a query finds no matches, 2 on bad input (a usage
error, a missing index, an unreadable query). Messages go to stderr; results to stdout,
as human-readable text or, with ``--json``, one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from searchlib.errors import IncompatibleFormatError, QueryError, SearchlibError
from searchlib.similarities import SIMILARITIES

DEFAULT_INDEX = "index"
DEFAULT_SEEDS = "seeds"
#: The file that makes a directory a sharded index (``searchlib.distributed.manifest``'s
#: MANIFEST_NAME): looked for here, so that a query of one index imports nothing of it.
SHARDS_MANIFEST = "shards.json"


def _is_sharded(path: str) -> bool:
    return os.path.isfile(os.path.join(path, SHARDS_MANIFEST))


def _echo(text: str = "", *, err: bool = False) -> None:
    """Print a line to stdout, or to stderr with ``err``."""
    print(text, file=sys.stderr if err else sys.stdout)


def _fail(message: str, status: int = 2) -> NoReturn:
    _echo(f"searchlib: {message}", err=True)
    sys.exit(status)


class UsageError(Exception):
    """Arguments that parse but do not go together: reported with the command's usage,
    exit status 2, as argparse reports arguments it cannot parse."""


def _fail_on_index(exc: SearchlibError | OSError, index_dir: str, *, is_default: bool = False) -> NoReturn:
    """Fail with ``exc``'s message, saying how to get a readable index again when an
    older searchlib wrote the index: it cannot be upgraded in place, and a stale
    default index would otherwise block ``searchlib query``."""
    if not isinstance(exc, IncompatibleFormatError) or exc.is_newer:
        _fail(str(exc))  # a newer searchlib's index is fine: the message says to upgrade
    if is_default and os.path.isdir(DEFAULT_SEEDS):
        how = f"delete {index_dir}/ and run the query again, which rebuilds it from {DEFAULT_SEEDS}/"
    else:
        how = (f"move {index_dir} aside (or delete it), then index the documents again with "
               f"searchlib index PATH... --index {index_dir}")
    _fail(f"{exc}: {how}")  # the message ends "rebuild the index from its sources"


# --- the commands ---------------------------------------------------------------------


def index_command(paths: list[str], index_dir: str, exclude: list[str], all_folders: bool, shards: int | None,
                  scheduler: str | None, workers: int | None) -> None:
    """Index .txt, .md and .jsonl files and directories (re-indexing a file updates it)."""
    from searchlib.ingest import ingest

    _log_to_stderr()
    if shards is not None or scheduler is not None or workers is not None or _is_sharded(index_dir):
        report = _index_sharded(paths, index_dir, exclude, all_folders, shards, scheduler, workers)
    else:
        with _Progress("indexing") as progress:
            try:
                report = ingest(index_dir, paths, exclude=exclude, skip_default=not all_folders, progress=progress)
            except (SearchlibError, OSError) as exc:
                progress.finish()
                _fail_on_index(exc, index_dir)
    if not report.index_written:
        _fail(f"nothing to index (no {', '.join(_suffixes())} file found); {index_dir} was not created", status=1)
    _echo(
        f"indexed {report.documents} documents from {report.files} files into {index_dir}"
        + (f" (replacing {report.replaced})" if report.replaced else ""),
        err=True,
    )
    if report.errors:
        sys.exit(1)


def _index_sharded(paths: list[str], index_dir: str, exclude: list[str], all_folders: bool, shards: int | None,
                   scheduler: str | None, workers: int | None) -> Any:
    """Index into a sharded index, its shards built on Dask (a LocalCluster of
    ``workers`` processes, or the scheduler at ``scheduler``)."""
    try:
        from searchlib.distributed.ingest import ingest_sharded
    except ImportError as exc:  # dask or distributed missing
        _fail(f"a sharded index needs Dask ({exc.name} is missing): pip install \"searchlib[distributed]\"")
    try:
        return ingest_sharded(index_dir, paths, shards=shards, scheduler=scheduler, workers=workers, exclude=exclude,
                              skip_default=not all_folders)
    except (SearchlibError, OSError) as exc:
        _fail_on_index(exc, index_dir)


def _suffixes() -> tuple[str, ...]:
    from searchlib.sources import SUPPORTED_SUFFIXES

    return SUPPORTED_SUFFIXES


class _Progress:
    """A progress bar on stderr while files are indexed, drawn only when stderr is a
    terminal (piped output and logs get the summary line alone). It is made on the first
    report, when the number of files is known."""

    def __init__(self, label: str, unit: str = "file") -> None:
        self.label = label
        self.unit = unit
        self._bar: Any = None
        self._done = 0

    def __enter__(self) -> _Progress:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if not sys.stderr.isatty():
                return
            self._bar = _progress_bar(total, self.label, self.unit)
        self._bar.update(done - self._done)
        self._done = done

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __exit__(self, *exc: object) -> None:
        self.finish()


def _progress_bar(total: int, label: str, unit: str, *, disable: bool = False) -> Any:
    """A tqdm progress bar on stderr. A terminal that reports no size (a fresh
    pseudo-terminal) counts as 80x24, where tqdm would draw nothing."""
    import shutil

    from tqdm import tqdm

    size = shutil.get_terminal_size()
    return tqdm(total=total, desc=label, unit=unit, file=sys.stderr, ncols=size.columns or 80,
                nrows=size.lines or 24, disable=disable)


def _log_to_stderr() -> None:
    """Show the library's log messages (the ``searchlib`` logger: a file that could not
    be read, a line refused) on stderr as ``searchlib: warning: ...``; set up only by the
    commands that write, so that a query does not load :mod:`logging`."""
    import logging

    class _Format(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return f"searchlib: {record.levelname.lower()}: {record.getMessage()}"

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format())
    logger = logging.getLogger("searchlib")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def query_command(
    text: str, index_dir: str | None, limit: int, page: int, sort: str | None, operator: str, strict: bool,
    explain: bool, max_expansions: int | None, keep_frequent: bool, k1: float | None, b: float | None,
    similarity: str | None, snippets: bool, fragment_count: int, width: int, facet_fields: list[str],
    as_json: bool,
) -> None:
    """Search the index and print ranked hits with highlighted snippets.

    TEXT uses Lucene-style syntax: words, field:word, AND OR NOT, +required -excluded,
    "phrases", "phrases"~2, prefix*, wild?card, fuzzy~1, /regex/, field:[a TO b], word^2.
    """
    from searchlib.index import Index
    from searchlib.searcher import Searcher

    if not text.strip():
        raise UsageError("the query is empty; give some words to search for, e.g. searchlib query \"direct talks\"")
    path = index_dir or DEFAULT_INDEX
    if _is_sharded(path):  # its shards searched in this process: no cluster, no Dask
        _query_sharded(path, text, limit=limit, offset=(page - 1) * limit, sort=sort, operator=operator,
                       strict=strict, explain=explain, max_expansions=max_expansions, keep_frequent=keep_frequent,
                       k1=k1, b=b, similarity=similarity, snippets=snippets, fragment_count=fragment_count,
                       width=width, facet_fields=facet_fields, as_json=as_json, is_default=index_dir is None)
        return
    if index_dir is None and not Index.exists(path) and os.path.isdir(DEFAULT_SEEDS):
        _build_default_index(path)
    try:
        expansion = None  # the searcher's: Expansion() (a query of words never loads the class)
        if max_expansions is not None or keep_frequent:
            from searchlib.query import DEFAULT_MAX_EXPANSIONS, Expansion

            expansion = Expansion(
                DEFAULT_MAX_EXPANSIONS if max_expansions is None else max_expansions,
                "keep_frequent" if keep_frequent else "error",
            )
        with Searcher(
            path, default_operator=operator, k1=k1, b=b, similarity=similarity, expansion=expansion
        ) as searcher:
            results = searcher.search(text, limit=limit, offset=(page - 1) * limit, sort=sort, strict=strict,
                                      facets=list(facet_fields) or None)
            suggestion = _suggestion(searcher, text, results.total, strict)
            snippet_options = {"count": fragment_count, "width": width} if snippets else None
            for warning in results.warnings:  # what a lenient search cut to keep the query bounded
                _echo(f"searchlib: warning: {warning}", err=True)
            if as_json:
                document = results.to_dict(explain=explain, snippets=snippets, count=fragment_count, width=width)
                document["suggestion"] = suggestion
                _echo(json.dumps(document, ensure_ascii=False, indent=2))
            else:
                _print_results(results, color=sys.stdout.isatty(), explain=explain, snippets=snippet_options)
                _print_facets(results.facets)
                if suggestion is not None:
                    _echo(f"did you mean: {suggestion}", err=True)
    except QueryError as exc:
        _fail(f"bad query:\n{exc.caret()}" if exc.position is not None else str(exc))
    except (SearchlibError, OSError) as exc:
        _fail_on_index(exc, path, is_default=index_dir is None)
    if results.total == 0:
        _fail("no matches", status=1)


def _query_sharded(path: str, text: str, *, max_expansions: int | None, keep_frequent: bool, is_default: bool,
                   **options: Any) -> None:
    """``query`` on a sharded index (see :mod:`searchlib.distributed.commands`); its
    errors reported as one index's are."""
    from searchlib.distributed.commands import query_sharded

    try:
        expansion = None  # the shards' searchers' own unless an option says otherwise
        if max_expansions is not None or keep_frequent:
            from searchlib.query import DEFAULT_MAX_EXPANSIONS, Expansion

            expansion = Expansion(DEFAULT_MAX_EXPANSIONS if max_expansions is None else max_expansions,
                                  "keep_frequent" if keep_frequent else "error")
        total = query_sharded(path, text, expansion=expansion, **options).total
    except QueryError as exc:
        _fail(f"bad query:\n{exc.caret()}" if exc.position is not None else str(exc))
    except (SearchlibError, OSError) as exc:
        _fail_on_index(exc, path, is_default=is_default)
    if total == 0:
        _fail("no matches", status=1)


#: A query with fewer hits than this gets a "did you mean" when a better query exists.
FEW_HITS = 3


def _suggestion(searcher: Any, text: str, total: int, strict: bool) -> str | None:
    """A corrected query, when ``text`` found little and the correction finds at least as much."""
    if total >= FEW_HITS:
        return None
    corrected = searcher.did_you_mean(text)
    if corrected is None:
        return None
    try:
        found = searcher.search(corrected, limit=0, strict=strict).total
    except QueryError:
        return None
    return corrected if found and found >= total else None


def analyze_command(
    text: str, analyzer_name: str | None, params: list[str], index_dir: str | None,
    field_name: str | None, for_query: bool, as_json: bool,
) -> None:
    """Show the tokens an analyzer makes of TEXT: term, position and source offsets."""
    from searchlib.highlight import printable

    try:
        analyzer = _chosen_analyzer(analyzer_name, params, index_dir, field_name, for_query)
        tokens = list(analyzer.tokens(text))
    except SearchlibError as exc:
        _fail(str(exc))
    rows = [
        {"term": _displayable(t.text), "position": t.pos, "start": t.start, "end": t.end,
         "source": _displayable(text[t.start : t.end])}
        for t in tokens
    ]
    if as_json:
        document = {"analyzer": analyzer.spec or repr(analyzer), "text": _displayable(text), "tokens": rows}
        _echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    _echo(f"{'pos':>4} {'start':>6} {'end':>6}  term -> source", err=True)
    for row in rows:
        _echo(f"{row['position']:>4} {row['start']:>6} {row['end']:>6}  "
                   f"{printable(row['term'])} -> {printable(row['source'])}")


def _chosen_analyzer(
    name: str | None, params: Sequence[str], index_dir: str | None, field_name: str | None, for_query: bool
) -> Any:
    from searchlib.analysis import get_analyzer

    if index_dir is None:
        if field_name is not None or for_query:
            raise UsageError("--field and --query need --index")
        return get_analyzer(name or "english", **_parse_params(params))
    if name is not None or params:
        raise UsageError("give either --analyzer (with --param) or --index with --field, not both")
    from searchlib.index import Index
    from searchlib.schema import FieldAnalyzers

    schema = Index.open(index_dir).schema
    text_fields = schema.text_fields()
    if field_name is None:
        raise UsageError(f"--index needs --field; text fields: {', '.join(text_fields) or 'none'}")
    if field_name not in text_fields:
        raise UsageError(f"{field_name!r} is not a text field of the index; text fields: {', '.join(text_fields) or 'none'}")
    analyzers = FieldAnalyzers(schema)
    return analyzers.query(field_name) if for_query else analyzers[field_name]


def _parse_params(params: Sequence[str]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--param {item!r}: expected KEY=JSON, e.g. max_size=5")
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            if not re.fullmatch(r"[\w.-]+", value):
                raise UsageError(
                    f"--param {item!r}: {value!r} is not valid JSON; quote a string, "
                    f"e.g. --param '{key}=\"...\"'"
                ) from None
            parsed[key] = value  # a bare word is a string: stemmer=porter
    return parsed


def _displayable(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes of the command line) as U+FFFD."""
    return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)


def check_command(index_dir: str, as_json: bool) -> None:
    """Verify every checksum and structural invariant; exit 0 if sound, 1 if damaged."""
    from searchlib.check import check_index

    if _is_sharded(index_dir):
        _check_sharded(index_dir, as_json)
        return
    try:
        report = check_index(index_dir)
    except (SearchlibError, OSError) as exc:
        _fail_on_index(exc, index_dir)
    if as_json:
        _echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _echo(f"{index_dir}: generation {report.generation}, {report.segments} segments, "
                   f"{report.documents} documents, {report.files_checked} files checked")
        for problem in report.problems:
            _echo(f"  problem: {problem.path}: {problem.problem}")
        _echo("ok" if report.ok else f"{len(report.problems)} problem(s) found")
    if not report.ok:
        sys.exit(1)


def _check_sharded(index_dir: str, as_json: bool) -> None:
    """``check`` of a sharded index: every shard, its schema and its routing."""
    from searchlib.distributed.check import check_sharded

    try:
        report = check_sharded(index_dir)
    except (SearchlibError, OSError) as exc:
        _fail_on_index(exc, index_dir)
    if as_json:
        _echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _echo(f"{index_dir}: {len(report.shards)} shards checked, {report.documents} documents")
        for shard in report.shards:
            _echo(f"  {shard.index}: generation {shard.generation}, {shard.segments} segments, "
                  f"{shard.documents} documents, {shard.files_checked} files checked")
        problems = report.problems + [problem for shard in report.shards for problem in shard.problems]
        for problem in problems:
            _echo(f"  problem: {problem.path}: {problem.problem}")
        _echo("ok" if report.ok else f"{len(problems)} problem(s) found")
    if not report.ok:
        sys.exit(1)


def info_command(index_dir: str, as_json: bool) -> None:
    """Documents, deletions, segments, fields, terms, size on disk and format version."""
    from searchlib.check import index_info

    try:
        if _is_sharded(index_dir):
            from searchlib.distributed.check import sharded_info

            info = sharded_info(index_dir)
        else:
            info = index_info(index_dir)
    except (SearchlibError, OSError) as exc:
        _fail_on_index(exc, index_dir)
    if as_json:
        _echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    if info.get("sharded"):
        _echo(f"index:      {info['index']} (format version {info['format_version']}, "
              f"{info['shard_count']} shards routed by {info['routing']['field']})")
        for shard in info["shards"]:
            _echo(f"shard:      {shard['index']} (generation {shard['generation']}, {shard['documents']} documents)")
    else:
        _echo(f"index:      {info['index']} (format version {info['format_version']}, "
              f"generation {info['generation']})")
    _echo(f"documents:  {info['documents']} ({info['deleted_documents']} deleted, not yet merged away)")
    _echo(f"segments:   {len(info['segments'])}")
    _echo(f"size:       {info['size_bytes'] / 1e6:.2f} MB on disk")
    for name, entry in info["fields"].items():
        details = [entry["kind"]] + (["stored"] if entry["stored"] else [])
        if "analyzer" in entry:
            details.append(f"analyzer {entry['analyzer']['name']}")
        if "terms" in entry:
            details.append(f"{entry['terms']} terms (summed over segments)")
        _echo(f"field {name}: {', '.join(details)}")


def eval_command(
    dataset: str, index_dir: str | None, k1: float | None, b: float | None,
    analyzer: str, run_file: str | None, as_json: bool,
) -> None:
    """Measure ranking quality on a BEIR-layout DATASET (corpus, queries, qrels)."""
    import tempfile

    from searchlib import evaluation
    from searchlib.index import Index
    from searchlib.similarities import DEFAULT_B, DEFAULT_K1
    from searchlib.searcher import Searcher

    try:
        data = evaluation.load_dataset(dataset)
        with tempfile.TemporaryDirectory(prefix="searchlib-eval-") as scratch:
            path = index_dir or os.path.join(scratch, "index")
            if not Index.exists(path):
                _echo(f"searchlib: indexing {len(data.corpus)} documents into {path}", err=True)
                evaluation.build_index(data, path, analyzer)
            with Searcher(
                path,
                k1=DEFAULT_K1 if k1 is None else k1,
                b=DEFAULT_B if b is None else b,
            ) as searcher:
                queries = data.judged_queries
                with _progress_bar(len(queries), "queries", "query", disable=not sys.stderr.isatty()) as bar:
                    run = evaluation.run_queries(searcher, queries, progress=bar.update)
                k1_used, b_used = searcher.k1, searcher.b
        metrics = evaluation.score_run(run, data.qrels)
        if run_file:
            with open(run_file, "w", encoding="utf-8") as handle:
                evaluation.write_trec_run(run, handle)
    except (SearchlibError, OSError) as exc:
        _fail(str(exc))
    if as_json:
        report = {
            "dataset": dataset, "documents": len(data.corpus), "queries": len(queries),
            "k1": k1_used, "b": b_used, "analyzer": analyzer, "metrics": metrics,
        }
        _echo(json.dumps(report, indent=2))
    else:
        _echo(f"{dataset}: {len(data.corpus)} documents, {len(queries)} judged queries, k1={k1_used} b={b_used}")
        for name, value in metrics.items():
            _echo(f"  {name:<8} {value:.4f}")


def _build_default_index(path: str) -> None:
    from searchlib.ingest import ingest

    _log_to_stderr()
    _echo(f"searchlib: no index yet; building {path}/ from {DEFAULT_SEEDS}/", err=True)
    try:
        ingest(path, [DEFAULT_SEEDS])
    except (SearchlibError, OSError) as exc:
        _fail(str(exc))


def _hit_title(fields: dict[str, Any]) -> str:
    title = fields.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    source = fields.get("source") or fields.get("path") or ""
    return os.path.basename(str(source).rstrip(os.sep)) or str(fields.get("id", ""))


def _shown_date(value: Any) -> str:
    """A stored date as a reader wants it: a DATETIME at midnight UTC (what a file's
    ``date YYYY-MM-DD`` line gives) as its day alone."""
    text = str(value or "")
    return text.removesuffix("T00:00:00+00:00")


def _hit_path(fields: dict[str, Any]) -> str:
    """Where a hit of a file index came from (its ``path``, relative to the working
    directory when under it), so that hits from files of the same name or title are
    told apart; empty for documents not indexed from files."""
    path, source = fields.get("path"), fields.get("source")
    if not (isinstance(path, str) and isinstance(source, str) and path.startswith(source)):
        return ""
    cwd = os.getcwd()
    under = os.path.isabs(source) and (source == cwd or source.startswith(cwd.rstrip(os.sep) + os.sep))
    shown = os.path.relpath(source, cwd) if under else source
    return shown + path[len(source):]  # with a JSON line's "#id"


def import_whoosh_command(whoosh_dir: str, index_dir: str, indexname: str | None, sample: int) -> None:
    """Copy a Whoosh index into a new searchlib index, then check both give the same hits."""
    from searchlib.compat.whoosh_import import TRUST_WARNING, describe, import_index

    _echo(f"searchlib: warning: {TRUST_WARNING}", err=True)
    with _Progress("importing", "doc") as progress:
        try:
            report = import_index(whoosh_dir, index_dir, indexname=indexname, progress=progress, sample=sample)
            progress.finish()
        except (SearchlibError, OSError) as exc:
            progress.finish()
            _fail(str(exc))
    for line in describe(report):
        _echo(line)


#: ANSI styles for a terminal.
BOLD, DIM = "\x1b[1m", "\x1b[2m"


def _styled(text: str, style: str) -> str:
    return f"{style}{text}\x1b[0m"


def _print_results(
    results: Any, *, color: bool, explain: bool = False, snippets: dict[str, int] | None = None
) -> None:
    for hit in results:
        _echo(_hit_header(hit, color=color))
        if snippets is not None:
            fragments = hit.fragments(**snippets)
            line = _snippet_line(fragments, color=color)
            if fragments[0].is_truncated:
                line += f" [matches sought in the first {hit.searcher.highlight_max_chars:,} characters]"
            _echo(f"    {line}")
        if explain:
            _echo(hit.explain().format(indent=2))
    _print_count(results)


def _hit_header(hit: Any, *, color: bool) -> str:
    """A hit's first line: rank, score, title, date and file path (printable: titles
    and dates may hold escape sequences). A sharded search's hits print the same."""
    from searchlib.highlight import printable

    title = printable(_hit_title(hit.fields))
    date = printable(_shown_date(hit.fields.get("date")))
    header = f"{hit.rank:>2}. {hit.score:7.3f}  {_styled(title, BOLD) if color else title}"
    if date:
        header += f"  ({date})"
    where = _hit_path(hit.fields)
    if where:
        header += f"  {_styled(printable(where), DIM) if color else printable(where)}"
    return header


def _snippet_line(fragments: Any, *, color: bool) -> str:
    """A hit's snippet, marked for a terminal or as plain text, saying so when nothing
    in the text matched (e.g. a range query shows the field's opening)."""
    from searchlib.highlight import format_ansi, format_plain

    line = format_ansi(fragments) if color else format_plain(fragments)
    return f"(opening, no words matched) {line}" if fragments[0].is_opening else line


def _print_count(results: Any) -> None:
    """Which hits of how many were shown, on stderr (the hits alone go to stdout)."""
    if results.hits:
        _echo(f"{results.offset + 1}-{results.offset + len(results)} of {results.total} matching documents", err=True)
    else:
        _echo(f"0 of {results.total} matching documents", err=True)


def _print_facets(facets: dict[str, Any]) -> None:
    """Each facet after the hits: its name, then a value and its count a line."""
    from searchlib.highlight import printable  # keyword values may hold escape sequences

    for name, facet in facets.items():
        _echo(f"\n{printable(name)}:")
        width = max((len(printable(str(count.value))) for count in facet.counts), default=0)
        for count in facet.counts:
            _echo(f"  {printable(str(count.value)):<{width}}  {count.count}")
        if facet.other:
            _echo(f"  (other values: {facet.other})")
        if facet.missing:
            _echo(f"  (no value: {facet.missing})")



def serve_command(index_dir: str, host: str, port: int, allow_writes: bool, token: str | None,
                  max_body: int) -> None:
    """Serve the index over HTTP: a JSON search API (described at /openapi.json) and a
    search page at /. Writes only with --allow-writes, and then only with the token."""
    try:
        import uvicorn

        from searchlib.server.app import LOOPBACK_HOSTS, TOKEN_VARIABLE, create_app
    except ImportError as exc:
        _fail(f"the server needs its extra packages ({exc.name} is missing): pip install \"searchlib[server]\"")
    token = token or os.environ.get(TOKEN_VARIABLE) or None
    if allow_writes and not token:
        raise UsageError(f"--allow-writes needs a token: give --token or set {TOKEN_VARIABLE}")
    _log_to_stderr()
    try:
        app = create_app(index_dir, allow_writes=allow_writes, token=token, max_body=max_body,
                         allowed_hosts=LOOPBACK_HOSTS if host in LOOPBACK_HOSTS else None)
    except (SearchlibError, OSError) as exc:
        _fail_on_index(exc, index_dir)
    _echo(f"searchlib: serving {index_dir} on http://{host}:{port}/ "
          f"({'writes allowed with the token' if allow_writes else 'read-only'})", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", limit_concurrency=64, timeout_keep_alive=5)


# --- the command line ------------------------------------------------------------------


def _whole(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value
    return parse


def _number(low: float, high: float | None = None) -> Callable[[str], float]:
    """An argparse type: a number in ``[low, high]`` (``high`` None: no upper bound)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (value >= low and (high is None or value <= high)):  # NaN fails both
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"{text} is not {bounds}")
        return value
    return parse


class _Version(argparse.Action):
    """``--version``: the installed package's version, looked up only when asked (the
    metadata machinery costs every other command's start-up otherwise)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from importlib.metadata import version

        _echo(f"searchlib, version {version('searchlib')}")
        parser.exit()


#: The ``query`` command's options, as (flags, argparse keywords): the parser is built
#: from them, and :func:`_query_text_last` reads them to tell an option from query text
#: that starts with ``-``.
QUERY_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--index",), {"dest": "index_dir", "default": None, "help": f"Index directory [default: {DEFAULT_INDEX}]."}),
    (("--limit", "-n"), {"default": 10, "type": _whole(1), "help": "Hits per page [default: 10]."}),
    (("--page",), {"default": 1, "type": _whole(1), "help": "Which page of hits [default: 1]."}),
    (("--sort",), {"default": None, "metavar": "FIELD",
                   "help": "Order by a numeric, date or keyword field instead of score; -FIELD for descending."}),
    (("--operator",), {"type": str.upper, "choices": ("OR", "AND"), "default": "OR",
                       "help": "How words side by side combine [default: OR]."}),
    (("--strict",), {"action": "store_true", "help": "Fail on query syntax errors instead of reading them as words."}),
    (("--explain",), {"action": "store_true", "help": "Show every factor behind each hit's score."}),
    (("--max-expansions",), {"type": _whole(1), "default": None, "metavar": "N",
                             "help": "Most terms a prefix, wildcard, fuzzy or regex expands to [default: 1024]."}),
    (("--keep-frequent",), {"action": "store_true",
                            "help": "With --strict, keep the most frequent terms past --max-expansions instead of failing."}),
    (("--k1",), {"type": _number(0), "default": None, "help": "BM25 k1 [default: the index's]."}),
    (("--b",), {"dest": "b", "type": _number(0, 1), "default": None, "help": "BM25 b [default: the index's]."}),
    (("--similarity",), {"choices": SIMILARITIES, "default": None, "help": "BM25 variant [default: the index's]."}),
    (("--snippets",), {"action": argparse.BooleanOptionalAction, "default": True,
                       "help": "Show each hit's best fragments with the matches marked [default: --snippets]."}),
    (("--fragments",), {"dest": "fragment_count", "default": 1, "type": _whole(1),
                        "help": "Fragments per snippet, at most [default: 1]."}),
    (("--width",), {"default": 160, "type": _whole(20), "help": "Characters per fragment, about [default: 160]."}),
    (("--facet",), {"dest": "facet_fields", "action": "append", "default": [], "metavar": "FIELD",
                     "help": "Count a keyword, numeric, date or boolean field's values over all hits (repeatable)."}),
    (("--json",), {"dest": "as_json", "action": "store_true", "help": "Print one JSON document."}),
)


def _command(
    commands: Any, name: str, run: Callable[..., None], description: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=description.split("\n")[0], description=description, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run, command_parser=parser)
    return parser


def _add_index(commands: Any) -> None:
    index = _command(commands, "index", index_command,
                     "Index .txt, .md and .jsonl files and directories (re-indexing a file updates it).")
    index.add_argument("paths", nargs="+", metavar="PATH")
    index.add_argument("--index", dest="index_dir", default=DEFAULT_INDEX, help=f"Index directory [default: {DEFAULT_INDEX}].")
    index.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                       help="Skip files and folders whose name or path (relative to the folder given) matches; repeatable.")
    index.add_argument("--all-folders", action="store_true",
                       help="Also walk hidden folders (.git, ...), node_modules and virtualenvs, skipped by default.")
    index.add_argument("--shards", type=_whole(1), default=None, metavar="N",
                       help="Make a sharded index of N shards, built in parallel on Dask "
                            '(needs pip install "searchlib[distributed]").')
    index.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="Build the shards on the Dask scheduler at ADDRESS [default: a local cluster].")
    index.add_argument("--workers", type=_whole(1), default=None, metavar="N",
                       help="Worker processes of the local cluster [default: one per core].")


def _add_query(commands: Any) -> None:
    query = _command(commands, "query", query_command, (
        "Search the index and print ranked hits with highlighted snippets.\n\n"
        "TEXT uses Lucene-style syntax: words, field:word, AND OR NOT, +required -excluded,\n"
        '"phrases", "phrases"~2, prefix*, wild?card, fuzzy~1, /regex/, field:[a TO b], word^2.'
    ))
    query.add_argument("text", metavar="TEXT")
    for flags, options in QUERY_OPTIONS:
        query.add_argument(*flags, **options)


def _add_analyze(commands: Any) -> None:
    analyze = _command(commands, "analyze", analyze_command,
                       "Show the tokens an analyzer makes of TEXT: term, position and source offsets.")
    analyze.add_argument("text", metavar="TEXT")
    analyze.add_argument("--analyzer", dest="analyzer_name", default=None, help="A named analyzer [default: english].")
    analyze.add_argument("--param", dest="params", action="append", default=[], metavar="KEY=JSON",
                         help="An analyzer parameter, e.g. --param stemmer='\"porter\"' or --param max_size=5.")
    analyze.add_argument("--index", dest="index_dir", default=None, help="Use a field's analyzer from this index.")
    analyze.add_argument("--field", dest="field_name", default=None, help="The field whose analyzer to use (with --index).")
    analyze.add_argument("--query", dest="for_query", action="store_true", help="Use the field's query-time analyzer.")
    analyze.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON document.")


def _add_check(commands: Any) -> None:
    check = _command(commands, "check", check_command,
                     "Verify every checksum and structural invariant; exit 0 if sound, 1 if damaged.")
    _index_and_json(check)


def _add_info(commands: Any) -> None:
    info = _command(commands, "info", info_command,
                    "Documents, deletions, segments, fields, terms, size on disk and format version.")
    _index_and_json(info)


def _index_and_json(command: argparse.ArgumentParser) -> None:
    command.add_argument("--index", dest="index_dir", default=DEFAULT_INDEX,
                         help=f"Index directory [default: {DEFAULT_INDEX}].")
    command.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON document.")


def _add_eval(commands: Any) -> None:
    evaluate = _command(commands, "eval", eval_command,
                        "Measure ranking quality on a BEIR-layout DATASET (corpus, queries, qrels).")
    evaluate.add_argument("dataset", metavar="DATASET")
    evaluate.add_argument("--index", dest="index_dir", default=None,
                          help="Use (or build) this index instead of a temporary one.")
    evaluate.add_argument("--k1", type=_number(0), default=None, help="BM25 k1 [default: 1.2].")
    evaluate.add_argument("--b", type=_number(0, 1), default=None, help="BM25 b [default: 0.75].")
    evaluate.add_argument("--analyzer", default="english", help="Analyzer for title and text when building [default: english].")
    evaluate.add_argument("--run", dest="run_file", default=None, help="Write the ranking as a TREC run file.")
    evaluate.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON document.")


def _add_serve(commands: Any) -> None:
    serve = _command(commands, "serve", serve_command, (
        "Serve the index over HTTP: a JSON search API (described at /openapi.json) and a search page at /.\n\n"
        'Needs the server extra: pip install "searchlib[server]".'
    ))
    serve.add_argument("--index", dest="index_dir", default=DEFAULT_INDEX, help=f"Index directory [default: {DEFAULT_INDEX}].")
    serve.add_argument("--host", default="127.0.0.1", help="Address to listen on [default: 127.0.0.1, this machine only].")
    serve.add_argument("--port", type=_whole(0), default=8080, help="Port to listen on [default: 8080].")
    serve.add_argument("--allow-writes", action="store_true",
                       help="Accept adds, updates, deletes and commits from clients that give the token.")
    serve.add_argument("--token", default=None,
                       help="The bearer token writes need [default: the SEARCHLIB_TOKEN environment variable].")
    serve.add_argument("--max-body", type=_whole(1), default=1 << 20, metavar="BYTES",
                       help="Largest request body a write may send [default: 1048576].")


def _add_import_whoosh(commands: Any) -> None:
    command = _command(commands, "import-whoosh", import_whoosh_command, (
        "Copy a Whoosh index into a new searchlib index, then check both give the same hits.\n\n"
        "Opening a Whoosh index unpickles it, which runs code the index names: import only\n"
        'trusted indexes. Needs the whoosh package: pip install "searchlib[whoosh]".'
    ))
    command.add_argument("whoosh_dir", metavar="WHOOSH_DIR")
    command.add_argument("--index", dest="index_dir", default=DEFAULT_INDEX,
                         help=f"The new searchlib index's directory [default: {DEFAULT_INDEX}].")
    command.add_argument("--indexname", default=None, help="The Whoosh index's name in WHOOSH_DIR [default: MAIN].")
    command.add_argument("--sample", type=_whole(0), default=50,
                         help="Queries of the index's own terms run against both to check the copy [default: 50].")


#: Each command and what adds it to the parser.
COMMANDS: dict[str, Callable[[Any], None]] = {
    "index": _add_index, "query": _add_query, "analyze": _add_analyze, "check": _add_check, "info": _add_info,
    "eval": _add_eval, "serve": _add_serve, "import-whoosh": _add_import_whoosh,
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line: one subcommand per job, or only the command ``only`` (what
    parsing that command's arguments needs, half the cost of building them all)."""
    parser = argparse.ArgumentParser(
        prog="searchlib", description="Embedded full-text search: index files, then query them ranked by BM25.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action=_Version, help="Show the version and exit.")
    commands = parser.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")
    for name, add in COMMANDS.items():
        if only is None or name == only:
            add(commands)
    return parser


def _query_text_last(args: list[str]) -> list[str]:
    """The ``query`` command's arguments with any text that starts with ``-`` moved after
    ``--``: ``searchlib query "-war talks"`` excludes "war", as the query syntax says,
    where argparse would read an option. An argument that starts with one ``-`` but is
    none of the command's options (nor an option's value, as in ``--sort -date``) is
    query text; one that starts with ``--`` stays an option, so a mistyped one is still
    refused."""
    flags = {"-h", "--help"}
    valued: set[str] = set()
    for names, options in QUERY_OPTIONS:
        action = options.get("action")
        if action == "store_true":
            flags.update(names)
        elif action is argparse.BooleanOptionalAction:
            flags.update(names)
            flags.update("--no-" + name[2:] for name in names if name.startswith("--"))
        else:
            valued.update(names)
    short_valued = {name for name in valued if not name.startswith("--")}  # -n, which takes 5 as -n5
    kept: list[str] = []
    texts: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            texts.extend(rest)
        elif arg in valued:
            value = next(rest, None)
            if value is None:
                kept.append(arg)  # argparse says the value is missing
            elif arg.startswith("--"):
                kept.append(f"{arg}={value}")  # "--sort=-date": a value, though it starts with -
            else:
                kept.extend((arg + value,) if value.startswith("-") else (arg, value))
        elif arg in flags or arg.split("=", 1)[0] in valued or (arg[:2] in short_valued and arg[2:].isdigit()):
            kept.append(arg)
        elif arg.startswith("-") and not arg.startswith("--") and arg != "-":
            texts.append(arg)
        else:
            kept.append(arg)
    return [*kept, "--", *texts] if texts else kept


def main(argv: Sequence[str] | None = None) -> None:
    """The ``searchlib`` entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "query":
        args = ["query", *_query_text_last(args[1:])]
    parsed = build_parser(args[0] if args and args[0] in COMMANDS else None).parse_args(args)
    options = vars(parsed)
    run = options.pop("run")
    command_parser: argparse.ArgumentParser = options.pop("command_parser")
    del options["command"]
    try:
        run(**options)
    except UsageError as exc:
        command_parser.error(str(exc))
