"""1-3b: the smoke run's widths, table and figure; the comment: the widest model against the
narrowest and against the best width, decided by an exact rank test over the seeds; a property test
re-derives every number and claim of the comment from random results."""

import itertools
import math
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from scipy.stats import rankdata

from hwlib import results
from hwlib.params import ParamError, resolve_task
from hwlib.plots import png
from hwlib.tasks import common
from hwlib.tasks import t1_3b_parameters_vs_generalization as t1_3b


def _P(tmp_path, **kw):
    return resolve_task(t1_3b, profile="smoke", device="cpu", out_dir=tmp_path, **kw)


def test_smoke_run_widths_span_orders_of_magnitude(tmp_path):
    P = _P(tmp_path)
    common.run(t1_3b, P)
    R = results.load_results(t1_3b.NAME, tmp_path)  # as the notebook's later cells see it
    assert len(R["models"]) >= 10 and R["summary"]["orders_of_magnitude"] >= 2
    params = [m["params"] for m in R["models"]]
    assert params == sorted(params) and len(set(params)) == len(params)
    assert len(R["runs"]) == len(P.widths) * len(P.seeds)
    s = R["summary"]
    assert s["best"]["test_acc"] == max(r["test_acc"] for r in s["by_width"].values())
    # the comment reads this very payload; one seed per width can give no p below 1
    assert "1 seed each" in t1_3b.comment(R) and "cannot go below p = 1" in t1_3b.comment(R)
    assert t1_3b.table(R).count("\n| ") == len(P.widths)
    figs = t1_3b.figures(R)
    try:
        assert len(figs) == 1
        fig, caption = figs[0]
        assert isinstance(fig, Figure) and "1 seed per width" in _clean(caption)
        assert [t.get_text() for t in fig.legends[0].get_texts()] == ["train", "test"]
    finally:
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def test_widths_must_increase(tmp_path):
    with pytest.raises(ParamError, match="widths"):
        _P(tmp_path, widths=[8, 4])
    with pytest.raises(ParamError, match="seeds"):
        _P(tmp_path, seeds=[1, 1])


# ------------------------------------------------------------ the comment

PARAMS = {2: 166, 8: 682, 64: 8970, 512: 301066}


def _runs(width, test_acc, train_acc=(1.0, 1.0), test_loss=None, diverged=()):
    """One run per seed; ``diverged`` lists the seeds that diverged."""
    test_loss = test_loss or [1 - a for a in test_acc]
    return [{"width": width, "seed": s, "params": PARAMS[width], "train_loss": 0.01, "test_loss": test_loss[s],
             "train_acc": train_acc[s], "test_acc": test_acc[s], "seconds": 1.0,
             "diverged": {"epoch": 2} if s in diverged else None} for s in range(len(test_acc))]


def _R(*runs, seeds=(0, 1)):
    return {"params": {"seeds": list(seeds)}, "runs": [r for rs in runs for r in rs], "n_train": 1437}


def _clean(text):
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad
    return text


NARROW = _runs(2, (0.20, 0.24), train_acc=(0.19, 0.25))
FOUR = (0, 1, 2, 3)


def _four(width, test_acc, step=0.001, train_acc=1.0, test_loss=None):
    """Four seeds a little apart around each value: the rank test can reach p = 0.029."""
    return _runs(width, tuple(test_acc + step * s for s in FOUR), train_acc=(train_acc,) * 4,
                 test_loss=None if test_loss is None else [test_loss + step * s for s in FOUR])


def test_two_seeds_a_side_call_no_difference():
    # the quick run: 2 seeds per width, every seed of the widest above every seed of the narrowest, and still
    # no verdict: 2 against 2 can give no p below 1/3
    R = _R(NARROW, _runs(8, (0.90, 0.92), (0.97, 0.98)), _runs(64, (0.975, 0.978)), _runs(512, (0.970, 0.975)))
    text = _clean(t1_3b.comment(R))
    assert "from width 64 (8,970 parameters) on, every run fits the training set" in text
    assert ("widest against narrowest: 97.2 % against 22.0 %, cannot tell (with 2 seeds against 2 the exact "
            "two-sided rank test over the seeds cannot go below p = 0.33, not below 0.05)") in text
    assert "clearly" not in text and "**higher**" not in text and "limited by its size" not in text
    assert "the rank test cannot tell the widest model's test accuracy (210 parameters per training image)" in text
    assert "With 2 seeds a side the test cannot reach p < 0.05; 4 or more seeds per width could." in text
    assert ("This run does not contradict the literature the experiment repeats (Zhang et al. (2017) and Novak et al. "
            "(2018) find") in text and "but it cannot confirm a rise either" in text


def test_four_seeds_widest_lower_than_the_best_width():
    R = _R(_four(8, 0.90, train_acc=0.95), _four(64, 0.975), _four(512, 0.95, test_loss=0.3), seeds=FOUR)
    text = _clean(t1_3b.comment(R))
    assert ("the widest model's is 95.2 %, **lower** (exact two-sided rank test over the seeds, p = 0.029, "
            "below 0.05)") in text
    assert "tests lower than width 64 (exact two-sided rank test" in text and "cost some test accuracy" in text
    assert ("Test loss: the lowest mean is at width 64 (8,970 parameters), 0.0235; at the widest it is 0.301, "
            "**higher** (exact") in text
    assert "This disagrees with the literature the experiment repeats: Zhang et al. (2017)" in text
    assert "here the widest model tests lower than width 64." in text
    assert "The narrowest model is limited by its size" in text and "(exact two-sided rank test over the seeds, p = 0.029" in text


def test_four_seeds_widest_lower_than_the_narrowest_and_widest_best():
    lower = _clean(t1_3b.comment(_R(_four(8, 0.90), _four(512, 0.80), seeds=FOUR)))
    assert "widest against narrowest: 80.2 % against 90.1 %, **lower** (exact" in lower
    best = _clean(t1_3b.comment(_R(_four(8, 0.90), _four(512, 0.95), seeds=FOUR)))
    assert "widest against narrowest: 95.2 % against 90.1 %, **higher** (exact" in best
    assert ("The widest model also has the highest mean test accuracy of all widths; against the next highest, width 8 "
            "(682 parameters): 95.2 % against 90.1 %, **higher** (exact") in best
    assert ("- Test loss: the lowest mean is the widest model's; against the next lowest, width 8 (682 parameters): "
            "0.0485 against 0.0985, **lower** (exact two-sided rank test over the seeds, p = 0.029, below 0.05).") in best
    assert ("adding parameters (up to 210 per training image) did not lower the mean test accuracy: the widest model's "
            "is the highest, above the next highest width's by the rank test.") in best
    assert "This agrees with the literature the experiment repeats" in best
    assert "here the widest model tests higher than the narrowest." in best
    assert "here the widest model tests lower than width 8." in lower and "This disagrees" in lower


def test_widest_highest_mean_but_the_rank_test_cannot_tell_it_from_the_next():
    # the quick run's case: the widest has the highest mean test accuracy and the lowest mean test loss, each by a
    # hair over width 64, the seeds interleaved: the rank test cannot tell either, and the comment says so
    R = _R(_four(8, 0.90, train_acc=0.95), _runs(64, (0.973, 0.976, 0.974, 0.977), (1.0,) * 4),
           _runs(512, (0.972, 0.979, 0.975, 0.977), (1.0,) * 4), seeds=FOUR)
    text = _clean(t1_3b.comment(R))
    assert ("- The widest model also has the highest mean test accuracy of all widths; against the next highest, "
            "width 64 (8,970 parameters): 97.6 % against 97.5 %, cannot tell (exact two-sided rank test over the "
            "seeds, p = 0.74, not below 0.05).") in text
    assert ("- Test loss: the lowest mean is the widest model's; against the next lowest, width 64 (8,970 parameters): "
            "0.0243 against 0.025, cannot tell (exact two-sided rank test over the seeds, p = 0.74") in text
    assert ("the rank test cannot tell the widest model's test accuracy (210 parameters per training image) from the "
            "next highest width's: this run shows no cost") in text
    assert "did not lower" not in text and "shows none" not in text
    assert ("This agrees with the literature the experiment repeats: Zhang et al. (2017) and Novak et al. (2018) find "
            "that networks with more parameters than training images fit the training set and still generalize, their "
            "test accuracy not falling as parameters are added; here the widest model tests higher than the narrowest "
            "and not lower than width 64.") in text
    check_comment(R)


def test_a_widest_model_short_of_the_training_images_is_said_to_be():
    R = _R(_four(2, 0.50), _four(8, 0.90), seeds=FOUR)  # 682 parameters for 1,437 images
    text = _clean(t1_3b.comment(R))
    assert ("Its widest model has no more parameters than training images (0.47 per image), short of the regime they "
            "study.") in text
    check_comment(R)


def test_overlapping_seeds_cannot_tell():
    R = _R(_runs(8, (0.90, 0.95, 0.91, 0.96), (1.0,) * 4, test_loss=(0.30, 0.40, 0.31, 0.41)),
           _runs(512, (0.92, 0.93, 0.94, 0.925), (1.0,) * 4, test_loss=(0.35, 0.45, 0.36, 0.46)), seeds=FOUR)
    text = _clean(t1_3b.comment(R))
    assert "widest against narrowest: 92.9 % against 93.0 %, cannot tell (exact two-sided rank test over the seeds, p = 1" in text
    assert "at the widest it is 0.405, cannot tell (exact two-sided rank test over the seeds, p = 0.34, not below 0.05)" in text


def test_one_seed_calls_nothing():
    R = _R(_runs(8, (0.90,), (0.99,)), _runs(64, (0.97,)), _runs(512, (0.96,)), seeds=(0,))
    text = _clean(t1_3b.comment(R))
    assert "1 seed each" in text
    assert text.count("with 1 seed against 1 the exact two-sided rank test over the seeds cannot go below p = 1") >= 2
    assert "With 1 seed a side the test cannot reach p < 0.05; 4 or more seeds per width could." in text


def test_no_width_fits_the_training_set():
    R = _R(_runs(8, (0.90, 0.91), (0.95, 0.96)), _runs(512, (0.92, 0.93), (0.98, 0.99)))
    text = _clean(t1_3b.comment(R))
    assert "no width fits the training set in every run" in text
    assert "does not show what happens beyond the point of fitting it" in text


def test_only_the_widest_fits_the_training_set():
    R = _R(_runs(8, (0.90, 0.91), (0.95, 0.96)), _runs(512, (0.92, 0.93)))
    assert "does not show what happens beyond" in _clean(t1_3b.comment(R))


def test_diverged_runs_are_left_out():
    R = _R(NARROW, _runs(64, (0.97, 0.98), diverged=(1,)), _runs(512, (0.97, 0.98), diverged=(0, 1)))
    text = _clean(t1_3b.comment(R))
    assert "3 runs diverged and are left out (widths 64 and 512)" in text
    # the widest finished width is 64 now, with one seed left
    assert "to 8,970 parameters" in text and "1 to 2 finished seeds each" in text
    assert "with 1 seed against 2 the exact two-sided rank test" in text


def test_fewer_than_two_widths_compare_nothing():
    R = _R(_runs(64, (0.97, 0.98)), _runs(512, (0.97,), diverged=(0,)))
    text = _clean(t1_3b.comment(R))
    assert "1 run diverged and is left out (width 512)" in text and "nothing is compared" in text


def test_hand_made_results_pass_the_property_checks():
    for R in (_R(NARROW, _runs(8, (0.90, 0.92), (0.97, 0.98)), _runs(64, (0.975, 0.978)), _runs(512, (0.970, 0.975))),
              _R(_four(8, 0.90, train_acc=0.95), _four(64, 0.975), _four(512, 0.95, test_loss=0.3), seeds=FOUR),
              _R(NARROW, _runs(64, (0.97, 0.98), diverged=(1,)), _runs(512, (0.97, 0.98), diverged=(0, 1)))):
        check_comment(R)


def test_seeds_trained_together_end_as_their_own_fit_runs(tmp_path):
    # the MLP family trains a width's seeds as one ensemble; each must end where its own fit run ends
    import torch

    from hwlib import train
    P = _P(tmp_path, seeds=[0, 3], widths=[4, 16], epochs=2)
    ds = common.load_data(P)
    together = t1_3b.train_width(P, ds, 16)
    for r, seed in zip(together, [0, 3]):
        torch.manual_seed(seed)
        alone = train.fit(t1_3b.build(P, ds, 16), ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr,
                          seed=seed, log=False).final
        assert r["seed"] == seed
        for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
            assert r[k] == pytest.approx(alone[k], rel=1e-4, abs=1e-6), (seed, k)


# ------------------------------------------------------------------ property test
# Random results with the fields comment() reads (widths increasing, parameter counts increasing, accuracies as
# counts over the images, diverged runs without metrics), parsed back line by line; every number and verdict is
# re-derived from R, the rank test by brute force over every split of the seeds.

NUM = r"(-?\d[\d,]*(?:\.\d+)?(?:e[+-]\d+)?)"
RANK = "exact two-sided rank test over the seeds"


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


def mean(v):
    return math.fsum(v) / len(v)


def shows(text: str, x: float, say) -> bool:
    """``text`` is x as ``say`` prints it; a mean summed in another order may differ in its last bit."""
    return text in {say(x), say(x * (1 + 1e-12)), say(x * (1 - 1e-12))}


def brute_rank(a: list[float], b: list[float]) -> tuple[float, float, int]:
    """p of the rank sum of a among every split of the pooled values, the smallest p these sizes allow, and
    the side a ranks on (+1 higher, -1 lower, 0 neither)."""
    r = rankdata(list(a) + list(b))
    mid = len(a) * (len(r) + 1) / 2
    obs = sum(r[: len(a)]) - mid
    splits = list(itertools.combinations(range(len(r)), len(a)))
    p = sum(abs(sum(r[i] for i in s) - mid) >= abs(obs) - 1e-9 for s in splits) / len(splits)
    return p, min(1.0, 2 / len(splits)), int(obs > 1e-9) - int(obs < -1e-9)


def check_p(text: str, p: float):
    """'p < 0.001', or 'p = x': p at two or more significant digits, on the same side of 0.05 as p."""
    if text == "p < 0.001":
        assert p < 0.001, (text, p)
        return
    x = text.removeprefix("p = ")
    assert any(format(p, f".{d}g") == x for d in range(2, 10)) and (float(x) < 0.05) == (p < 0.05), (text, p)


def check_test(text: str, a: list[float], b: list[float]) -> str:
    """The verdict a test phrase ('(…)') allows for a against b: 'higher', 'lower' or 'cannot'."""
    p, floor, side = brute_rank(a, b)
    if m := re.fullmatch(rf"with (\d+) seeds? against (\d+) the {RANK} cannot go below p = {NUM}, not below 0\.05",
                         text):
        assert (int(m[1]), int(m[2])) == (len(a), len(b)) and floor >= 0.05 and m[3] == f"{floor:.2g}", text
        return "cannot"
    m = re.fullmatch(rf"{RANK}, (p [=<] \S+), (below 0\.05|not below 0\.05|but the means order the other way)", text)
    assert m and floor < 0.05, (text, a, b)
    check_p(m[1], p)
    assert (m[2] == "not below 0.05") == (p >= 0.05), (text, p)
    means = (mean(a) > mean(b)) - (mean(a) < mean(b))
    assert (m[2] == "but the means order the other way") == (p < 0.05 and means != side), (text, a, b)
    return {1: "higher", -1: "lower"}[side] if m[2] == "below 0.05" else "cannot"


def check_verdict(text: str, a: list[float], b: list[float], allowed=("higher", "lower")):
    """'**higher** (…)', '**lower** (…)' or 'cannot tell (…)', as the rank test of a against b decides."""
    m = re.fullmatch(r"(\*\*higher\*\*|\*\*lower\*\*|cannot tell) \((.+)\)", text)
    assert m, text
    said = check_test(m[2], a, b)
    assert m[1].strip("*") == ("cannot tell" if said == "cannot" else said) and (said == "cannot" or said in allowed)


def finished(R: dict) -> dict:
    W = {}
    for r in R["runs"]:
        if r["diverged"] is None:
            W.setdefault(r["width"], {"params": r["params"]})
            for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
                W[r["width"]].setdefault(k, []).append(r[k])
    return dict(sorted(W.items()))


def check_lost(line: str, R: dict):
    lost = [r for r in R["runs"] if r["diverged"] is not None]
    where = sorted({r["width"] for r in lost})
    m = re.fullmatch(r"- (\d+) runs? diverged and (is|are) left out \((widths?) (.+)\)\.", line)
    assert m and int(m[1]) == len(lost) and (m[2] == "is") == (len(lost) == 1), line
    assert (m[3] == "width") == (len(where) == 1) and [int(w) for w in re.findall(r"\d+", m[4])] == where


def check_head(lines: list[str], R: dict, W: dict) -> list[str]:
    lost = any(r["diverged"] is not None for r in R["runs"])
    if len(W) < 2:
        if lost:
            check_lost(lines[0], R)
        assert lines[lost:] == ["- Fewer than two widths have a finished run, so nothing is compared."]
        return []
    widths, counts = list(W), sorted({len(v["test_acc"]) for v in W.values()})
    small, large = W[widths[0]]["params"], W[widths[-1]]["params"]
    seeds = (f"{counts[0]} seed{'s' * (counts[0] != 1)} each" if len(counts) == 1 else
             f"{counts[0]} to {counts[-1]} finished seeds each")
    assert lines[0] == (f"- {len(W)} widths with a finished run, from {small:,} to {large:,} parameters "
                        f"({math.log10(large / small):.1f} orders of magnitude), {seeds}; the training set has "
                        f"{R['n_train']:,} images."), lines[0]
    if lost:
        check_lost(lines[1], R)
    return lines[1 + lost:]


def check_train(lines: list[str], W: dict, pw) -> list[str]:
    widths = list(W)
    small, large = widths[0], widths[-1]
    fits = [w for w in widths if min(W[w]["train_acc"]) >= 0.999]
    # "from width w on": w and every wider width fit in every run, and w is the narrowest such
    fit_from = next((w for i, w in enumerate(widths) if set(widths[i:]) <= set(fits)), None)
    m = re.fullmatch(rf"- Mean training accuracy goes from ({NUM} %) at the narrowest to ({NUM} %) at the widest; "
                     r"(.+)", lines[0])
    assert m and shows(m[1], mean(W[small]["train_acc"]), pct) and shows(m[3], mean(W[large]["train_acc"]), pct)
    m = [None, None, None, m[5]]
    assert m[3] == (f"from {pw(fit_from)} on, every run fits the training set (at least 99.9 %)." if fit_from else
                    "no width fits the training set in every run (at least 99.9 %)."), (m[3], fit_from)
    rest = lines[1:]
    limited = re.fullmatch(r"- The narrowest model is limited by its size: with the same training, its training "
                           r"accuracy is lower than the widest's \((.+)\)\.", rest[0])
    if limited:
        assert check_test(limited[1], W[small]["train_acc"], W[large]["train_acc"]) == "lower"
        rest = rest[1:]
    else:  # the sentence is there whenever the test says the narrowest is lower
        p, floor, side = brute_rank(W[small]["train_acc"], W[large]["train_acc"])
        assert not (floor < 0.05 and p < 0.05 and side < 0 and mean(W[small]["train_acc"]) < mean(W[large]["train_acc"]))
    return rest, fit_from


def narrowest_at(W: dict, widths: list, key: str, pick) -> int:
    """The narrowest of ``widths`` whose mean ``key`` is ``pick`` (max or min) of them all."""
    top = pick(mean(W[w][key]) for w in widths)
    return next(w for w in widths if mean(W[w][key]) == top)


def check_test_lines(lines: list[str], W: dict, pw) -> tuple[int, int]:
    """The test accuracy and test loss lines; the best width and the width the widest is held against."""
    widths = list(W)
    small, large = widths[0], widths[-1]
    acc = lambda w, text: shows(text, mean(W[w]["test_acc"]), pct)
    m = re.fullmatch(rf"- Test accuracy, widest against narrowest: ({NUM} %) against ({NUM} %), (.+)\.", lines[0])
    assert m and acc(large, m[1]) and acc(small, m[3]), lines[0]
    m = [None, m[5]]
    check_verdict(m[1], W[large]["test_acc"], W[small]["test_acc"])
    best = narrowest_at(W, widths, "test_acc", max)
    if best == large:  # the highest mean is held against the next highest
        near = narrowest_at(W, widths[:-1], "test_acc", max)
        m = re.fullmatch(rf"- The widest model also has the highest mean test accuracy of all widths; against the next "
                         rf"highest, {re.escape(pw(near))}: ({NUM} %) against ({NUM} %), (.+)\.", lines[1])
        assert m and acc(large, m[1]) and acc(near, m[3]), lines[1]
        check_verdict(m[5], W[large]["test_acc"], W[near]["test_acc"], allowed=("higher",))
    else:
        near = best
        m = re.fullmatch(rf"- The best mean test accuracy is ({NUM} %) at {re.escape(pw(best))}; the widest model's is "
                         rf"({NUM} %), (.+)\.", lines[1])
        assert m and acc(best, m[1]) and acc(large, m[3]), (lines[1], best)
        check_verdict(m[5], W[large]["test_acc"], W[best]["test_acc"], allowed=("lower",))
    low = narrowest_at(W, widths, "test_loss", min)
    loss = lambda w, text: shows(text, mean(W[w]["test_loss"]), lambda x: f"{x:.3g}")
    if low == large:  # the lowest mean is held against the next lowest
        nxt = narrowest_at(W, widths[:-1], "test_loss", min)
        m = re.fullmatch(rf"- Test loss: the lowest mean is the widest model's; against the next lowest, "
                         rf"{re.escape(pw(nxt))}: {NUM} against {NUM}, (.+)\.", lines[2])
        assert m and loss(large, m[1]) and loss(nxt, m[2]), (lines[2], nxt)
        check_verdict(m[3], W[large]["test_loss"], W[nxt]["test_loss"], allowed=("lower",))
    else:
        m = re.fullmatch(rf"- Test loss: the lowest mean is at {re.escape(pw(low))}, {NUM}; at the widest it is {NUM}, "
                         r"(.+)\.", lines[2])
        assert m and loss(low, m[1]) and loss(large, m[2]), (lines[2], low)
        check_verdict(m[3], W[large]["test_loss"], W[low]["test_loss"], allowed=("higher",))
    assert len(lines) == 3
    return best, near


TAIL = (" A difference is called only where an exact two-sided rank test (Mann-Whitney, by permutation) over the "
        "seeds of two widths gives p < 0.05, each comparison on its own.")
LITERATURE = ("Zhang et al. (2017) and Novak et al. (2018) find that networks with more parameters than training "
              "images fit the training set and still generalize, their test accuracy not falling as parameters are added")


def called(a: list[float], b: list[float]) -> str:
    """'higher' / 'lower' where the brute-force rank test calls a against b (ranks and means alike), else 'cannot'."""
    p, floor, side = brute_rank(a, b)
    means = (mean(a) > mean(b)) - (mean(a) < mean(b))
    return {1: "higher", -1: "lower"}[side] if floor < 0.05 and p < 0.05 and side == means != 0 else "cannot"


def check_literature(text: str, R: dict, W: dict, near: int):
    """Disagrees where a rank test finds the widest lower than a narrower width; agrees where it finds it higher than
    the narrowest; else does not contradict, cannot confirm; and says where the widest is not over-parameterized."""
    widths = list(W)
    small, large = widths[0], widths[-1]
    vs_small, vs_near = called(W[large]["test_acc"], W[small]["test_acc"]), called(W[large]["test_acc"], W[near]["test_acc"])
    if "lower" in (vs_small, vs_near):
        want = (f"This disagrees with the literature the experiment repeats: {LITERATURE}; here the widest model tests "
                f"lower than width {small if vs_small == 'lower' else near}.")
    elif vs_small == "higher":
        want = (f"This agrees with the literature the experiment repeats: {LITERATURE}; here the widest model tests "
                f"higher than the narrowest{f' and not lower than width {near}' if near != small else ''}.")
    else:
        want = (f"This run does not contradict the literature the experiment repeats ({LITERATURE}), but it cannot "
                "confirm a rise either: the rank test cannot tell the widest model's test accuracy from the narrowest's.")
    per = W[large]["params"] / R["n_train"]
    if W[large]["params"] <= R["n_train"]:
        want += (" Its widest model has no more parameters than training images "
                 f"({f'{per:,.0f}' if per >= 10 else f'{per:.2g}'} per image), short of the regime they study.")
    assert text == want, (text, want)


def check_final(text: str, R: dict, W: dict, best: int, near: int, fit_from):
    assert text.endswith(TAIL), text
    m = re.fullmatch(r"(.+?) (This (?:agrees|disagrees|run does not contradict) .+)", text.removesuffix(TAIL))
    assert m, text
    text = m[1]
    check_literature(m[2], R, W, near)
    large = list(W)[-1]
    per = W[large]["params"] / R["n_train"]
    per = f"{per:,.0f}" if per >= 10 else f"{per:.2g}"
    fitted = fit_from is not None and fit_from != large
    a, b = W[large]["test_acc"], W[near]["test_acc"]
    if best == large and called(a, b) == "higher":
        assert text == ((f"Past the width where every run fits the training set, adding parameters (up to {per} per "
                         "training image) did not lower the mean test accuracy: the widest model's is the highest, above "
                         "the next highest width's by the rank test. The classical bias–variance picture expects a cost "
                         "there; this run shows none.") if fitted else
                        ("The widest model has the highest mean test accuracy, but no narrower width fits the training "
                         "set in every run, so this run does not show what happens beyond the point of fitting it.")), text
        return
    if m := re.fullmatch(rf"The widest model \({re.escape(per)} parameters per training image\) tests lower than "
                         rf"width {best} \((.+)\): in this run, that much extra width cost some test accuracy\.", text):
        assert best != large and check_test(m[1], a, b) == "lower"
        return
    assert called(a, b) == "cannot", text  # "lower" (or, where the widest is best, "higher") would be due
    p, floor, side = brute_rank(a, b)
    rival = "the best width's" if best != large else "the next highest width's"
    more = (f" With {min(len(a), len(b))} seed{'s' * (min(len(a), len(b)) != 1)} a side the test cannot reach "
            "p < 0.05; 4 or more seeds per width could." if floor >= 0.05 else "")
    assert text == ((f"Past the width where every run fits the training set, the rank test cannot tell the widest "
                     f"model's test accuracy ({per} parameters per training image) from {rival}: this run "
                     f"shows no cost of the extra parameters, which is not evidence that there is none.{more}")
                    if fitted else
                    (f"The rank test cannot tell the widest model's test accuracy from {rival}, and no "
                     "narrower width fits the training set in every run, so this run does not show what happens "
                     f"beyond the point of fitting it.{more}")), text


def check_comment(R: dict):
    text = t1_3b.comment(R)
    W = finished(R)
    body, _, final = text.partition("\n\n")
    lines = check_head(body.split("\n"), R, W)
    if len(W) < 2:
        assert not final
        return
    pw = lambda w: f"width {w} ({W[w]['params']:,} parameters)"
    lines, fit_from = check_train(lines, W, pw)
    best, near = check_test_lines(lines, W, pw)
    check_final(final, R, W, best, near, fit_from)


@st.composite
def random_results(draw) -> dict:
    widths = sorted(draw(st.sets(st.integers(1, 1024), min_size=1, max_size=8)))
    seeds = list(range(draw(st.sampled_from([1, 2, 3, 4, 5, 7]))))
    n_train, n_test = draw(st.sampled_from([256, 1437])), draw(st.sampled_from([50, 360]))
    # each width a level plus a little seed noise (so that 4 or 5 seeds separate), or anything at all;
    # accuracies as counts, the training accuracy often at or just under the 99.9 % that counts as fit
    count = lambda n: st.integers(0, n).map(lambda k: k / n)
    loss = st.one_of(st.sampled_from([0.1, 0.2, 1.0]), st.floats(-4, 1).map(lambda e: 10.0 ** e))
    runs, params = [], 0
    # often the textbook picture: training accuracy 1 from some width on, test accuracy rising with the width
    trend = draw(st.booleans())
    fit_at, tops = draw(st.integers(0, len(widths))), sorted(draw(count(n_test)) for _ in widths)
    for i, w in enumerate(widths):
        params += draw(st.one_of(st.integers(1, 100), st.integers(1, 10 ** 5)))  # fewer than the images, or more
        free = draw(st.booleans()) and not trend
        level = {"train_acc": 1.0 if trend and i >= fit_at else
                 draw(st.one_of(st.sampled_from([1.0, 0.999, 0.9989]), count(n_train))),
                 "test_acc": tops[i] if trend else draw(count(n_test)), "test_loss": draw(loss),
                 "train_loss": draw(loss)}
        noise = draw(st.sampled_from([0.0, 0.001, 0.01]))
        outlier = draw(st.sampled_from([1.0, 1e3]))  # one seed's loss far off: ranks and means may disagree
        for s in seeds:
            r = {"width": w, "seed": s, "params": params,
                 "diverged": draw(st.sampled_from([None] * 15 + [{"epoch": 2}]))}
            for k, v in level.items():
                v = draw(count(n_train if k == "train_acc" else n_test) if k.endswith("acc") else loss) if free else \
                    v + draw(st.sampled_from([-1, 0, 1])) * noise
                r[k] = min(1.0, max(0.0, v)) if k.endswith("acc") else v * (outlier if s == 0 else 1.0)
            if r["diverged"]:
                r.update(train_acc=None, test_acc=None, test_loss=None, train_loss=None)
            runs.append(r)
    return {"params": {"seeds": seeds}, "runs": runs, "n_train": n_train}


def _order_case() -> dict:
    """Seven seeds a width; the widest's test loss below the other's in six of them and 1,000 times it in one:
    the ranks say lower, the means higher."""
    runs = [{"width": w, "seed": s, "params": p, "diverged": None, "train_acc": 1.0, "train_loss": 0.01,
             "test_acc": 0.9, "test_loss": loss} for w, p, losses in ((8, 682, [0.5] * 7), (512, 301066, [100] + [0.1] * 6))
            for s, loss in enumerate(losses)]
    return {"params": {"seeds": list(range(7))}, "runs": runs, "n_train": 1437}


@settings(max_examples=200, deadline=None)
@given(random_results())
@example(_order_case())
# the widest above the narrowest and below the best width by the rank test: the literature disagrees
@example(_R(_four(8, 0.90, train_acc=0.95), _four(64, 0.975), _four(512, 0.95, test_loss=0.3), seeds=FOUR))
# exactly as many parameters as training images: short of the over-parameterized regime
@example({**_R(_four(2, 0.50), _four(8, 0.90), seeds=FOUR), "n_train": PARAMS[8]})
def test_comment_rederived_from_random_results(R):
    check_comment(R)


def test_accuracy_axis_shows_the_gap_between_train_and_test_at_the_top():
    """The wide models fit the training set (1.0) and score 0.97 on the test set: that gap takes a visible
    share of the accuracy panel's height, where a linear axis from the narrowest model's 0.2 drew the two
    as one line (a gap of 4 % of the height)."""
    runs = [r for rs in (NARROW, _runs(8, (0.90, 0.92), (0.97, 0.98)), _runs(64, (0.975, 0.978)),
                         _runs(512, (0.970, 0.975))) for r in rs]
    R = dict(_R(runs), summary=t1_3b.summarize(runs))
    (fig, caption), = t1_3b.figures(R)
    ax = fig.axes[1]
    fig.canvas.draw()
    height = ax.bbox.height

    def y(v):
        return ax.transData.transform((1000, v))[1]

    assert (y(1.0) - y(0.97)) / height > 0.15  # the widest models' gap
    assert y(0.2) >= ax.bbox.y0 - 0.5 and y(1.0) <= ax.bbox.y1 + 0.5  # every accuracy on the axis
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "0.99" in ticks and "1" in ticks and "stretched toward 1" in caption
    assert png(fig)[:4] == b"\x89PNG"
