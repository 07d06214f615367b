"""The names and defaults of BM25 scoring, apart from the scoring code.

The command line offers ``--similarity`` choices and shows the defaults in ``--help``
before it has loaded any engine code (numpy, the core, the index), so these constants
live in a module that imports nothing. :mod:`searchlib.scoring` re-exports them.
"""

from __future__ import annotations

#: Lucene's, Elasticsearch's and tantivy's defaults. Measured with ``searchlib eval``
#: (benchmarks/results/relevance.md), they beat Anserini's k1=0.9, b=0.4 on both SciFact
#: and Cranfield: fuller saturation and length normalization suit abstracts and
#: articles alike. Pass other values to ``Searcher`` for a corpus that needs them.
DEFAULT_K1 = 1.2
DEFAULT_B = 0.75

#: The BM25 variants :class:`searchlib.scoring.Similarity` knows.
SIMILARITIES = ("lucene", "robertson", "atire", "bm25l", "bm25+")

__all__ = ["DEFAULT_B", "DEFAULT_K1", "SIMILARITIES"]
