"""1-3e: the comment branch by branch on hand-made results; 1-3d's models measured, table and figures on
a smoke run."""

import pytest
from matplotlib.figure import Figure

from hwlib.params import resolve_task
from hwlib.plots import png
from hwlib.tasks import t1_3d_sensitivity as t1_3d
from hwlib.tasks import t1_3e_sharpness as task

MEASURES = {"top_eigenvalue": "top Hessian eigenvalue", "sharpness_0.001": "ε-sharpness (ε = 0.001)",
            "sensitivity_softmax": "input sensitivity (softmax)"}


def _c(rho, low, high, n=10):
    return {"rho": rho, "low": low, "high": high, "n": n}


def _R(corr, seeds=(0, 1), missed=(), batch=None):
    rows = [{"batch_size": b, "seed": s, "steps": 100, "train_loss": 0.05, "diverged": False,
             "reached": (b, s) not in missed} for s in seeds for b in (16, 64, 256, 1024, 4096)]
    keys = {"batch_size": "batch size", **MEASURES}
    batch = batch or {}
    return {"params": {"target_loss": 0.05, "max_steps": 2000, "ascent_steps": 20}, "tolerance": 0.1,
            "dataset": "digits: 1437 train / 360 test", "models": rows, "measures": MEASURES,
            "gaps": task.GAPS, "gap": "gap_loss", "n_boot": 2000,
            "correlations": [{"measure": name, "key": k, "gap_loss": corr[k]} for k, name in keys.items()],
            "batch_trends": {k: batch.get(k, {"plain": _c(0.1, -0.5, 0.6), "partial": _c(0.1, -0.5, 0.6)})
                             for k in MEASURES}}


OVERLAP = {"batch_size": _c(0.1, -0.5, 0.6), "top_eigenvalue": _c(0.3, -0.2, 0.7),
           "sharpness_0.001": _c(0.5, 0.1, 0.8), "sensitivity_softmax": _c(-0.2, -0.6, 0.3)}


def _clean(text):
    for bad in ("(s)", "[", "True", "False", "`", "nan", "None"):
        assert bad not in text, bad


def test_directions_and_no_ranking_when_intervals_overlap():
    text = task.comment(_R(OVERLAP))
    _clean(text)
    assert "All 10 models reached the target" in text
    assert "over 10 models (2 seeds per batch size)" in text and "95 % bootstrap over models (2,000 resamples)" in text
    assert "**ε-sharpness (ε = 0.001)**: larger value, larger gap (ρ = 0.50" in text
    assert "**top Hessian eigenvalue**: no rank correlation is established" in text
    assert "The intervals of all 3 measures overlap" in text and "can be ranked" not in text
    down = dict(OVERLAP, sensitivity_softmax=_c(-0.7, -0.9, -0.2))
    assert "**input sensitivity (softmax)**: larger value, smaller gap" in task.comment(_R(down))


def test_ranked_only_where_intervals_separate():
    corr = OVERLAP | {"sharpness_0.001": _c(0.8, 0.5, 0.95), "sensitivity_softmax": _c(-0.3, -0.7, 0.2)}
    text = task.comment(_R(corr))
    _clean(text)
    assert ("ε-sharpness (ε = 0.001) has the higher rank correlation with the gap than input sensitivity (softmax) "
            "(0.80 against -0.30)") in text
    assert "than top Hessian eigenvalue" not in text  # 0.5 to 0.95 overlaps -0.2 to 0.7
    assert "Every other pair of intervals overlaps" in text
    ordered = OVERLAP | {"top_eigenvalue": _c(0.0, -0.1, 0.1), "sharpness_0.001": _c(0.8, 0.5, 0.95),
                          "sensitivity_softmax": _c(-0.6, -0.9, -0.3)}
    text = task.comment(_R(ordered))
    assert text.count("has the higher rank correlation") == 3 and "Every other pair" not in text


def test_one_seed_and_missed_models():
    text = task.comment(_R(OVERLAP, seeds=(0,), missed={(4096, 0)}))
    _clean(text)
    assert "1 model missed it" in text and "over 4 models (1 seed per batch size)" in text
    assert "the intervals are optimistic" in text
    assert "optimistic" not in task.comment(_R(OVERLAP))


def test_ranked_on_the_printed_intervals():
    # 0.304 and 0.296 both print as 0.30: the printed intervals touch, so they overlap
    touch = OVERLAP | {"sharpness_0.001": _c(0.5, 0.304, 0.8), "sensitivity_softmax": _c(0.0, -0.6, 0.296)}
    text = task.comment(_R(touch))
    assert "The intervals of all 3 measures overlap" in text and "can be ranked" not in text
    apart = OVERLAP | {"sharpness_0.001": _c(0.8, 0.5, 0.95), "sensitivity_softmax": _c(-0.001, -0.3, 0.2)}
    text = task.comment(_R(apart))
    assert "than input sensitivity (softmax) (0.80 against 0.00)" in text and "-0.00" not in text


def test_seeds_per_batch_size_counted_at_the_target():
    text = task.comment(_R(OVERLAP, missed={(4096, 1)}))
    assert "over 9 models (1 to 2 seeds per batch size)" in text and "optimistic" not in text
    # two seeds, but one model at the target per batch size
    one = task.comment(_R(OVERLAP, missed={(16, 1), (64, 1), (256, 0), (1024, 0), (4096, 1)}))
    assert "over 5 models (1 seed per batch size)" in one and "the intervals are optimistic" in one


def test_a_single_batch_size_at_the_target():
    text = task.comment(_R(OVERLAP | {"batch_size": _c(None, None, None, 2)}))
    assert "(or a single batch size, or a measure with a single value) no rank correlation can be computed" in text
    _clean(text)


UP, DOWN, NONE = _c(0.8, 0.4, 0.95), _c(-0.8, -0.95, -0.4), _c(0.1, -0.5, 0.6)


@pytest.mark.parametrize("trend,words", [
    (UP, "the ε-sharpness here rises with the batch size, as in the paper."),
    (DOWN, "here the ε-sharpness falls with the batch size, the opposite, and the setting differs: the paper compared"),
    (NONE, "here no ε-sharpness trend with the batch size is established (no interval that excludes 0), so this run "
           "cannot tell whether it agrees. The setting: the paper compared batch 256")])
def test_against_keskar_et_al(trend, words):
    text = task.comment(_R(OVERLAP, batch={"sharpness_0.001": {"plain": trend, "partial": NONE}}))
    assert "Keskar et al. (2017) found that large batches converge to sharper minima" in text and words in text
    assert "- **ε-sharpness (ε = 0.001)**: " in text.split("Against the batch size:")[1]
    _clean(text)


def test_batch_trend_with_the_training_loss_held_fixed():
    text = task.comment(_R(OVERLAP, batch={"top_eigenvalue": {"plain": UP, "partial": NONE}}))
    assert ("- **top Hessian eigenvalue**: rises (ρ = 0.80, 95 % interval 0.40 to 0.95 over 10 models, which excludes "
            "0). With the final training loss held fixed (partial rank correlation) it does not survive") in text
    assert "| top Hessian eigenvalue | 0.80 (0.40 to 0.95) | 0.10 (-0.50 to 0.60) |" in "\n".join(
        "| " + " | ".join(r.values()) + " |" for r in task.batch_table(
            _R(OVERLAP, batch={"top_eigenvalue": {"plain": UP, "partial": NONE}})))


def test_no_correlation_no_comparison():
    none = dict(OVERLAP, top_eigenvalue=_c(None, None, None, 2))
    text = task.comment(_R(none))
    _clean(text)
    assert "no rank correlation can be computed, so the measures are not compared" in text


def test_correlation_table_cells():
    R = _R(OVERLAP | {"top_eigenvalue": _c(None, None, None, 2)})
    R["gaps"] = {"gap_loss": "test − train loss"}  # the hand-made correlations hold this gap only
    rows = task.correlation_table(R)
    assert rows[0] == {"measure": "batch size", "test − train loss": "0.10 (-0.50 to 0.60)"}
    assert rows[1]["test − train loss"] == "—"


def test_measures_the_models_of_1_3d_loaded_or_trained(tmp_path):
    P = resolve_task(t1_3d, profile="smoke", device="cpu", out_dir=tmp_path / "shared")
    D = t1_3d.run(P)
    E = task.run(resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path / "shared"))  # loads 1-3d's models
    alone = task.run(resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path / "alone"))  # trains them
    assert not D["models_loaded"] and E["models_loaded"] and not alone["models_loaded"]
    # trained here or loaded, 1-3e measures 1-3d's models: same seed and data order, same models
    for d, e in zip(D["models"], alone["models"]):
        assert e["train_loss"] == pytest.approx(d["train_loss"], rel=1e-4)
        assert e["sensitivity_softmax"] == pytest.approx(d["sensitivity_softmax"], rel=1e-4)
        assert all(e[k] >= 0 for k in E["measures"] if k.startswith("sharpness"))
    # and the cached models are those models exactly: every measurement equal, not just close
    measured = [k for k in alone["models"][0] if "seconds" not in k]
    assert [[r[k] for k in measured] for r in E["models"]] == [[r[k] for k in measured] for r in alone["models"]]
    assert set(E["measures"]) <= {c["key"] for c in E["correlations"]}
    for c in E["correlations"]:
        g = c["gap_loss"]
        assert g["rho"] is None or -1 <= g["low"] <= g["high"] <= 1
    assert "bootstrap over models" in task.comment(E)
    # the table and the figure, from these results
    text = task.table(E)
    assert "loaded from 1-3d's model cache" in text and "trained here" in task.table(alone)
    # three tables, each with its header row: models, correlations with the gaps, trends with the batch size
    assert text.count("\n| ") == 1 + len(E["models"]) + 1 + len(E["correlations"]) + 1 + len(E["measures"])
    _clean(text)
    for rows in (E["models"], [dict(r, reached=False) for r in E["models"]]):  # dots, then none to draw
        (fig, caption), = task.figures(dict(E, models=rows))
        assert isinstance(fig, Figure) and len(fig.axes) == 2 * len(E["measures"])
        assert "generalization gap (test − train loss) against each measure" in caption
        _clean(caption)
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


# ---------------------------------------------------------------- the comment against random results
# Every number the comment prints is re-derived here from R at the precision it is printed with, and every
# claim (a direction, a ranking of two measures, the seeds per batch size, survive / reverse / appear, the
# Keskar sentence) is checked against its stated rule on the PRINTED intervals.

import re
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_t1_3d_sensitivity import _check_controlled, _check_criterion, _check_link, _close

# interval ends at and around the printed rounding of 0, and of 0.30 (where two intervals may touch)
_END = st.one_of(st.sampled_from([0.0, 0.004, -0.004, 0.005, -0.005, 0.0051, -0.0051]),
                 st.sampled_from([0.295, 0.2951, 0.296, 0.2949, 0.3, 0.304, 0.3049, 0.305, 0.3051]),
                 st.floats(-1, 1))


def _interval(draw, n: int) -> dict:
    """A rank correlation over n models: one sign on all three ends as often as mixed ones."""
    sign = draw(st.sampled_from([1, -1, None]))
    ends = sorted(draw(st.lists(_END if sign is None else st.floats(0, 1).map(lambda v: sign * v),
                                min_size=3, max_size=3)))
    return {"rho": ends[1] + 0.0, "low": ends[0] + 0.0, "high": ends[2] + 0.0, "n": n}


def _none(n: int) -> dict:
    return {"rho": None, "low": None, "high": None, "n": n}


def _stacked(draw, keys: list[str], n: int) -> dict:
    """Intervals one above the other, gaps of 0 to 0.1 between them: every pair ranked, or touching as printed."""
    out, top = {}, -1.0
    gaps = st.sampled_from([0.0, 0.001, 0.004, 0.01, 0.1]) if draw(st.booleans()) else st.just(0.1)
    for k in draw(st.permutations(keys)):
        low = top + draw(gaps)
        top = low + draw(st.sampled_from([0.05, 0.1, 0.2]))
        out[k] = {"rho": (low + top) / 2, "low": low, "high": top, "n": n}
    return out


def _models(draw, target: float) -> list[dict]:
    batches = sorted(draw(st.sets(st.sampled_from([16, 64, 256, 1024, 4096]), min_size=3, max_size=5)))
    seeds = range(draw(st.sampled_from([1, 1, 2, 3, 4])))
    rows = [{"batch_size": b, "seed": s, "steps": draw(st.integers(1, 30000)), "diverged": draw(st.booleans()),
             "train_loss": target * draw(st.sampled_from([0.5, 0.9, 1.0, 1.0004, 1.1, 1.5])),
             "reached": draw(st.sampled_from([True, True, True, False]))} for s in seeds for b in batches]
    mode = draw(st.sampled_from(["drawn"] * 4 + ["one per batch size", "one batch size"]))
    if mode == "one per batch size":  # one model at the target per batch size, from different seeds
        kept = {b: draw(st.sampled_from(seeds)) for b in batches}
        for r in rows:
            r["reached"] = r["seed"] == kept[r["batch_size"]]
    if mode == "one batch size":  # every model at the target has one batch size: no ρ with it
        b = draw(st.sampled_from(batches))
        for r in rows:
            r["reached"] = r["batch_size"] == b
    return rows


@st.composite
def _results(draw):
    target = draw(st.sampled_from([0.05, 1.2]))
    rows = _models(draw, target)
    kept = [r for r in rows if r["reached"]]
    n, one_batch = len(kept), len({r["batch_size"] for r in kept}) < 2
    measures = task.measure_names(SimpleNamespace(eps=draw(st.lists(st.sampled_from([1e-3, 5e-4, 1e-2]), min_size=1,
                                                                                      max_size=3, unique=True))))

    def corr(key):  # too few models, one batch size, or (rarely) a measure with one value: no ρ
        if n < 3 or (key == "batch_size" and one_batch) or draw(st.integers(0, 59)) == 0:
            return _none(n)
        return stacked.get(key) or _interval(draw, n)

    def trend(part):  # the partial one also fails where the training loss orders the models exactly
        if n < 3 or one_batch or (part == "partial" and draw(st.integers(0, 9)) == 0):
            return _none(n)
        return _interval(draw, n)
    stacked = _stacked(draw, list(measures), n) if draw(st.integers(0, 3)) == 0 else {}
    trends = {k: {t: trend(t) for t in ("plain", "partial")} for k in measures}
    return {"params": {"target_loss": target, "max_steps": draw(st.integers(1, 30000)),
                       "ascent_steps": draw(st.integers(0, 30))},
            "tolerance": draw(st.sampled_from([0.1, 0.05])), "dataset": "digits: 1437 train / 360 test",
            "models": rows, "measures": measures, "gaps": task.GAPS, "gap": "gap_loss", "n_boot": 2000,
            "correlations": [{"measure": name, "key": k, "gap_loss": corr(k)}
                             for k, name in {"batch_size": "batch size", **measures}.items()],
            "batch_trends": trends}


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_results())
def test_comment_claims_hold_on_the_printed_numbers(R):
    _verify(R, task.comment(R))


def _shown(v: float) -> Decimal:
    """An interval end as printed (two decimals)."""
    return Decimal(f"{v:.2f}")


def _direction(c: dict) -> str:
    if c["rho"] is None:
        return "unknown"
    return "up" if _shown(c["low"]) > 0 else "down" if _shown(c["high"]) < 0 else "none"


def _verify(R: dict, text: str) -> None:
    lines = [ln for ln in text.split("\n") if ln]
    _check_criterion(R, lines[0])
    assert not re.search(r"-0\.0+\b", text), "a negative zero is printed"
    kept = [r for r in R["models"] if r["reached"]]
    C = {c["key"]: c[R["gap"]] for c in R["correlations"]}
    if any(c["rho"] is None for c in C.values()):
        assert lines[1:] == [(f"With {len(kept)} model{'s' * (len(kept) != 1)} at the target (or a single batch "
                              "size, or a measure with a single value) no rank correlation can be computed, so the "
                              "measures are not compared.")], lines[1:]
        return
    rest = _check_gap_lines(R, lines[1:], kept, C)
    rest = _check_ranking(R, rest, C)
    counts = [sum(r["batch_size"] == b for r in kept) for b in sorted({r["batch_size"] for r in kept})]
    one = ("With one seed per batch size, the models of one batch size cannot show how much a measure varies "
           "between seeds, and the intervals are optimistic.")
    assert (rest[0] == one) == (max(counts) == 1), (counts, rest[0])
    rest = rest[1:] if rest[0] == one else rest
    _check_batch_lines(R, rest[:-1])
    _check_keskar(R, rest[-1], kept)


def _check_gap_lines(R: dict, lines: list[str], kept: list[dict], C: dict) -> list[str]:
    """The head (models, seeds per batch size, resamples) and each measure's direction against the gap."""
    counts = [sum(r["batch_size"] == b for r in kept) for b in sorted({r["batch_size"] for r in kept})]
    seeds = f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)} to {max(counts)}"
    assert lines[0] == (f"Each measure is ranked against the generalization gap (test − train loss) over {len(kept)} "
                        f"models ({seeds} seed{'s' * (max(counts) != 1)} per batch size); the interval is a 95 % "
                        f"bootstrap over models ({R['n_boot']:,} resamples)."), (counts, lines[0])
    names = {"batch_size": "the batch size itself", **R["measures"]}
    for (key, name), ln in zip(names.items(), lines[1:]):
        assert ln.startswith(f"- **{name}**: "), ln
        _check_link(ln, C[key], ("larger value, larger gap",), ("larger value, smaller gap",))
    return lines[1 + len(names):]


def _check_ranking(R: dict, lines: list[str], C: dict) -> list[str]:
    """Two measures ranked exactly where their printed intervals do not overlap, with their printed ρ."""
    names = R["measures"]
    apart = [(a, b) for a in names for b in names if a != b and _shown(C[a]["low"]) > _shown(C[b]["high"])]
    if not apart:
        assert lines[0] == (f"The intervals of all {len(names)} measures overlap: with these models the data cannot "
                            "say which measure tracks the generalization gap best."), lines[0]
        return lines[1:]
    head = "Where two intervals do not overlap the measures can be ranked: "
    assert lines[0].startswith(head) and lines[0].count("has the higher rank correlation") == len(apart), (apart, lines[0])
    for a, b in apart:
        m = re.search(rf"{re.escape(names[a])} has the higher rank correlation with the gap than "
                      rf"{re.escape(names[b])} \((\S+) against (\S+)\)", lines[0])
        assert m and _close(C[a]["rho"], m[1]) and _close(C[b]["rho"], m[2]), (a, b, lines[0])
    every = "Every other pair of intervals overlaps, and those measures are not ranked."
    unranked = len(apart) < len(names) * (len(names) - 1) // 2
    assert (lines[1] == every) == unranked, (apart, lines[1])
    return lines[1 + unranked:]


def _check_batch_lines(R: dict, lines: list[str]) -> None:
    """Each measure against the batch size, and with the training loss held fixed."""
    assert lines[0] == "Against the batch size:" and len(lines) == 1 + len(R["measures"]), lines
    for (key, name), ln in zip(R["measures"].items(), lines[1:]):
        m = re.fullmatch(rf"- \*\*{re.escape(name)}\*\*: (.*?)\. (With the final training loss held fixed .*)", ln)
        assert m, ln
        c = R["batch_trends"][key]
        trend = _check_link(m[1], c["plain"], ("rises",), ("falls",))
        _check_controlled(m[2], trend, c["partial"])


def _check_keskar(R: dict, line: str, kept: list[dict]) -> None:
    """As in the paper where every ε-sharpness rises with the batch size, the opposite where every one falls."""
    dirs = {_direction(R["batch_trends"][k]["plain"]) for k in R["measures"] if k.startswith("sharpness_")}
    assert line.startswith(task.KESKAR + ": "), line
    if dirs == {"up"}:
        assert line.endswith(": the ε-sharpness here rises with the batch size, as in the paper."), (dirs, line)
        return
    if dirs == {"down"}:
        assert "here the ε-sharpness falls with the batch size, the opposite, and the setting differs" in line, dirs
    elif {"up", "down"} & dirs:
        assert "here the ε values do not agree on a trend with the batch size, so this run cannot tell" in line, dirs
    else:
        assert "here no ε-sharpness trend with the batch size is established" in line, (dirs, line)
    if dirs <= {"none"}:  # a lean is named exactly where every printed ρ has one sign
        rhos = [R["batch_trends"][k]["plain"]["rho"] for k in R["measures"] if k.startswith("sharpness_")]
        printed = [float(f"{r:.2f}") for r in rhos]
        lean = "the other way" if all(v < 0 for v in printed) else "the paper's way" if all(v > 0 for v in printed) \
            else None
        assert (f"point estimate leans {lean}" in line) if lean else ("leans" not in line), (printed, line)
    else:
        assert "leans" not in line, line
    b = sorted({r["batch_size"] for r in kept}) or sorted({r["batch_size"] for r in R["models"]})
    assert (f"here {len(kept)} small BatchNorm CNNs on {R['dataset'].split(':')[0]} with batches {b[0]} to {b[-1]}, "
            f"each trained to one training loss, and the box explored by {R['params']['ascent_steps']} sign-gradient "
            "ascent steps") in line, line


def test_bottom_row_marks_each_batch_size_by_its_marker_not_by_labels_that_collide():
    R = _R(OVERLAP)
    for i, r in enumerate(R["models"]):  # two seeds of a batch size land close together
        r.update({k: 1.0 + 0.01 * i for k in MEASURES}, gap_loss=0.036 + 0.0001 * (i % 3), reached=True)
    (fig, _), = task.figures(R)
    bottom = fig.axes[len(MEASURES):]
    assert all(len(ax.texts) == 0 for ax in bottom)  # no text beside the points
    sizes = ["16", "64", "256", "1024", "4096"]
    for ax in bottom:
        markers = [c.get_paths()[0].vertices.tobytes() for c in ax.collections]
        assert len(ax.collections) == len(sizes) and len(set(markers)) == len(sizes)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == sizes and legend.get_title().get_text() == "batch size"
    assert png(fig)[:4] == b"\x89PNG"
