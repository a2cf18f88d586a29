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
    assert "only a small bump" in bump and "does not drop below the ends' 100.0 %" in bump
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
    assert "batch 1024, lr 0.001, seed 0 missed it (120 steps, training loss 0.052)" in text
    assert "compares unequally trained models" in text
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


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    P = resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path_factory.mktemp("1_3c"))
    return P, task.run(P)


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
    assert len(fig.axes) == 2 and caption.endswith("at each α instead of interpolated. Both models from one initialization.")  # one panel, its twin
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
