"""1-3d: the comment branch by branch on hand-made results; the task, its table and figures on a smoke run."""

import pytest
from matplotlib.figure import Figure

from hwlib.params import ParamError, resolve_task
from hwlib.plots import png
from hwlib.tasks import batch_models
from hwlib.tasks import t1_3d_sensitivity as task

OUTPUTS = {"softmax": "softmax probabilities", "loss": "per-sample loss", "logits": "logits"}


def _c(rho, low, high, n=10):
    return {"rho": rho, "low": low, "high": high, "n": n}


UP, DOWN, NONE, UNKNOWN = _c(0.8, 0.4, 0.95), _c(-0.8, -0.95, -0.4), _c(0.1, -0.5, 0.6), _c(None, None, None, 2)


def _R(sens=None, missed=(), train_loss=0.05, trends=None, test_loss=NONE, gap_loss=NONE, partial=None):
    """Two seeds at batch 16 and 1024 (sensitivities per seed given), every output trending as ``trends``."""
    sens = sens or {16: [0.10, 0.11], 1024: [0.20, 0.21]}
    rows = []
    for b, values in sens.items():
        for seed, v in enumerate(values):
            rows.append({"batch_size": b, "seed": seed, "steps": 400 if b == 16 else 90, "train_loss": train_loss,
                         "reached": (b, seed) not in missed, "diverged": False, "sensitivity_softmax": v})
    trends = trends or {"softmax": UP, "loss": UP, "logits": UP}
    kept = [r for r in rows if r["reached"]]
    partial = partial or trends
    return {"params": {"target_loss": 0.05, "max_steps": 2000}, "tolerance": 0.1, "models": rows, "outputs": OUTPUTS,
            "primary": "softmax", "partial": partial,
            "dataset": "MNIST: 512 train / 360 test, input 1×28×28, 10 classes",
            "ends": {"softmax": task.end_test(kept, "sensitivity_softmax")},
            "trends": {k: {"batch_size": c, "test_loss": test_loss, "gap_loss": gap_loss, "train_loss": NONE}
                       for k, c in trends.items()}}


def _clean(text):
    for bad in ("(s)", "[", "True", "False", "`", "nan"):
        assert bad not in text, bad


def test_all_reached_and_a_clear_rise():
    text = task.comment(_R())
    _clean(text)
    assert "All 4 models reached the target" in text
    assert "batch 16: 400, batch 1024: 90" in text
    # two seeds a side: apart, but no rank test can reach p < 0.05, so no order is claimed
    assert ("0.105 (mean; 0.1–0.11 over 2 seeds) → 0.205 (mean; 0.2–0.21 over 2 seeds): the seed ranges do not overlap, "
            "but the exact two-sided rank test over the seeds gives p = 0.33 (with 2 and 2 seeds it cannot go "
            "below 0.33), so it cannot tell which batch gives the more sensitive models.") in text
    assert "Softmax probabilities against the batch size over all batch sizes: rises (ρ = 0.80" in text
    four = task.comment(_R(sens={16: [0.10, 0.11, 0.12, 0.13], 1024: [0.20, 0.21, 0.22, 0.23]}))
    assert "gives the more sensitive models (exact two-sided rank test over the seeds, p = 0.029)" in four
    assert "training loss afterwards from 0.05 to 0.05 (largest over smallest 1.00)." in text


def test_clear_fall_tie_and_unknown():
    fall = _R(sens={16: [0.3, 0.31, 0.32, 0.33], 1024: [0.1, 0.12, 0.13, 0.14]})
    assert "gives the less sensitive models (exact two-sided rank test over the seeds, p = 0.029)" in \
        task.comment(fall)
    tie = task.comment(_R(sens={16: [0.1, 0.3], 1024: [0.2, 0.25]}))
    assert "the seed ranges overlap, and the exact two-sided rank test over the seeds gives p = 1 (" in tie
    # the referee's case: apart by 0.0005, one printed endpoint (0.146) at 3 digits; 4 digits show the gap
    close = task.comment(_R(sens={16: [0.11487, 0.14568], 1024: [0.14619, 0.15924]}))
    assert ("0.1303 (mean; 0.1149–0.1457 over 2 seeds) → 0.1527 (mean; 0.1462–0.1592 over 2 seeds): the seed ranges "
            "do not overlap") in close
    one = task.comment(_R(sens={16: [0.1], 1024: [0.2]}))
    assert "one seed a side, so the seed noise is unknown" in one and "batch 16 → 1024: 0.1 → 0.2:" in one


def test_missed_models_are_named_and_left_out():
    one = task.comment(_R(missed={(1024, 1)}))
    assert "1 model missed it and is left out" in one and "batch 1024 (seed 1, stopped at 90 steps" in one
    assert "3 models missed" not in one and "its 3 models" in one
    two = _R(missed={(1024, 0), (1024, 1)})
    two["models"][2]["diverged"] = True
    text = task.comment(two)
    assert "2 models missed it and are left out" in text and "diverged at 90 steps" in text
    assert "Fewer than two batch sizes have a model at the target, so nothing is compared" in text
    _clean(text)


def test_trend_directions_and_the_logits_flip():
    text = task.comment(_R(trends={"softmax": UP, "loss": NONE, "logits": DOWN}))
    assert "Logits against the batch size over all batch sizes: falls" in text
    assert "Per-sample loss against the batch size over all batch sizes: no monotone trend is established" in text
    assert "which holds 0" in text
    assert "move in opposite directions" in text
    assert "opposite directions" not in task.comment(_R(trends={"softmax": UP, "loss": UP, "logits": NONE}))
    few = task.comment(_R(trends={"softmax": UNKNOWN, "loss": UNKNOWN, "logits": UNKNOWN}))
    assert "too few models for a rank correlation" in few


@pytest.mark.parametrize("c,words", [(UP, "test loss: the more sensitive, the larger (ρ = 0.80"),
                                     (DOWN, "test loss: the more sensitive, the smaller (ρ = -0.80"),
                                     (NONE, "test loss: no link is established (ρ = 0.10"),
                                     (UNKNOWN, "test loss: too few models for a rank correlation;")])
def test_link_with_the_test_loss(c, words):
    assert words in task.comment(_R(test_loss=c))


@pytest.mark.parametrize("c,words", [(UP, "; for the softmax probabilities, this run agrees."),
                                     (DOWN, "; for the softmax probabilities, this run finds the opposite sign, and its"),
                                     (NONE, "; for the softmax probabilities, this run cannot tell whether it agrees"),
                                     (UNKNOWN, "; for the softmax probabilities, this run cannot tell whether it agrees")])
def test_against_novak_et_al(c, words):
    text = task.comment(_R(gap_loss=c))
    assert "Novak et al. (2018) found" in text and words in text
    if c is not UP:  # what differs in the setting
        assert "its 4 models are BatchNorm CNNs on MNIST that differ only in batch size and seed" in text


def test_printed_interval_decides_the_direction():
    """0.004 prints as 0.00: the interval as printed holds 0, so no direction; -0.004 prints as 0.00,
    not -0.00."""
    trends = {"softmax": _c(0.5, 0.004, 0.9), "loss": _c(-0.5, -0.9, -0.004), "logits": UP}
    text = task.comment(_R(trends=trends))
    assert ("no monotone trend is established (ρ = 0.50, 95 % interval 0.00 to 0.90 over 10 models, "
            "which holds 0)") in text
    assert "interval -0.90 to 0.00 over" in text and "-0.00" not in text


def test_other_outputs_against_the_gap_and_novak():
    R = _R(gap_loss=NONE)
    R["trends"]["loss"]["gap_loss"] = UP
    text = task.comment(R)
    assert ("The other outputs' sensitivity against the generalization gap: per-sample loss: the more sensitive, "
            "the larger (ρ = 0.80") in text
    assert "cannot tell whether it agrees" in text and "The sensitivity of the per-sample loss does rise with the gap." in text


@pytest.mark.parametrize("trend,partial,words", [
    (UP, UP, "With the final training loss held fixed (partial rank correlation) the trend survives (partial ρ = 0.80"),
    (UP, NONE, "it does not survive (partial ρ = 0.10, 95 % interval -0.50 to 0.60 over 10 models, which holds 0)"),
    (UP, DOWN, "it reverses (partial ρ = -0.80"),
    (NONE, NONE, "no trend either (partial ρ = 0.10"),
    (NONE, UP, "a trend appears (partial ρ = 0.80"),
    (UP, UNKNOWN, "nothing can be computed")])
def test_trend_with_the_training_loss_held_fixed(trend, partial, words):
    trends = {"softmax": trend, "loss": trend, "logits": trend}
    text = task.comment(_R(trends=trends, partial={k: partial for k in trends}))
    assert words in text


def test_rank_correlation_interval():
    r = task.rank_correlation([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])
    assert r["rho"] == pytest.approx(0.8286, abs=1e-3) and -1 <= r["low"] <= r["rho"] <= r["high"] <= 1
    assert r == task.rank_correlation([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])  # seeded: reproducible
    # one interval per pair of columns: 1-3e passes its own seed and may order the rows otherwise
    assert r == task.rank_correlation([6, 5, 4, 3, 2, 1], [5, 6, 3, 4, 1, 2])
    assert task.rank_correlation([1, 2], [1, 2])["rho"] is None  # too few models
    assert task.rank_correlation([1, 1, 1], [1, 2, 3])["rho"] is None  # one value: no ranking
    perfect = task.rank_correlation(list(range(8)), [v ** 2 for v in range(8)])
    assert perfect["rho"] == pytest.approx(1) and perfect["low"] == pytest.approx(1)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    P = resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path_factory.mktemp("1_3d"))
    return P, task.run(P)


def test_models_per_seed_and_batch_size_trained_to_the_criterion(smoke):
    P, R = smoke
    assert not R["models_loaded"]
    assert [(r["seed"], r["batch_size"]) for r in R["models"]] == [(s, b) for s in P.seeds for b in P.batch_sizes]
    for r in R["models"]:  # in the band around the target, or else at the step limit
        assert r["reached"] == (0.9 * P.target_loss <= r["train_loss"] <= 1.1 * P.target_loss)
        assert r["reached"] or r["steps"] >= P.max_steps or r["train_loss"] < P.target_loss
        assert all(r[f"sensitivity_{k}"] > 0 for k in ("softmax", "loss", "logits"))
    assert f"within ±10 % of {P.target_loss:g}, with a limit of {P.max_steps:,} steps" in task.comment(R)
    assert set(R["partial"]) == set(R["outputs"])


def test_table_and_figures_from_the_results(smoke):
    _, R = smoke
    text = task.table(R)
    assert text.count("\n| ") == 1 + len(R["models"]) and "sensitivity (softmax)" in text
    _clean(text)
    # every model at the target, then none (no dots to draw): the figure is drawn either way
    for rows in (R["models"], [dict(r, reached=False) for r in R["models"]]):
        (fig, caption), = task.figures(dict(R, models=rows))
        assert isinstance(fig, Figure) and "softmax probabilities, mean ‖∂p/∂x‖<sub>F</sub> over" in caption
        assert "_F" not in caption
        _clean(caption)
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here
        _untrained_level_crosses_no_point(fig)


def _untrained_level_crosses_no_point(fig):
    """The untrained networks' level is drawn right of every point and line of its panel, on both axes."""
    panels, twins = fig.axes[:2], fig.axes[2:]
    for ax, twin in zip(panels, twins):
        (stub,) = [line for line in twin.lines if line.get_label().startswith("sensitivity, untrained")]
        start = min(stub.get_transform().transform(stub.get_xydata())[:, 0])
        drawn = [a for a in (*ax.lines, *ax.collections, *twin.lines, *twin.collections) if a is not stub]
        right = max(max(a.get_transform().transform(a.get_xydata())[:, 0]) if hasattr(a, "get_xydata")
                    else max(a.get_offset_transform().transform(a.get_offsets())[:, 0], default=-1e9)
                    for a in drawn)
        assert start > right + 2, (start, right)  # display pixels


def test_untrained_level_is_drawn_clear_of_the_points():
    rows = [{"batch_size": b, "seed": s, "reached": True, "train_loss": 0.04 + 0.001 * s, "test_loss": 0.05,
             "train_acc": 0.99, "test_acc": 0.98, "sensitivity_softmax": 0.1 + 0.01 * s}
            for b in (16, 64, 256, 1024) for s in range(2)]
    R = {"models": rows, "primary": "softmax", "outputs": {"softmax": "softmax probabilities"}, "n_eval": 64,
         "sensitivity_at_init": {"softmax": 0.105}}  # the untrained level amid the trained models' values
    (fig, _), = task.figures(R)
    _untrained_level_crosses_no_point(fig)


def test_cache_key_covers_every_training_setting():
    """A setting that changes the trained models must be in the cache key, or a stale model loads."""
    measuring_only = {"n_eval", "chunk_size"}
    assert set(batch_models.TRAINING) == set(batch_models.SPEC) - measuring_only


def test_bad_batch_sizes(tmp_path):
    with pytest.raises(ParamError, match="batch_sizes"):
        resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path, batch_sizes=[64, 16, 128, 256, 512])
    with pytest.raises(ParamError, match="seeds"):
        resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path, seeds=[1, 1])


# ---------------------------------------------------------------- the comment against random results
# Every number the comment prints is re-derived here from R at the precision it is printed with, and
# every claim (overlap, order, direction, agreement with Novak et al.) is checked on the PRINTED values.

import itertools  # noqa: E402
import re  # noqa: E402
from decimal import Decimal  # noqa: E402
from math import comb  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scipy.stats import rankdata  # noqa: E402

NUM = r"-?[\d,]*\.?\d+(?:e[-+]?\d+)?"
SPREAD = rf"({NUM})(?: \(mean; ({NUM})–({NUM}) over (\d+) seeds\))?"
INTERVAL = rf"ρ = ({NUM}), 95 % interval ({NUM}) to ({NUM}) over (\d+) models"


def _close(value, printed: str) -> bool:
    """value rounds to printed: within half a unit of printed's last digit."""
    d = Decimal(printed.replace(",", ""))
    half = Decimal(5) * Decimal(10) ** (d.as_tuple().exponent - 1)
    return abs(Decimal(repr(float(value))) - d) <= half * (1 + Decimal("1e-9"))


def _p_exact(a, b) -> float:
    """Brute force: two-sided exact p of the rank sum of a among every split of the pooled values."""
    pooled = list(a) + list(b)
    r = rankdata(pooled)
    mid = len(a) * (len(pooled) + 1) / 2
    obs = abs(sum(r[: len(a)]) - mid)
    splits = list(itertools.combinations(range(len(pooled)), len(a)))
    return sum(abs(sum(r[i] for i in s) - mid) >= obs - 1e-9 for s in splits) / len(splits)


def _printed_direction(low: str, high: str) -> str:
    return "up" if float(low) > 0 else "down" if float(high) < 0 else "none"


def _check_interval(text: str, c: dict) -> str:
    """The interval in text is c's; returns the direction its printed ends show."""
    m = re.search(INTERVAL, text)
    assert m, f"no interval in {text!r}"
    for got, want in zip(m.groups()[:3], (c["rho"], c["low"], c["high"])):
        assert _close(want, got), (got, want)
    assert int(m[4]) == c["n"]
    return _printed_direction(m[2], m[3])


def _check_link(text: str, c: dict, up_words: tuple, down_words: tuple) -> str:
    if c["rho"] is None:
        assert "too few models" in text.lower() and "ρ" not in text, text
        return "unknown"
    d = _check_interval(text, c)
    said = ("up" if any(w in text for w in up_words) else "down" if any(w in text for w in down_words)
            else "none" if "holds 0" in text else None)
    assert said == d, f"says {said}, the printed interval shows {d}: {text!r}"
    return d


def _verify(R: dict, text: str) -> None:
    lines = [ln for ln in text.split("\n") if ln]
    _verify_lines(R, lines)
    assert not re.search(r"-0\.0+\b", text), "a negative zero is printed"
    for ln in lines:  # a verdict word only beside the test that decides it
        if re.search(r"\bclear(ly)?\b", ln):
            assert "p = " in ln or "interval" in ln, f"verdict word without a test: {ln!r}"


def _check_criterion(R: dict, line: str) -> None:
    """The first line (1-3d's and 1-3e's): the target, the tolerance, the limit, and every missed model named."""
    p = R["params"]
    missed = [r for r in R["models"] if not r["reached"]]
    m = re.fullmatch(r"Every model was trained until its training loss \(eval mode, whole training set, checked "
                     r"between steps\) was within ±(\S+) % of (\S+), with a limit of (\S+) steps\. (.*)", line)
    assert m and m[1] == f"{R['tolerance'] * 100:g}" and m[2] == f"{p['target_loss']:g}", line
    assert m[3] == f"{p['max_steps']:,}", line
    m = [None, None, None] + [m[4]]
    if not missed:
        n = len(R["models"])
        assert m[3] == f"All {n} model{'s' * (n != 1)} reached the target.", m[3]
    else:
        k = re.fullmatch(r"(\d+) models? missed it and (?:is|are) left out of every comparison below: (.*)\.",
                         m[3])
        assert k and int(k[1]) == len(missed), m[3]
        named = re.findall(rf"batch (\d+) \(seed (\d+), (stopped|diverged|ended below the band) at ([\d,]+) steps, "
                           rf"training loss ({NUM})\)", k[2])
        assert len(named) == len(missed)
        for (b, s, how, steps, loss), r in zip(named, missed):
            assert (int(b), int(s), how == "diverged") == (r["batch_size"], r["seed"], r["diverged"])
            if not r["diverged"]:
                assert (how == "ended below the band") == (r["train_loss"] < p["target_loss"]), (how, r)
            assert int(steps.replace(",", "")) == r["steps"] and _close(r["train_loss"], loss)


def _verify_lines(R: dict, lines: list[str]) -> None:
    p, out, prim = R["params"], R["outputs"], R["primary"]
    rows = [r for r in R["models"] if r["reached"]]
    _check_criterion(R, lines[0])
    batches = sorted({r["batch_size"] for r in rows})
    if len(batches) < 2:
        assert lines[1:] == ["Fewer than two batch sizes have a model at the target, so nothing is compared."]
        return

    m = re.fullmatch(rf"- Steps to the target \(mean over seeds\): (.*); training loss afterwards "
                     rf"from ({NUM}) to ({NUM}) \(largest over smallest ({NUM})\)\.", lines[1])
    assert m, lines[1]
    steps = re.findall(r"batch (\d+): ([\d,]+)", m[1])
    assert [int(b) for b, _ in steps] == batches
    for b, s in steps:
        v = [r["steps"] for r in rows if r["batch_size"] == int(b)]
        assert _close(sum(v) / len(v), s), (b, s)
    losses = [r["train_loss"] for r in rows]
    assert _close(min(losses), m[2]) and _close(max(losses), m[3]) and _close(max(losses) / min(losses), m[4])

    m = re.fullmatch(rf"- Sensitivity of the (.+?) \(the figure\), batch (\d+) → (\d+): "
                     rf"{SPREAD} → {SPREAD}: (.*)", lines[2])
    assert m, lines[2]
    assert m[1] == out[prim] and (int(m[2]), int(m[3])) == (batches[0], batches[-1])
    sides = []
    for b, (mean, lo, hi, n) in zip(batches[:1] + batches[-1:], (m.groups()[3:7], m.groups()[7:11])):
        v = [r[f"sensitivity_{prim}"] for r in rows if r["batch_size"] == b]
        assert _close(sum(v) / len(v), mean)
        if len(v) > 1:
            assert int(n) == len(v) and _close(min(v), lo) and _close(max(v), hi)
        else:
            assert lo is None
        sides.append((v, float(mean), float(lo or mean), float(hi or mean)))
    (a, ma, la, ha), (b, mb, lb, hb) = sides
    verdict = m[12]
    if "do not overlap" in verdict or "are apart" in verdict:
        assert ha < lb or hb < la, f"'no overlap' beside printed ranges {la}–{ha} and {lb}–{hb}"
    elif "overlap" in verdict:
        assert not (ha < lb or hb < la), f"'overlap' beside printed ranges {la}–{ha} and {lb}–{hb}"
    order = re.search(r"the largest batch gives the (more|less) sensitive models", verdict)
    pm = re.search(rf"\bp = ({NUM})", verdict)
    if pm:
        assert _close(_p_exact(b, a), pm[1]), (pm[1], _p_exact(b, a))
    if order:
        assert pm and float(pm[1]) < 0.05, f"an order without a test that decides it: {verdict!r}"
        assert (mb > ma) == (order[1] == "more"), f"{order[1]} sensitive, printed means {ma} → {mb}"
    else:
        assert "cannot" in verdict or "not ranked" in verdict, verdict
        if "not ranked" in verdict:
            assert min(len(a), len(b)) == 1
        else:
            assert pm and float(pm[1]) >= 0.05, verdict
    floor = re.search(rf"cannot go below ({NUM})", verdict)
    if floor:
        assert _close(2 / comb(len(a) + len(b), len(a)), floor[1])

    dirs = {}
    for i, (k, name) in enumerate(out.items()):
        ln = lines[3 + i]
        t = re.fullmatch(rf"- {re.escape(name.capitalize())} against the batch size over all batch sizes: "
                         r"(.*?)\. (With the final training loss held fixed \(partial rank correlation\) .*)", ln)
        assert t, ln
        dirs[k] = _check_link(t[1], R["trends"][k]["batch_size"], ("rises",), ("falls",))
        _check_controlled(t[2], dirs[k], R["partial"][k])
    rest = lines[3 + len(out):]
    flip = {dirs["softmax"], dirs["logits"]} == {"up", "down"}
    assert flip == any("opposite directions" in ln for ln in rest)
    rest = [ln for ln in rest if "opposite directions" not in ln]
    t = re.fullmatch(r"Across the models, the sensitivity against the test loss: (.*); against the "
                     r"generalization gap \(test − train loss\): (.*)\.", rest[0])
    assert t, rest[0]
    larger, smaller = ("the more sensitive, the larger",), ("the more sensitive, the smaller",)
    _check_link(t[1], R["trends"][prim]["test_loss"], larger, smaller)
    gap = _check_link(t[2], R["trends"][prim]["gap_loss"], larger, smaller)
    others = [k for k in out if k != prim]
    t = re.fullmatch(r"The other outputs' sensitivity against the generalization gap: (.*)\.", rest[1])
    assert t, rest[1]
    parts = t[1].split("; ")
    assert len(parts) == len(others)
    other_dirs = {}
    for k, part in zip(others, parts):
        assert part.startswith(f"{out[k]}: "), part
        other_dirs[k] = _check_link(part, R["trends"][k]["gap_loss"], larger, smaller)
    novak = rest[2:]
    assert len(novak) == 1 and "Novak et al." in novak[0], rest
    head = novak[0].split(". The sensitivity of the")[0]
    said = ("up" if "this run agrees" in head else "down" if "opposite sign" in head
            else "none" if "cannot tell" in head else None)
    assert said == (gap if gap != "unknown" else "none"), (gap, novak[0])
    if said != "up":  # what differs in the setting
        assert R["dataset"].split(":")[0] in novak[0] and f" {len(rows)} " in novak[0], novak[0]
        assert f"({p['target_loss']:g} ± {R['tolerance'] * 100:g} %)" in novak[0]
    leans = re.search(r" Its point estimate leans (the paper's way|the other way) \(ρ = (\S+)\), short of an interval "
                      r"that excludes 0\.", novak[0])
    rho = R["trends"][prim]["gap_loss"]["rho"]
    shown = None if rho is None else float(f"{rho:.2f}")
    if said == "none" and shown:  # the lean is named where no direction is established and ρ does not print as 0
        assert leans and leans[1] == ("the paper's way" if shown > 0 else "the other way"), novak[0]
        assert float(leans[2]) == shown
    else:
        assert not leans, novak[0]
    for k in others:  # the other outputs that agree or oppose are named, and only they
        rises = f"{out[k]}" in (re.search(r"The sensitivity of the (.*?) does rise", novak[0]) or [""])[0]
        falls = f"{out[k]}" in (re.search(r"The sensitivity of the ([^.]*?) falls with", novak[0]) or [""])[0]
        assert (rises, falls) == (other_dirs[k] == "up", other_dirs[k] == "down"), (k, other_dirs[k], novak[0])


def _check_controlled(text: str, trend: str, c: dict) -> None:
    """The partial correlation's sentence: its printed interval, and survive / not / reverse / appear as the
    printed directions of the plain and the partial interval decide."""
    if c["rho"] is None:
        assert "nothing can be computed" in text and "ρ" not in text, text
        return
    d = _check_interval(text.replace("partial ρ", "ρ"), c)
    said = ("survives" if "the trend survives" in text else "not" if "does not survive" in text
            else "reverses" if "it reverses" in text else "either" if "no trend either" in text
            else "appears" if "a trend appears" in text else None)
    if trend in ("up", "down"):
        want = "survives" if d == trend else "not" if d == "none" else "reverses"
    else:
        want = "either" if d == "none" else "appears"
    assert said == want, (trend, d, text)


# sensitivities on a 1e-4 grid near 0.146 (with offsets of a few 1e-5), so that different values share a
# printed endpoint at 3 digits, ties occur, and rounding decides overlaps; plus anything in a wide range
_SENS = st.one_of(st.builds(lambda i, f: i / 1e4 + f, st.integers(1445, 1470),
                            st.sampled_from([0, 2e-5, 4.9e-5, 5e-5])),
                  st.floats(1e-3, 10))
# interval ends at and around the printed rounding of 0
_END = st.one_of(st.sampled_from([0.0, 0.004, -0.004, 0.005, -0.005, 0.0051, -0.0051]), st.floats(-1, 1))


@st.composite
def _trend(draw):
    if draw(st.booleans()) and draw(st.booleans()):
        return {"rho": None, "low": None, "high": None, "n": draw(st.integers(0, 2))}
    # one sign on all three ends as often as mixed ones: every pair of plain and partial directions occurs
    sign = draw(st.sampled_from([1, -1, None]))
    ends = draw(st.lists(_END if sign is None else st.floats(0, 1).map(lambda v: sign * v), min_size=3, max_size=3))
    ends = sorted(ends)
    return {"rho": ends[1], "low": ends[0], "high": ends[2], "n": draw(st.integers(3, 40))}


@st.composite
def _results(draw):
    sizes = st.sampled_from([16, 32, 64, 128, 256, 1024, 4096])
    batches = sorted(draw(st.sets(sizes, min_size=2, max_size=5)))
    seeds = range(draw(st.integers(1, 4)))
    target = draw(st.sampled_from([0.05, 1.2]))
    tolerance = draw(st.sampled_from([0.1, 0.05]))
    rows = []
    for s in seeds:
        for b in batches:
            rows.append({"batch_size": b, "seed": s, "steps": draw(st.integers(1, 30000)),
                         "train_loss": target * draw(st.sampled_from([0.5, 0.9, 0.99, 1.0, 1.0004, 1.01, 1.1, 1.5])),
                         "reached": draw(st.sampled_from([True, True, True, False])),
                         "diverged": draw(st.booleans()),
                         **{f"sensitivity_{k}": draw(_SENS) for k in OUTPUTS}})
    kept = [r for r in rows if r["reached"]]
    ends = {}
    for k in OUTPUTS:  # what run() stores, computed here by brute force
        bs = sorted({r["batch_size"] for r in kept})
        if len(bs) < 2:
            ends[k] = None
            continue
        a = [r[f"sensitivity_{k}"] for r in kept if r["batch_size"] == bs[-1]]
        b = [r[f"sensitivity_{k}"] for r in kept if r["batch_size"] == bs[0]]
        r = rankdata(a + b)
        side = sum(r[: len(a)]) - len(a) * (len(a) + len(b) + 1) / 2
        ends[k] = {"small": bs[0], "large": bs[-1], "p": _p_exact(a, b),
                   "side": int(side > 0) - int(side < 0),
                   "min_p": min(1.0, 2 / comb(len(a) + len(b), len(a)))}
    return {"params": {"target_loss": target, "max_steps": draw(st.integers(1, 30000))}, "models": rows,
            "tolerance": tolerance,
            "outputs": OUTPUTS, "primary": "softmax", "dataset": "MNIST: 512 train / 360 test, input 1×28×28",
            "trends": {k: {g: draw(_trend()) for g in ("batch_size", "test_loss", "gap_loss", "train_loss")}
                       for k in OUTPUTS},
            "partial": {k: draw(_trend()) for k in OUTPUTS},
            "ends": ends}


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_results())
def test_comment_claims_hold_on_the_printed_numbers(R):
    _verify(R, task.comment(R))


def test_rank_test_matches_brute_force():
    cases = (([1, 2], [3, 4]), ([1, 2, 3], [4, 5, 6]), ([1, 1, 2], [1, 3]), ([0.5], [0.7]),
             ([1, 3, 5], [2, 4]))
    for a, b in cases:
        r = task.rank_test(a, b)
        assert r["p"] == pytest.approx(_p_exact(a, b))
        assert r["min_p"] == pytest.approx(min(1, 2 / comb(len(a) + len(b), len(a))))
    assert task.rank_test([3, 4], [1, 2])["side"] == 1 and task.rank_test([1, 2], [3, 4])["side"] == -1
