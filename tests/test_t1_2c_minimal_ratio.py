"""1-2c: the smoke run end to end, its table and figures, and comment() on every branch with small
hand-made results dicts."""

import pytest
import torch
from matplotlib.figure import Figure

from hwlib import curvature as cv
from hwlib.params import ParamError, resolve_task
from hwlib.plots import png
from hwlib.tasks import t1_2c_minimal_ratio as t1_2c


def _P(tmp_path, **kw):
    return resolve_task(t1_2c, profile="smoke", device="cpu", out_dir=tmp_path, **kw)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    P = _P(tmp_path_factory.mktemp("out"))
    return P, t1_2c.run(P)


def test_minimal_ratio_pipeline(smoke):
    P, R = smoke
    k, p = P.runs, R["n_params"]
    eig = torch.tensor(R["eigenvalues"], dtype=torch.float64)
    assert eig.shape == (k, p)  # the full Hessian: one eigenvalue per parameter
    assert R["missed"] == k - sum(R["phase2"]["reached"])
    # phase 2 did not raise the gradient norm of any run (it starts from phase 1's end point)
    assert all(b <= a * (1 + 1e-6) for a, b in zip(R["phase1"]["grad_norm"], R["phase2"]["grad_norm"]))
    # the reported ratios are recomputable from the stored eigenvalues
    for i in range(k):
        assert R["ratio_all"][i] == cv.minimal_ratio(eig[i], P.tol)
        assert R["ratio_nonzero"][i] == cv.minimal_ratio(eig[i], P.tol, over="nonzero")
    assert R["hessian"]["max_relative_asymmetry"] < 1e-10
    # a run that missed the threshold is reported at the lowest ‖∇L‖ it passed, not where the step limit left it
    for i, trace in enumerate(R["phase2"]["trace"]):
        if not R["phase2"]["reached"][i]:
            assert R["phase2"]["grad_norm"][i] <= min(t for t in trace if t is not None) * (1 + 1e-5)
    assert "(s)" not in t1_2c.comment(R)


def test_tol_must_be_in_the_sweep(tmp_path):
    with pytest.raises(ParamError, match="tol_sweep"):
        _P(tmp_path, tol=1e-3)


def test_table_and_figures(smoke):
    P, R = smoke
    table = t1_2c.table(R)
    assert "| after phase 2 (‖∇L‖²) |" in table and f"use tol = {P.tol:g}" in table
    assert all(f"\n| {tol:.4g} |" in table for tol in P.tol_sweep)  # a sweep row per tolerance
    figs = t1_2c.figures(R)
    assert len(figs) == 3  # phase-2 traces, ratio against loss, spectra
    for fig, caption in figs:
        assert isinstance(fig, Figure) and caption.endswith(".")
        for bad in ("(s)", "[", "`", "True", "False"):
            assert bad not in caption, bad
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def test_spectra_of_the_lowest_median_and_highest_loss():
    assert t1_2c._spectrum_picks([0.3, 0.1, None, 0.2]) == [1, 0, 2]  # a missing loss sorts last
    assert t1_2c._spectrum_picks([0.5]) == [0]  # one run: drawn once


def make_R(n=12, reached=None, ratio_all=None, ratio_nonzero=None, loss=None, negligible=None, p=20,
           n_negative=None, most_negative=-1e-3, top=10.0, rho=(-0.7, -0.45), sweep=(0.30, 0.20, 0.70, 0.80),
           phase1_loss=None, constant_loss=0.09):
    reached = [True] * n if reached is None else reached
    ratio_all = ratio_all or [0.2 + 0.01 * i for i in range(n)]
    ratio_nonzero = ratio_nonzero or [0.7] * n
    loss = loss or [0.004 + 0.0001 * i for i in range(n)]
    negligible = negligible or [10] * n
    eig = [[-1e-3] + [0.0] * (p - 2) + [top] for _ in range(n)]
    q = lambda v: {"min": min(v), "q25": min(v), "median": sorted(v)[len(v) // 2], "q75": max(v), "max": max(v)}
    return {
        "params": {"grad_threshold": 1e-3, "phase_steps": 4000, "tol": 1e-6},
        "seeds": list(range(n)), "n_params": p, "missed": sum(not r for r in reached),
        "constant_loss": constant_loss,
        "phase1": {"loss": phase1_loss or loss},
        "phase2": {"loss": loss, "grad_norm": [5e-4 if r else 3e-3 for r in reached], "reached": reached},
        "eigenvalues": eig, "ratio_all": ratio_all, "ratio_nonzero": ratio_nonzero,
        "sweep": [{"tol": 1e-6, "negligible": negligible}],
        "summary": {"ratio_all": q(ratio_all), "ratio_nonzero": q(ratio_nonzero), "negligible": q(negligible),
                    "runs_with_negative": n if n_negative is None else n_negative, "most_negative": most_negative,
                    "spearman_all": rho[0], "spearman_nonzero": rho[1],
                    "sweep_median": [{"tol": 1e-10, "ratio_all": sweep[0], "ratio_nonzero": sweep[2]},
                                     {"tol": 1e-4, "ratio_all": sweep[1], "ratio_nonzero": sweep[3]}]},
    }


def test_all_reached_saddles_strong_and_moderate_rho_tolerance_matters():
    text = t1_2c.comment(make_R())
    assert "12 of 12 runs reached" in text and "None hit the step limit" in text
    assert "lie near where ordinary training ended" in text
    assert "flat in many directions" in text  # 10 of 20: more than a third, not more than half
    assert "saddle points, with downhill" in text and "small beside" in text
    assert "a strong tendency to a higher ratio at lower loss" in text
    assert "a moderate tendency" in text
    assert "means little without its tolerance" in text
    assert "Ratio 1" not in text
    for bad in ("(s)", "[", "True", "False", "`", "nan"):
        assert bad not in text, bad


def test_flat_shares_most_and_many():
    assert "flat in most directions" in t1_2c.comment(make_R(negligible=[12] * 12))
    assert "flat in many directions" in t1_2c.comment(make_R(negligible=[8] * 12))
    assert "flat in" not in t1_2c.comment(make_R(negligible=[5] * 12))


def test_missed_runs_compared_with_the_others_every_way():
    reached = [True] * 9 + [False] * 3
    # the missed runs' ratios inside the others' range -> no clear difference
    text = t1_2c.comment(make_R(reached=reached, ratio_all=[0.2, 0.3] * 6))
    assert "3 runs hit the 4,000-step limit" in text and "lowest ‖∇L‖ it passed" in text
    assert "3.0 times the threshold" in text and "no clear difference" in text
    assert "are above those of every run" in t1_2c.comment(make_R(reached=reached, ratio_all=[0.2] * 9 + [0.5] * 3))
    assert "are below those of every run" in t1_2c.comment(make_R(reached=reached, ratio_all=[0.5] * 9 + [0.2] * 3))
    one = t1_2c.comment(make_R(reached=[True] * 11 + [False]))
    assert "1 run hit" in one and "cannot be told" in one
    # every run missed: nothing to compare with
    none = t1_2c.comment(make_R(reached=[False] * 12))
    assert "0 of 12 runs reached" in none and "cannot be told" not in none and "no clear" not in none


def test_phase2_moved_the_loss():
    text = t1_2c.comment(make_R(phase1_loss=[0.01] * 12))
    assert "moved the runs away" in text and "near where ordinary training ended" not in text


def test_negative_eigenvalues_few_none_and_not_small():
    assert "the rest are saddle points" in t1_2c.comment(make_R(n_negative=2))
    none = t1_2c.comment(make_R(n_negative=0))
    assert "every point curves upward" in none and "most negative" not in none
    assert "not small beside" in t1_2c.comment(make_R(most_negative=-1.0))


@pytest.mark.parametrize("rho, words", [(0.65, "a strong tendency to a higher ratio at *higher* loss"),
                                        (-0.3965, "a moderate tendency"),  # printed -0.40: words follow the print
                                        (-0.39, "a weak tendency"), (0.1, "no monotone relation"),
                                        (float("nan"), "no rank correlation can be computed"),
                                        (None, "no rank correlation can be computed")])
def test_rho_words(rho, words):
    assert words in t1_2c.comment(make_R(rho=(rho, 0.0)))


def test_rho_words_print_rounding():
    assert "moderate" in t1_2c._rho_words(-0.3965, 100) and "weak" in t1_2c._rho_words(-0.394, 100)
    assert "too few runs (6)" in t1_2c._rho_words(-0.9, 6)


def test_tolerance_hardly_matters():
    text = t1_2c.comment(make_R(sweep=(0.30, 0.28, 0.70, 0.72)))
    assert "hardly matters" in text and "means little" not in text


def test_ratio_one_runs_constant_collapsed_and_true_minimum():
    n = 12
    rn = [0.7] * n
    rn[0] = rn[1] = rn[2] = 1.0
    loss = [0.004] * n
    loss[0] = 0.0901  # within 1 % of the constant fit 0.09
    loss[1] = 0.04
    negligible = [10] * n
    negligible[0], negligible[1], negligible[2] = 19, 16, 9  # 1, 4 and 11 curved; the median run has 10
    text = t1_2c.comment(make_R(ratio_nonzero=rn, loss=loss, negligible=negligible))
    assert "3 runs (seeds 0, 1 and 2)" in text
    assert "Seed 0 sits at the loss of the best constant prediction" in text
    assert "Seed 1 has fewer than 50 % of the median number" in text
    assert "no longer fits" in text
    assert "Seed 2 curves upward in every one" in text
    only_min = list(rn)
    only_min[0] = only_min[1] = 0.7
    text = t1_2c.comment(make_R(ratio_nonzero=only_min, loss=loss, negligible=negligible))
    assert "1 run (seed 2)" in text and "no longer fits" not in text


def test_ratio_nonzero_nan_is_skipped():
    rn = [None] + [0.7] * 11
    text = t1_2c.comment(make_R(ratio_nonzero=[0.7] * 12) | {"ratio_nonzero": rn})
    assert "Ratio 1" not in text


def test_figures_mark_a_missed_run_and_a_short_trace():
    R = {"params": {"grad_threshold": 1e-3, "tol": 1e-6}, "seeds": [0, 1, 2], "n_params": 3,
         "phase2": {"loss": [0.01, 0.02, 0.03], "reached": [True, True, False],
                    "trace": [[1e-2, 5e-4, None], [1e-2, 1e-3, 8e-4], [1e-2, 5e-3, 2e-3]]},
         "ratio_all": [0.3, 0.6, 0.3], "ratio_nonzero": [0.5, 1.0, None],
         "eigenvalues": [[-1e-3, 0.0, 1.0]] * 3}
    traces, scatter, spectra = (fig for fig, _ in t1_2c.figures(R))
    assert traces.axes[0].lines[0].get_marker() == "." and traces.axes[0].lines[1].get_marker() == "None"
    labels = [t.get_text() for t in scatter.legends[0].get_texts()]
    assert labels == ["reached ‖∇L‖ < threshold (2 runs)", "missed it: lowest ‖∇L‖ kept (1 run)"]
    assert len(spectra.axes[0].lines) == 3  # lowest, median and highest loss
    for fig in (traces, scatter, spectra):
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here
