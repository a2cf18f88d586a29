"""1-1a: the smoke run's results are plain host data its table and figures draw from; the comment
compares each deeper MLP with the shallowest on final training loss (each run's median over its final
window), decided by an exact rank test over the seeds; a property test re-derives every number and claim
of the comment from random results."""

import itertools
import re
import statistics
from decimal import Decimal
from math import comb

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from hwlib import results
from hwlib.params import resolve_task
from hwlib.plots import png
from hwlib.tasks import common
from hwlib.tasks import t1_1a_simulate_function as t1_1a


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One smoke run (5 epochs), saved and read back as the notebook's later cells see it."""
    out = tmp_path_factory.mktemp("1_1a")
    P = resolve_task(t1_1a, profile="smoke", device="cpu", out_dir=out, epochs=5)
    common.run(t1_1a, P)
    return results.load_results(t1_1a.NAME, out)


def test_predictions_reach_the_figures_as_host_lists(smoke):
    # on a GPU box these were CUDA tensors, and the figure failed after all the training
    assert results.host_data_problem(smoke) is None
    pred = smoke["predictions"]["sinc"]
    assert isinstance(pred["x"], list) and isinstance(pred["truth"], list)
    assert all(isinstance(v, list) and len(v) == len(pred["x"]) for v in pred["by_depth"].values())
    # the comment reads this very payload; the smoke profile's single seed leaves the noise unknown
    text = t1_1a.comment(smoke)
    assert "sin(5πx)/(5πx)" in text
    assert "With 1 seed per model the exact rank test cannot reach p < 0.05" in text
    _verify(smoke, text)


def test_the_final_loss_is_the_median_over_the_final_window(smoke):
    assert t1_1a.window(4000) == 200 and t1_1a.window(1225) == 62 and t1_1a.window(5) == 1
    assert t1_1a.final_loss([9.0] * 10 + [1.0, 2.0, 30.0]) == 30.0  # 5 % of 13 epochs: the last one
    assert t1_1a.final_loss([5.0] * 38 + [1.0, 3.0, 100.0]) == 3.0  # 5 % of 41 epochs: the last 3
    for r in smoke["runs"]["sinc"]:
        assert r["window"] == t1_1a.window(r["epochs_run"])
        assert r["train_loss"] == pytest.approx(statistics.median(r["curve"]["y"][-r["window"]:]))


def test_table_and_figures_draw_from_the_saved_results(smoke):
    table = t1_1a.table(smoke)
    runs = sum(len(rs) for rs in smoke["runs"].values())
    # the models' rows, then every run's row under a header of its own
    assert table.count("\n| ") == len(smoke["params"]["depths"]) + 1 + runs and "Plateau rule: off." in table
    assert "over the last 5 % of the epochs it ran" in table
    figs = t1_1a.figures(smoke)
    try:
        assert len(figs) == 2 * len(smoke["params"]["functions"])  # loss curves and predictions per function
        for fig, caption in figs:
            assert isinstance(fig, Figure) and caption.endswith(".")
            _clean(caption)
        assert "sgn(sin(5πx))" in figs[3][1] and "ground truth" in figs[3][1]
    finally:
        for fig, _ in figs:
            assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def _runs(depth, losses, epochs_run=100, stopped="plateau", diverged=()):
    """One run per loss (None: that seed diverged)."""
    return [{"depth": depth, "seed": s, "epochs_run": epochs_run,
             "stopped": stopped if loss is not None else None,
             "diverged": {"epoch": 5} if loss is None else None, "train_loss": loss, "train_loss_last": loss,
             "test_loss": loss, "window": t1_1a.window(epochs_run), "seconds": 1.0}
            for s, loss in enumerate(losses)]


def _R(by_fn, seeds=5, epochs=100):
    return {"profile": "quick", "alpha": 0.05, "final_window": 0.05,
            "params": {"functions": list(by_fn), "seeds": seeds, "budget": 570, "lr": 3e-3, "epochs": epochs},
            "runs": {fn: [r for rs in runs for r in rs] for fn, runs in by_fn.items()}}


def _clean(text):
    for bad in ("(s)", "[", "True", "False", "`", "clearly"):
        assert bad not in text, bad
    return text


def _comment(R):
    text = _clean(t1_1a.comment(R))
    _verify(R, text)
    return text


SHALLOW = _runs(1, [0.10, 0.12, 0.11, 0.13, 0.14])


def test_overlapping_seeds_cannot_be_told_apart():
    text = _comment(_R({"sinc": [SHALLOW, _runs(3, [0.05, 0.11, 0.12, 0.2, 0.09]),
                                 _runs(6, [0.11, 0.20, 0.13, 0.10, 0.15])]}))
    assert text.count("cannot tell which final training loss is lower (exact two-sided rank test") == 2
    assert "the rank test could not tell any deeper model from the shallowest" in text
    assert "paid off" not in text


def test_separated_seeds_are_lower_with_the_p_value_beside():
    R = _R({"sinc": [SHALLOW, _runs(3, [0.01, 0.02, 0.03, 0.04, 0.05])],
            "sign": [SHALLOW, _runs(3, [0.03, 0.04, 0.05, 0.06, 0.07])]})
    text = _comment(R)
    assert text.count("**lower** final training loss (its median 0.25 times the shallow one's; exact "
                      "two-sided rank test over the seeds, p = 0.0079 < 0.05)") == 1
    assert ("every deeper model reached a lower final training loss than the shallowest on every function "
            "compared: here, depth paid off") in text


def test_two_seeds_a_side_cannot_reach_the_level():
    # 2 against 2, fully separated: the smallest p these counts allow is 1/3
    R = _R({"sinc": [_runs(1, [0.10, 0.12]), _runs(3, [0.01, 0.02])]}, seeds=2)
    text = _comment(R)
    assert "with 2 and 2 finished seeds the exact two-sided rank test cannot go below p = 0.33" in text
    assert "With 2 seeds per model the exact rank test cannot reach p < 0.05" in text
    assert "it takes 4 or more seeds per model" in text and "lower final" not in text


def test_higher_for_the_shallow_model_winning():
    worse, worse_too = _runs(3, [0.5, 0.6, 0.7, 0.8, 0.9]), _runs(6, [0.3, 0.4, 0.5, 0.6, 0.7])
    text = _comment(_R({"sinc": [SHALLOW, worse, worse_too]}))
    assert text.count("**higher** final training loss") == 2
    assert "every deeper model reached a higher final training loss than the shallowest" in text


def test_deeper_models_that_disagree_are_no_trend():
    R = _R({"sign": [SHALLOW, _runs(3, [0.35, 0.40, 0.45, 0.5, 0.6]),
                     _runs(6, [0.02, 0.08, 0.03, 0.04, 0.05])],
            "sinc": [SHALLOW, _runs(3, [0.01, 0.02, 0.03, 0.04, 0.05])]})
    text = _comment(R)
    assert "Depth had no consistent effect" in text
    assert "on sgn(sin(5πx)) the deeper models got different verdicts" in text
    assert "on sin(5πx)/(5πx) every deeper model reached a lower final training loss" in text


def test_one_seed_cannot_reach_the_level():
    text = _comment(_R({"sinc": [_runs(1, [0.1]), _runs(3, [0.01])]}, seeds=1))
    assert "with 1 and 1 finished seeds the exact two-sided rank test cannot go below p = 1" in text
    assert "With 1 seed per model the exact rank test cannot reach p < 0.05" in text


def test_a_diverged_seed_is_left_out():
    text = _comment(_R({"sinc": [SHALLOW, _runs(3, [0.01, None, None, None, None])]}))
    assert "4 runs diverged" in text and "are left out" in text
    assert "with 1 and 5 finished seeds the exact two-sided rank test cannot go below p = 0.33" in text
    assert "too few runs finished (the diverged ones are left out)" in text


def test_every_run_diverged():
    text = _comment(_R({"sinc": [_runs(1, [None, None]), _runs(3, [None, None])]}, seeds=2))
    assert "every run diverged" in text and "Fewer than two depths" in text and "lr=0.003" in text
    assert "No function has two depths with finished runs" in text


def test_one_depth_left_compares_nothing():
    text = _comment(_R({"sinc": [SHALLOW, _runs(3, [None, None])]}))
    assert "2 runs diverged" in text and "are left out" in text and "Fewer than two depths" in text


def test_runs_at_the_epoch_limit_are_still_falling():
    deep = _runs(3, [0.01, 0.02, 0.03, 0.04])
    one = _R({"sinc": [SHALLOW, deep + _runs(3, [0.02], epochs_run=100, stopped=None)]})
    assert "1 run of 10 reached the epoch limit" in _comment(one) and "its loss was still falling" in \
        t1_1a.comment(one)
    many = _R({"sinc": [_runs(1, [0.1, 0.2], stopped=None), _runs(3, [0.01, 0.02])]}, seeds=2)
    assert "2 runs of 4 reached the epoch limit" in _comment(many)
    assert "their losses were still falling, so more epochs may reduce them" in t1_1a.comment(many)
    assert t1_1a.comment(many).endswith("within 100 epochs under the plateau rule, and 2 of 4 runs were stopped by "
                                        "that limit while still falling: the verdicts are about this budget, and a "
                                        "longer one could change them.")
    every = _R({"sinc": [SHALLOW, _runs(3, [0.01, 0.02])]})
    assert "Every run stopped on the plateau rule" in _comment(every)


def test_a_function_without_runs_is_said():
    text = _comment(_R({"sinc": [SHALLOW, _runs(3, [0.01, 0.02, 0.03, 0.04, 0.05])], "sign": []}))
    assert "sgn(sin(5πx))**: no run was recorded" in text
    assert "every deeper model reached a lower final training loss than the shallowest on every" in text


def test_functions_that_disagree_are_each_named():
    R = _R({"sinc": [SHALLOW, _runs(3, [0.01, 0.02, 0.03, 0.04, 0.05])],
            "sign": [SHALLOW, _runs(3, [0.5, 0.6, 0.7, 0.8, 0.9])],
            "damped_cosine": [SHALLOW, _runs(3, [0.11, 0.13, 0.10, 0.12, 0.15])]})
    text = _comment(R)
    assert "Depth had no consistent effect at about 570 parameters" in text
    assert "on sin(5πx)/(5πx) every deeper model reached a lower final training loss" in text
    assert "on sgn(sin(5πx)) every deeper model reached a higher final training loss" in text
    assert "on exp(-2|x|)·cos(8πx) the rank test could not tell any deeper model from the shallowest" in text
    few = _R({"sinc": [SHALLOW, _runs(3, [0.01, 0.02, 0.03, 0.04, 0.05])],
              "sign": [_runs(1, [0.1]), _runs(3, [0.2])]})
    assert "and on sgn(sin(5πx)) too few seeds finished for the rank test to reach its level" in _comment(few)


def test_rank_test_matches_brute_force():
    for a, b in (([1, 2], [3, 4]), ([1, 2, 3], [4, 5, 6]), ([1, 1, 2], [1, 3]), ([0.5], [0.7]),
                 ([1, 3, 5], [2, 4]), ([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])):
        r = t1_1a.rank_test(a, b)
        assert r["p"] == pytest.approx(_p_exact(a, b)[0])
        assert r["min_p"] == pytest.approx(min(1, 2 / comb(len(a) + len(b), len(a))))
    assert t1_1a.rank_test([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])["p"] == pytest.approx(2 / 252)
    assert t1_1a.seeds_needed(0.05) == 4 and t1_1a.seeds_needed(0.01) == 5


# ---------------------------------------------------------------- the comment against random results

NUM = r"-?[\d,]*\.?\d+(?:e[-+]?\d+)?"
SPREAD = rf"({NUM})(?: \(({NUM})–({NUM}) over (\d+) seeds\))?"
NAMES = {v[1]: k for k, v in t1_1a.data.FUNCTIONS.items()}
VERDICT = re.compile(r"\b(clearly|lower|higher|better|worse|differ\w*)\b")


def _close(value, printed: str) -> bool:
    """value rounds to printed: within half a unit of printed's last digit."""
    d = Decimal(printed.replace(",", ""))
    half = Decimal(5) * Decimal(10) ** (d.as_tuple().exponent - 1)
    return abs(Decimal(repr(float(value))) - d) <= half * (1 + Decimal("1e-9"))


def _p_exact(a, b) -> tuple[float, int]:
    """Brute force, with ranks of its own: the two-sided exact p of the rank sum of a among every split of
    the pooled values, and the side a lies on (+1 larger ranks, −1 smaller, 0 neither)."""
    pooled = list(a) + list(b)
    rank = [sum(v < u for v in pooled) + (sum(v == u for v in pooled) + 1) / 2 for u in pooled]
    mid = len(a) * (len(pooled) + 1) / 2
    obs = sum(rank[: len(a)]) - mid
    splits = list(itertools.combinations(range(len(pooled)), len(a)))
    p = sum(abs(sum(rank[i] for i in s) - mid) >= abs(obs) - 1e-9 for s in splits) / len(splits)
    return p, (obs > 1e-9) - (obs < -1e-9)


def _layers(text: str) -> int:
    m = re.fullmatch(r"(\d+) hidden layers?", text)
    assert m and text == t1_1a.layers(int(m[1])), text
    return int(m[1])


def _check_spreads(part: str, values: dict) -> dict:
    """'1 hidden layer: 1.07e-04 (2.85e-05–2.89e-03 over 5 seeds); …' against each depth's values; returns
    the printed median per depth."""
    printed = {}
    items = part.split("; ")
    assert len(items) == len(values), (part, list(values))
    for item, (depth, vals) in zip(items, values.items()):
        m = re.fullmatch(rf"(\d+ hidden layers?): {SPREAD}", item)
        assert m and _layers(m[1]) == depth, item
        assert _close(statistics.median(vals), m[2]), (item, vals)
        if len(vals) == 1:
            assert m[3] is None, item
        else:
            assert _close(min(vals), m[3]) and _close(max(vals), m[4]), (item, vals)
            assert int(m[5]) == len(vals), (item, vals)
        printed[depth] = float(m[2])
    return printed


def _verify(R: dict, text: str) -> None:
    P, alpha = R["params"], R["alpha"]
    blocks, tail = text.split("\n\n") if "\n\n" in text else (text, "")
    lines = blocks.split("\n")
    # a verdict word only beside the test and level that decide it (the closing paragraph states both)
    for ln in lines:
        if VERDICT.search(ln.replace("cannot tell which final training loss is lower", "")):
            m = re.search(r"p = (\S+) < (\S+)\)", ln)
            assert m and float(m[1]) < float(m[2]) == alpha, f"verdict word without its test: {ln!r}"
    assert "clearly" not in text
    window = f"{100 * R['final_window']:g}"
    verdicts = {}
    by_fn = {}
    for ln in lines:
        if ln.startswith("- **"):
            fn = NAMES[re.match(r"- \*\*(.+?)\*\*", ln)[1]]
            by_fn[fn] = [ln]
        else:
            by_fn[fn].append(ln)
    assert list(by_fn) == P["functions"]
    for fn, fl in by_fn.items():
        verdicts[fn] = _verify_function(R, fn, fl, window, alpha)
    _verify_tail(R, tail, verdicts, window, alpha)


def _verify_function(R, fn, fl, window, alpha):
    P, runs = R["params"], R["runs"].get(fn, [])
    name = t1_1a.data.FUNCTIONS[fn][1]
    if not runs:
        assert fl == [f"- **{name}**: no run was recorded, so there is nothing to compare."]
        return None
    ok = [r for r in runs if r["diverged"] is None]
    depths = sorted({r["depth"] for r in runs})
    loss = {d: [r["train_loss"] for r in ok if r["depth"] == d] for d in depths}
    loss = {d: v for d, v in loss.items() if v}
    test = {d: [r["test_loss"] for r in ok if r["depth"] == d] for d in loss}
    head, rest = fl[0], fl[1:]
    if not loss:
        assert head == f"- **{name}**: every run diverged (the loss became NaN or infinite)."
    else:
        m = re.fullmatch(rf"- \*\*{re.escape(name)}\*\*: final training loss \(each run's median over the "
                         rf"last {window} % of the epochs it ran; the median over seeds, their range in "
                         r"brackets\): (.*)\. Test loss on the dense grid between the training points, after "
                         r"the last step: (.*)\.", head)
        assert m, head
        medians = _check_spreads(m[1], loss)
        _check_spreads(m[2], test)
    diverged = len(runs) - len(ok)
    if diverged and loss:
        ln = rest.pop(0)
        assert ln.startswith(f"  - {diverged} run{'s' * (diverged != 1)} diverged"), ln
    if len(loss) < 2:
        assert rest and rest[0].startswith("  - Fewer than two depths have a finished run") and len(rest) == 1
        return None
    m = re.fullmatch(r"  - Mean epochs run: (.*)\. (.*)", rest.pop(0))
    assert m
    for item, d in zip(m[1].split("; "), loss):
        mean = sum(r["epochs_run"] for r in ok if r["depth"] == d) / len(loss[d])
        assert item == f"{t1_1a.layers(d)}: {mean:,.0f}", item
    at_limit = sum(1 for r in ok if not r["stopped"] and r["epochs_run"] >= P["epochs"])
    if at_limit:
        assert m[2].startswith(f"{at_limit} run{'s' * (at_limit != 1)} of {len(ok)} reached the epoch limit")
    else:
        assert m[2] == "Every run stopped on the plateau rule before the epoch limit."
    shallow, kinds = min(loss), set()
    assert len(rest) == len(loss) - 1
    for ln, d in zip(rest, sorted(loss)[1:]):
        m = re.fullmatch(r"  - The MLP with (.+?) against the one with (.+?): (.*)\.", ln)
        assert m and _layers(m[1]) == d and _layers(m[2]) == shallow, ln
        p, side = _p_exact(loss[d], loss[shallow])
        floor = 2 / comb(len(loss[d]) + len(loss[shallow]), len(loss[d]))
        said = m[3]
        if floor >= alpha:
            assert said == (f"cannot tell which final training loss is lower: with {len(loss[d])} and "
                            f"{len(loss[shallow])} finished seeds the exact two-sided rank test cannot go "
                            f"below p = {min(1, floor):.2g}, not below {alpha:g}"), said
            kinds.add("floor")
            continue
        got = re.search(r"p = (\S+?)[,)]? ", said + " ")
        assert got and got[1].rstrip(",)") == f"{p:.2g}", (said, p)
        shown = float(f"{p:.2g}")
        word = re.match(r"\*\*(lower|higher)\*\* final training loss \(its median (\S+) times the shallow "
                        r"one's", said)
        if word:
            # the printed medians and the rank test's side both show the order claimed, at p < alpha
            lower = word[1] == "lower"
            assert shown < alpha and side == (-1 if lower else 1), (said, p, side)
            assert medians[d] != medians[shallow], (said, medians)
            assert (medians[d] < medians[shallow]) == lower, (said, medians)
            ratio = statistics.median(loss[d]) / statistics.median(loss[shallow])
            assert _close(ratio, word[2]) and float(word[2]) != 1, (said, ratio)
            kinds.add("better" if lower else "worse")
        else:
            assert said.startswith("cannot tell which final training loss is lower"), said
            # "cannot tell" beside p < alpha only where the seeds' medians order against the test's side
            assert shown >= alpha or "order the other way" in said, said
            if shown < alpha:
                mid_d, mid_s = statistics.median(loss[d]), statistics.median(loss[shallow])
                assert side == 0 or mid_d == mid_s or (mid_d < mid_s) != (side < 0)
            kinds.add("tie")
    return {frozenset({"better"}): "deeper", frozenset({"worse"}): "shallow", frozenset({"tie"}): "tie",
            frozenset({"floor"}): "floor"}.get(frozenset(kinds), "mixed")


def _budget(R):
    """The sentence a build with runs stopped by the epoch limit ends on, re-derived from the runs."""
    P = R["params"]
    ok = [r for fn in P["functions"] for r in R["runs"].get(fn, []) if r["diverged"] is None]
    k = sum(not r["stopped"] and r["epochs_run"] >= P["epochs"] for r in ok)
    return (f" The losses compared are those reached within {P['epochs']:,} epochs under the plateau rule, and {k} "
            f"of {len(ok)} runs were stopped by that limit while still falling: the verdicts are about this budget, "
            "and a longer one could change them.") if k else ""


def _verify_tail(R, tail, verdicts, window, alpha):
    P = R["params"]
    seeds = f"{P['seeds']} seed{'s' * (P['seeds'] != 1)}"
    assert tail.endswith(f"A difference is called only where an exact two-sided rank test (Mann-Whitney, by "
                         f"permutation) of the seeds' final training losses gives p < {alpha:g}, each "
                         f"comparison on its own ({seeds} per model, {R['profile']} profile); a run's final "
                         f"training loss is the median of its training loss over the last {window} % of the "
                         "epochs it ran, not the loss after its last step." + _budget(R)), tail
    decided = {fn: v for fn, v in verdicts.items() if v}
    kinds = set(decided.values())
    lower, higher = "every deeper model reached a lower", "every deeper model reached a higher"
    assert (lower in tail) == ("deeper" in kinds), (tail, verdicts)
    assert (higher in tail) == ("shallow" in kinds), (tail, verdicts)
    assert ("paid off" in tail) == (kinds == {"deeper"})
    assert ("could not tell" in tail) == ("tie" in kinds)
    assert ("got different verdicts" in tail) == ("mixed" in kinds)
    if not decided:
        assert tail.startswith("No function has two depths with finished runs")
    if kinds == {"floor"}:
        assert "cannot tell whether depth helps" in tail
    if len(kinds) > 1:  # each function named under its own verdict
        for fn in decided:
            assert t1_1a.data.FUNCTIONS[fn][1] in tail


_LOSS = st.one_of(st.floats(1e-6, 1.0), st.builds(lambda k: 1.234e-3 * (1 + k * 2e-4), st.integers(0, 12)),
                  st.sampled_from([0.01, 0.02, 0.1]))


@st.composite
def _results(draw):
    functions = draw(st.lists(st.sampled_from(list(t1_1a.data.FUNCTIONS)), min_size=1, max_size=3,
                              unique=True))
    depths = sorted(draw(st.sets(st.integers(1, 8), min_size=2, max_size=3)))
    seeds, epochs = draw(st.integers(1, 6)), draw(st.sampled_from([60, 4000]))
    runs = {}
    for fn in functions:
        if draw(st.integers(0, 9)) == 0:
            runs[fn] = []
            continue
        runs[fn] = []
        for d in depths:
            # each depth a level of its own, the seeds scattered round it or anywhere: separated seeds
            # (p below the level, either way round) come up as often as overlapping ones
            level = draw(st.sampled_from([1e-5, 1.234e-3, 1.2345e-3, 0.1, None]))
            for s in range(seeds):
                dead = draw(st.integers(0, 9)) == 0
                e = draw(st.sampled_from([epochs, epochs // 2, 7]))
                stopped = None if dead or e == epochs and draw(st.booleans()) else "plateau"
                runs[fn].append({"depth": d, "seed": s, "epochs_run": e, "stopped": stopped,
                                 "diverged": {"epoch": 3} if dead else None, "window": t1_1a.window(e),
                                 "train_loss": None if dead else draw(_LOSS) if level is None else
                                 level * draw(st.one_of(st.floats(0.5, 2), st.sampled_from([1, 1.0001]))),
                                 "train_loss_last": draw(_LOSS),
                                 "test_loss": draw(_LOSS)})
    return {"profile": draw(st.sampled_from(["quick", "full"])), "alpha": draw(st.sampled_from([0.05, 0.1])),
            "final_window": draw(st.sampled_from([0.05, 0.1])),
            "params": {"functions": functions, "seeds": seeds, "budget": 570, "lr": 3e-3, "epochs": epochs},
            "runs": runs}


@settings(deadline=None, max_examples=250, suppress_health_check=[HealthCheck.too_slow])
@given(_results())
def test_comment_claims_hold_on_random_results(R):
    _verify(R, _clean(t1_1a.comment(R)))
