"""hwlib.wording: the seed-noise rule every comment uses, and the English helpers."""

import pytest

from hwlib import wording


def test_gap_clear_only_when_seed_ranges_do_not_overlap():
    assert wording.gap([0.10, 0.12], [0.20, 0.25]).verdict == "b"
    assert wording.gap([0.30, 0.31], [0.20, 0.25]).verdict == "a"
    # overlapping ranges: a tie, even though the means differ
    g = wording.gap([0.10, 0.22], [0.20, 0.25])
    assert g.verdict == "tie" and not g.clear and g.diff < 0


def test_gap_with_one_run_a_side_knows_no_noise():
    g = wording.gap([0.1], [0.5, 0.6])
    assert g.verdict == "unknown" and not g.clear and not g.noise_known


def test_gap_drops_missing_runs_and_refuses_an_empty_side():
    assert wording.gap([0.1, None, 0.12], [0.3, 0.4]).a == (0.1, 0.12)
    with pytest.raises(ValueError, match="at least one finished run"):
        wording.gap([None], [0.3])


def test_english_helpers():
    assert wording.plural(1, "iteration") == "1 iteration"
    assert wording.plural(3, "iteration") == "3 iterations"
    assert wording.plural(2, "batch", "batches") == "2 batches"
    assert wording.join([]) == "" and wording.join(["a"]) == "a"
    assert wording.join(["a", "b"]) == "a and b" and wording.join(["a", "b", "c"], "or") == "a, b or c"
    assert wording.pct(0.98333) == "98.3 %"
    assert wording.spread([0.5]) == "0.5"
    assert wording.spread([0.1, 0.2, None]) == "0.15 (0.1–0.2 over 2 seeds)"


def test_percent_digits_that_tell_values_apart():
    assert wording.distinct_pct_digits([0.9937, 0.9951, 0.9930]) == 1  # 99.4, 99.5, 99.3
    assert wording.distinct_pct_digits([0.9937, 0.9937]) == 0  # the same value: no decimal needed
    assert wording.distinct_pct_digits([0.5, 0.25]) == 0
    assert wording.distinct_pct_digits([0.99371, 0.99374]) == 3
    assert wording.distinct_pct_digits([0.1, None, float("nan")]) == 0
