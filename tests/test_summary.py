"""The summary page (hwlib/pipeline/summary.py): each question's row on hand-made results, branch by branch;
every restated rule against the task module's own; on random results (the strategies the task tests draw
their comments from, and new ones for the other tasks) every number and verdict of a row re-derived with
the task module's functions, and the row never more confident than the section's comment; a missing or
unreadable results file, and a failed notebook, each get a row and the report is still built."""

import html as html_mod
import os
import re
import statistics
from pathlib import Path

import nbformat
import pytest
import test_t1_1a_simulate_function as tests_1a
import test_t1_1b_actual_task as tests_1b
import test_t1_2b_gradient_norm as tests_2b
import test_t1_2c_minimal_ratio as tests_2c
import test_t1_3d_sensitivity as tests_3d
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwlib import batch_words, data, results, wording
from hwlib.pipeline import pdf, stitch
from hwlib.pipeline import summary as S
from hwlib.tasks import t1_1a_simulate_function as t1_1a
from hwlib.tasks import t1_1b_actual_task as t1_1b
from hwlib.tasks import t1_2a_optimization_process as t1_2a
from hwlib.tasks import t1_2b_gradient_norm as t1_2b
from hwlib.tasks import t1_2c_minimal_ratio as t1_2c
from hwlib.tasks import t1_2d_error_surface as t1_2d
from hwlib.tasks import t1_3a_random_labels as t1_3a
from hwlib.tasks import t1_3b_parameters_vs_generalization as t1_3b
from hwlib.tasks import t1_3c_interpolation as t1_3c
from hwlib.tasks import t1_3d_sensitivity as t1_3d
from hwlib.tasks import t1_3e_sharpness as t1_3e

TASKS = {"1-1a": t1_1a, "1-1b": t1_1b, "1-2a": t1_2a, "1-2b": t1_2b, "1-2c": t1_2c, "1-2d": t1_2d,
         "1-3a": t1_3a, "1-3b": t1_3b, "1-3c": t1_3c, "1-3d": t1_3d, "1-3e": t1_3e}
PROPERTY = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
CANNOT = re.compile(r"cannot (tell|be told|say|answer)", re.IGNORECASE)


def _clean(row: S.Row) -> S.Row:
    for text in (row.answer, row.number, *row.limits, *row.missed, *row.cannot):
        for bad in ("(s)", "[", "]", "True", "False", "None", "nan", "`", "{", "}"):
            assert bad not in text, (bad, text)
    assert row.answer.endswith(".") and row.answer[0].isupper(), row.answer
    return row


def _not_more_confident(comment: str, row: S.Row) -> None:
    """Where the section says it cannot tell, the summary says so too: in the row or in the limitations."""
    if CANNOT.search(comment):
        assert row.cannot or row.answer.startswith("Cannot tell"), (comment, row)


def _num(text: str) -> float:
    return float(text.replace("−", "-").replace(",", ""))


# ------------------------------------------------------------------ the restated rules are the task modules'

def test_the_questions_are_the_notebooks_and_task_modules():
    notebooks = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
    assert [name for _, name, _ in S.QUESTIONS] == notebooks
    assert [(sec, name) for sec, name, _ in S.QUESTIONS] == [(t.SECTION, t.NAME) for t in TASKS.values()]
    assert list(S.SUMMARIES) == list(TASKS)


def test_restated_constants_are_the_task_modules():
    assert S.LEVEL_1_1B == t1_1b.LEVEL and S.PCT_1_1B == t1_1b.PCT
    assert S.MOST_VARIANCE_1_2A == t1_2a.MOST_VARIANCE
    assert (S.MOST_RUNS_1_2C, S.MIN_RUNS_RHO_1_2C, S.TOL_MATTERS_1_2C) == (t1_2c.MOST_RUNS, t1_2c.MIN_RUNS_RHO,
                                                                          t1_2c.TOL_MATTERS)
    assert S.LOWER_1_2D == t1_2d.LOWER
    assert S.NOISE_Z_1_3A == t1_3a.NOISE_Z
    assert S.FIT_ACC_1_3B == t1_3b.FIT_ACC
    assert (S.NEAR_ZERO_1_3C, S.EQUAL_CURVATURE_1_3C) == (t1_3c.NEAR_ZERO, t1_3c.EQUAL_CURVATURE)
    assert S.ALPHA_1_3C == t1_3c.ALPHA
    assert S.ALPHA_1_3D == t1_3d.ALPHA
    assert S.FUNCTIONS_1_1A == {k: v[1] for k, v in data.FUNCTIONS.items()}
    for alpha in (0.01, 0.05, 0.1, 0.5):
        assert S.seeds_needed(alpha) == t1_1a.seeds_needed(alpha)


P_VALUE = st.one_of(st.sampled_from([0.0001, 0.001, 0.0496, 0.04999, 0.05, 0.0501, 0.125, 1.0]), st.floats(0, 1))
LOSS_DIFF = st.one_of(st.sampled_from([0.0, 4e-5, -4e-5, 5e-5, -5e-5, 1e-9, -0.0198]), st.floats(-2, 2))
END = st.one_of(st.sampled_from([0.0, 0.004, -0.004, 0.005, -0.005, 0.0051, -0.0051]), st.floats(-1, 1))


@PROPERTY
@given(P_VALUE, st.lists(LOSS_DIFF, min_size=1, max_size=3))
def test_1_1b_formats_are_the_task_modules(p, diffs):
    assert S.say_p(p) == t1_1b.say_p(p)
    spec = S.loss_format(*diffs)
    assert spec == t1_1b.loss_format(*diffs)
    assert [S.minus(format(d, spec)) for d in diffs] == [t1_1b.say_diff(d, spec) for d in diffs]


@PROPERTY
@given(st.lists(END, min_size=3, max_size=3).map(sorted))
def test_1_3d_direction_is_the_task_modules(ends):
    c = {"rho": ends[1], "low": ends[0], "high": ends[2], "n": 10}
    assert S.direction(c) == batch_words.direction(c)
    assert S.fixed(ends[0]) == batch_words.fixed(ends[0])
    rho, low, high = re.fullmatch(r"ρ = (\S+), 95 % interval (\S+) to (\S+) over 10 models", batch_words.interval(c)).groups()
    assert S.interval(c) == f"{S.minus(rho)} ({S.minus(low)} to {S.minus(high)})"
    assert S.direction({"rho": None, "low": None, "high": None}) == batch_words.direction({"rho": None}) == "unknown"


@PROPERTY
@given(st.lists(st.one_of(st.sampled_from([1e-3, 1.2e-3, 0.5]), st.floats(1e-6, 1)), min_size=1, max_size=6),
       st.lists(st.one_of(st.sampled_from([1e-3, 1.2e-3, 0.5]), st.floats(1e-6, 1)), min_size=1, max_size=6),
       st.sampled_from([0.05, 0.1]))
def test_1_1a_compare_is_the_task_modules(deep, shallow, alpha):
    assert S.compare_1_1a(deep, shallow, alpha) == t1_1a.compare(deep, shallow, alpha)
    x = statistics.median(deep) / statistics.median(shallow)
    assert S.ratio_1_1a(x) == t1_1a._ratio(x)


@PROPERTY
@given(st.floats(-40, 40), st.floats(-40, 40))
def test_1_3c_flatter_is_the_task_modules(k1, k2):
    for a, b in ((k1, k2), (k1, k1 * 1.05), (k1, k1 * 0.005), (0.0, k2)):
        case = {"curvature": {"model1": a, "model2": b}}
        assert S.flatter_1_3c(case) == t1_3c.flatter(case)


@PROPERTY
@given(st.one_of(st.none(), st.floats(-1, 1), st.sampled_from([-0.195, 0.2, 0.595, 0.6])),
       st.floats(0, 0.5), st.integers(2, 40))
def test_1_2c_rho_words_are_the_task_modules(rho, half, n):
    c = {"rho": rho, "low": None if rho is None else rho - half, "high": None if rho is None else rho + half, "n": n}
    rho = c  # the two modules read one rank correlation
    assert S.rho_words_1_2c(rho, n).replace("−", "-").removeprefix("it shows ") == t1_2c._rho_words(rho, n) \
        .replace("a rank correlation", "its rank correlation with the loss") \
        .replace("no rank correlation can be computed", "its rank correlation with the loss cannot be computed") \
        .replace("*higher*", "higher")


@PROPERTY
@given(st.lists(st.floats(1e-3, 100), min_size=1, max_size=30))
def test_1_2a_pair_distances_print_as_the_task_modules(d):
    assert S.over_pairs(d) == t1_2a._over_pairs(d)


@PROPERTY
@given(st.one_of(st.floats(1e-12, 1), st.sampled_from([0.125, 0.2222, 0.2299, 0.33333, 1.0, 0.0079])))
def test_at_least_never_rounds_up(p):
    shown = float(S.at_least(p))
    assert shown <= p and (p - shown) <= 0.1 * p + 1e-15  # two significant digits, rounded down


# ------------------------------------------------------------------ hand-made results, one per task

def _1a_runs(depth_losses: dict, epochs=4000, at_limit=True):
    return [{"depth": d, "seed": s, "epochs_run": epochs if at_limit else 100, "stopped": None if at_limit else "x",
             "diverged": None, "train_loss": v} for d, vs in depth_losses.items() for s, v in enumerate(vs)]


def R_1a(sign=None, sinc=None, seeds=5):
    sinc = sinc or {1: [1e-4, 3e-4, 3e-5, 4e-5, 3e-3], 3: [1.5e-3, 1.3e-3, 3e-3, 6e-3, 3e-5],
                    6: [3e-3, 5e-5, 2e-4, 1.3e-3, 3e-4]}
    sign = sign or {1: [0.21, 0.2, 0.17, 0.22, 0.23], 3: [0.41, 0.35, 0.097, 0.3, 0.25],
                    6: [0.05, 0.018, 0.14, 0.06, 0.07]}
    return {"profile": "quick", "alpha": 0.05, "final_window": 0.05,
            "params": {"functions": ["sinc", "sign"], "seeds": seeds, "budget": 570, "epochs": 4000, "lr": 3e-3},
            "runs": {"sinc": _1a_runs(sinc), "sign": _1a_runs(sign, at_limit=False)}}


def test_1_1a_one_comparison_decided_the_rest_cannot_tell():
    row = _clean(S.summary_1_1a(R_1a()))
    assert row.answer == ("Not consistently: the MLP with 6 hidden layers reached a lower final training loss than "
                          "the one with 1 hidden layer on sgn(sin(5πx)); the other 3 comparisons cannot tell which "
                          "is lower.")
    assert row.number.startswith("6 against 1 hidden layer on sgn(sin(5πx)): median final loss 0.29 "
                                 "times, rank test p = 0.0079; other comparisons p ≥ ")
    assert row.number.endswith("(5 seeds a model)") and row.seeds == "5 seeds a model"
    assert row.cannot == ["3 of 4 depth comparisons"]
    assert row.missed == ["15 of 30 runs stopped at the 4,000-epoch limit with the loss still falling"]


def test_1_1a_every_deeper_model_better_and_one_seed_floor():
    down = {1: [1.0, 1.1, 1.2, 1.3, 1.4], 3: [0.1, 0.11, 0.12, 0.13, 0.14], 6: [0.01, 0.02, 0.03, 0.04, 0.05]}
    assert S.summary_1_1a(R_1a(sign=down, sinc=down)).answer.startswith(
        "Yes, here: every deeper MLP reached a lower final training loss than the shallowest.")
    up = {d: [1 / v for v in vs] for d, vs in down.items()}
    assert S.summary_1_1a(R_1a(sign=up, sinc=up)).answer.startswith("No, here: every deeper MLP reached a higher")
    one = {1: [0.2], 3: [0.1], 6: [0.05]}
    row = _clean(S.summary_1_1a(R_1a(sign=one, sinc=one, seeds=1)))
    assert row.answer.startswith("Cannot tell: with one seed a model the exact rank test cannot reach p < 0.05")
    assert row.limits == [("4 comparisons with too few finished seeds for the exact rank test to reach p < 0.05 "
                          "(4 a side are needed)")]
    assert row.seeds == "one seed a model"


def _pair(deep, shallow, acc_p, only, loss, dataset="digits"):
    return {"dataset": dataset, "deep": deep, "shallow": shallow, "n_test": 360,
            "accuracy": {"only_deep": only[0], "only_shallow": only[1], "p": acc_p},
            "loss": dict(zip(("mean", "low", "high"), loss))}


def R_1b(datasets=("digits",)):
    paired = []
    for name in datasets:
        paired += [_pair("2-block CNN", "1-block CNN", 0.25, (3, 0), (-0.0113, -0.0228, 0.0026), name),
                   _pair("4-block CNN", "1-block CNN", 0.125, (4, 0), (-0.0198, -0.0335, -0.008), name),
                   _pair("4-block CNN", "2-block CNN", 1.0, (1, 0), (-0.0085, -0.021, 0.0017), name)]
    runs = [{"dataset": n, "model": f"{d}-block CNN", "history": {"diverged": None}} for n in datasets
            for d in (1, 2, 4)]
    return {"params": {"datasets": list(datasets), "seed": 0}, "paired": paired, "runs": runs}


def test_1_1b_paired_verdicts_against_the_shallowest():
    row = _clean(S.summary_1_1b(R_1b()))
    assert row.answer == ("On digits, against the 1-block CNN: test loss: cannot tell for the 2-block CNN, lower for "
                          "the 4-block CNN; test accuracy: cannot tell for the 2-block CNN and the 4-block CNN.")
    assert row.number == ("4-block CNN − 1-block CNN test loss: −0.0198 (95 % interval −0.0335 to −0.0080); test "
                          "accuracy McNemar p = 0.12 (4 against 0 images)")
    assert row.cannot == ["test loss in 2 of 3 pairs", "test accuracy in 3 of 3 pairs"] and row.single
    two = _clean(S.summary_1_1b(R_1b(("mnist", "cifar10"))))
    assert "on mnist" in two.number and "on cifar10" in two.number and "; on cifar10, against" in two.answer


def test_1_1b_a_dataset_with_one_finished_cnn():
    R = R_1b()
    R["paired"] = []
    R["runs"][1]["history"]["diverged"] = {"epoch": 2}
    row = _clean(S.summary_1_1b(R))
    assert row.answer == "On digits fewer than two CNNs finished, so depth is not compared."
    assert row.missed == ["the 2-block CNN on digits diverged"] and row.number == "—"


def R_2a(start=(7.0, 7.1, 7.3), end=(12.7, 13.0, 13.5), evr=(0.2, 0.1), steps=((2.4, 0.3),) * 8):
    return {"runs": [{"seed": s} for s in range(8)], "pair_distance": {"start": list(start), "end": list(end)},
            "pca": {"whole": {"explained_variance_ratio": list(evr)}, "layer": {"explained_variance_ratio": [0.5, 0.3]}},
            "step_length": [list(x) for x in steps]}


def test_1_2a_runs_end_apart_together_or_cannot_tell():
    row = _clean(S.summary_1_2a(R_2a()))
    assert row.answer.startswith("No: every pair of the 8 runs ends farther apart than any pair started")
    assert row.number == ("distance between two runs 7.13 (mean; 7–7.3 over 3 pairs) at initialization, "
                          "13.1 (mean; 12.7–13.5 over 3 pairs) at the end")
    assert row.limits == [("the 2-D PCA plane holds 30.0 % (whole model) of the variance, so its figures are "
                          "partial views")]
    assert S.summary_1_2a(R_2a(end=(1, 2, 3))).answer.startswith("They converge")
    row = S.summary_1_2a(R_2a(end=(7.2, 8, 9)))
    assert row.answer.startswith("Cannot tell") and row.cannot
    assert S.summary_1_2a(R_2a(start=(7,), end=(9,))).answer.startswith("Cannot tell: with a single pair")
    assert row.cannot == ["whether the runs end closer or farther apart"]  # 8 runs' steps all shrank: p < 0.05
    row = S.summary_1_2a(R_2a(steps=((2.4, 0.3), (2.4, 0.3), (0.3, 2.4))))  # 2 of 3: the sign test cannot tell
    assert row.cannot == ["whether the step length changes"]
    assert S.summary_1_2a(R_2a(evr=(0.3, 0.201))).limits == []  # 50.1 % is more than half; 50.0 % as printed is not
    assert S.summary_1_2a(R_2a(evr=(0.3, 0.2004))).limits[0].startswith("the 2-D PCA plane holds 50.0 %")


def _2b_run(seed, loss=(1.0, 0.1), grad=(1.0, 0.1), rho=0.5, jumps=(1.0, 0.1), peak=None):
    return {"seed": seed, "start_loss": loss[0], "end_loss": loss[1], "start_grad_norm": grad[0],
            "end_grad_norm": grad[1], "spearman_grad_loss": rho, "max_jump_grad_norm": jumps[0],
            "max_jump_loss": jumps[1], "trend_peak_grad_norm": max(grad) if peak is None else peak}


def R_2b(sinc, digits):
    return {"per_dataset": {
        "sinc": {"name": "sinc", "full_batch": True, "batch_size": 256, "runs": sinc},
        "digits": {"name": "digits", "full_batch": False, "batch_size": 64, "runs": digits}}}


def test_1_2b_directions_seed_by_seed():
    R = R_2b([_2b_run(0, grad=(1, 0.1)), _2b_run(1, grad=(1, 0.05))],
             [_2b_run(0, grad=(0.3, 0.6)), _2b_run(1, grad=(0.3, 0.45), rho=0.1)])
    row = _clean(S.summary_1_2b(R))
    assert row.answer == ("On sinc (full batch) the loss and the gradient norm both fall in every seed; on digits "
                          "(minibatches of 64) the loss falls in every seed but the gradient norm rises in every "
                          "seed.")
    assert row.number.startswith("sinc: ‖∇L‖ falls by a factor of 10–20 start to end; digits: ‖∇L‖ rises by a "
                                 "factor of 1.5–2 start to end")
    assert row.cannot == ["the strength of their link on digits"]
    R["per_dataset"]["digits"]["runs"] = [_2b_run(0, grad=(0.3, 0.6), peak=1.1), _2b_run(1, grad=(0.3, 0.45), peak=0.5)]
    assert S.summary_1_2b(R).answer.endswith("the gradient norm rises in every seed, its running median first climbing "
                                             "over 1.5 times both ends in some seeds.")
    R["per_dataset"]["digits"]["runs"][1]["trend_peak_grad_norm"] = 1.05
    assert S.summary_1_2b(R).answer.endswith("the gradient norm rises in every seed, its running median first climbing "
                                             "to 1.05–1.1, over 1.5 times both ends, in every seed.")
    R = R_2b([_2b_run(0, grad=(1, 0.1)), _2b_run(1, grad=(1, 2), jumps=(0.1, 1))], [_2b_run(0)])
    row = _clean(S.summary_1_2b(R))
    assert "on sinc (full batch) the loss falls in every seed and the seeds cannot tell which way the gradient " \
           "norm goes" in row.answer.lower()
    assert "sinc: ‖∇L‖ 1 to 1.05 (means)" in row.number
    assert row.cannot == ["the direction of the gradient norm on sinc", "which is the noisier on sinc"]
    assert row.limits == ["one seed a dataset, so whether other seeds would agree is unknown"]


def R_2c(neg=100, n=100, rho=-0.71, below=0.08, missed=7, sweep=((1e-10, 0.26, 0.68), (1e-4, 0.16, 0.83))):
    q = lambda m, a, b: {"min": a - 0.1, "q25": a, "median": m, "q75": b, "max": b + 0.1}
    return {"params": {"tol": 1e-6, "grad_threshold": 1e-3, "phase_steps": 4000}, "seeds": list(range(n)),
            "n_params": 141, "phase2": {"reached": [i >= missed for i in range(n)]},
            "ratio_all": [0.1 + 0.002 * i for i in range(n)],
            "summary": {"runs_with_negative": neg, "ratio_all": q(0.24, 0.21, 0.27), "ratio_nonzero": q(0.71, 0.68, 0.74),
                        "rho_all": {"rho": rho, "low": rho - below, "high": rho + 0.1, "n": n},
                        "sweep_median": [{"tol": t, "ratio_all": a, "ratio_nonzero": b} for t, a, b in sweep]}}


def test_1_2c_saddles_and_the_ratio():
    row = _clean(S.summary_1_2c(R_2c()))
    assert row.answer == ("No: 100 of the 100 points have an eigenvalue below −1e-06, so all are "
                          "saddle points, not minima; a strong tendency to a higher ratio at lower loss (Spearman "
                          "ρ = −0.71, 95 % interval −0.79 to −0.61 over 100 runs, which excludes 0).")
    assert row.number == ("minimal ratio (tol = 1e-06) median 0.24, interquartile 0.21–0.27 over the 100 runs; among "
                          "the non-negligible eigenvalues 0.71 (0.68–0.74)")
    assert row.missed == ["7 of 100 runs hit the 4,000-step limit before ‖∇L‖ < 0.001 (kept in the figures, marked ×)"]
    assert row.limits == ["the minimal ratio depends on the tolerance (median 0.26 at tol = 1e-10, 0.16 at 0.0001)"]
    assert row.cannot == []  # the missed runs' ratios (0.1 to 0.112) lie below every other: clearly different
    assert S.summary_1_2c(R_2c(neg=30)).answer.startswith("Mostly: 70 of the 100 points curve upward")
    assert S.summary_1_2c(R_2c(neg=0, rho=0.1)).answer.endswith(
        "a slight tendency to a higher ratio at higher loss (Spearman ρ = 0.10, 95 % interval 0.02 to 0.20 over 100 "
        "runs, which excludes 0).")
    assert S.summary_1_2c(R_2c(neg=0, rho=0.1, below=0.15)).answer == (
        "Yes: all 100 points curve upward in every direction that is curved at all; it shows no established "
        "monotone relation with the loss (Spearman ρ = 0.10, 95 % interval −0.05 to 0.20 over 100 runs, which holds "
        "0).")
    row = S.summary_1_2c(R_2c(n=8, neg=5, missed=0, sweep=((1e-10, 0.2, 0.7), (1e-4, 0.21, 0.71))))
    assert "Mostly not: 5 of the 8 points" in row.answer and "too few runs (8)" in row.answer
    assert row.missed == row.limits == []


def R_2d(rp_min=0.047, pp_min=0.0248, ahead=True, ring=(0.839, 4.91)):
    return {"params": {"span": 1.0},
            "random_plane": {"center_loss": 0.0471, "min_loss": rp_min, "ring_half": ring and ring[0],
                             "ring_full": ring and ring[1]},
            "pca_plane": {"min_loss": pp_min, "path_end_loss": 0.0471, "min_ahead": ahead}}


def test_1_2d_basin_and_the_trajectory_plane():
    row = _clean(S.summary_1_2d(R_2d()))
    assert row.answer == ("The trained point θ* sits at the bottom of a basin along two random filter-normalized "
                          "directions; the trajectory's PCA plane holds loss more than 10 % lower ahead of it along "
                          "the last step, which suggests training had not finished descending.")
    assert row.number == ("loss at θ* 0.0471; averaged over the circle of radius 0.5, 17.8 times that (one run: no "
                          "uncertainty measured)") and row.single
    row = _clean(S.summary_1_2d(R_2d(rp_min=0.01, pp_min=0.047, ring=None)))
    assert "is not the lowest point" in row.answer and "no point is more than 10 % lower" in row.answer
    assert row.number.startswith("loss at θ* 0.0471 (one run")
    assert "but not ahead of it" in S.summary_1_2d(R_2d(ahead=False)).answer
    # the lowest point of its grid, but a circle whose mean loss prints as 1 times θ*'s: no basin claimed
    assert S.summary_1_2d(R_2d(ring=(0.04711, 4.91))).answer.startswith(
        "No point along two random filter-normalized directions is more than 10 % below θ*, but the circles")


def R_3a(e=34, acc=0.114, chance=0.1, ref=(4, 0.978), best=None, paired=(316, 3, 1.9e-90)):
    runs = [{"label": "random labels", "epochs_to_target": e, "best_test_acc": acc if best is None else best,
             "final": {"train_acc": 0.9, "test_acc": acc}}]
    if ref:
        runs.append({"label": "true labels", "epochs_to_target": ref[0], "final": {"train_acc": 1.0, "test_acc": ref[1]}})
    return {"params": {"target_acc": 0.99, "epochs": 80}, "chance": chance, "n_test": 360, "n_train": 1437,
            "model": {"params": 301066}, "runs": runs,
            "test_paired": dict(zip(("only_true", "only_random", "p"), paired)) if ref else None}


def test_1_3a_memorized_at_chance():
    row = _clean(S.summary_1_3a(R_3a()))
    assert row.answer == ("Yes: the MLP (301,066 parameters, 210 per training image) reached 99 % training accuracy "
                          "on random labels after 34 epochs; its test accuracy ended at chance level.")
    assert row.number == ("test accuracy 11.4 %; chance 10 %, 2 binomial standard deviations on 360 test images: "
                          "6.8 % to 13.2 %; the true-label net 97.8 %, McNemar p < 0.001 on the shared test images "
                          "(316 against 3 images only one net gets right)")
    assert row.cannot == []  # the true-label net fit and tests higher, paired, at p < 0.05
    assert "ended above chance." in S.summary_1_3a(R_3a(acc=0.2, best=0.25)).answer
    assert S.summary_1_3a(R_3a(acc=0.132)).answer.endswith("ended at chance level.")  # 13.2 % as printed: inside
    # ended inside the band, its best epoch above it (the quick run: 12.2 % at the end, 13.3 % at best)
    assert S.summary_1_3a(R_3a(acc=0.122, best=0.133)).answer.endswith(
        "its test accuracy ended at chance level (at its best epoch 13.3 %, above the band).")
    assert S.summary_1_3a(R_3a(acc=0.02, best=0.2)).answer.endswith(
        "its test accuracy ended below chance (at its best epoch 20.0 %, above the band).")
    row = _clean(S.summary_1_3a(R_3a(e=None, acc=0.02)))
    assert row.answer.startswith("Not within 80 epochs: the training accuracy on random labels ended at 90.00 %")
    assert "ended below chance" in row.answer and row.missed
    assert row.cannot == ["whether the net fits random labels (it did not within these epochs)"]
    assert S.summary_1_3a(R_3a(ref=None)).cannot == [
        "whether training accuracy hides the difference (no true-label run that fits)"]
    assert S.summary_1_3a(R_3a(ref=(4, 0.15), paired=(20, 7, 0.0192))).cannot == []
    assert S.summary_1_3a(R_3a(ref=(4, 0.15), paired=(14, 7, 0.19))).cannot == [
        "whether the true-label net tests higher (McNemar p = 0.19 on the shared test images, not below 0.05)"]
    assert S.summary_1_3a(R_3a(ref=(4, 0.05), paired=(2, 24, 1e-5))).cannot == [
        "whether the true-label net tests higher (McNemar p < 0.001 on the shared test images, the random-label net "
        "tests higher)"]


def _3b_runs(width, params, test_acc, train_acc=(1.0, 1.0)):
    return [{"width": width, "params": params, "seed": s, "train_acc": train_acc[s], "test_acc": test_acc[s],
             "test_loss": 1 - test_acc[s], "diverged": None} for s in range(len(test_acc))]


def R_3b(*runs, seeds=(0, 1)):
    return {"params": {"seeds": list(seeds)}, "n_train": 1437, "runs": [r for rs in runs for r in rs]}


def test_1_3b_every_verdict_of_the_comment():
    narrow = _3b_runs(2, 166, (0.2, 0.24), (0.2, 0.25))
    best, wide = _3b_runs(128, 26122, (0.975, 0.978)), _3b_runs(512, 301066, (0.969, 0.975))
    row = _clean(S.summary_1_3b(R_3b(narrow, best, wide)))
    assert row.answer == ("Cannot tell: the rank test cannot tell the widest model's test accuracy from the best "
                          "width's (128; with these seeds it cannot go below p = 0.33); every run fits the training set "
                          "from width 128 on, and no cost of the wider models is shown, which is not evidence of none.")
    assert row.number == ("test accuracy of the widest model 97.2 % (96.9 %–97.5 %), of the best width (128) 97.6 % "
                          "(97.5 %–97.8 %) (2 seeds a width; 166 to 301,066 parameters)")
    assert row.cannot == ["widest against best width (128)",  # 2 seeds a side: nothing is called
                          "widest against narrowest (test accuracy)", "widest against lowest test loss (width 128)"]
    assert row.limits == [("2 and 2 seeds: the rank test of the widest against the best width cannot reach p < 0.05 "
                           "(4 a width could)")]
    four = lambda w, p, accs, train=(1.0,) * 4: [{**r, "seed": i} for i, r in enumerate(_3b_runs(w, p, accs, train))]
    row = S.summary_1_3b(R_3b(narrow, four(128, 26122, (0.975, 0.978, 0.976, 0.977)),
                              four(512, 301066, (0.95, 0.96, 0.955, 0.951)), seeds=(0, 1, 2, 3)))
    assert row.answer == ("Yes, here: the widest model (210 parameters per training image) tests lower than width 128 "
                          "(rank test p = 0.029).")
    # the widest has the highest mean: held against the next highest by the rank test, its p beside it
    row = _clean(S.summary_1_3b(R_3b(narrow, best, _3b_runs(512, 301066, (0.98, 0.985)))))
    assert row.answer == ("Cannot tell: the widest model has the highest mean test accuracy, but the rank test cannot "
                          "tell it from width 128 (with these seeds it cannot go below p = 0.33); every run fits the training "
                          "set from width 128 on, and no cost of the wider models is shown, which is not evidence of "
                          "none.")
    assert row.cannot == ["widest (highest mean test accuracy) against next highest width (128)",
                          "widest against narrowest (test accuracy)",
                          "widest (lowest mean test loss) against next lowest (width 128)"]
    assert row.limits == [("2 and 2 seeds: the rank test of the widest against the next highest width cannot reach "
                           "p < 0.05 (4 a width could)")]
    assert row.number.startswith("test accuracy of the widest model 98.2 % (98.0 %–98.5 %), the highest mean of all "
                                 "widths; of the next highest (128) 97.6 % (97.5 %–97.8 %)")
    # the quick run's case: 4 seeds, the means a hair apart, the seeds interleaved
    narrow4, next4 = four(2, 166, (0.2, 0.24, 0.21, 0.22), (0.2,) * 4), four(256, 85002, (0.973, 0.976, 0.974, 0.977))
    row = _clean(S.summary_1_3b(R_3b(narrow4, next4, four(512, 301066, (0.972, 0.979, 0.975, 0.977)), seeds=(0, 1, 2, 3))))
    assert row.answer == ("Cannot tell: the widest model has the highest mean test accuracy, but the rank test cannot "
                          "tell it from width 256 (p = 0.74); every run fits the training set from width 256 on, and no "
                          "cost of the wider models is shown, which is not evidence of none.")
    assert row.cannot == ["widest (highest mean test accuracy) against next highest width (256)",
                          "widest (lowest mean test loss) against next lowest (width 256)"] and row.limits == []
    row = _clean(S.summary_1_3b(R_3b(narrow4, next4, four(512, 301066, (0.982, 0.989, 0.985, 0.987)), seeds=(0, 1, 2, 3))))
    assert row.answer == ("No overfitting seen: past width 256, where every run fits the training set, the widest model "
                          "(up to 210 parameters per training image) has the highest mean test accuracy, above width "
                          "256's by the rank test (p = 0.029).")
    assert row.cannot == []
    row = S.summary_1_3b(R_3b(narrow, _3b_runs(512, 301066, (0.9, 0.91), (0.99, 1.0))))
    assert row.answer.startswith("Cannot tell: the widest model has the highest mean test accuracy, but the rank test "
                                 "cannot tell it from width 2 (with these seeds it cannot go below p = 0.33); no narrower")
    row = S.summary_1_3b(R_3b(four(2, 166, (0.2, 0.24, 0.21, 0.22), (0.2,) * 4),
                              four(512, 301066, (0.9, 0.91, 0.92, 0.93), (0.99,) * 4), seeds=(0, 1, 2, 3)))
    assert row.answer == ("Cannot tell: the widest model has the highest mean test accuracy, above width 2's by the rank "
                          "test (p = 0.029), but no narrower width fits the training set in every run.")
    row = S.summary_1_3b(R_3b(narrow, _3b_runs(128, 26122, (0.975, 0.978), (0.99, 1.0)), wide))
    assert row.answer.endswith("; no narrower width fits the training set in every run.")
    assert S.summary_1_3b(R_3b(narrow)).answer.startswith("Not compared")


def _3c_case(pair, init, curv, reached=(True, True)):
    values = [64, 1024] if pair == "batch size" else [0.001, 0.01]
    seeds = (0, 0) if init == "shared" else (0, 1)
    models = [{"batch_size": 64, "lr": 0.001, "seed": seeds[0], "reached": reached[0]},
              {"batch_size": values[1] if pair == "batch size" else 64,
               "lr": 0.001 if pair == "batch size" else 0.01, "seed": seeds[1], "reached": reached[1]}]
    return {"pair": pair, "values": values, "init": init, "models": models,
            "curvature": {"model1": curv[0], "model2": curv[1]}, "mid": {"train_loss": 0.05}}


def test_1_3c_flatter_end_per_choice():
    R = {"params": {"target_loss": 0.05}, "cases": [
        _3c_case("batch size", "shared", (-0.0004, 0.0011)), _3c_case("batch size", "independent", (8.62, 11.8)),
        _3c_case("learning rate", "shared", (-2.66, 0.118)), _3c_case("learning rate", "independent", (29.5, 3.2))]}
    row = _clean(S.summary_1_3c(R))
    assert row.answer == ("The batch size 64 solution is the flatter end in 1 of 2 initialization cases, the other "
                          "ends not ranked; the learning rate 0.01 solution is the flatter end in 1 of 2 initialization "
                          "cases, the other ends not ranked.")
    assert row.number == ("curvature of the training loss along the line (the smaller, the flatter): batch size 64 "
                          "against 1024 (independent initialization): 8.62 against 11.8; learning rate 0.001 against "
                          "0.01 (independent initialization): 29.5 against 3.2 (one run per case: no uncertainty "
                          "measured)")
    assert row.cannot == ["whether the batch size decides which solution is flatter (one run per case)",
                          "1 of the batch size cases (ends not ranked)",
                          "whether the learning rate decides which solution is flatter (one run per case)",
                          "1 of the learning rate cases (ends not ranked)"]
    R["cases"] = [_3c_case("learning rate", "shared", (2.0, 0.1)), _3c_case("learning rate", "independent", (3.0, 0.4))]
    assert _clean(S.summary_1_3c(R)).answer.startswith(
        "The learning rate 0.01 solution is the flatter end in 2 of 2 initialization cases (cases that share θ₁, so "
        "not repeats).")
    R["cases"] = [_3c_case("batch size", "shared", (1.0, 5.0)), _3c_case("batch size", "independent", (9.0, 2.0),
                                                                         reached=(True, False))]
    row = _clean(S.summary_1_3c(R))
    assert row.answer.startswith("Batch size: the initialization cases disagree")
    R["cases"] = [_3c_case("batch size", "shared", (None, 5.0))]  # no grid point on both sides of an end
    assert S.summary_1_3c(R).answer.startswith("Batch size: no case ranks the two ends")
    assert row.cannot == ["which batch size gives the flatter solution"]
    assert row.missed == ["batch 1024 lr 0.001 seed 1 missed the training-loss target (0.05)"]


def _3d_models(sens: dict, reached=lambda b, s: True):
    return [{"batch_size": b, "seed": s, "reached": reached(b, s), "sensitivity_softmax": v}
            for b, vs in sens.items() for s, v in enumerate(vs)]


def R_3d(sens=None, trend=(0.71, 0.12, 0.99), link=(0.18, -0.48, 0.67), p=1 / 3, min_p=1 / 3, side=1, **kw):
    sens = sens or {16: [0.115, 0.146], 32: [0.13, 0.14], 1024: [0.146, 0.159]}
    c = lambda t: {"rho": t[0], "low": t[1], "high": t[2], "n": 10} if t else {"rho": None, "low": None,
                                                                               "high": None, "n": 2}
    return {"primary": "softmax", "outputs": {"softmax": "softmax probabilities"}, "models": _3d_models(sens, **kw),
            "trends": {"softmax": {"batch_size": c(trend), "gap_loss": c(link)}},
            "ends": {"softmax": {"p": p, "min_p": min_p, "side": side}}}


def test_1_3d_trend_ends_and_link():
    row = _clean(S.summary_1_3d(R_3d()))
    assert row.answer == ("The sensitivity of the softmax probabilities rises with the batch size over all models; "
                          "the rank test cannot tell batch 16 from 1024 (p = 0.33); no link to the generalization "
                          "gap is established.")
    assert row.number == ("Spearman ρ (95 % interval) with the batch size 0.71 (0.12 to 0.99); with the gap 0.18 "
                          "(−0.48 to 0.67) (over 6 models, 2 seeds a batch size)")
    assert row.limits == [("2 seeds a batch size, so the exact rank test of the smallest against the largest batch "
                          "cannot reach p < 0.05 (its smallest p is 0.33)")]
    assert row.cannot == ["batch 16 against 1024 (rank test)", "the link of the sensitivity to the generalization gap"]
    three = {16: [0.1, 0.11, 0.12], 1024: [0.2, 0.21, 0.22]}
    row = _clean(S.summary_1_3d(R_3d(three, trend=(-0.8, -0.95, -0.3), link=(0.6, 0.2, 0.9), p=0.1, min_p=0.1)))
    assert "falls with the batch size" in row.answer and "larger generalization gap" in row.answer
    row = _clean(S.summary_1_3d(R_3d({16: [0.1, 0.11, 0.12, 0.13], 1024: [0.2, 0.21, 0.22, 0.23]},
                                     p=0.029, min_p=0.029)))
    assert "batch 1024 gives more sensitive models than batch 16 (rank test p = 0.029)" in row.answer
    assert row.limits == []
    row = _clean(S.summary_1_3d(R_3d({16: [0.1], 1024: [0.2, 0.3]}, trend=None, link=(0.1, 0.004, 0.3))))
    assert "Too few models for a rank correlation with the batch size" in row.answer
    assert "is not ranked (one seed on a side)" in row.answer and "no link to the generalization gap" in row.answer
    R = R_3d()
    R["partial"] = {"softmax": {"rho": 0.1, "low": -0.5, "high": 0.6, "n": 6}}
    row = _clean(S.summary_1_3d(R))
    assert row.answer.startswith("The sensitivity of the softmax probabilities rises with the batch size over all "
                                 "models, but not with the final training loss held fixed;")
    assert "whether that trend is the batch size's or the training level's" in row.cannot
    assert "partial, the training loss held fixed, 0.10 (−0.50 to 0.60)" in row.number
    R["partial"]["softmax"] = {"rho": 0.8, "low": 0.3, "high": 0.95, "n": 6}
    assert ", also with the final training loss held fixed;" in S.summary_1_3d(R).answer
    row = S.summary_1_3d(R_3d(reached=lambda b, s: b == 16))
    assert row.answer.startswith("Not compared") and row.missed == [(
        "batch 32 seed 0, batch 32 seed 1, batch 1024 seed 0 and batch 1024 seed 1 missed the training-loss target "
        "(left out here and in 1-3e)")]


MEASURES = {"top_eigenvalue": "top Hessian eigenvalue", "sharpness_0.001": "ε-sharpness (ε = 0.001)",
            "sensitivity_softmax": "input sensitivity (softmax)"}


def R_3e(corr: dict, seeds=(0, 1)):
    c = lambda t: {"rho": t[0], "low": t[1], "high": t[2], "n": 10} if t else {"rho": None}
    return {"models": [{"seed": s, "batch_size": b, "reached": True} for s in seeds for b in (16, 64, 256, 1024, 4096)],
            "measures": MEASURES,
            "gap": "gap_loss", "correlations": [{"key": k, "gap_loss": c(v)} for k, v in corr.items()]}


def test_1_3e_measures_ranked_only_where_intervals_separate():
    overlap = {"batch_size": (0.59, 0.01, 0.91), "top_eigenvalue": (0.44, -0.4, 0.86),
               "sharpness_0.001": (-0.62, -0.92, -0.01), "sensitivity_softmax": (0.18, -0.48, 0.67)}
    row = _clean(S.summary_1_3e(R_3e(overlap)))
    assert row.answer == ("Cannot tell which tracks it best: the intervals of all 3 measures overlap; a larger "
                          "ε-sharpness (ε = 0.001) goes with a smaller gap.")
    assert row.number == ("Spearman ρ (95 % interval) with the gap: top Hessian eigenvalue 0.44 (−0.40 to 0.86); "
                          "ε-sharpness (ε = 0.001) −0.62 (−0.92 to −0.01); input sensitivity (softmax) 0.18 (−0.48 to "
                          "0.67) (over 10 models)")
    assert row.cannot == ["which measure tracks the gap best", "the link of 2 of the 3 measures to the gap"]
    apart = overlap | {"top_eigenvalue": (0.8, 0.5, 0.95), "sharpness_0.001": (0.1, -0.2, 0.3)}
    row = _clean(S.summary_1_3e(R_3e(apart, seeds=(0,))))
    assert row.answer.startswith("Where intervals separate: top Hessian eigenvalue tracks the gap more closely than "
                                 "ε-sharpness (ε = 0.001); a larger top Hessian eigenvalue goes with a larger gap.")
    assert row.limits == ["one seed a batch size, so the intervals are optimistic"]
    row = S.summary_1_3e(R_3e(overlap | {"top_eigenvalue": None}))
    assert row.answer.startswith("Cannot tell: too few models")


# ------------------------------------------------------------------ missing, failed, unreadable

def _write_all(out_dir, **R):
    """Every question's hand-made results into out_dir/results/, except those given as None."""
    made = {"1_1a_simulate_function": R_1a(), "1_1b_actual_task": R_1b(), "1_2a_optimization_process": R_2a(),
            "1_2b_gradient_norm": R_2b([_2b_run(0)], [_2b_run(0)]), "1_2c_minimal_ratio": R_2c(),
            "1_2d_error_surface": R_2d(), "1_3a_random_labels": R_3a(),
            "1_3b_parameters_vs_generalization": R_3b(_3b_runs(2, 166, (0.2, 0.2)), _3b_runs(8, 900, (0.9, 0.9))),
            "1_3c_interpolation": {"params": {"target_loss": 0.05},
                                   "cases": [_3c_case("batch size", "shared", (1.0, 5.0))]},
            "1_3d_sensitivity": R_3d(),
            "1_3e_sharpness": R_3e({"batch_size": (0.1, -0.2, 0.3), "top_eigenvalue": (0.1, -0.2, 0.3),
                                    "sharpness_0.001": (0.1, -0.2, 0.3), "sensitivity_softmax": (0.1, -0.2, 0.3)})}
    for name, payload in made.items():
        payload = R.get(name, payload)
        if payload is not None:
            results.save(name, {"profile": "quick", "params": {}, **payload}, out_dir)


def test_missing_unreadable_and_failed_each_get_a_row(tmp_path):
    _write_all(tmp_path, **{"1_2a_optimization_process": None})
    (tmp_path / "results" / "1_3b_parameters_vs_generalization.json").write_text("{ truncated")
    broken = {"profile": "quick", "params": {}, "trends": {}}  # a file without the fields the summary reads
    results.save("1_3d_sensitivity", broken, tmp_path)
    sections = {sec for sec, _, _ in S.QUESTIONS} - {"1-3c"}  # 1-3c's notebook did not finish
    table = {sec: row for sec, _, row in S.rows(tmp_path, sections)}
    assert table["1-2a"].answer.startswith("Missing: no readable results file (report/results/"
                                           "1_2a_optimization_process.json)")
    assert table["1-3b"].answer.startswith("Missing: no readable results file")  # unreadable reads as missing
    assert table["1-3c"].answer.startswith("Missing: the notebook 1_3c_interpolation did not finish")
    assert table["1-3d"].answer.startswith("Not summarized: its results file lacks what the summary reads (KeyError:")
    for sec in ("1-2a", "1-3b", "1-3c", "1-3d"):
        assert table[sec].number == "—" and table[sec].cannot
    assert table["1-1a"].answer.startswith("Not consistently")  # the others are summarized as usual
    page = S.render(tmp_path, sections)
    assert '<a href="#sec-1-3c">' not in page and '<a href="#sec-1-3b">' in page  # no link into nothing
    assert "1-2a: anything (its results are missing)" in page


def _notebook(path, section):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {section} · Title of {section}"),
                                         nbformat.v4.new_markdown_cell("## Comment")])
    nbformat.write(nb, path)
    return path


def test_the_report_is_built_with_a_results_file_missing(tmp_path):
    _write_all(tmp_path, **{"1_1b_actual_task": None})
    paths = [_notebook(tmp_path / f"{name}.ipynb", sec) for sec, name, _ in S.QUESTIONS]
    html = stitch.to_html(stitch.build(paths, tmp_path))
    title, after = html.split('<div class="title-page">', 1)[1].split("Summary: the answers", 1)
    assert "Map: questions" not in title and "Map: questions" in after  # summary: after the title, before the map
    page = html[html.index('<div class="summary">'):html.index('id="map-questions-sections"')]
    links = re.findall(r'href="#([^"]+)"', page)
    assert [x for x in links if x.startswith("sec-")] == [f"sec-{sec}" for sec, _, _ in S.QUESTIONS]
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    assert set(links) <= ids
    assert "Missing: no readable results file (report/results/1_1b_actual_task.json)" in page
    assert "Limitations" in page and "<b>Profile</b> quick" in page.replace("<strong>", "<b>").replace("</strong>",
                                                                                                       "</b>")


# ------------------------------------------------------------------ random results: every number re-derived

def _1a_expected(R):
    """(fn, deep, shallow, compare) for every comparison the comment makes, and the comment's verdict kinds."""
    tests, kinds = [], set()
    for fn in R["params"]["functions"]:
        runs = R["runs"].get(fn, [])
        _, verdict = t1_1a._function_comment(fn, runs, R)
        if verdict:
            kinds.add(verdict)
        loss = {d: t1_1a._finished(runs, d) for d in sorted({r["depth"] for r in runs})}
        done = [d for d in loss if loss[d]]
        tests += [(fn, d, done[0], t1_1a.compare(loss[d], loss[done[0]], R["alpha"])) for d in done[1:]]
    return tests, kinds


def check_1_1a(R):
    row = _clean(S.summary_1_1a(R))
    tests, kinds = _1a_expected(R)
    if not tests:
        assert row.answer.startswith("Not compared") and not kinds
        return row
    decided = [x for x in tests if x[3]["verdict"] in ("better", "worse")]
    many = len(R["params"]["functions"]) > 1
    on = lambda fn: f" on {t1_1a.data.FUNCTIONS[fn][1]}" if many else ""
    claims = re.findall(r"the MLP with (\d+) hidden layers? reached a (lower|higher) final training loss than the one "
                        r"with (\d+) hidden layers?( on [^;,]+?)?(?=, |; | and |\.$)", row.answer)
    lead = row.answer.split(":")[0]
    want = ("Cannot tell" if not decided else "Yes, here" if kinds == {"deeper"} else
            "No, here" if kinds == {"shallow"} else "Not consistently")
    assert lead == want, (lead, kinds)
    if want in ("Yes, here", "No, here"):  # one claim for every comparison, each decided that way
        assert not claims and len(decided) == len(tests)
    else:
        assert sorted(claims) == sorted((str(d), "lower" if t["verdict"] == "better" else "higher", str(s), on(fn))
                                        for fn, d, s, t in decided), (row.answer, decided)
    numbers = re.findall(r"(\d+) against (\d+) hidden layers?( on [^:]+)?: median final loss (\S+) "
                         r"times, rank test p = (\S+?)(?=;| \()", row.number)
    assert sorted(numbers) == sorted((str(d), str(s), on(fn), t1_1a._ratio(t["median_deep"] / t["median_shallow"]),
                                      t["p_text"]) for fn, d, s, t in decided)
    for *_, p in numbers:
        assert float(p) < R["alpha"]
    rest = [t for *_, t in tests if t["verdict"] not in ("better", "worse")]
    bound = re.search(r"comparisons p ≥ (\S+?)(?= \()", row.number)
    assert bool(bound) == bool(rest)
    if rest:
        lowest = min(t["p"] for t in rest)
        assert float(bound[1]) <= lowest and lowest - float(bound[1]) <= 0.1 * lowest + 1e-12
        assert row.cannot == [f"{len(rest)} of {wording.plural(len(tests), 'depth comparison')}"]
    floor = [t for t in rest if t["verdict"] == "floor"]
    assert bool(row.limits) == bool(floor)
    _not_more_confident(t1_1a.comment(R), row)
    return row


@PROPERTY
@given(tests_1a._results())
def test_1_1a_row_rederived_from_random_results(R):
    check_1_1a(R)


def check_1_1b(R):
    row = _clean(S.summary_1_1b(R))
    n_pairs = n_loss = n_acc = 0
    for name in R["params"]["datasets"]:
        pairs = [p for p in R["paired"] if p["dataset"] == name]
        if not pairs:
            assert f"n {name} fewer than two CNNs finished" in row.answer
            continue
        base = pairs[0]["shallow"]
        against = [p for p in pairs if p["shallow"] == base]
        part = re.search(rf"[Oo]n {name}, against the {base}: (.*?)(?=; on |\.$)", row.answer)[1]
        for p in against:
            for measure, verdict in (("test loss", t1_1b.loss_verdict), ("test accuracy", t1_1b.accuracy_verdict)):
                said = re.search(rf"{measure}: (.*?)(?=; test |$)", part)[1]
                groups = re.findall(r"(lower|higher|cannot tell) for ((?:the \d+-block CNN(?:, | and )?)+)", said)
                found = [g for g, names in groups if f"the {p['deep']}" in re.split(r", | and ", names.strip(", "))]
                assert found == [verdict(p)], (measure, part)
        deepest = against[-1]
        loss, acc = deepest["loss"], deepest["accuracy"]
        d = t1_1b.loss_format(loss["mean"], loss["low"], loss["high"])
        where = f" on {name}" if len(R["params"]["datasets"]) > 1 else ""
        assert (f"{deepest['deep']} − {base} test loss{where}: {t1_1b.say_diff(loss['mean'], d)} (95 % "
                f"interval {t1_1b.say_diff(loss['low'], d)} to {t1_1b.say_diff(loss['high'], d)}); test accuracy "
                f"McNemar {t1_1b.say_p(acc['p'])} ({acc['only_deep']:,} against {acc['only_shallow']:,} images)"
                ) in row.number
        n_pairs += len(pairs)
        n_loss += sum(t1_1b.loss_verdict(p) == "cannot tell" for p in pairs)
        n_acc += sum(t1_1b.accuracy_verdict(p) == "cannot tell" for p in pairs)
    want = ([f"test loss in {n_loss} of {wording.plural(n_pairs, 'pair')}"] if n_loss else []) + (
        [f"test accuracy in {n_acc} of {wording.plural(n_pairs, 'pair')}"] if n_acc else [])
    assert row.cannot == want
    # the comment's rule paragraph says what it would do ("otherwise the comment says it cannot tell"): read
    # its verdicts instead
    assert bool(row.cannot) == ("**cannot tell**" in t1_1b.comment(R))
    return row


def test_1_1b_row_rederived_from_random_results(monkeypatch):
    monkeypatch.setattr(t1_1b, "N_BOOT", 500)  # the interval's width is not under test here; speed is

    @settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.data_too_large])
    @given(st.data())
    def check(data):
        check_1_1b(data.draw(tests_1b._results(st)))

    check()


def check_1_2a(R):
    row = _clean(S.summary_1_2a(R))
    start, end = R["pair_distance"]["start"], R["pair_distance"]["end"]
    v = wording.gap(end, start).verdict
    assert row.answer.split(":")[0] == {"a": "No", "b": "They converge", "tie": "Cannot tell",
                                        "unknown": "Cannot tell"}[v]
    assert row.number == (f"distance between two runs {t1_2a._over_pairs(start)} at initialization, "
                          f"{t1_2a._over_pairs(end)} at the end")
    comment = t1_2a.comment(R)
    assert bool(row.limits) == ("no more than half of it lies in the plane" in comment)
    for share in re.findall(r"(\d+\.\d) % \(", row.limits[0] if row.limits else ""):
        assert float(share) <= 50 and f"{share} %" in comment
    distances = ("these distances cannot tell" in comment or "with a single pair of runs" in comment)
    steps = "the test cannot tell whether the step length changes" in comment
    assert row.cannot == (["whether the runs end closer or farther apart"] * distances
                          + ["whether the step length changes"] * steps)
    return row


@st.composite
def results_1_2a(draw):
    runs = draw(st.integers(2, 8))
    pairs = runs * (runs - 1) // 2
    dist = st.lists(st.one_of(st.floats(0.5, 20), st.sampled_from([7.0, 7.12, 13.0])), min_size=pairs,
                    max_size=pairs)
    evr = st.lists(st.one_of(st.floats(0, 0.5), st.sampled_from([0.25, 0.2502, 0.2498])), min_size=2, max_size=2)
    steps = draw(st.integers(1, 4))
    step = st.lists(st.one_of(st.floats(0.01, 3), st.just(1.0)), min_size=steps, max_size=steps)
    loss = [draw(st.lists(st.floats(0.01, 3), min_size=steps + 1, max_size=steps + 1)) for _ in range(runs)]
    return {"runs": [{"seed": s, "loss": loss[s], "acc": [0.5] * (steps + 1), "test_acc": 0.9} for s in range(runs)],
            "params": {"layer": "1.weight"}, "n_params": 3466, "layer_params": 2048,
            "pair_distance": {"start": draw(dist), "end": draw(dist)},
            "pca": {"whole": {"explained_variance_ratio": draw(evr)}, "layer": {"explained_variance_ratio": draw(evr)}},
            "step_length": [draw(step) for _ in range(runs)]}


@PROPERTY
@given(results_1_2a())
def test_1_2a_row_rederived_from_random_results(R):
    check_1_2a(R)


def check_1_2b(R):
    row = _clean(S.summary_1_2b(R))
    for D in R["per_dataset"].values():
        runs, name = D["runs"], D["name"]
        _, loss_dir = t1_2b._change(runs, "loss")
        _, grad_dir = t1_2b._change(runs, "grad_norm")
        every = " in every seed" if len(runs) > 1 else ""
        how = "full batch" if D["full_batch"] else f"minibatches of {D['batch_size']}"
        part = re.search(rf"[Oo]n {name} \({how}\) (.*?)(?=; on |\.$)", row.answer)[1]
        climbs = [r["trend_peak_grad_norm"] > t1_2b.HUMP * max(r["start_grad_norm"], r["end_grad_norm"]) for r in runs]
        if all(climbs):
            peaks = S.span([r["trend_peak_grad_norm"] for r in runs])
            hump = (f", its running median first climbing to {peaks}, over 1.5 times both ends"
                    + (", in every seed" if len(runs) > 1 else ""))
        else:
            hump = ", its running median first climbing over 1.5 times both ends in some seeds" if any(climbs) else ""
        assert part.endswith(hump), (part, hump)
        part = part.split(", its running median first climbing")[0]
        if loss_dir and loss_dir == grad_dir:
            both = {"falls": "fall", "rises": "rise", "stays level": "stay level"}[loss_dir]
            assert part == f"the loss and the gradient norm both {both}{every}"
        else:
            assert (f"the loss {loss_dir}{every}" if loss_dir else "the seeds cannot tell which way the loss goes") \
                in part
            assert (f"the gradient norm {grad_dir}{every}" if grad_dir else
                    "the seeds cannot tell which way the gradient norm goes") in part
        if grad_dir in ("falls", "rises"):
            factors = [t1_2b._ratio(r["start_grad_norm"], r["end_grad_norm"]) if grad_dir == "falls" else
                       t1_2b._ratio(r["end_grad_norm"], r["start_grad_norm"]) for r in runs]
            assert f"{name}: ‖∇L‖ {grad_dir} by a factor of {t1_2b._span(factors)} start to end" in row.number
        else:
            start, end = (sum(r[k] for r in runs) / len(runs) for k in ("start_grad_norm", "end_grad_norm"))
            assert f"{name}: ‖∇L‖ {start:.3g} to {end:.3g} (means)" in row.number
        # the comment's "cannot tell" about this dataset, and the row's
        line = next(x for x in t1_2b.comment(R).split("\n") if x.startswith(f"- **{D['dataset']}**"))
        said = [c for c in row.cannot if c.endswith(f" on {name}")]
        assert bool(said) == bool(CANNOT.search(line) or "no reading holds for all of them" in line), (line, said)
        assert any("noisier" in c for c in said) == ("the seeds cannot tell." in line and "noisier depends" in line)
    return row


@PROPERTY
@given(tests_2b.random_results())
def test_1_2b_row_rederived_from_random_results(R):
    for name, D in R["per_dataset"].items():
        D["name"] = name
    check_1_2b(R)


def check_1_2c(R):
    row = _clean(S.summary_1_2c(R))
    n, Ssum, P = len(R["seeds"]), R["summary"], R["params"]
    n_neg = Ssum["runs_with_negative"]
    comment = t1_2c.comment(R)
    if n_neg > t1_2c.MOST_RUNS * n:
        assert ": all of these" in comment or ": most of these" in comment
        assert row.answer.startswith(("No: " if n_neg == n else "Mostly not: ") + f"{n_neg} of the {n} points")
    elif n_neg:
        assert "most of these points curve upward" in comment
        assert row.answer.startswith(f"Mostly: {n - n_neg} of the {n} points curve upward")
    else:
        assert "every point curves upward" in comment and row.answer.startswith("Yes: ")
    rho = t1_2c._rho_words(Ssum["rho_all"], n).replace("*higher*", "higher")
    assert f"over all eigenvalues {t1_2c._rho_words(Ssum['rho_all'], n)};" in comment
    mine = row.answer.replace("−", "-").removesuffix(".").rsplit("; ", 1)[1].removeprefix("it shows ")
    assert mine == rho.replace("a rank correlation", "its rank correlation with the loss").replace(
        "no rank correlation can be computed", "its rank correlation with the loss cannot be computed")
    ra, rn = Ssum["ratio_all"], Ssum["ratio_nonzero"]
    assert (f"median {ra['median']:.2f}, interquartile {ra['q25']:.2f}–{ra['q75']:.2f}" in row.number
            and f"median {ra['median']:.2f}, interquartile {ra['q25']:.2f}–{ra['q75']:.2f}" in comment)
    assert f"{rn['median']:.2f} ({rn['q25']:.2f}–{rn['q75']:.2f})" in row.number
    out = sum(1 for r in R["phase2"]["reached"] if not r)
    assert bool(row.missed) == bool(out) == ("-step limit first" in comment)
    if out:
        assert row.missed[0].startswith(f"{out} of {n} runs hit the {P['phase_steps']:,}-step limit")
    ratio_limit = [x for x in row.limits if x.startswith("the minimal ratio depends")]
    assert bool(ratio_limit) == ("a single number means little without its tolerance" in comment)
    counts = {s["tol"]: sum(e[0] < -s["tol"] for e in R["eigenvalues"]) for s in R.get("sweep", [])}
    reached_idx = [i for i, r in enumerate(R["phase2"]["reached"]) if r]
    among = (f" (among the {len(reached_idx)} runs that reached ‖∇L‖ < {P['grad_threshold']:g}: "
             f"{sum(R['eigenvalues'][i][0] < -P['tol'] for i in reached_idx)} with an eigenvalue below −{P['tol']:g});")
    assert (among in row.answer) == (len(reached_idx) < n), (row.answer, among)
    saddle_limit = [x for x in row.limits if x.startswith("the saddle count depends")]
    assert bool(saddle_limit) == (len(set(counts.values())) > 1)
    for tol, c in counts.items():
        assert not saddle_limit or f"{c} of {n} at tol = {tol:g}" in saddle_limit[0]
    assert bool(row.cannot) == ("overlap: these runs cannot tell" in comment or "cannot be told" in comment)
    return row


@PROPERTY
@given(tests_2c.results())
def test_1_2c_row_rederived_from_random_results(R):
    check_1_2c(R)


def check_1_2d(R):
    row = _clean(S.summary_1_2d(R))
    comment = t1_2d.comment(R)
    RP = R["random_plane"]
    assert ("sits at the bottom of a basin" in row.answer) == ("θ* sits at the bottom of a basin" in comment)
    assert ("is not the lowest point" in row.answer) == ("θ* is not the lowest point" in comment)
    ahead = "ahead of it along the direction of the last step, which suggests"
    assert ("lower ahead of it along the last step" in row.answer) == (ahead in comment)
    assert ("but not ahead of it" in row.answer) == ("not ahead of it along the direction" in comment)
    assert ("no point is more than 10 % lower" in row.answer) == ("No point of the plane is more than" in comment)
    assert row.number.startswith(f"loss at θ* {RP['center_loss']:.3g}")
    if RP["ring_half"] is not None and RP["ring_full"] is not None:
        ratio = f"{RP['ring_half'] / RP['center_loss']:.3g}"
        assert f", {ratio} times that" in row.number and f"({ratio} times θ*'s)" in comment
    return row


@st.composite
def results_1_2d(draw):
    centre = 0.0471
    loss = st.one_of(st.floats(1e-3, 5), st.sampled_from([centre, 0.9 * centre, 0.0423, 0.04711]))
    ring = draw(st.one_of(st.none(), loss))
    return {"params": {"span": draw(st.sampled_from([0.5, 1.0]))},
            "random_plane": {"center_loss": centre, "min_loss": min(centre, draw(loss)),
                             "argmin": draw(st.sampled_from([[0.0, 0.0], [0.1, -0.2]])), "ring_half": ring,
                             "ring_full": None if ring is None else draw(loss)},
            "pca_plane": {"explained_variance_ratio": [0.9, 0.05], "max_off_plane": 0.1, "min_loss": draw(loss),
                          "argmin": [-1.7, -0.66], "min_ahead": draw(st.booleans()), "path_start_loss": draw(loss),
                          "path_end_loss": centre, "alphas": [draw(st.sampled_from([-2.0, -1.7])), 8.0],
                          "betas": [-1.0, 2.0]}}


@PROPERTY
@given(results_1_2d())
def test_1_2d_row_rederived_from_random_results(R):
    check_1_2d(R)


def check_1_3a(R):
    row = _clean(S.summary_1_3a(R))
    rand = R["runs"][0]
    acc, chance, n = rand["final"]["test_acc"], R["chance"], R["n_test"]
    level, best = t1_3a.against_band(acc, chance, n), t1_3a.against_band(rand["best_test_acc"], chance, n)
    # "ended": the final test accuracy; the best epoch named where it lies outside the band on another side
    tail = (f" (at its best epoch {wording.pct(rand['best_test_acc'])}, {best} the band)"
            if best not in ("same", level) else "")
    assert row.answer.endswith({"same": "its test accuracy ended at chance level",
                                "above": "its test accuracy ended above chance",
                                "below": "its test accuracy ended below chance"}[level] + tail + "."), row.answer
    comment = t1_3a.comment(R)
    memorized = "The network **memorized**" in comment
    assert row.answer.startswith("Yes: ") == memorized == (not row.missed)
    lo, hi = t1_3a.band(chance, n)
    ref = next((r for r in R["runs"][1:] if r["label"] == "true labels"), None)
    t = R["test_paired"]
    assert row.number == (f"test accuracy {wording.pct(acc)}; chance {wording.pct(chance, 0)}, 2 binomial standard "
                          f"deviations on {n:,} test images: {wording.pct(lo)} to {wording.pct(hi)}" + (
                              f"; the true-label net {wording.pct(ref['final']['test_acc'])}, McNemar "
                              f"{wording.p_text(t['p'])} on the shared test images ({t['only_true']:,} against "
                              f"{t['only_random']:,} images only one net gets right)" if ref else ""))
    assert f"on {n:,} test images: {wording.pct(lo)} to {wording.pct(hi)})" in comment  # the band the section prints
    # the best epoch as the section says it, against the same band
    assert f"(best over the epochs: {wording.pct(rand['best_test_acc'])}, " in comment
    if ref and rand["epochs_to_target"] and ref["epochs_to_target"]:  # the section's McNemar words, and the same p
        assert (f"{wording.plural(t['only_true'], 'image')} only the true-label net classifies right, "
                f"{t['only_random']:,} only the random-label net, {wording.p_text(t['p'])}") in comment
        assert (row.cannot == []) == ("yet the true-label net tests higher" in comment)
    conclusion = comment.split("\n\n")[-2]
    assert bool(row.cannot) == ("cannot answer" in conclusion or "cannot show" in conclusion), conclusion
    return row


@st.composite
def results_1_3a(draw):
    acc = draw(st.one_of(st.floats(0, 1), st.sampled_from([0.1, 0.133, 0.067, 0.114, 0.132])))
    best = max(acc, draw(st.one_of(st.floats(0, 1), st.sampled_from([0.1, 0.133, 0.132, 0.068]))))
    runs = [{"label": "random labels", "epochs_to_target": draw(st.one_of(st.none(), st.integers(1, 80))),
             "test_loss": [2.3, 8.0], "best_test_acc": best,
             "final": {"train_acc": draw(st.floats(0, 1)), "train_loss": 0.01, "test_acc": acc, "test_loss": 8.0}}]
    if draw(st.booleans()):
        ref = draw(st.one_of(st.floats(0, 1), st.sampled_from([0.978, 0.15])))
        runs.append({"label": "true labels", "epochs_to_target": draw(st.one_of(st.none(), st.integers(1, 80))),
                     "test_loss": [0.3, 0.1], "best_test_acc": ref,
                     "final": {"train_acc": 1.0, "train_loss": 0.01, "test_acc": ref, "test_loss": 0.1}})
    paired = {"only_true": draw(st.integers(0, 400)), "only_random": draw(st.integers(0, 400)), "p": draw(P_VALUE)}
    return {"params": {"target_acc": 0.99, "epochs": 80, "batch_size": 64, "optimizer": "adam", "lr": 1e-3},
            "profile": "quick", "test_paired": paired if len(runs) == 2 else None,
            "dataset": "digits: 1437 train / 360 test", "chance": draw(st.sampled_from([0.1, 0.5])),
            "n_test": draw(st.sampled_from([36, 360, 10000])), "n_train": 1437,
            "label_agreement": draw(st.sampled_from([0.1, 0.093, 0.3])), "model": {"params": 301066},
            "steps_per_epoch": 23, "runs": runs}


@PROPERTY
@given(results_1_3a())
def test_1_3a_row_rederived_from_random_results(R):
    check_1_3a(R)


def check_1_3b(R):
    row = _clean(S.summary_1_3b(R))
    comment = t1_3b.comment(R)
    W = t1_3b._by_width(R["runs"])
    if len(W) < 2:
        assert row.answer.startswith("Not compared") and "Fewer than two widths" in comment
        return row
    final = comment.split("\n\n")[-1]
    want = ("Yes, here:" if final.startswith("The widest model (") else
            "No overfitting seen:" if "did not lower the mean test accuracy" in final else
            "Cannot tell: the widest model has the highest mean test accuracy, above" if final.startswith(
                "The widest model has the highest") else
            "Cannot tell: the widest model has the highest mean test accuracy, but the rank test cannot tell it from"
            if "from the next highest width's" in final else "Cannot tell: the rank test cannot tell")
    assert row.answer.startswith(want), (final, row.answer)
    if want.startswith("Cannot tell: the") and "cannot tell" in want:
        assert ("every run fits the training set from width" in row.answer) == final.startswith("Past the width")
    widths = list(W)
    best = max(widths, key=lambda w: t1_3b._mean(W[w]["test_acc"]))
    acc = lambda w: wording.pct(t1_3b._mean(W[w]["test_acc"]))
    assert row.number.startswith(f"test accuracy of the widest model {acc(widths[-1])}")
    lines = comment.split("\n")
    line = next(x for x in lines if x.startswith(("- The best mean test accuracy", "- The widest model also")))
    if best != widths[-1]:
        assert f"of the best width ({best}) {acc(best)}" in row.number
        assert any("against best width" in c for c in row.cannot) == ("cannot tell" in line)
    else:  # the widest's highest mean is held against the next highest, as in the section
        near = re.search(r"against the next highest, width (\d+) ", line)[1]
        assert f"of the next highest ({near}) " in row.number
        assert any(f"against next highest width ({near})" in c for c in row.cannot) == ("cannot tell" in line)
        if not row.answer.startswith("Yes"):
            assert f"width {near}" in row.answer
    if not row.answer.startswith("Yes"):  # the widest is held against a width: the p the section prints beside it
        ps = re.findall(r"(p [=<] [0-9.e-]*[0-9])", row.answer)
        assert ps and all(p in line for p in ps), (row.answer, line)
    assert bool(row.limits) == ("cannot reach p <" in final)
    narrow = next(x for x in lines if x.startswith("- Test accuracy, widest against narrowest"))
    assert any("against narrowest" in c for c in row.cannot) == ("cannot tell" in narrow)
    loss = next(x for x in lines if x.startswith("- Test loss"))
    assert any("test loss" in c for c in row.cannot) == ("cannot tell" in loss)
    if "the lowest mean is the widest model's" in loss:
        nxt = re.search(r"against the next lowest, width (\d+) ", loss)[1]
        assert any(f"against next lowest (width {nxt})" in c for c in row.cannot) == ("cannot tell" in loss)
    _not_more_confident(comment, row)
    return row


@st.composite
def results_1_3b(draw):
    widths = sorted(draw(st.sets(st.sampled_from([2, 8, 32, 128, 512]), min_size=1, max_size=4)))
    acc = st.one_of(st.floats(0, 1), st.sampled_from([0.999, 1.0, 0.97, 0.975]))
    seeds = draw(st.integers(1, 5))
    fit_at = draw(st.integers(0, len(widths)))  # often every run from some width on fits the training set
    runs = [{"width": w, "params": 10 * w * w, "seed": s, "train_loss": 0.01, "test_loss": draw(st.floats(0.01, 3)),
             "train_acc": 1.0 if i >= fit_at else draw(acc), "test_acc": draw(acc),
             "diverged": {"epoch": 2} if draw(st.integers(0, 9)) == 0 else None}
            for i, w in enumerate(widths) for s in range(seeds)]
    return {"params": {"seeds": list(range(seeds))}, "runs": runs, "n_train": 1437}


@PROPERTY
@given(results_1_3b())
def test_1_3b_row_rederived_from_random_results(R):
    check_1_3b(R)


def check_1_3c(R):
    row = _clean(S.summary_1_3c(R))
    for pair in dict.fromkeys(c["pair"] for c in R["cases"]):
        cases = [c for c in R["cases"] if c["pair"] == pair]
        said = t1_3c.pair_verdict(pair, cases)
        if "no case ranks the two ends" in said:
            assert f"{pair}: no case ranks the two ends" in row.answer.lower()
        elif "disagree" in said:
            assert f"{pair}: the initialization cases disagree" in row.answer.lower()
        else:
            m = re.search(r"the (.+?) solution is the flatter one in (?:all (\d+)|(\d+) of (\d+)) initialization", said)
            k, n = (m[2], m[2]) if m[2] else (m[3], m[4])
            assert (f"the {m[1]} solution is the flatter end in {k} of {n} initialization case"
                    in row.answer.lower()), (said, row.answer)
            assert f"whether the {pair} decides which solution is flatter (one run per case)" in row.cannot
            firsts = {(c["models"][0]["batch_size"], c["models"][0]["lr"], c["models"][0]["seed"]) for c in cases}
            part = next(p for p in row.answer.split("; ") if f"the {m[1]} solution" in p.lower())
            assert ("(cases that share θ₁, so not repeats)" in part) == (int(k) > 1 and len(firsts) == 1 < len(cases))
        for c in cases:
            assert S.flatter_1_3c(c) == t1_3c.flatter(c)
            if t1_3c.flatter(c) in ("θ₁", "θ₂"):
                k = c["curvature"]
                assert f"({c['init']} initialization): {k['model1']:.3g} against {k['model2']:.3g}" in row.number
    printed = [f"{c['test_paired']['p']:.2g}" for c in R["cases"] if "test_paired" in c]
    beyond = [p for p in printed if float(p) < 0.05]
    if not printed:
        assert "McNemar" not in row.answer
    elif beyond:
        assert (f" In {len(beyond)} of {len(printed)} case{'s' * (len(printed) != 1)} the two test accuracies differ "
                "beyond the test set's noise (McNemar's exact test, p < 0.05)") in row.answer
        # the comment says the same of those pairs
        assert t1_3c.comment(R).count("beyond the test set's noise") == len(beyond)
    else:
        m = re.search(r" In no case do the two test accuracies differ beyond the test set's noise \(McNemar's exact "
                      r"test, p from (\S+) to (\S+)\)", row.answer)
        assert m and float(m[1]) == min(map(float, printed)) and float(m[2]) == max(map(float, printed)), row.answer
    comment = t1_3c.comment(R)
    assert bool(row.missed) == ("missed it" in comment)
    for m in re.findall(r"batch (\d+), lr (\S+), seed (\d+) missed it", comment):
        assert "batch {} lr {} seed {}".format(*m) in row.missed[0]
    return row


@st.composite
def results_1_3c(draw):
    curv = st.one_of(st.floats(-30, 30), st.sampled_from([0.0, 1.0, 1.05, 0.005]), st.none())
    cases = []
    for pair in draw(st.sampled_from([["batch size"], ["batch size", "learning rate"]])):
        for init in draw(st.sampled_from([["shared"], ["shared", "independent"]])):
            c = _3c_case(pair, init, (draw(curv), draw(curv)), reached=(draw(st.booleans()), True))
            cases.append({**c, "alpha": [-1.0, 0.0, 0.5, 1.0, 2.0], "train_loss": [1, 0.04, 0.05, 0.04, 1],
                          "barrier": 0.0, "min_train_acc_inside": 1.0, "clipped_variances": [0] * 5,
                          "unclipped_range": [-1.0, 2.0], "rise": None,
                          "curvature": {**c["curvature"], "step": 0.05},
                          "recomputed": {"train_loss": [1, 0.04, 0.05, 0.04, 1], "test_loss": [1, 0.1, 0.1, 0.1, 1]},
                          "test_paired": {"p": draw(P_VALUE), "only_a": 3, "only_b": 1},
                          "mid": {"train_loss": 0.05, "test_loss": 0.1, "train_acc": 1.0, "test_acc": 0.9},
                          "models": [{**m, "train_acc": 1.0, "train_loss": 0.04, "steps": 100, "test_acc": 0.97,
                                      "top_eigenvalue": draw(st.floats(0.1, 50))} for m in c["models"]]})
    return {"params": {"target_loss": 0.05, "max_steps": 2000, "optimizer": "adam"}, "tolerance": 0.1,
            "n_test": 360, "cases": cases}


@PROPERTY
@given(results_1_3c())
def test_1_3c_row_rederived_from_random_results(R):
    check_1_3c(R)


def check_1_3d(R):
    row = _clean(S.summary_1_3d(R))
    comment = t1_3d.comment(R)
    rows = [r for r in R["models"] if r["reached"]]
    if len({r["batch_size"] for r in rows}) < 2:
        assert row.answer.startswith("Not compared") and "nothing is compared" in comment
        return row
    key = R["primary"]
    trend, link = R["trends"][key]["batch_size"], R["trends"][key]["gap_loss"]
    t, g = batch_words.direction(trend), batch_words.direction(link)
    assert row.answer.startswith({"up": "The sensitivity of the softmax probabilities rises",
                                  "down": "The sensitivity of the softmax probabilities falls",
                                  "none": "No monotone trend", "unknown": "Too few models"}[t])
    assert row.answer.endswith({"up": "the larger generalization gap.", "down": "the smaller generalization gap.",
                                "none": "no link to the generalization gap is established.",
                                "unknown": "with the generalization gap."}[g])
    for c, label in ((trend, "with the batch size"), (link, "with the gap")):
        if c["rho"] is not None:
            m = re.search(rf"{label} (\S+) \((\S+) to (\S+)\)", row.number)
            assert [_num(x) for x in m.groups()] == [float(batch_words.fixed(c[k])) for k in ("rho", "low", "high")]
    if R.get("partial"):  # the trend with the final training loss held fixed, as the section says it
        held = batch_words.controlled_text(trend, R["partial"][key])
        said = [x for x in ("also with the final training loss held fixed", "but not with the final training loss",
                            "but it reverses with the final training loss", "with the final training loss held fixed it")
                if x in row.answer]
        want = ({"the trend survives": ["also with the final training loss held fixed"],
                 "it does not survive": ["but not with the final training loss"],
                 "nothing can be computed": ["but not with the final training loss"] if t in ("up", "down") else [],
                 "it reverses": ["but it reverses with the final training loss"],
                 "a trend appears": ["with the final training loss held fixed it"], "no trend either": []})
        assert said == next(v for k, v in want.items() if k in held), (held, row.answer)
    ends = t1_3d._ends_text(R, rows)
    if "so the seed noise is unknown" in ends:
        assert "is not ranked (one seed on a side)" in row.answer
    elif "the largest batch gives the" in ends:
        more = "more" if "the largest batch gives the more" in ends else "less"
        p = re.search(r"p = (\S+)\)\.$", ends)[1]
        assert re.search(rf"batch \d+ gives {more} sensitive models than batch \d+ \(rank test p = {re.escape(p)}\)",
                         row.answer)
    else:
        p = re.search(r"gives p = ([^\s,(]+)", ends)[1]
        assert "the rank test cannot tell batch" in row.answer and f"(p = {p})" in row.answer
        floor = "cannot go below" in ends
        assert floor == any("cannot reach p < 0.05" in x for x in row.limits)
    _not_more_confident(comment, row)
    lost = [f"batch {r['batch_size']} seed {r['seed']}" for r in R["models"] if not r["reached"]]
    assert row.missed == ([f"{wording.join(lost)} missed the training-loss target (left out here and in 1-3e)"]
                          if lost else [])
    return row


@PROPERTY
@given(tests_3d._results())
def test_1_3d_row_rederived_from_random_results(R):
    check_1_3d(R)


def check_1_3e(R):
    row = _clean(S.summary_1_3e(R))
    comment = t1_3e.comment(R)
    C = {c["key"]: c[R["gap"]] for c in R["correlations"]}
    if "no rank correlation can be computed" in comment:
        assert row.answer.startswith("Cannot tell: too few models")
        return row
    names = R["measures"]
    ranked = [(a, b) for a in names for b in names if a != b
              and f"{names[a]} has the higher rank correlation with the gap than {names[b]} (" in comment]
    assert row.answer.count("tracks the gap more closely") == len(ranked)
    if ranked:
        for a, b in ranked:
            assert f"{names[a]} tracks the gap more closely than {names[b]}" in row.answer
    else:
        assert row.answer.startswith("Cannot tell which tracks it best") and "overlap" in comment
    for key, name in R["measures"].items():
        d = batch_words.direction(C[key])
        assert (f"a larger {name} goes with a larger gap" in row.answer) == (d == "up")
        assert (f"a larger {name} goes with a smaller gap" in row.answer) == (d == "down")
        rho, low, high = re.fullmatch(r"ρ = (\S+), 95 % interval (\S+) to (\S+) over \d+ models",
                                      batch_words.interval(C[key])).groups()
        assert f"{name} {S.minus(rho)} ({S.minus(low)} to {S.minus(high)})" in row.number
    _not_more_confident(comment, row)
    return row


@st.composite
def results_1_3e(draw):
    keys = {"batch_size": "batch size", **MEASURES}
    few = draw(st.integers(0, 19)) == 0  # too few models: no measure has a ρ

    def corr():
        if few:
            return {"rho": None, "low": None, "high": None, "n": 2}
        ends = sorted(draw(st.lists(END, min_size=3, max_size=3)))
        return {"rho": ends[1], "low": ends[0], "high": ends[2], "n": 10}
    seeds = draw(st.sampled_from([(0,), (0, 1)]))
    return {"params": {"target_loss": 0.05, "max_steps": 2000, "ascent_steps": 20}, "measures": MEASURES,
            "gap": "gap_loss", "gaps": t1_3e.GAPS, "n_boot": 2000, "tolerance": 0.1, "dataset": "digits: 1437 train",
            "batch_trends": {k: {"plain": corr(), "partial": corr()} for k in MEASURES},
            "models": [{"batch_size": b, "seed": s, "steps": 100, "train_loss": 0.04, "diverged": False,
                        "reached": draw(st.booleans()) or True} for s in seeds for b in (16, 64, 256)],
            "correlations": [{"measure": name, "key": k, "gap_loss": corr()} for k, name in keys.items()]}


@PROPERTY
@given(results_1_3e())
def test_1_3e_row_rederived_from_random_results(R):
    check_1_3e(R)


def test_every_question_has_a_checked_summary():
    checked = {"1-1a": check_1_1a, "1-1b": check_1_1b, "1-2a": check_1_2a, "1-2b": check_1_2b, "1-2c": check_1_2c,
               "1-2d": check_1_2d, "1-3a": check_1_3a, "1-3b": check_1_3b, "1-3c": check_1_3c, "1-3d": check_1_3d,
               "1-3e": check_1_3e}
    assert set(checked) == set(S.SUMMARIES)


# ------------------------------------------------------------------ one printed page

def _printed(html_text: str, tmp_path) -> list[str]:
    """The text of each page of the HTML as the report's Chromium prints it."""
    chromium = pdf.find_chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium on the CI machine: .ci/run must install it")
        pytest.skip("no Chromium here: install one (apt-get install chromium) to print the summary")
    from pypdf import PdfReader

    html = tmp_path / "report.html"
    html.write_text(html_text)
    pdf.print_pdf(html, tmp_path / "report.pdf", chromium)
    return [page.extract_text() for page in PdfReader(tmp_path / "report.pdf").pages]


def _report(out_dir) -> str:
    """The report's opening pages (title, summary, map) over out_dir/results/, with a bare section per question."""
    paths = [_notebook(out_dir / f"{name}.ipynb", sec) for sec, name, _ in S.QUESTIONS]
    return stitch.to_html(stitch.build(paths, out_dir))


def _summary_pages(pages: list[str], html: str) -> int:
    """How many printed pages the summary takes: from the page of its heading to the page where the last words
    of its limitations are (white space aside: the PDF's text wraps where the page does)."""
    first = next(i for i, text in enumerate(pages) if "Summary: the answers" in text)
    assert first == 1 and "Limitations" not in pages[0]  # a page of its own, after the title page
    tail = html_mod.unescape(re.sub(r"<[^>]+>", "", html.split('<div class="summary">')[1].split("</ul>")[0]))
    last = "".join(tail.split())[-40:]  # the end of the last limitation, as text
    squeezed = ["".join(text.split()) for text in pages]
    return next(i for i, text in enumerate(squeezed) if last in text) - first + 1


def _worst_case(out_dir) -> None:
    """Results with the longest rows these tests know: the full profile's two datasets in 1-1b, three functions
    in 1-1a, seeds disagreeing in 1-2b, models missing their targets, every kind of limitation."""
    mixed = {1: [0.21, 0.2, 0.17, 0.22, 0.23], 3: [0.41, 0.35, 0.097, 0.3, 0.25], 6: [0.05, 0.018, 0.14, 0.06, 0.07]}
    one_a = R_1a(sign=mixed)
    one_a["params"]["functions"].append("damped_cosine")
    one_a["runs"]["damped_cosine"] = _1a_runs({1: [0.3, 0.31, 0.32, 0.33, 0.34], 3: [0.01, 0.02, 0.03, 0.04, 0.05],
                                               6: [0.2, 0.5, 0.1, 0.4, 0.3]})
    two_b = R_2b([_2b_run(0, grad=(1, 0.1)), _2b_run(1, grad=(1, 2), rho=-0.5, jumps=(0.1, 1)), _2b_run(2)],
                 [_2b_run(0, grad=(0.3, 0.6)), _2b_run(1, grad=(0.3, 0.45), rho=0.1, jumps=(0.1, 1)), _2b_run(2)])
    cases = [_3c_case("batch size", "shared", (-0.0004, 0.0011), reached=(False, True)),
             _3c_case("batch size", "independent", (8.62, 11.8)), _3c_case("learning rate", "shared", (2.66, 0.118)),
             _3c_case("learning rate", "independent", (29.5, 3.2), reached=(True, False))]
    sens = {b: [0.1 + 0.01 * i + 0.001 * s for s in range(3)] for i, b in enumerate((16, 64, 256, 1024, 4096))}
    three_d = R_3d(sens, trend=(0.71, 0.12, 0.99), link=(-0.18, -0.48, 0.67), p=0.1, min_p=0.1,
                   reached=lambda b, s: (b, s) not in ((16, 2), (4096, 0)))
    three_e = R_3e({"batch_size": (0.59, 0.01, 0.91), "top_eigenvalue": (0.44, -0.4, 0.86),
                    "sharpness_0.001": (-0.62, -0.92, -0.01), "sensitivity_softmax": (0.18, -0.48, 0.67)})
    three_e["measures"] = {**MEASURES, "sharpness_0.0005": "ε-sharpness (ε = 0.0005)"}
    three_e["correlations"].append({"key": "sharpness_0.0005", "gap_loss": {"rho": -0.56, "low": -0.89, "high": 0.1}})
    narrow = _3b_runs(2, 166, (0.2, 0.24), (0.2, 0.25))
    three_b = R_3b(narrow, _3b_runs(128, 26122, (0.975, 0.978)), _3b_runs(512, 301066, (0.969, 0.975)))
    three_b["runs"][0]["diverged"] = {"epoch": 3}
    _write_all(out_dir, **{"1_1a_simulate_function": one_a, "1_1b_actual_task": R_1b(("mnist", "cifar10")),
                           "1_2a_optimization_process": R_2a(end=(7.2, 8, 9)), "1_2b_gradient_norm": two_b,
                           "1_3a_random_labels": R_3a(e=None, acc=0.02),
                           "1_3b_parameters_vs_generalization": three_b,
                           "1_3c_interpolation": {"params": {"target_loss": 0.05}, "cases": cases},
                           "1_3d_sensitivity": three_d, "1_3e_sharpness": three_e})


@pytest.mark.slow
def test_the_longest_summary_these_tests_know_fits_one_printed_page(tmp_path):
    _worst_case(tmp_path)
    html = _report(tmp_path)
    assert _summary_pages(_printed(html, tmp_path), html) == 1


@pytest.mark.slow
@pytest.mark.quick
def test_the_quick_profiles_summary_fits_one_printed_page(tmp_path):
    from support.reference import run_task

    for _, name, _ in S.QUESTIONS:  # every task's quick results, as its notebook saves them
        results.save(name, run_task(f"t{name}", "quick", tmp_path), tmp_path)
    html = _report(tmp_path)
    assert "Missing" not in html and "Not summarized" not in html
    assert _summary_pages(_printed(html, tmp_path), html) == 1
