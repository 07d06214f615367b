"""The ``searchlib`` command line: thin wrappers over the public API.

Exit status: 0 on success, 1 when a query finds no matches, 2 on bad input (a usage
error, a missing index, an unreadable query). Messages go to stderr; results to stdout,
as human-readable text or, with ``--json``, one JSON document.
"""

from __future__ import annotations

import json
import re
import sys
from itertools import islice
from pathlib import Path
from typing import Any, NoReturn

import click

from searchlib.errors import IncompatibleFormatError, QueryError, SearchlibError
from searchlib.similarities import SIMILARITIES

DEFAULT_INDEX = "index"
DEFAULT_SEEDS = "seeds"


def _fail(message: str, status: int = 2) -> NoReturn:
    click.echo(f"searchlib: {message}", err=True)
    sys.exit(status)


def _fail_on_index(exc: SearchlibError | OSError, index_dir: str, *, is_default: bool = False) -> NoReturn:
    """Fail with ``exc``'s message, saying how to get a readable index again when an
    older searchlib wrote the index: it cannot be upgraded in place, and a stale
    default index would otherwise block ``searchlib query``."""
    if not isinstance(exc, IncompatibleFormatError) or exc.is_newer:
        _fail(str(exc))  # a newer searchlib's index is fine: the message says to upgrade
    if is_default and Path(DEFAULT_SEEDS).is_dir():
        how = f"delete {index_dir}/ and run the query again, which rebuilds it from {DEFAULT_SEEDS}/"
    else:
        how = (f"move {index_dir} aside (or delete it), then index the documents again with "
               f"searchlib index PATH... --index {index_dir}")
    _fail(f"{exc}: {how}")  # the message ends "rebuild the index from its sources"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="searchlib")
def main() -> None:
    """Embedded full-text search: index files, then query them ranked by BM25."""


@main.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--index", "index_dir", default=DEFAULT_INDEX, show_default=True, help="Index directory.")
def index_command(paths: tuple[str, ...], index_dir: str) -> None:
    """Index .txt, .md and .jsonl files and directories (re-indexing a file updates it)."""
    from searchlib.ingest import ingest

    try:
        report = ingest(index_dir, paths, on_problem=lambda p: click.echo(
            f"searchlib: {'error' if p.is_error else 'warning'}: {p}", err=True))
    except (SearchlibError, OSError) as exc:
        _fail_on_index(exc, index_dir)
    click.echo(
        f"indexed {report.documents} documents from {report.files} files into {index_dir}"
        + (f" (replacing {report.replaced})" if report.replaced else ""),
        err=True,
    )
    if report.errors:
        sys.exit(1)


class _QueryCommand(click.Command):
    """The ``query`` command, whose text may start with ``-``: ``searchlib query "-war
    talks"`` excludes "war", as the query syntax says, where Click would read an
    option ``-w``. An argument that starts with ``-`` but is none of the command's
    options (nor an option's value, as in ``--sort -date``) is the query text; one
    that starts with ``--`` stays an option, so a mistyped one is still refused."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        options = [param for param in self.params if isinstance(param, click.Option)]
        flags = {name for option in options if option.is_flag for name in (*option.opts, *option.secondary_opts)}
        valued = {name for option in options if not option.is_flag for name in option.opts}
        short_valued = {name for name in valued if not name.startswith("--")}  # -n, which takes 5 as -n5
        flags.update(self.get_help_option_names(ctx))
        kept: list[str] = []
        texts: list[str] = []
        rest = iter(args)
        for arg in rest:
            if arg == "--":
                texts.extend(rest)
            elif arg in valued:
                kept.append(arg)
                kept.extend(islice(rest, 1))  # its value, "-date" included
            elif arg in flags or arg.split("=", 1)[0] in valued or (arg[:2] in short_valued and arg[2:].isdigit()):
                kept.append(arg)
            elif arg.startswith("-") and not arg.startswith("--") and arg != "-":
                texts.append(arg)  # "--" and "--name" stay Click's, to end options or be refused
            else:
                kept.append(arg)
        return super().parse_args(ctx, [*kept, "--", *texts] if texts else kept)


@main.command("query", cls=_QueryCommand)
@click.argument("text")
@click.option("--index", "index_dir", default=None, help=f"Index directory [default: {DEFAULT_INDEX}].")
@click.option("--limit", "-n", default=10, show_default=True, type=click.IntRange(min=1), help="Hits per page.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(min=1), help="Which page of hits.")
@click.option("--sort", "sort", default=None, metavar="FIELD",
              help="Order by a numeric, date or keyword field instead of score; -FIELD for descending.")
@click.option("--operator", type=click.Choice(["OR", "AND"], case_sensitive=False), default="OR",
              show_default=True, help="How words side by side combine.")
@click.option("--strict", is_flag=True, help="Fail on query syntax errors instead of reading them as words.")
@click.option("--explain", is_flag=True, help="Show every factor behind each hit's score.")
@click.option("--max-expansions", type=click.IntRange(min=1), default=None, metavar="N",
              help="Most terms a prefix, wildcard, fuzzy or regex expands to [default: 1024].")
@click.option("--keep-frequent", is_flag=True,
              help="With --strict, keep the most frequent terms past --max-expansions instead of failing.")
@click.option("--k1", type=click.FloatRange(min=0), default=None, help="BM25 k1 [default: the index's].")
@click.option("--b", "b", type=click.FloatRange(0, 1), default=None, help="BM25 b [default: the index's].")
@click.option("--similarity", type=click.Choice(SIMILARITIES), default=None,
              help="BM25 variant [default: the index's].")
@click.option("--snippets/--no-snippets", default=True, show_default=True,
              help="Show each hit's best fragments with the matches marked.")
@click.option("--fragments", "fragment_count", default=1, show_default=True, type=click.IntRange(min=1),
              help="Fragments per snippet, at most.")
@click.option("--width", default=160, show_default=True, type=click.IntRange(min=20),
              help="Characters per fragment, about.")
@click.option("--facet", "facet_fields", multiple=True, metavar="FIELD",
              help="Count a keyword, numeric, date or boolean field's values over all hits (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def query_command(
    text: str, index_dir: str | None, limit: int, page: int, sort: str | None, operator: str, strict: bool,
    explain: bool, max_expansions: int | None, keep_frequent: bool, k1: float | None, b: float | None,
    similarity: str | None, snippets: bool, fragment_count: int, width: int, facet_fields: tuple[str, ...],
    as_json: bool,
) -> None:
    """Search the index and print ranked hits with highlighted snippets.

    TEXT uses Lucene-style syntax: words, field:word, AND OR NOT, +required -excluded,
    "phrases", "phrases"~2, prefix*, wild?card, fuzzy~1, /regex/, field:[a TO b], word^2.
    """
    from searchlib.index import Index
    from searchlib.query import DEFAULT_MAX_EXPANSIONS, Expansion
    from searchlib.searcher import Searcher

    if not text.strip():
        raise click.UsageError("the query is empty; give some words to search for, e.g. searchlib query \"direct talks\"")
    path = index_dir or DEFAULT_INDEX
    if index_dir is None and not Index.exists(path) and Path(DEFAULT_SEEDS).is_dir():
        _build_default_index(path)
    try:
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
                click.echo(f"searchlib: warning: {warning}", err=True)
            if as_json:
                document = _results_json(text, results, explain=explain, snippets=snippet_options)
                document["suggestion"] = suggestion
                if facet_fields:
                    document["facets"] = {name: facet.to_dict() for name, facet in results.facets.items()}
                click.echo(json.dumps(document, ensure_ascii=False, indent=2))
            else:
                _print_results(results, color=sys.stdout.isatty(), explain=explain, snippets=snippet_options)
                _print_facets(results.facets)
                if suggestion is not None:
                    click.echo(f"did you mean: {suggestion}", err=True)
    except QueryError as exc:
        _fail(f"bad query:\n{exc.caret()}" if exc.position is not None else str(exc))
    except (SearchlibError, OSError) as exc:
        _fail_on_index(exc, path, is_default=index_dir is None)
    if results.total == 0:
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


@main.command("analyze")
@click.argument("text")
@click.option("--analyzer", "analyzer_name", default=None, help="A named analyzer [default: english].")
@click.option("--param", "params", multiple=True, metavar="KEY=JSON",
              help='An analyzer parameter, e.g. --param stemmer=\'"porter"\' or --param max_size=5.')
@click.option("--index", "index_dir", default=None, help="Use a field's analyzer from this index.")
@click.option("--field", "field_name", default=None, help="The field whose analyzer to use (with --index).")
@click.option("--query", "for_query", is_flag=True, help="Use the field's query-time analyzer.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def analyze_command(
    text: str, analyzer_name: str | None, params: tuple[str, ...], index_dir: str | None,
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
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    click.echo(f"{'pos':>4} {'start':>6} {'end':>6}  term -> source", err=True)
    for row in rows:
        click.echo(f"{row['position']:>4} {row['start']:>6} {row['end']:>6}  "
                   f"{printable(row['term'])} -> {printable(row['source'])}")


def _chosen_analyzer(
    name: str | None, params: tuple[str, ...], index_dir: str | None, field_name: str | None, for_query: bool
) -> Any:
    from searchlib.analysis import get_analyzer

    if index_dir is None:
        if field_name is not None or for_query:
            raise click.UsageError("--field and --query need --index")
        return get_analyzer(name or "english", **_parse_params(params))
    if name is not None or params:
        raise click.UsageError("give either --analyzer (with --param) or --index with --field, not both")
    from searchlib.index import Index
    from searchlib.schema import FieldAnalyzers

    schema = Index.open(index_dir).schema
    text_fields = schema.text_fields()
    if field_name is None:
        raise click.UsageError(f"--index needs --field; text fields: {', '.join(text_fields) or 'none'}")
    if field_name not in text_fields:
        raise click.UsageError(f"{field_name!r} is not a text field of the index; text fields: {', '.join(text_fields) or 'none'}")
    analyzers = FieldAnalyzers(schema)
    return analyzers.query(field_name) if for_query else analyzers[field_name]


def _parse_params(params: tuple[str, ...]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"--param {item!r}: expected KEY=JSON, e.g. max_size=5")
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            if not re.fullmatch(r"[\w.-]+", value):
                raise click.UsageError(
                    f"--param {item!r}: {value!r} is not valid JSON; quote a string, "
                    f"e.g. --param '{key}=\"...\"'"
                ) from None
            parsed[key] = value  # a bare word is a string: stemmer=porter
    return parsed


def _displayable(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes of the command line) as U+FFFD."""
    return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)


@main.command("check")
@click.option("--index", "index_dir", default=DEFAULT_INDEX, show_default=True, help="Index directory.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def check_command(index_dir: str, as_json: bool) -> None:
    """Verify every checksum and structural invariant; exit 0 if sound, 1 if damaged."""
    from searchlib.check import check_index

    try:
        report = check_index(index_dir)
    except (SearchlibError, OSError) as exc:
        _fail_on_index(exc, index_dir)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"{index_dir}: generation {report.generation}, {report.segments} segments, "
                   f"{report.documents} documents, {report.files_checked} files checked")
        for problem in report.problems:
            click.echo(f"  problem: {problem.path}: {problem.problem}")
        click.echo("ok" if report.ok else f"{len(report.problems)} problem(s) found")
    if not report.ok:
        sys.exit(1)


@main.command("info")
@click.option("--index", "index_dir", default=DEFAULT_INDEX, show_default=True, help="Index directory.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def info_command(index_dir: str, as_json: bool) -> None:
    """Documents, deletions, segments, fields, terms, size on disk and format version."""
    from searchlib.check import index_info

    try:
        info = index_info(index_dir)
    except (SearchlibError, OSError) as exc:
        _fail_on_index(exc, index_dir)
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    click.echo(f"index:      {info['index']} (format version {info['format_version']}, "
               f"generation {info['generation']})")
    click.echo(f"documents:  {info['documents']} ({info['deleted_documents']} deleted, not yet merged away)")
    click.echo(f"segments:   {len(info['segments'])}")
    click.echo(f"size:       {info['size_bytes'] / 1e6:.2f} MB on disk")
    for name, entry in info["fields"].items():
        details = [entry["kind"]] + (["stored"] if entry["stored"] else [])
        if "analyzer" in entry:
            details.append(f"analyzer {entry['analyzer']['name']}")
        if "terms" in entry:
            details.append(f"{entry['terms']} terms (summed over segments)")
        click.echo(f"field {name}: {', '.join(details)}")


@main.command("eval")
@click.argument("dataset", type=click.Path(path_type=str))
@click.option("--index", "index_dir", default=None, help="Use (or build) this index instead of a temporary one.")
@click.option("--k1", type=click.FloatRange(min=0), default=None, help="BM25 k1 [default: 1.2].")
@click.option("--b", type=click.FloatRange(0, 1), default=None, help="BM25 b [default: 0.75].")
@click.option("--analyzer", default="english", show_default=True, help="Analyzer for title and text when building.")
@click.option("--run", "run_file", type=click.Path(dir_okay=False, writable=True, path_type=str), help="Write the ranking as a TREC run file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
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
            path = index_dir or str(Path(scratch) / "index")
            if not Index.exists(path):
                click.echo(f"searchlib: indexing {len(data.corpus)} documents into {path}", err=True)
                evaluation.build_index(data, path, analyzer)
            with Searcher(
                path,
                k1=DEFAULT_K1 if k1 is None else k1,
                b=DEFAULT_B if b is None else b,
            ) as searcher:
                queries = data.judged_queries
                with click.progressbar(length=len(queries), label="queries", file=sys.stderr) as bar:
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
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"{dataset}: {len(data.corpus)} documents, {len(queries)} judged queries, k1={k1_used} b={b_used}")
        for name, value in metrics.items():
            click.echo(f"  {name:<8} {value:.4f}")


def _build_default_index(path: str) -> None:
    from searchlib.ingest import ingest

    click.echo(f"searchlib: no index yet; building {path}/ from {DEFAULT_SEEDS}/", err=True)
    try:
        ingest(path, [DEFAULT_SEEDS], on_problem=lambda p: click.echo(f"searchlib: warning: {p}", err=True))
    except (SearchlibError, OSError) as exc:
        _fail(str(exc))


def _hit_title(fields: dict[str, Any]) -> str:
    title = fields.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    source = fields.get("source") or fields.get("path") or ""
    return Path(str(source)).name or str(fields.get("id", ""))


def _print_results(
    results: Any, *, color: bool, explain: bool = False, snippets: dict[str, int] | None = None
) -> None:
    from searchlib.highlight import format_ansi, format_plain, printable  # titles and dates may hold escape sequences

    for hit in results:
        title = printable(_hit_title(hit.fields))
        date = printable(str(hit.fields.get("date") or ""))
        header = f"{hit.rank:>2}. {hit.score:7.3f}  {click.style(title, bold=True) if color else title}"
        if date:
            header += f"  ({date})"
        click.echo(header, color=color)
        if snippets is not None:
            fragments = hit.fragments(**snippets)
            line = format_ansi(fragments) if color else format_plain(fragments)
            if fragments[0].is_opening:  # nothing in the text matched (e.g. a range query)
                line = f"(opening, no words matched) {line}"
            if fragments[0].is_truncated:
                line += f" [matches sought in the first {hit.searcher.highlight_max_chars:,} characters]"
            click.echo(f"    {line}", color=color)
        if explain:
            click.echo(hit.explain().format(indent=2))
    first = results.offset + 1
    if results.hits:
        click.echo(f"{first}-{results.offset + len(results)} of {results.total} matching documents", err=True)
    else:
        click.echo(f"0 of {results.total} matching documents", err=True)


def _print_facets(facets: dict[str, Any]) -> None:
    """Each facet after the hits: its name, then a value and its count a line."""
    from searchlib.highlight import printable  # keyword values may hold escape sequences

    for name, facet in facets.items():
        click.echo(f"\n{printable(name)}:")
        width = max((len(printable(str(count.value))) for count in facet.counts), default=0)
        for count in facet.counts:
            click.echo(f"  {printable(str(count.value)):<{width}}  {count.count}")
        if facet.other:
            click.echo(f"  (other values: {facet.other})")
        if facet.missing:
            click.echo(f"  (no value: {facet.missing})")


def _results_json(
    text: str, results: Any, *, explain: bool = False, snippets: dict[str, int] | None = None
) -> dict[str, Any]:
    from searchlib.highlight import format_html, format_plain, format_spans

    hits = []
    for hit in results:
        hits.append({"rank": hit.rank, "id": hit.id, "score": hit.score, "fields": hit.fields})
        if snippets is not None:
            fragments = hit.fragments(**snippets)
            hits[-1].update({
                "snippet": format_plain(fragments),
                "snippet_html": format_html(fragments),
                "snippet_spans": format_spans(fragments),  # offsets into fields[snippet_field]
                "snippet_field": fragments[0].field,
                "snippet_is_opening": fragments[0].is_opening,
                "snippet_truncated": fragments[0].is_truncated,
            })
        if explain:
            hits[-1]["explanation"] = hit.explain().to_json()
    return {
        "query": text, "total": results.total, "offset": results.offset, "warnings": results.warnings, "hits": hits,
    }


if __name__ == "__main__":
    main()
