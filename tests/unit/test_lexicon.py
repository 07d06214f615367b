"""Stored lexicons: query words and snippets get their stems from the index, not NLTK.

A lexicon serves the NLTK stemmers (costly to import and run); the compiled Snowball
default needs none, so these indexes ask for NLTK's Snowball by name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from searchlib import ID, TEXT, Index, Schema, Searcher
from searchlib.analysis import get_analyzer
from tests.conftest import SHARED

CRANFIELD = SHARED / "datasets" / "cranfield" / "corpus.jsonl"
NLTK = {"stemmer": "nltk-snowball"}


def build_cranfield(path: Path, limit: int = 200) -> None:
    index = Index.create(path, Schema(id=ID(), title=TEXT(analyzer_params=NLTK), text=TEXT(analyzer_params=NLTK)))
    with open(CRANFIELD, encoding="utf-8") as handle:
        documents = [json.loads(line) for _, line in zip(range(limit), handle)]
    for start in range(0, limit, limit // 2):  # two segments
        with index.writer() as writer:
            for document in documents[start : start + limit // 2]:
                writer.add_document(id=document["id"], title=document["title"], text=document["text"])


def test_every_lexicon_entry_is_what_the_stemmer_says(tmp_path: Path) -> None:
    build_cranfield(tmp_path / "index")
    analyzer = get_analyzer("english", **NLTK)
    _, readers = Index.open_snapshot(tmp_path / "index")
    checked = 0
    for reader in readers:
        for field_name in ("title", "text"):
            lexicon = reader.lexicon(field_name)
            assert lexicon is not None
            for key_bytes in (lexicon[i] for i in range(len(lexicon))):
                key = key_bytes.decode("utf-8")
                assert reader.lexicon_term(field_name, key) == analyzer.costly_term(key), key
                checked += 1
    assert checked > 2000
    assert readers[0].lexicon_term("text", "the") is None  # a stop word is not a key


def test_id_and_unstemmed_fields_keep_no_lexicon(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "i", Schema(id=ID(), body=TEXT("standard")))
    with index.writer() as writer:
        writer.add_document(id="a", body="Talks went well")
    _, readers = Index.open_snapshot(tmp_path / "i")
    assert readers[0].lexicon_term("body", "talks") is None
    assert readers[0].lexicon_term("id", "a") is None


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_query_on_indexed_words_does_not_import_nltk(tmp_path: Path) -> None:
    build_cranfield(tmp_path / "index")
    report = run_python(
        "import sys, json\n"
        "from searchlib import Searcher\n"
        f"searcher = Searcher({str(tmp_path / 'index')!r})\n"
        "hits = searcher.search('Boundary layers in supersonic flows', limit=5)\n"
        "snippets = [hit.snippet() for hit in hits]\n"
        "print(json.dumps({'nltk': 'nltk' in sys.modules, 'ids': [h.id for h in hits], 'snippets': snippets}))\n"
    )
    outcome = json.loads(report)
    assert outcome["nltk"] is False
    # The same query with the stemmer itself gives the same ranking and snippets.
    with Searcher(tmp_path / "index") as searcher:
        for analyzer in {id(a): a for a in searcher.analyzers.values()}.values():
            analyzer.known_terms = None
        hits = searcher.search("Boundary layers in supersonic flows", limit=5)
        assert [hit.id for hit in hits] == outcome["ids"]
        assert [hit.snippet() for hit in hits] == outcome["snippets"]
        assert all("[" in snippet for snippet in outcome["snippets"])


def test_a_word_the_index_never_saw_is_still_stemmed(tmp_path: Path) -> None:
    build_cranfield(tmp_path / "index")
    report = run_python(
        "import sys, json\n"
        "from searchlib import Searcher\n"
        f"searcher = Searcher({str(tmp_path / 'index')!r})\n"
        "query = searcher.parser.parse('supersonicness')\n"  # not in the corpus
        "print(json.dumps({'nltk': 'nltk' in sys.modules, 'terms': [t for _, t in query.terms()]}))\n"
    )
    outcome = json.loads(report)
    assert outcome["nltk"] is True
    assert set(outcome["terms"]) == {get_analyzer("english", **NLTK).term("supersonicness")}
