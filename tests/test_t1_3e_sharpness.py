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
