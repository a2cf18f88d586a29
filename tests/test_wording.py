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
    assert wording.amount(209.5) == "210" and wording.amount(12345.6) == "12,346" and wording.amount(0.349) == "0.35"
    assert wording.spread([0.5]) == "0.5"
    assert wording.spread([0.1, 0.2, None]) == "0.15 (mean; 0.1–0.2 over 2 seeds)"


def test_p_text_never_rounds_across_the_level():
    assert wording.p_text(0.25) == "p = 0.25" and wording.p_text(0.0312) == "p = 0.031"
    assert wording.p_text(0.0496) == "p = 0.0496" and wording.p_text(0.0504) == "p = 0.0504"
    assert wording.p_text(0.0004) == "p < 0.001"


def test_ranked_verdicts_and_the_words_beside_them():
    lower = wording.ranked([1, 2, 3, 4], [5, 6, 7, 8])
    assert lower.verdict == "lower" and lower.test == "exact two-sided rank test over the seeds, p = 0.029, below 0.05"
    assert wording.ranked([5, 6, 7, 8], [1, 2, 3, 4]).verdict == "higher"
    # two seeds a side: complete separation, and still no verdict
    floor = wording.ranked([1, 2], [3, 4])
    assert floor.verdict == "floor" and "with 2 seeds against 2" in floor.test and "p = 0.33" in floor.test
    assert wording.ranked([1, 3, 5, 7], [2, 4, 6, 8]).verdict == "tie"
    # ranks apart but an outlier turns the means around: no verdict either
    order = wording.ranked([1, 2, 3, 4, 5, 6, 1000], [10, 11, 12, 13, 14, 15, 16])
    assert order.p < 0.05 and order.verdict == "order" and "the means order the other way" in order.test
    assert wording.ranked([1, None, 2], [3, 4], unit="run").a == (1.0, 2.0)
    assert wording.seeds_needed() == 4


def test_ranked_paired_is_the_sign_test_of_each_runs_two_values():
    shrink = wording.ranked([5, 6, 7, 8, 9, 10], [1, 2, 3, 4, 5, 6], unit="run", paired=True)
    assert (shrink.above, shrink.below, shrink.verdict) == (6, 0, "higher")
    assert shrink.test == "exact two-sided sign test over the runs, p = 0.031, below 0.05"
    few = wording.ranked([5, 6, 7], [1, 2, 7], unit="run", paired=True)
    assert few.verdict == "floor" and few.test.startswith("with 2 runs that differ the exact two-sided sign test")


def test_percent_digits_that_tell_values_apart():
    assert wording.distinct_pct_digits([0.9937, 0.9951, 0.9930]) == 1  # 99.4, 99.5, 99.3
    assert wording.distinct_pct_digits([0.9937, 0.9937]) == 0  # the same value: no decimal needed
    assert wording.distinct_pct_digits([0.5, 0.25]) == 0
    assert wording.distinct_pct_digits([0.99371, 0.99374]) == 3
    assert wording.distinct_pct_digits([0.1, None, float("nan")]) == 0


def test_rho_strength_reads_the_printed_rho():
    assert wording.rho_strength(0.6) == wording.rho_strength(-0.5951) == "strong"
    assert wording.rho_strength(-0.3965) == "moderate"  # printed −0.40
    assert wording.rho_strength(0.394) == "weak" and wording.rho_strength(0.1951) == "weak"  # printed 0.20
    assert wording.rho_strength(0.194) == wording.rho_strength(0.0) == "none"
    assert wording.rho_printed(-0.3965) == -0.4


def test_seed_noise_phrases():
    assert wording.noise_unknown() == "the seed noise is unknown"
    assert wording.noise_unknown("the curvatures") == "the seed noise of the curvatures is unknown"
    assert wording.seeds_cannot_tell() == "the seeds cannot tell"
    assert wording.seeds_cannot_tell("which way it goes") == "the seeds cannot tell which way it goes"
    assert wording.no_uncertainty("one run") == "(one run: no uncertainty measured)"
