"""Golden snippets: real Cranfield abstracts and the seed article, for term, phrase,
prefix and fuzzy queries, as a user sees them (plain markers, one and two fragments,
HTML). A change to fragment choice shows up here as a diff to read, not a silent drift."""

from __future__ import annotations

import itertools
import json

import pytest

from searchlib import Index, Searcher
from searchlib.evaluation import dataset_schema
from searchlib.ingest import ingest
from searchlib.query import Fuzzy, Phrase, Prefix, Query
from tests.conftest import REPO_ROOT, SHARED

CRANFIELD = SHARED / "datasets" / "cranfield" / "corpus.jsonl"


@pytest.fixture(scope="module")
def cranfield(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    if not CRANFIELD.exists():
        pytest.skip(f"{CRANFIELD} is not available")
    index = Index.create(tmp_path_factory.mktemp("cranfield") / "idx", dataset_schema())
    with index.writer() as writer, CRANFIELD.open(encoding="utf-8") as lines:
        for line in itertools.islice(lines, 400):
            writer.add_document(json.loads(line))
    return Searcher(index.reopen())


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    path = tmp_path_factory.mktemp("seed") / "idx"
    ingest(path, [REPO_ROOT / "seeds"])
    return Searcher(path)


def top(searcher: Searcher, query: str | Query, doc_id: str | None = None):  # type: ignore[no-untyped-def]
    # A named document is looked for among more hits: a prefix scores every match alike.
    hits = searcher.search(query, limit=10 if doc_id is None else 1000)
    return hits[0] if doc_id is None else next(hit for hit in hits if hit["id"] == doc_id)


def test_cranfield_term(cranfield: Searcher) -> None:
    hit = top(cranfield, "slipstream")
    assert hit["id"] == "1"
    assert hit.snippet() == (
        "…aerodynamics of a wing in a [slipstream] . an experimental study of a wing in a propeller "
        "[slipstream] was made in order to determine the spanwise distribution of…"
    )
    assert hit.snippet("text", count=2, width=100) == (
        "…wing in a [slipstream] . an experimental study of a wing in a propeller [slipstream] was made "
        "in order … [slipstream] at different angles of attack of the wing and at different free stream "
        "to [slipstream]…"
    )


def test_cranfield_phrase(cranfield: Searcher) -> None:
    phrase = Phrase("text", ("boundari", "layer"))
    hit = top(cranfield, phrase, "72")
    assert hit.snippet() == (
        "…was uniform (as a function of distance behind the wave) for the laminar-[boundary]-[layer] "
        "case but varied with distance for the turbulent-[boundary]-[layer] case ."
    )
    # "boundary" alone, away from "layer", is not marked.
    hit = top(cranfield, phrase, "376")
    assert hit.snippet() == (
        "…the transformation from compressible [boundary] [layer] to incompressible [boundary] [layer] "
        "can be applied to the laminar, as well as turbulent, case .…"
    )
    sloppy = top(cranfield, Phrase("text", ("layer", "boundari"), slop=2), "376")
    assert sloppy.snippet() == hit.snippet()


def test_cranfield_prefix(cranfield: Searcher) -> None:
    hit = top(cranfield, Prefix("text", "superson"), "214")
    assert hit.snippet("text", count=2, width=100) == (
        "on the testing of [supersonic] compressor cascades . to facilitate the development of high "
        "speed … in a stationary cascade at [supersonic] speeds . a suitable technique was developed "
        "and the losses in…"
    )


def test_cranfield_fuzzy(cranfield: Searcher) -> None:
    hit = top(cranfield, Fuzzy("text", "slipstreem", 1))
    assert hit["id"] == "1" and hit.snippet() == top(cranfield, "slipstream").snippet()


def test_seed_term(seed: Searcher) -> None:
    hit = top(seed, "ceasefire hostages")
    assert hit.snippet() == (
        "…Trump Administration [hostage] envoy Adam Boehler for holding direct talks with Hamas "
        "regarding the release of [hostages].Dermer was upset that Boehler discussed…"
    )
    assert hit.snippet("title") == "US talking directly to Hamas about [ceasefire], aid to Gaza"
    # Narrower, one window holds one of them: "hostages", the word as typed, beats "hostage".
    assert hit.snippet("body", format="html", width=80) == (
        "…the release of <mark>hostages</mark>.Dermer was upset that Boehler discussed the release of…"
    )


def test_seed_phrase(seed: Searcher) -> None:
    hit = top(seed, Phrase("body", ("direct", "talk")))
    # "talking directly" and a lone "talks" are not the phrase; two fragments show both occurrences.
    assert hit.snippet("body", count=2) == (
        "…hostage envoy Adam Boehler for holding [direct] [talks] with Hamas regarding the release of "
        "hostages.Dermer was upset that Boehler discussed the release of … Israeli Prime Minister "
        "Benjamin Netanyahu opposed the idea of [direct] [talks] between the US and Hamas when the "
        "Trump Administration proposed it.…"
    )
    assert hit.snippet("title") == "US talking directly to Hamas about ceasefire, aid to Gaza"


def test_seed_prefix(seed: Searcher) -> None:
    hit = top(seed, Prefix("body", "negoti"))
    assert hit.snippet() == (
        "…In addition, media outlets reported that US officials were taking the unprecedented step of "
        "[negotiating] directly with Hamas, overturning established US policy…"
    )


def test_seed_fuzzy(seed: Searcher) -> None:
    hit = top(seed, Fuzzy("body", "netanyahoo", 2))
    assert hit.snippet("body", count=2) == (
        "…claiming that the relationship between Trump and [Netanyahu] has soured recently, with rising "
        "tensions between the White House and Jerusalem. … Israeli Prime Minister Benjamin [Netanyahu] "
        "opposed the idea of direct talks between the US and Hamas when the Trump Administration "
        "proposed it.…"
    )
