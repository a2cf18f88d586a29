"""1-3c: the comment branch by branch on hand-made results; the task, its table and figures on a smoke run."""

import pytest
from matplotlib.figure import Figure

from hwlib.params import ParamError, resolve_task
from hwlib.plots import png
from hwlib.tasks import t1_3c_interpolation as task

ALPHA = [-1.0, -0.2, 0.0, 0.5, 1.0, 1.2, 2.0]


def _case(pair="batch size", init="shared", curv=(1.0, 5.0), rise=(0.01, 0.05), mid=0.05, barrier=0.0, low_acc=1.0,
          ends_acc=(1.0, 1.0), clipped=False, reached=(True, True), eig=(20.0, 30.0), paired=(2, 3, 1.0)):
    values = [64, 1024] if pair == "batch size" else [0.001, 0.01]
    seeds = (0, 0) if init == "shared" else (0, 1)
    models = [{"batch_size": 64, "lr": 0.001, "seed": seeds[0], "steps": 300, "reached": reached[0],
               "train_loss": 0.048, "train_acc": ends_acc[0], "test_acc": 0.98, "top_eigenvalue": eig[0]},
              {"batch_size": values[1] if pair == "batch size" else 64, "lr": 0.001 if pair == "batch size" else 0.01,
               "seed": seeds[1], "steps": 120, "reached": reached[1], "train_loss": 0.052, "train_acc": ends_acc[1],
               "test_acc": 0.975, "top_eigenvalue": eig[1]}]
    return {"pair": pair, "values": values, "init": init, "models": models, "alpha": ALPHA,
            "train_loss": [0.5, 0.05, 0.03, mid, 0.04, 0.09, 0.6],
            "mid": {"train_loss": mid, "test_loss": mid + 0.05, "train_acc": 0.99, "test_acc": 0.97},
            "barrier": barrier, "min_train_acc_inside": low_acc,
            "clipped_variances": [3, 0, 0, 0, 0, 0, 2] if clipped else [0] * 7, "unclipped_range": [-0.2, 1.2],
            "rise": None if rise is None else {"delta": 0.2, "model1": rise[0], "model2": rise[1]},
            "curvature": {"model1": curv[0], "model2": curv[1], "step": 0.05},
            "recomputed": {"train_loss": [0.4, 0.05, 0.03, mid * 0.9, 0.04, 0.08, 0.5],
                           "test_loss": [0.5, 0.1, 0.08, mid * 0.9 + 0.05, 0.09, 0.13, 0.6]},
            "test_paired": {"only_a": paired[0], "only_b": paired[1], "p": paired[2]}}


def _R(*cases):
    return {"params": {"target_loss": 0.05, "max_steps": 2000, "optimizer": "adam"}, "tolerance": 0.1, "n_test": 360,
            "cases": list(cases)}


def _clean(text):
    for bad in ("(s)", "[", "True", "False", "`", "at or above", "nan"):
        assert bad not in text, bad


def test_flatter_end_agreed_by_both_inits():
    R = _R(_case(curv=(1.0, 5.0)), _case(init="independent", curv=(2.0, 9.0), mid=2.0, barrier=1.9, low_acc=0.3),
           _case(pair="learning rate", curv=(8.0, 1.0)), _case(pair="learning rate", init="independent", curv=(30.0, 3.0),
                                                                mid=2.1, barrier=2.0, low_acc=0.3))
    text = task.comment(R)
    _clean(text)
    assert "all reached it (training loss from 0.048 to 0.052)" in text
    assert "**θ₁ (batch size 64) is the flatter end**" in text
    assert "**θ₂ (learning rate 0.01) is the flatter end**" in text  # a reversal: the other end wins
    assert "Batch size: the batch size 64 solution is the flatter one in all 2 initialization cases" in text
    assert "Learning rate: the learning rate 0.01 solution is the flatter one in all 2" in text
    assert "the seed noise of the curvatures is unknown" in text
    assert ("The curvature of the training loss along the line (BatchNorm statistics re-estimated; central "
            "difference, step 0.05) is 1 at θ₁ (batch size 64) and 5 at θ₂") in text
    assert "λ_max is 20 at θ₁ and 30 at θ₂: it ranks the ends as the line does." in text
    assert ("2 of 360 test images only θ₁ classifies right, 3 only θ₂ (McNemar's exact test, p = 1): within the "
            "test set's noise, so this pair cannot link flatness to generalization.") in text
    assert ("Keskar et al. (2017) drew this line from a small-batch to a large-batch solution and found the "
            "large-batch end the sharper one; so is it here (batch 1024, θ₂).") in text
    opposite = task.comment(_R(_case(curv=(5.0, 1.0))))
    assert "here it is the flatter one, the opposite, and the setting differs: the models are small" in opposite
    assert "this run cannot tell whether it agrees" in task.comment(_R(_case(curv=(5.0, 5.1))))
    assert "still falls" not in text  # every rise is positive: nothing to add
    assert "a barrier: the training loss rises 1.9" in text and "falls to 30.0 %" in text
    assert "The initialization decides the shape of the slice" in text
    assert "grey" not in text


def test_cases_disagree_or_do_not_rank():
    text = task.comment(_R(_case(curv=(1.0, 5.0)), _case(init="independent", curv=(5.0, 1.0))))
    assert "the initialization cases disagree on which end is flatter" in text
    partial = task.comment(_R(_case(curv=(1.0, 5.0)), _case(init="independent", curv=(-1.0, 5.0), rise=None)))
    assert "in 1 of 2 initialization cases (the other one does not rank the ends)" in partial
    three = task.comment(_R(_case(curv=(1.0, 5.0)), _case(init="independent", curv=(1.0, 1.0)),
                             _case(init="independent", curv=(-1.0, -2.0))))
    assert "in 1 of 3 initialization cases (the other 2 do not rank the ends)" in three
    assert "the loss bends down at θ₁ and θ₂, so the ends are not ranked" in three


@pytest.mark.parametrize("curv,words", [
    ((5.0, 5.2), "within 10 % of each other, so neither end is flatter"),
    ((-0.01, 0.05), "the loss bends down at θ₁, so the ends are not ranked"),
])
def test_ends_not_ranked(curv, words):
    text = task.comment(_R(_case(curv=curv)))
    _clean(text)
    assert words in text and "no case ranks the two ends" in text


@pytest.mark.parametrize("rise,words", [
    ((-0.01, 0.05), "beyond θ₁ the training loss still falls, so along this line it is not at the bottom"),
    ((-0.01, -0.02), "beyond θ₁ and θ₂ the training loss still falls, so along this line neither is at the bottom"),
])
def test_loss_still_falling_beyond_an_end(rise, words):
    text = task.comment(_R(_case(rise=rise)))
    _clean(text)
    assert words in text and "is the flatter end" in text  # the curvature still ranks the ends


def test_shapes_of_the_slice():
    bump = task.comment(_R(_case(barrier=0.01, low_acc=1.0)))
    assert "a bump, not a barrier" in bump and "does not drop below the ends' 100.0 %" in bump
    dip = task.comment(_R(_case(barrier=0.01, low_acc=0.97, ends_acc=(0.99, 1.0))))
    assert "dips to 97.0 %, within 5 points of the worse end's 99.0 %" in dip
    flat = task.comment(_R(_case(barrier=0.0)))
    assert "no barrier" in flat
    # one initialization only: the shared-vs-independent sentence is not written
    assert "initialization decides" not in flat and "do not separate" not in flat


def test_inits_not_separated_missed_model_and_clipping():
    R = _R(_case(mid=1.0, clipped=True, reached=(True, False)), _case(init="independent", mid=0.5))
    text = task.comment(R)
    _clean(text)
    assert "do not separate the shared from the independent" in text
    assert ("batch 1024, lr 0.001, seed 0 missed it (120 steps, training loss 0.052), so the batch size pair "
            "compares models not both at the target.") in text
    # θ₁ of the batch-size cases is θ₁ of the learning-rate cases too: both pairs hold it
    both = _R(_case(reached=(False, True)), _case(pair="learning rate", reached=(False, True)))
    assert "so the batch size and learning rate pairs compare models not both at the target." in task.comment(both)
    assert "Outside the unclipped range (grey)" in text


def test_central_curvatures_of_a_parabola():
    # L(α) = 3(α − 0.2)² + 0.1 has d²L/dα² = 6 everywhere; a central difference is exact on it
    alphas = [-1.0, -0.05, 0.0, 0.05, 0.5, 0.9, 0.95, 1.0, 1.05, 2.0]
    k = task.central_curvatures(alphas, [3 * (a - 0.2) ** 2 + 0.1 for a in alphas])
    assert k["model1"] == pytest.approx(6) and k["model2"] == pytest.approx(6) and k["step"] == pytest.approx(0.05)
    tilted = task.central_curvatures(alphas, [3 * (a - 0.2) ** 2 + 7 * a for a in alphas])  # a slope changes nothing
    assert tilted["model1"] == pytest.approx(6) and tilted["model2"] == pytest.approx(6)
    # a wall on one side only: |α| (a kink at 0) reads 0 from inside the segment, 2/h centred on the end
    kink = [abs(a) for a in alphas]
    assert task.central_curvatures(alphas, kink)["model1"] == pytest.approx(2 / 0.05)
    uneven = [-1.0, -0.1, 0.0, 0.05, 1.0, 2.0]  # no point at one distance on each side of either end
    assert task.central_curvatures(uneven, [a * a for a in uneven])["model1"] is None


def test_test_accuracies_paired_and_eigenvalues():
    beyond = task.comment(_R(_case(paired=(20, 4, 0.0015))))
    assert "(McNemar's exact test, p = 0.0015): beyond the test set's noise, but one pair is one observation" in beyond
    edge = task.comment(_R(_case(paired=(9, 2, 0.04999))))  # printed as 0.05: not below the level as printed
    assert "p = 0.05): within the test set's noise" in edge
    assert "λ_max is 20 at θ₁ and 21 at θ₂: within 10 % of each other." in task.comment(_R(_case(eig=(20, 21))))
    opposite = task.comment(_R(_case(curv=(1.0, 5.0), eig=(30.0, 20.0))))
    assert "in every direction θ₂ is the flatter end, the opposite of the line" in opposite
    unknown = dict(_case(), curvature={"model1": None, "model2": 2.0, "step": 0.05})
    text = task.comment(_R(unknown))
    assert "the curvature at the ends is not measured" in text and "no case ranks the two ends" in text


def test_verdicts_decided_on_the_printed_numbers():
    """Each verdict follows the numbers as printed: 8.9996 and 10.0004 print as 9 and 10, 10 % apart."""
    equal = task.comment(_R(_case(curv=(8.9996, 10.0004), eig=(8.9996, 10.0004))))
    assert "is 9 at θ₁ (batch size 64) and 10 at θ₂ (batch size 1024): within 10 % of each other" in equal
    assert "λ_max is 9 at θ₁ and 10 at θ₂: within 10 % of each other." in equal
    # 0.09996 prints as 0.1, 1 % of 10 and not under it: not zero, and θ₁ is flatter on its own value
    edge = task.comment(_R(_case(curv=(0.09996, 10.0))))
    assert "is 0.1 at θ₁" in edge and "finite differences" not in edge and "**θ₁ (batch size 64) is the flatter" in edge
    assert "under 1 % of the other end's" in task.comment(_R(_case(curv=(0.0996, 10.0))))
    # 94.99 % prints as 95.0 %, 5 points below 100.0 %: within ACC_DROP, a bump and not a barrier
    bump = task.comment(_R(_case(barrier=0.01, low_acc=0.9499)))
    assert "a bump, not a barrier" in bump and "dips to 95.0 %, within 5 points of the worse end's 100.0 %" in bump
    # the midpoints 0.05 and 0.05002 both print as 0.05: not separated
    mids = task.comment(_R(_case(mid=0.05), _case(init="independent", mid=0.05002)))
    assert "do not separate the shared from the independent" in mids


def test_an_accuracy_barrier_without_a_loss_rise():
    text = task.comment(_R(_case(barrier=0.0, low_acc=0.8)))
    assert ("a barrier: the training loss never exceeds the worse end's, but the training accuracy falls to 80.0 % "
            "in between") in text and "rises 0" not in text


def test_a_diverged_model_ranks_nothing():
    nan = float("nan")
    c = _case(curv=(nan, nan), eig=(nan, 30.0))
    text = task.comment(_R(c))
    assert "is not finite at an end, so the curvature there is not measured" in text
    assert "λ_max is nan at θ₁ and 30 at θ₂. " in text and "no case ranks the two ends" in text


def test_keskar_with_the_larger_batch_first():
    c = _case(curv=(5.0, 1.0))  # θ₂ flatter, and θ₂ is batch 64 here
    c["values"] = [1024, 64]
    text = task.comment(_R(c))
    assert "found the large-batch end the sharper one; so is it here (batch 1024, θ₁)." in text
    other = dict(c, curvature={"model1": 1.0, "model2": 5.0, "step": 0.05})
    text = task.comment(_R(other))
    assert "here it is the flatter one, the opposite" in text and "batch 64 against 1024 (the paper" in text


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    P = resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path_factory.mktemp("1_3c"))
    return P, task.run(P)


def test_models_of_the_batch_size_grid_are_loaded_not_trained_again(tmp_path, capsys):
    """With the grid's cache in place (make's product runs before 1-3c), the models 1-3c shares with it are loaded,
    and the results are the ones 1-3c gets training every model itself."""
    from hwlib.tasks import batch_models, common

    P = resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path)
    G = resolve_task(batch_models, profile="smoke", device="cpu", out_dir=tmp_path)
    batch_models.train_models(G, common.load_data(G))
    capsys.readouterr()
    R = task.run(P)
    assert "trained models of the batch-size grid found" in capsys.readouterr().out
    alone = task.run(resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path / "alone"))  # same threads
    for mine, theirs in zip(R["cases"], alone["cases"]):
        timeless = lambda models: [{k: v for k, v in m.items() if k != "seconds"} for m in models]
        assert mine["train_loss"] == theirs["train_loss"] and timeless(mine["models"]) == timeless(theirs["models"])


def test_path_endpoints_are_the_trained_models(smoke):
    P, R = smoke
    assert len(R["cases"]) == 4
    assert any(k.endswith("running_var") for k in R["buffers"])
    for c in R["cases"]:
        a = c["alpha"]
        assert len(a) >= 31 and a[0] == pytest.approx(-1) and a[-1] == pytest.approx(2)
        # the path at α = 0 and 1 is evaluated on the very models trained (their own final evaluation)
        for alpha, model in ((0.0, c["models"][0]), (1.0, c["models"][1])):
            i = a.index(alpha)
            assert c["train_loss"][i] == pytest.approx(model["train_loss"], rel=1e-5)
            assert c["test_acc"][i] == pytest.approx(model["test_acc"])
        seeds = [m["seed"] for m in c["models"]]
        assert (seeds[0] == seeds[1]) == (c["init"] == "shared")
        # both models of a pair trained to the same criterion: each in the band, or at the step limit
        for m in c["models"]:
            assert m["reached"] == (0.9 * P.target_loss <= m["train_loss"] <= 1.1 * P.target_loss)
            assert m["reached"] or m["steps"] >= P.max_steps or m["train_loss"] < P.target_loss
            assert m["top_eigenvalue"] > 0 and "test_correct" not in m
        t = c["test_paired"]
        n_wrong_somewhere = round(R["n_test"] * abs(c["models"][0]["test_acc"] - c["models"][1]["test_acc"]))
        assert abs(t["only_a"] - t["only_b"]) == n_wrong_somewhere and 0 < t["p"] <= 1
        # with the statistics re-estimated the line's ends are the models' weights, not their running averages
        assert len(c["recomputed"]["train_loss"]) == len(a)
    assert "Which solution is flatter along the line" in task.comment(R)


def test_table_and_figures_from_the_results(smoke):
    _, R = smoke
    text = task.table(R)
    assert text.count("\n| ") == 1 + 2 * len(R["cases"])  # the header row and two models per case
    _clean(text)
    figs = task.figures(R)
    assert len(figs) == 2  # one per studied choice: batch size, then learning rate
    for (fig, caption), pair in zip(figs, ("batch size", "learning rate")):
        assert isinstance(fig, Figure) and f"the {pair} " in caption
        assert "Left panel: both models from one initialization; right panel: the models from independent" in caption
        _clean(caption)
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def test_one_initialization_one_panel(smoke):
    _, R = smoke
    shared = dict(R, cases=[c for c in R["cases"] if c["init"] == "shared"])
    (fig, caption), _ = task.figures(shared)
    # one panel, its twin
    assert len(fig.axes) == 2 and caption.endswith("at each α instead of interpolated. Both models from one initialization.")
    assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def test_clipped_spans():
    assert task._clipped_spans([-1, -0.5, 0, 1, 1.5, 2], [2, 1, 0, 0, 0, 3]) == [(-1, 0), (1.5, 2)]
    assert task._clipped_spans([0, 1], [0, 0]) == []


@pytest.mark.parametrize("bad,words", [({"alpha_min": 0.2}, "alpha"), ({"inits": ["shared", "shared"]}, "inits"),
                                       ({"lrs": [1e-3, 1e-2, 0.1]}, "lrs")])
def test_bad_settings(tmp_path, bad, words):
    with pytest.raises(ParamError, match=words):
        resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path, **bad)


def test_a_curvature_near_zero_is_flat_not_bending_down():
    # -0.0007 beside 8.6: zero within the finite differences, so θ₁ is the flatter end, not a concave one
    text = task.comment(_R(_case(curv=(-0.0007, 8.6)), _case(init="independent", curv=(0.5, 8.6))))
    assert "bends down" not in text and "is zero within the finite differences' error" in text
    assert "θ₁ (batch size 64) is the flatter end" in text
    bent = task.comment(_R(_case(curv=(-0.5, 8.6))))  # 6 % of the other end's: it does bend down
    assert "the loss bends down at θ₁" in bent and "finite differences" not in bent
    _clean(text)


# ---------------------------------------------------------------- the comment against random results
# Every number the comment prints is re-derived here from R at the precision it is printed with, and
# every verdict (the shape, the flatter end, λ_max against the line, the paired test, the per-pair and
# Keskar sentences, shared against independent) is checked against its stated rule on the PRINTED values.

import re
from decimal import Decimal
from math import comb
from types import SimpleNamespace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from test_t1_3d_sensitivity import NUM, _close

from hwlib.paired import mcnemar

END, TWO = ("θ₁", "θ₂"), ("model1", "model2")


def _g3(v) -> Decimal:
    """v as the comment prints it (3 significant digits), exactly."""
    return Decimal(f"{v:.3g}")


def _pct(v) -> Decimal:
    return Decimal(f"{100 * v:.1f}")


# McNemar counts whose exact p lies near the 0.05 level
NEAR_ALPHA = [(k, n - k) for n in range(5, 130) for k in range(n // 2 + 1)
              if 0.044 < min(1, 2 * sum(comb(n, i) for i in range(k + 1)) / 2 ** n) < 0.056]
EDGE_P = [0.0496, 0.0504, 0.04951, 0.0495, 0.0505, 0.045, 0.0449, 0.055]
# accuracies, curvatures and λ_max around the printed edges of ACC_DROP, NEAR_ZERO and EQUAL_CURVATURE
_ACC = st.one_of(st.sampled_from([1.0, 0.99, 0.9905, 0.99049, 0.98951, 0.9995, 0.99949, 0.6]), st.floats(0.3, 1))
_DROP = st.one_of(st.sampled_from([0, 1e-5, 0.0004, 0.0495, 0.04951, 0.0496, 0.05, 0.0500001, 0.0504, 0.0505,
                                   0.051]), st.floats(0, 0.4))
_CURV = st.one_of(st.sampled_from([10.0, 9.0, 8.1, 0.1, 0.0, -0.1, -3.0, 1e-4]),
                  st.floats(-50, 50, allow_subnormal=False).map(lambda v: v + 0.0))  # no -0.0
# the other end's curvature as a share of one end's: at and beside the printed 10 % and 1 % edges
_SHARE = st.sampled_from([1.0, 0.9, 0.89996, 0.90004, 1.1, 1.10004, 0.01, 0.0099, 0.009996, 0.010004, -0.01, -0.009996])
_EIG = st.one_of(st.sampled_from([9.0, 10.0, 8.9996, 9.0004, 9.9996, 10.0004, 8.1, 20.0, 0.5]), st.floats(0.01, 500))
# midpoint losses that print alike at 3 digits (0.05) or not, and anything in a wide range
_NEAR = st.sampled_from([0.05, 0.05002, 0.050049, 0.05005, 0.0501, 0.0499])
_MID = st.one_of(_NEAR, _NEAR, _NEAR, st.floats(1e-3, 5))


def _model(draw, b, lr, seed, target):
    return {"batch_size": b, "lr": lr, "seed": seed, "steps": draw(st.integers(1, 30000)),
            "reached": draw(st.sampled_from([True, True, True, False])),
            "train_loss": target * draw(st.sampled_from([0.5, 0.9, 0.99, 1.0, 1.0004, 1.1, 1.5])),
            "train_acc": draw(_ACC), "test_acc": draw(st.floats(0, 1)), "top_eigenvalue": draw(_EIG)}


def _train_curves(draw, rng, alphas, m1, m2, mid):
    """The training loss and accuracy along the line, the ends the two models', with a drawn midpoint,
    rise above the worse end and dip of the accuracy below it."""
    n, i0, i1, im = len(alphas), alphas.index(0.0), alphas.index(1.0), alphas.index(0.5)
    worse = max(m1["train_loss"], m2["train_loss"])
    loss, acc = rng.uniform(0, 5, n), rng.uniform(0, 1, n)
    loss[i0 + 1:i1] = rng.uniform(0, worse, i1 - i0 - 1)
    others = [i for i in range(i0 + 1, i1) if i != im]
    loss[rng.choice(others)] = worse + draw(st.one_of(st.sampled_from([0.0, 1e-9, 0.001]), st.floats(0, 3)))
    loss[im], loss[i0], loss[i1] = draw(mid), m1["train_loss"], m2["train_loss"]
    low = max(0.0, min(m1["train_acc"], m2["train_acc"]) - draw(_DROP))
    acc[i0 + 1:i1] = rng.uniform(low, 1, i1 - i0 - 1)
    acc[rng.choice(range(i0 + 1, i1))], acc[i0], acc[i1] = low, m1["train_acc"], m2["train_acc"]
    return loss.tolist(), acc.tolist()


def _paired(draw):
    only = draw(st.one_of(st.sampled_from(NEAR_ALPHA), st.tuples(st.integers(0, 30), st.integers(0, 30))))
    t = mcnemar([True] * only[0] + [False] * only[1], [False] * only[0] + [True] * only[1])
    if draw(st.integers(0, 4)) == 0:  # p at the printed edges of the level
        t["p"] = draw(st.sampled_from(EDGE_P))
    return t


def _drawn_case(draw, alphas, pair, init, m1, m2, mid):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    n, i0, i1, im = len(alphas), alphas.index(0.0), alphas.index(1.0), alphas.index(0.5)
    loss, acc = _train_curves(draw, rng, alphas, m1, m2, mid)
    test_loss, test_acc, re_train = rng.uniform(0, 5, n).tolist(), rng.uniform(0, 1, n).tolist(), rng.uniform(0, 5, n)
    if draw(st.booleans()):  # flat one step of 0.2 beyond θ₁: the loss does not fall there
        re_train[task.near(alphas, -0.2)] = re_train[i0]
    lo, hi = (0, n - 1) if draw(st.booleans()) else (draw(st.integers(0, i0)), draw(st.integers(i1, n - 1)))
    clipped = [0 if lo <= i <= hi else int(rng.integers(1, 5)) for i in range(n)]
    ref = task.central_curvatures(alphas, re_train.tolist())  # which ends the grid can measure, and the step
    k = draw(_CURV)
    pair_k = draw(st.one_of(st.just(k * draw(_SHARE)), _CURV))
    curv = {t: None if ref[t] is None or draw(st.integers(0, 19)) == 0 else v
            for t, v in zip(TWO, draw(st.permutations([k, pair_k])))}
    return {"pair": pair["name"], "values": pair["values"], "init": init, "models": [m1, m2], "alpha": alphas,
            "train_loss": loss, "train_acc": acc, "test_loss": test_loss, "test_acc": test_acc,
            "mid": {"train_loss": loss[im], "test_loss": test_loss[im], "train_acc": acc[im], "test_acc": test_acc[im]},
            "barrier": max(loss[i0:i1 + 1]) - max(loss[i0], loss[i1]), "min_train_acc_inside": min(acc[i0:i1 + 1]),
            "recomputed": {"train_loss": re_train.tolist(), "test_loss": rng.uniform(0, 5, n).tolist()},
            "test_paired": _paired(draw), "clipped_variances": clipped, "unclipped_range": [alphas[lo], alphas[hi]],
            "rise": task.rise_beyond_ends(alphas, re_train.tolist(), [alphas[0], alphas[-1]]),
            "curvature": {**curv, "step": ref["step"]}}


@st.composite
def _results(draw):
    # grids with a point at one distance on each side of both ends, and one without (-0.3 to 1.3)
    lo, hi, n = draw(st.sampled_from([(-1.0, 2.0, 61), (-1.0, 2.0, 46), (-1.0, 2.0, 31), (-0.5, 1.5, 31), (-0.3, 1.3, 31)]))
    alphas = task.alpha_grid(SimpleNamespace(alpha_min=lo, alpha_max=hi, n_alpha=n))
    bs = draw(st.lists(st.sampled_from([16, 64, 256, 1024]), min_size=2, max_size=2, unique=True))
    lrs = draw(st.lists(st.sampled_from([1e-3, 1e-2, 3e-4, 0.1]), min_size=2, max_size=2, unique=True))
    P = SimpleNamespace(batch_sizes=bs, lrs=lrs, base_lr=draw(st.sampled_from([lrs[0], 3e-3])),
                        base_batch=draw(st.sampled_from([bs[0], 32])))
    inits = draw(st.permutations(["shared", "independent"]))[:draw(st.integers(1, 2))]
    target, seed = draw(st.sampled_from([0.05, 1.2])), draw(st.integers(0, 3))
    # midpoints: any, or every shared one below every independent one, apart or alike as printed (0.05)
    mids = draw(st.sampled_from([{}, {"shared": st.sampled_from([0.0499, 0.05]),
                                      "independent": st.sampled_from([0.05002, 0.050049, 0.0501])}]))
    trained, cases = {}, []
    for pair in task.pairs(P):
        for init in inits:
            seeds = (seed, seed) if init == "shared" else (seed, seed + 1)
            for (b, lr), s in zip(pair["settings"], seeds):  # a model shared by several cases is one record
                trained[b, lr, s] = trained.get((b, lr, s)) or _model(draw, b, lr, s, target)
            ends = [trained[b, lr, s] for (b, lr), s in zip(pair["settings"], seeds)]
            cases.append(_drawn_case(draw, alphas, pair, init, *ends, mids.get(init, _MID)))
    return {"params": {"target_loss": target, "max_steps": draw(st.integers(1, 30000)),
                       "optimizer": draw(st.sampled_from(["adam", "sgd"]))},
            "tolerance": draw(st.sampled_from([0.1, 0.05])), "n_test": draw(st.sampled_from([360, 10000])),
            "cases": cases}


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_results())
def test_comment_claims_hold_on_the_printed_numbers(R):
    _verify(R, task.comment(R))


CASE = re.compile(
    rf"- \*\*(?P<pair>.+?) (?P<v1>\S+) → (?P<v2>\S+), (?P<init>\w+) initialization\*\*: at α = 0\.5 the train/test "
    rf"loss is \*\*(?P<mtr>{NUM}) / (?P<mte>{NUM})\*\* \(accuracy (?P<atr>{NUM}) % / (?P<ate>{NUM}) %\), against "
    rf"(?P<e1>{NUM}) \(θ₁\) and (?P<e2>{NUM}) \(θ₂\) at the ends: (?P<shape>.*?)\. With the BatchNorm statistics "
    rf"re-estimated there instead of interpolated it is (?P<rtr>{NUM}) / (?P<rte>{NUM})\. No interpolated running "
    rf"variance is clipped for α from (?P<lo>{NUM}) to (?P<hi>{NUM})\. (?P<curv>.*?)(?P<rise> One step of .*?)? "
    rf"λ_max is (?P<eig>.*?) Test accuracy (?P<paired>.*)")
CLIPPED = ("Outside the unclipped range (grey) some BatchNorm running variance extrapolates below zero and is clipped; "
           "the layer then divides by about √eps, and the jumps there are that artifact, not a property of the weights.")


def _verify(R: dict, text: str) -> None:
    lines = [ln for ln in text.split("\n") if ln]
    _check_criterion(R, lines[0])
    cases = R["cases"]
    verdicts = [_check_case(R, c, ln) for c, ln in zip(cases, lines[1:], strict=False)]
    rest = lines[1 + len(cases):]
    assert rest[0] == "Which solution is flatter along the line:", rest[0]
    pairs = list(dict.fromkeys(c["pair"] for c in cases))
    for pair, ln in zip(pairs, rest[1:]):
        _check_pair(ln, [(c, v) for c, v in zip(cases, verdicts) if c["pair"] == pair])
    rest = rest[1 + len(pairs):]
    if "batch size" in pairs:
        _check_keskar(R, rest.pop(0), [v for c, v in zip(cases, verdicts) if c["pair"] == "batch size"])
    rest = _check_inits(R, rest)
    assert rest == ([CLIPPED] if any(n for c in cases for n in c["clipped_variances"]) else []), rest


def _check_criterion(R: dict, line: str) -> None:
    p = R["params"]
    trained = {(m["batch_size"], m["lr"], m["seed"]): m for c in R["cases"] for m in c["models"]}
    missed = [m for m in trained.values() if not m["reached"]]
    m = re.fullmatch(r"Every model was trained until its training loss \(eval mode, whole training set\) was within "
                     r"±(\S+) % of (\S+) \(limit (\S+) steps\): (.*)", line)
    assert m and (m[1], m[2], m[3]) == (f"{R['tolerance'] * 100:g}", f"{p['target_loss']:g}", f"{p['max_steps']:,}")
    if not missed:
        losses = [t["train_loss"] for t in trained.values()]
        k = re.fullmatch(rf"all reached it \(training loss from ({NUM}) to ({NUM})\)\.", m[4])
        assert k and _close(min(losses), k[1]) and _close(max(losses), k[2]), m[4]
        return
    named = re.findall(rf"batch (\d+), lr (\S+), seed (\d+) missed it \(([\d,]+) steps, training loss ({NUM})\)", m[4])
    assert len(named) == len(missed), m[4]
    for (b, lr, s, steps, loss), t in zip(named, missed):
        assert (int(b), lr, int(s)) == (t["batch_size"], f"{t['lr']:g}", t["seed"])
        assert int(steps.replace(",", "")) == t["steps"] and _close(t["train_loss"], loss)
    unequal = [q for q in dict.fromkeys(c["pair"] for c in R["cases"])
               if any(not t["reached"] for c in R["cases"] if c["pair"] == q for t in c["models"])]
    tail = ("pair compares" if len(unequal) == 1 else "pairs compare")
    assert m[4].endswith(f", so the {task.wording.join(unequal)} {tail} models not both at the target."), m[4]


def _check_case(R: dict, c: dict, line: str) -> str:
    m = CASE.fullmatch(line)
    assert m, line
    v1, v2 = (f"{v:g}" for v in c["values"])
    assert (m["pair"], m["v1"], m["v2"], m["init"]) == (c["pair"], v1, v2, c["init"])
    a, mid, rc = c["alpha"], c["mid"], c["recomputed"]
    assert _close(mid["train_loss"], m["mtr"]) and _close(mid["test_loss"], m["mte"])
    assert _close(100 * mid["train_acc"], m["atr"]) and _close(100 * mid["test_acc"], m["ate"])
    assert _close(c["train_loss"][a.index(0.0)], m["e1"]) and _close(c["train_loss"][a.index(1.0)], m["e2"])
    assert _close(rc["train_loss"][a.index(0.5)], m["rtr"]) and _close(rc["test_loss"][a.index(0.5)], m["rte"])
    lo, hi = float(m["lo"]), float(m["hi"])
    assert _close(c["unclipped_range"][0], m["lo"]) and _close(c["unclipped_range"][1], m["hi"])
    assert lo <= 0 and hi >= 1 and all(n == 0 for x, n in zip(a, c["clipped_variances"]) if lo <= x <= hi)
    _check_shape(c, m["shape"])
    names = (f"{c['pair']} {v1}", f"{c['pair']} {v2}")
    verdict = _check_curvature(c, m["curv"], names)
    _check_rise(c, m["rise"])
    _check_eigen(c, m["eig"], verdict)
    _check_paired(R, c, m["paired"])
    return verdict


def _check_shape(c: dict, text: str) -> None:
    """Barrier / small bump / no barrier by ACC_DROP on the printed accuracies; the rise re-derived from the line."""
    a, loss = c["alpha"], c["train_loss"]
    i0, i1 = a.index(0.0), a.index(1.0)
    barrier = max(loss[i0:i1 + 1]) - max(loss[i0], loss[i1])
    low, floor = _pct(min(c["train_acc"][i0:i1 + 1])), _pct(min(m["train_acc"] for m in c["models"]))
    rises = re.search(rf"the training loss rises ({NUM}) above the worse end", text)
    assert bool(rises) == (barrier > 0), (barrier, text)
    if rises:
        assert _close(barrier, rises[1]) and Decimal(rises[1]) > 0, (barrier, text)
    else:
        assert "the training loss never exceeds the worse end's" in text, text
    if text.startswith("a barrier"):
        assert low < floor - 100 * Decimal(str(task.ACC_DROP)), (low, floor, text)
        falls = re.search(rf"the training accuracy falls to ({NUM}) % in between", text)
        assert falls and Decimal(falls[1]) == low, (low, text)
        return
    assert low >= floor - 100 * Decimal(str(task.ACC_DROP)), (low, floor, text)
    assert text.startswith("a bump, not a barrier (a barrier here means a training accuracy more than 5 points below "
                           "the worse end's): " if barrier > 0 else "no barrier: "), text
    kept = re.search(rf"does not drop below the ends' ({NUM}) %", text)
    dips = re.search(rf"dips to ({NUM}) %, within 5 points of the worse end's ({NUM}) %", text)
    assert bool(kept) != bool(dips), text
    if kept:
        assert Decimal(kept[1]) == floor and low >= floor, (low, floor, text)
    else:
        assert (Decimal(dips[1]), Decimal(dips[2])) == (low, floor) and low <= floor, (low, floor, text)


def _check_curvature(c: dict, text: str, names: tuple) -> str:
    """The flatter end by NEAR_ZERO (under 1 %), concave, EQUAL_CURVATURE (within 10 %), decided on the printed values."""
    k = c["curvature"]
    if k["model1"] is None or k["model2"] is None:
        assert text == ("The α grid has no point on both sides of an end, so the curvature at the ends is not "
                        "measured."), text
        return "unknown"
    m = re.fullmatch(rf"The curvature of the training loss along the line \(BatchNorm statistics re-estimated; central "
                     rf"difference, step ({NUM})\) is ({NUM}) at θ₁ \({re.escape(names[0])}\) and ({NUM}) at θ₂ "
                     rf"\({re.escape(names[1])}\)(?: \((?:its|their) value at (.+?), under 1 % of the other end's, is "
                     r"zero within the finite differences' error\))?: (.*)", text)
    assert m and _close(k["step"], m[1]) and _close(k["model1"], m[2]) and _close(k["model2"], m[3]), text
    shown = [Decimal(m[2]), Decimal(m[3])]
    zero = [abs(v) < Decimal("0.01") * max(map(abs, shown)) for v in shown]
    assert (m[4] or "") == task.wording.join([e for e, z, v in zip(END, zero, shown) if z and v != 0]), text
    e = [Decimal(0) if z else v for z, v in zip(zero, shown)]
    if min(e) < 0:
        assert m[5] == f"the loss bends down at {task.wording.join([n for n, v in zip(END, e) if v < 0])}, so the " \
                       "ends are not ranked.", text
        return "concave"
    if abs(e[0] - e[1]) <= Decimal("0.1") * max(e):
        assert m[5] == "within 10 % of each other, so neither end is flatter along this line.", text
        return "equal"
    i = 0 if e[0] < e[1] else 1
    assert m[5] == f"**{END[i]} ({names[i]}) is the flatter end** along this line.", text
    return END[i]


def _check_rise(c: dict, text: str | None) -> None:
    """'still falls' beyond exactly the ends where the re-estimated loss one step out is below the end's."""
    r, a, loss = c["rise"], c["alpha"], c["recomputed"]["train_loss"]
    below = []
    if r is not None:
        for end, sign in ((0.0, -1), (1.0, 1)):
            out = min(range(len(a)), key=lambda i: abs(a[i] - (end + sign * r["delta"])))
            if loss[out] < loss[a.index(end)]:
                below.append(END[int(end)])
    if not below:
        assert text is None, text
        return
    m = re.fullmatch(rf" One step of ({NUM})·‖θ₂−θ₁‖ beyond (.+?) the training loss still falls, so along this line "
                     r"(it is not|neither is) at the bottom of its valley\.", text or "")
    assert m and _close(r["delta"], m[1]) and m[2] == task.wording.join(below), (below, text)
    assert m[3] == ("it is not" if len(below) == 1 else "neither is"), text


def _check_eigen(c: dict, text: str, line: str) -> None:
    """λ_max equal within 10 % on the printed values, else the smaller one flatter, against the line's verdict."""
    m = re.fullmatch(rf"({NUM}) at θ₁ and ({NUM}) at θ₂: (.*)", text)
    assert m, text
    for model, shown in zip(c["models"], m.groups()):
        assert _close(model["top_eigenvalue"], shown), (model["top_eigenvalue"], shown)
    l1, l2 = Decimal(m[1]), Decimal(m[2])
    if abs(l1 - l2) <= Decimal("0.1") * max(abs(l1), abs(l2)):
        assert m[3] == "within 10 % of each other.", text
        return
    smaller = END[0] if l1 < l2 else END[1]
    if line in END:
        assert m[3] == ("it ranks the ends as the line does." if line == smaller else
                        f"in every direction {smaller} is the flatter end, the opposite of the line."), (line, text)
    else:
        assert m[3] == f"in every direction {smaller} is the flatter end.", (line, text)


def _check_paired(R: dict, c: dict, text: str) -> None:
    """The counts and p of McNemar's test, its verdict at ALPHA on the printed p."""
    t = c["test_paired"]
    m = re.fullmatch(rf"({NUM}) % \(θ₁\) against ({NUM}) % \(θ₂\): (\d+) of (\d+) test images only θ₁ classifies "
                     rf"right, (\d+) only θ₂ \(McNemar's exact test, p = ({NUM})\): (.*)", text)
    assert m and _close(100 * c["models"][0]["test_acc"], m[1]) and _close(100 * c["models"][1]["test_acc"], m[2])
    assert (int(m[3]), int(m[4]), int(m[5])) == (t["only_a"], R["n_test"], t["only_b"]) and _close(t["p"], m[6])
    n = t["only_a"] + t["only_b"]
    exact = binomtest(t["only_a"], n).pvalue if n else 1.0  # or a p drawn at the printed edges of the level
    assert t["p"] == pytest.approx(exact, rel=1e-9) or t["p"] in EDGE_P, (t, exact)
    if Decimal(m[6]) < Decimal(str(task.ALPHA)):
        assert m[7] == ("beyond the test set's noise, but one pair is one observation and cannot show a link between "
                        "flatness and generalization."), text
    else:
        assert m[7] == "within the test set's noise, so this pair cannot link flatness to generalization.", text


def _check_pair(line: str, cases: list[tuple]) -> None:
    """All cases / k of n / disagree / none, from the cases' verdicts as the lines printed them."""
    pair, values = cases[0][0]["pair"], cases[0][0]["values"]
    decided = [v for _, v in cases if v in END]
    head = f"- {pair.capitalize()}: "
    if not decided:
        assert line == head + "no case ranks the two ends, so the line does not say which solution is flatter.", line
        return
    if len(set(decided)) > 1:
        assert line == head + ("the initialization cases disagree on which end is flatter, so the line does not "
                               "decide between the two solutions."), line
        return
    m = re.fullmatch(rf"{re.escape(head)}the {pair} (\S+) solution is the flatter one in (?:all (\d+)|(\d+) of (\d+)) "
                     r"initialization cases(?: \(the other (?:one does|(\d+) do) not rank the ends\))?(; the cases share θ₁ "
                     r"\(one trained model\), so they are lines through one solution, not repeats)?; with one run "
                     r"per case the seed noise of the curvatures is unknown\.", line)
    assert m and m[1] == f"{values[END.index(decided[0])]:g}", (decided, line)
    firsts = {(c["models"][0]["batch_size"], c["models"][0]["lr"], c["models"][0]["seed"]) for c, _ in cases}
    assert bool(m[6]) == (len(cases) > 1 and len(firsts) == 1), line
    if m[2]:
        assert int(m[2]) == len(cases) == len(decided), line
    else:
        assert (int(m[3]), int(m[4]), int(m[5] or 1)) == (len(decided), len(cases), len(cases) - len(decided)), line


def _check_keskar(R: dict, line: str, verdicts: list[str]) -> None:
    """Agrees when every ranked batch-size case has the smaller batch flatter; opposite when the larger; else cannot tell."""
    values = next(c["values"] for c in R["cases"] if c["pair"] == "batch size")
    large = 0 if values[0] > values[1] else 1
    decided = set(verdicts) & set(END)
    assert line.startswith(task.KESKAR) and line.endswith(" The learning-rate pair has no counterpart in that paper.")
    if decided == {END[1 - large]}:
        assert f"; so is it here (batch {values[large]:g}, {END[large]})." in line, (verdicts, line)
        return
    if decided == {END[large]}:
        assert "; here it is the flatter one, the opposite, and the setting differs: " in line, (verdicts, line)
    else:
        assert "so this run cannot tell whether it agrees" in line, (verdicts, line)
    assert (f"trained with {R['params']['optimizer']} to one training loss, batch {min(values):g} against "
            f"{max(values):g} (the paper") in line, line


def _check_inits(R: dict, rest: list[str]) -> list[str]:
    """Shared against independent: 'separated' only where the printed midpoint losses are apart."""
    mids = {i: [c["mid"]["train_loss"] for c in R["cases"] if c["init"] == i] for i in ("shared", "independent")}
    if not all(mids.values()):
        return rest
    worst, best = max(mids["shared"]), min(mids["independent"])
    if _g3(worst) < _g3(best):
        m = re.search(rf"midpoint training loss at most ({NUM})\); .* \(midpoint training loss ({NUM}) or more\)", rest[0])
        assert rest[0].startswith("The initialization decides the shape of the slice.") and m, rest[0]
        assert _close(worst, m[1]) and _close(best, m[2]), rest[0]
    else:
        assert rest[0] == "The midpoint losses do not separate the shared from the independent initializations here."
    return rest[1:]
