"""1-2a: the smoke run end to end, its table and figures, comment() on every branch with small hand-made
results dicts, and a property test that re-derives every number and claim of comment() from random results."""

import math
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from hwlib.params import ParamError, resolve_task
from hwlib.plots import png
from hwlib.tasks import t1_2a_optimization_process as t1_2a


def _P(tmp_path, **kw):
    return resolve_task(t1_2a, profile="smoke", device="cpu", out_dir=tmp_path, **kw)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    P = _P(tmp_path_factory.mktemp("out"))
    return P, t1_2a.run(P)


def test_one_pca_over_all_runs(smoke):
    P, R = smoke
    assert len(R["runs"]) == P.runs == 8
    n_snap = P.epochs // P.snapshot_every + 1
    for which in ("whole", "layer"):
        coords = R["pca"][which]["coords"]
        assert len(coords) == P.runs and all(len(c) == n_snap for c in coords)
        # one PCA for all runs: the coordinates of all snapshots together are centred, not each run's
        assert np.allclose(np.vstack(coords).mean(0), 0, atol=1e-6)
        assert 0 < sum(R["pca"][which]["explained_variance_ratio"]) <= 1
    assert R["layer_params"] < R["n_params"]
    assert all(len(r["loss"]) == len(r["acc"]) == n_snap for r in R["runs"])
    assert len(R["pair_distance"]["start"]) == len(R["pair_distance"]["end"]) == P.runs * (P.runs - 1) // 2
    assert "## " not in t1_2a.comment(R) and "(s)" not in t1_2a.comment(R)


def test_unknown_layer_is_named(tmp_path):
    with pytest.raises(ParamError, match="layer="):
        t1_2a.run(_P(tmp_path, layer="nope.weight"))


def test_table_and_figures(smoke):
    P, R = smoke
    table = t1_2a.table(R)
    assert f"the layer {P.layer} has" in table and table.count("\n| ") == 1 + P.runs  # header + a row per run
    figs = t1_2a.figures(R)
    assert len(figs) == 2  # the whole model, then the layer
    for fig, caption in figs:
        assert isinstance(fig, Figure) and caption.endswith(".")
        for bad in ("(s)", "[", "`", "True", "False"):
            assert bad not in caption, bad
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def make_R(k=3, start=(2.0, 2.1, 2.2), end=(3.0, 3.1, 3.2), evr=(0.2, 0.2), evr_layer=(0.4, 0.3),
           first=(0.8, 0.9, 1.0), last=(0.1, 0.2, 0.3), snapshots=3):
    runs = [{"seed": s, "loss": [2.3, 0.5, 0.1][:snapshots] if snapshots <= 3 else [1.0] * snapshots,
             "acc": [0.1, 0.8, 0.99][:snapshots], "test_acc": 0.95} for s in range(k)]
    steps = [[f] + [l] if snapshots == 3 else [f] for f, l in zip(first, last)][:k]
    return {"params": {"layer": "1.weight"}, "n_params": 3466, "layer_params": 2048, "runs": runs,
            "pca": {"whole": {"explained_variance_ratio": list(evr)},
                    "layer": {"explained_variance_ratio": list(evr_layer)}},
            "pair_distance": {"start": list(start), "end": list(end)}, "step_length": steps}


EIGHT = {"k": 8, "first": [0.8 + 0.01 * i for i in range(8)], "last": [0.1 + 0.01 * i for i in range(8)]}


def test_apart_partial_whole_model_steps_shrink():
    text = t1_2a.comment(make_R(**EIGHT))
    assert "All 8 runs end" in text and "training accuracy 99.0 %," in text
    assert "every pair ends farther apart" in text and "over 3 pairs" in text
    assert "for the whole model no more than half of it lies in the plane" in text
    assert ("the last is the shorter in 8 of the 8 runs and the longer in 0 (exact two-sided sign test over the "
            "runs, p = 0.0078, below 0.05): the steps shrink.") in text
    assert "falls by 1.8 between the first two snapshots and falls by 0.4 between the last two, so it flattens" in text
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad


def test_closer_and_steps_grow():
    text = t1_2a.comment(make_R(start=(3.0, 3.1, 3.2), end=(2.0, 2.1, 2.2), k=8, first=EIGHT["last"],
                                last=EIGHT["first"]))
    assert "every pair ends closer together" in text and "the steps grow" in text


def test_ties_and_three_runs_that_cannot_tell():
    text = t1_2a.comment(make_R(end=(2.05, 2.15, 2.25), last=(0.85, 0.95, 1.05)))
    assert "these distances cannot tell whether the runs end closer together or farther apart" in text
    assert "the test cannot tell whether the step length changes" in text
    # three runs that all take shorter steps at the end: the sign test cannot reach 0.05 with 3
    three = t1_2a.comment(make_R())
    assert "(with 3 runs that differ the exact two-sided sign test over the runs cannot go below p = 0.25" in three
    assert "the steps shrink" not in three


def test_plane_holds_most_or_neither():
    assert "more than half in both, so the plane holds most of it" in t1_2a.comment(
        make_R(evr=(0.5, 0.2), evr_layer=(0.6, 0.1)))
    both = t1_2a.comment(make_R(evr_layer=(0.2, 0.1)))
    assert "for the whole model and the layer no more than half" in both
    # exactly half as printed is not "more than half"
    assert "for the layer no more than half" in t1_2a.comment(make_R(evr=(0.6, 0.1), evr_layer=(0.25, 0.25)))


def test_two_runs_one_pair_and_one_run():
    two = t1_2a.comment(make_R(k=2, start=(2.0,), end=(3.0,)))
    assert "with a single pair of runs" in two and "over 1 pair" not in two
    one = t1_2a.comment(make_R(k=1, start=(2.0,), end=(3.0,)))
    assert "The one run ends" in one and "with 1 run that differs" in one


def test_single_step_between_snapshots():
    text = t1_2a.comment(make_R(snapshots=2))
    assert "With a single step between snapshots" in text


def test_loss_that_does_not_flatten():
    R = make_R(**EIGHT)
    for r in R["runs"]:
        r["loss"] = [2.3, 2.2, 0.1]  # falls by 0.1 first, then by 2.1
    text = t1_2a.comment(R)
    assert "falls by 0.1 between the first two snapshots and falls by 2.1 between the last two." in text
    assert "flattens" not in text


def test_figure_labels_a_run_without_accuracy_by_its_seed_alone():
    runs = [{"seed": s, "loss": [2.0, 0.5], "acc": [0.1, acc]} for s, acc in ((0, 0.9), (1, None))]
    pca = {"coords": [[[0, 0], [1, 1]], [[0, 1], [-1, 0]]], "explained_variance_ratio": [0.6, 0.3]}
    R = {"params": {"layer": "1.weight"}, "n_params": 100, "layer_params": 40, "runs": runs,
         "pca": {"whole": pca, "layer": pca}}
    (fig, _), (fig2, _) = t1_2a.figures(R)
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["0: 90 %", "1"]
    assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here
    plt.close(fig2)


# ------------------------------------------------------------------ property test
# Random results with the fields comment() reads, in the shapes run() gives them; the test parses comment(R)
# back line by line and re-derives, from R alone, every number it prints and every claim it makes.
NUM = r"(-?\d[\d,]*(?:\.\d+)?(?:e[+-]\d+)?)"


def prints_as(s: str, x: float, fmt: str) -> bool:
    """``s`` is ``x`` at ``fmt``; a mean summed in another order may differ in its last bit."""
    return any(format(v, fmt) == s for v in (x, x * (1 + 1e-12), x * (1 - 1e-12)))


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


def check_over(text: str, values: list[float], what: str):
    """'v' for one value, 'mean (lo–hi over n what)' for several."""
    if len(values) == 1:
        assert text == f"{values[0]:.3g}", (text, values)
        return
    m = re.fullmatch(rf"{NUM} \(mean; {NUM}–{NUM} over ([\d,]+) {what}s?\)", text)
    assert m and prints_as(m[1], math.fsum(values) / len(values), ".3g"), (text, values)
    assert (m[2], m[3]) == (f"{min(values):.3g}", f"{max(values):.3g}") and int(m[4]) == len(values)


def check_span(text: str, values: list[float], say):
    """'a' where the lowest and the highest print alike, else 'a to b'."""
    lo, hi = say(min(values)), say(max(values))
    assert text == (lo if lo == hi else f"{lo} to {hi}"), (text, values)


def check_ends(line: str, runs: list[dict]):
    n = len(runs)
    m = re.fullmatch(r"- (The one run ends|All ([\d,]+) runs end) with training loss (.+?) \(training accuracy "
                     r"(.+?), test accuracy (.+?)\)\.", line)
    assert m and (m[2] is None) == (n == 1) and (n == 1 or int(m[2]) == n), line
    check_span(m[3], [r["loss"][-1] for r in runs], lambda x: f"{x:.3g}")
    check_span(m[4], [r["acc"][-1] for r in runs], pct)
    check_span(m[5], [r["test_acc"] for r in runs], pct)


def check_distances(line: str, R: dict):
    d0, d1 = R["pair_distance"]["start"], R["pair_distance"]["end"]
    m = re.fullmatch(r"- In the full ([\d,]+)-dimensional parameter space the distance between two runs is "
                     r"(.+?) at initialization and (.+?) at the end: (.+)", line)
    assert m and m[1] == f"{R['n_params']:,}", line
    check_over(m[2], d0, "pair")
    check_over(m[3], d1, "pair")
    apart, closer = min(d1) > max(d0), max(d1) < min(d0)
    if m[4].startswith("every pair ends farther apart than any pair started"):
        assert len(d0) > 1 and apart, (m[4], d0, d1)
    elif m[4].startswith("every pair ends closer together than any pair started"):
        assert len(d0) > 1 and closer, (m[4], d0, d1)
    elif m[4].startswith("the two ranges overlap"):
        assert len(d0) > 1 and not (apart or closer), (m[4], d0, d1)
        assert "cannot tell" in m[4]
    else:
        assert m[4].startswith("with a single pair of runs") and len(d0) == 1, m[4]


def check_plane(line: str, R: dict):
    evr = {k: sum(R["pca"][k]["explained_variance_ratio"]) for k in ("whole", "layer")}
    m = re.fullmatch(rf"- Two components explain {NUM} % of the variance of all snapshots \(whole model\) and "
                     rf"{NUM} % \(layer (\S+), ([\d,]+) parameters\)(.*)", line)
    assert m and m[1] + " %" == pct(evr["whole"]) and m[2] + " %" == pct(evr["layer"]), line
    assert m[3] == R["params"]["layer"] and m[4] == f"{R['layer_params']:,}"
    printed = {"the whole model": float(m[1]), "the layer": float(m[2])}
    if m[5] == ": more than half in both, so the plane holds most of it.":
        assert min(printed.values()) > 50, printed  # "more than half": both shares as printed
        return
    t = re.fullmatch(r"; for (.+) no more than half of it lies in the plane, so the figure is a partial view\.",
                     m[5])
    assert t, m[5]
    assert t[1] == " and ".join(k for k, v in printed.items() if v <= 50), (t[1], printed)


def say_change(d: float) -> str:
    return "does not change" if d == 0 else f"{'falls' if d > 0 else 'rises'} by {abs(d):.3g}"


def check_steps(line: str, R: dict):
    runs, steps = R["runs"], R["step_length"]
    first, last = [s[0] for s in steps], [s[-1] for s in steps]
    m = re.fullmatch(r"- The step between the first two snapshots is (.+?) long, between the last two (.+?); the "
                     r"last is the shorter in (\d+) of the (\d+) runs and the longer in (\d+) \((.+?)\): (.+?) On "
                     r"average the loss (.+) between the first two snapshots and (.+) between the last two"
                     r"(, so it flattens)?\.", line)
    assert m, line
    check_over(m[1], first, "seed")
    check_over(m[2], last, "seed")
    shorter, longer = sum(b < a for a, b in zip(first, last)), sum(b > a for a, b in zip(first, last))
    assert (int(m[3]), int(m[4]), int(m[5])) == (shorter, len(runs), longer), line
    # the exact sign test, from the binomial directly: each untied run shorter or longer with chance 1/2
    k = shorter + longer
    p = min(1.0, 2 * math.fsum(math.comb(k, i) for i in range(min(shorter, longer) + 1)) / 2 ** k)
    floor = min(1.0, 2 / 2 ** k)
    if t := re.fullmatch(r"with ([\d,]+) (?:run that differs|runs that differ) the exact two-sided sign test "
                         rf"over the runs cannot go below p = {NUM}, not below 0\.05", m[6]):
        assert int(t[1]) == k and t[0].startswith(f"with {k} run{'s' * (k != 1)} "), m[6]
        assert floor >= 0.05 and t[2] == f"{floor:.2g}", m[6]
        said = "cannot"
    else:
        t = re.fullmatch(r"exact two-sided sign test over the runs, (p [=<] \S+), (below 0\.05|not below 0\.05|"
                         r"but the means order the other way)", m[6])
        assert t and floor < 0.05, m[6]
        check_p(t[1], p)
        mean_order = (math.fsum(first) > math.fsum(last)) - (math.fsum(first) < math.fsum(last))
        count_order = (shorter > longer) - (shorter < longer)
        assert (t[2] == "not below 0.05") == (p >= 0.05), (t[2], p)
        if t[2] == "but the means order the other way":
            assert mean_order != count_order, (first, last)
        said = {1: "shrink", -1: "grow"}[count_order] if t[2] == "below 0.05" else "cannot"
        if said != "cannot":  # a verdict: the means go the way the counts go
            assert mean_order == count_order, (first, last)
    assert m[7] == {"shrink": "the steps shrink.", "cannot": "the test cannot tell whether the step length changes.",
                    "grow": "the steps grow, so training had not settled by the last snapshot."}[said], (m[7], said)
    early = math.fsum(r["loss"][0] - r["loss"][1] for r in runs) / len(runs)
    late = math.fsum(r["loss"][-2] - r["loss"][-1] for r in runs) / len(runs)
    for text, d in ((m[8], early), (m[9], late)):
        check_change(text, d)
    # "flattens": the loss falls at the start and changes less at the end, both as printed
    size = lambda text: 0.0 if text == "does not change" else float(text.split()[-1])
    assert bool(m[10]) == (m[8].startswith("falls") and size(m[9]) < size(m[8])), line


def check_change(text: str, d: float):
    """'falls by x' / 'rises by x' / 'does not change': the sign of d, and |d| as printed."""
    if text == "does not change":
        assert d == 0, (text, d)
        return
    m = re.fullmatch(rf"(falls|rises) by {NUM}", text)
    assert m and (m[1] == "falls") == (d > 0) and prints_as(m[2], abs(d), ".3g"), (text, d)


def check_p(text: str, p: float):
    """'p < 0.001', or 'p = x': p at two or more significant digits, on the same side of 0.05 as p."""
    if text == "p < 0.001":
        assert p < 0.001, (text, p)
        return
    x = text.removeprefix("p = ")
    assert any(format(p, f".{d}g") == x for d in range(2, 10)), (text, p)
    assert (float(x) < 0.05) == (p < 0.05) and p >= 0.001, (text, p)


def check_comment(R: dict):
    lines = t1_2a.comment(R).split("\n")
    check_ends(lines[0], R["runs"])
    check_distances(lines[1], R)
    check_plane(lines[2], R)
    if len(R["step_length"][0]) < 2:
        assert lines[3:] == ["- With a single step between snapshots, how the step length changes cannot be seen."]
    else:
        assert len(lines) == 4
        check_steps(lines[3], R)


# losses, distances and step lengths from a small pool (ties) and over many decades (extremes)
POSITIVE = st.one_of(st.sampled_from([0.5, 1.0, 2.0, 1e-6, 1e6]), st.floats(-6, 6).map(lambda e: 10.0 ** e))
SHARE = st.one_of(st.sampled_from([0.0, 0.25, 0.2495, 0.25025, 0.5, 1.0]), st.floats(0, 1))


@st.composite
def random_steps(draw, n: int, snaps: int) -> list[list[float]]:
    """Step lengths per run; often every run's last step scaled alike (a verdict for the sign test), or
    all but one shrinking while that one grows a lot (counts and means disagree)."""
    steps = [draw(st.lists(POSITIVE, min_size=snaps - 1, max_size=snaps - 1)) for _ in range(n)]
    mode = draw(st.sampled_from(["free", "shrink", "grow", "outlier"]))
    for i, s in enumerate(steps):
        factor = {"free": 1.0, "shrink": 0.5, "grow": 2.0, "outlier": 1e6 if i == 0 else 0.9}[mode]
        s[-1] = s[0] * factor if mode != "free" else s[-1]
    return steps


@st.composite
def random_results(draw) -> dict:
    n = draw(st.integers(2, 12))  # run() trains at least 2 runs (the setting's lower bound), 8 by default
    snaps = draw(st.integers(2, 5))
    runs = [{"seed": s, "loss": draw(st.lists(POSITIVE, min_size=snaps, max_size=snaps)),
             "acc": draw(st.lists(SHARE, min_size=snaps, max_size=snaps)), "test_acc": draw(SHARE)}
            for s in range(n)]
    pairs = n * (n - 1) // 2
    start = draw(st.lists(POSITIVE, min_size=pairs, max_size=pairs))
    # the end distances: free, or all beyond (or all below) the start's range, or touching it
    shift = draw(st.sampled_from([None, 1.0, 2.0, 0.5]))
    end = draw(st.lists(POSITIVE, min_size=pairs, max_size=pairs)) if shift is None else [
        d * shift * max(start) / min(start) if shift >= 1 else d * shift * min(start) / max(start) for d in start]

    def evr():  # two ratios summing to at most 1, often right at the half
        a = draw(SHARE)
        return [a, draw(st.one_of(st.just(0.5 - a), st.floats(0, 1 - a))) if a <= 0.5 else draw(st.floats(0, 1 - a))]

    return {"params": {"layer": "1.weight"}, "n_params": draw(st.integers(10, 10 ** 7)),
            "layer_params": draw(st.integers(1, 10 ** 6)), "runs": runs,
            "pca": {"whole": {"explained_variance_ratio": evr()}, "layer": {"explained_variance_ratio": evr()}},
            "pair_distance": {"start": start, "end": end}, "step_length": draw(random_steps(n, snaps))}


@settings(max_examples=300, deadline=None)
@given(random_results())
def test_comment_rederived_from_random_results(R):
    check_comment(R)


def test_end_labels_tell_the_runs_accuracies_apart():
    """Accuracies that differ print differently (all runs near 99 % read '99 %' alike at whole percents)."""
    accs = (0.9937, 0.9951, 0.9930, 0.9937)
    runs = [{"seed": s, "loss": [2.0, 0.5], "acc": [0.1, a]} for s, a in enumerate(accs)]
    pca = {"coords": [[[0, 0], [1, s]] for s in range(4)], "explained_variance_ratio": [0.6, 0.3]}
    R = {"params": {"layer": "1.weight"}, "n_params": 100, "layer_params": 40, "runs": runs,
         "pca": {"whole": pca, "layer": pca}}
    (fig, _), (fig2, _) = t1_2a.figures(R)
    labels = sorted(t.get_text() for t in fig.axes[0].texts)
    assert labels == ["0: 99.4 %", "1: 99.5 %", "2: 99.3 %", "3: 99.4 %"]
    plt.close(fig)
    plt.close(fig2)
