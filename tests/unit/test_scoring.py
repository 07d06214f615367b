"""BM25 pieces against hand-computed values and their expected properties."""

from __future__ import annotations

import math

import numpy as np

from searchlib.scoring import CollectionStats, bm25_idf, bm25_length_norm, bm25_saturate, bm25_tf


def test_idf_is_lucenes_formula() -> None:
    assert float(bm25_idf(3, 100)) == pytest_approx(math.log(1 + (100 - 3 + 0.5) / (3 + 0.5)))


def test_idf_never_negative_even_for_terms_in_every_document() -> None:
    assert float(bm25_idf(100, 100)) > 0


def test_tf_part_by_hand() -> None:
    tf, dl, avgdl, k1, b = 3.0, 12.0, 8.0, 0.9, 0.4
    expected = tf / (tf + k1 * (1 - b + b * dl / avgdl))
    assert float(bm25_tf(np.array([tf]), np.array([dl]), avgdl, k1, b)[0]) == pytest_approx(expected)


def test_saturation_of_a_normalized_tf_is_the_tf_part() -> None:
    tf, dl, avgdl, k1, b = 2.0, 30.0, 12.0, 1.2, 0.75
    pseudo_tf = tf / float(bm25_length_norm(np.array([dl]), avgdl, b)[0])
    assert float(bm25_saturate(pseudo_tf, k1)) == pytest_approx(float(bm25_tf([tf], [dl], avgdl, k1, b)[0]))


def test_score_rises_with_tf_and_falls_with_length() -> None:
    rising = bm25_tf(np.arange(1, 20), np.full(19, 10), 10.0, 0.9, 0.4)
    assert np.all(np.diff(rising) > 0)
    falling = bm25_tf(np.full(19, 2), np.arange(1, 20), 10.0, 0.9, 0.4)
    assert np.all(np.diff(falling) < 0)


def test_collection_stats_average_length() -> None:
    stats = CollectionStats(doc_count=4, field_doc_counts={("body",): 2}, total_lengths={"body": 10})
    assert stats.average_length("body") == 5.0  # over the two documents that have the field
    assert stats.idf(("body",), "absent") == pytest_approx(math.log(1 + 2.5 / 0.5))
    assert CollectionStats(doc_count=0).average_length("body") == 0.0


def pytest_approx(value: float) -> object:
    import pytest

    return pytest.approx(value, rel=1e-12)
