"""1-3d: the comment branch by branch on hand-made results; the task, its table and figures on a smoke run."""

import pytest
from matplotlib.figure import Figure

from hwlib.params import ParamError, resolve_task
from hwlib.plots import png
from hwlib.tasks import t1_3d_sensitivity as task

OUTPUTS = {"softmax": "softmax probabilities", "loss": "per-sample loss", "logits": "logits"}


def _c(rho, low, high, n=10):
    return {"rho": rho, "low": low, "high": high, "n": n}


UP, DOWN, NONE, UNKNOWN = _c(0.8, 0.4, 0.95), _c(-0.8, -0.95, -0.4), _c(0.1, -0.5, 0.6), _c(None, None, None, 2)


def _R(sens=None, missed=(), train_loss=0.04, trends=None, test_loss=NONE):
    """Two seeds at batch 16 and 1024 (sensitivities per seed given), every output trending as ``trends``."""
    sens = sens or {16: [0.10, 0.11], 1024: [0.20, 0.21]}
    rows = []
    for b, values in sens.items():
        for seed, v in enumerate(values):
            rows.append({"batch_size": b, "seed": seed, "steps": 400 if b == 16 else 90, "train_loss": train_loss,
                         "reached": (b, seed) not in missed, "diverged": False, "sensitivity_softmax": v})
    trends = trends or {"softmax": UP, "loss": UP, "logits": UP}
    return {"params": {"target_loss": 0.05, "max_steps": 2000}, "models": rows, "outputs": OUTPUTS, "primary": "softmax",
            "trends": {k: {"batch_size": c, "test_loss": test_loss, "gap_loss": NONE} for k, c in trends.items()}}


def _clean(text):
    for bad in ("(s)", "[", "True", "False", "`", "nan"):
        assert bad not in text, bad


def test_all_reached_and_a_clear_rise():
    text = task.comment(_R())
    _clean(text)
    assert "All 4 models reached the target" in text
    assert "batch 16: 400, batch 1024: 90" in text
    assert "the largest batch gives the more sensitive models" in text
    assert "Softmax probabilities against the batch size over all batch sizes: rises (ρ = 0.80" in text
    assert "partly above the target" not in text


def test_clear_fall_tie_and_unknown():
    assert "gives the less sensitive models" in task.comment(_R(sens={16: [0.3, 0.31], 1024: [0.1, 0.12]}))
    assert "no clear difference (the seed ranges overlap)" in task.comment(_R(sens={16: [0.1, 0.3], 1024: [0.2, 0.25]}))
    one = task.comment(_R(sens={16: [0.1], 1024: [0.2]}))
    assert "one seed a side, so the seed noise is unknown" in one and "batch 16 → 1024: 0.1 → 0.2:" in one


def test_missed_models_are_named_and_left_out():
    one = task.comment(_R(missed={(1024, 1)}))
    assert "1 model missed it and is left out" in one and "batch 1024 (seed 1, stopped at 90 steps" in one
    assert "3 models" not in one
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


@pytest.mark.parametrize("c,words", [(UP, "the more sensitive ones test worse"),
                                     (DOWN, "the more sensitive ones test better"),
                                     (NONE, "does not establish a link with the test loss"),
                                     (UNKNOWN, "Too few models reached the target to rank-correlate")])
def test_link_with_the_test_loss(c, words):
    assert words in task.comment(_R(test_loss=c))


def test_eval_loss_above_the_target_is_explained():
    assert "partly above the target" in task.comment(_R(train_loss=0.08))


def test_rank_correlation_interval():
    r = task.rank_correlation([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])
    assert r["rho"] == pytest.approx(0.8286, abs=1e-3) and -1 <= r["low"] <= r["rho"] <= r["high"] <= 1
    assert r == task.rank_correlation([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])  # seeded: reproducible
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
    for r in R["models"]:  # stopped at the target, or else at the step limit
        assert r["reached"] or r["steps"] >= P.max_steps
        assert all(r[f"sensitivity_{k}"] > 0 for k in ("softmax", "loss", "logits"))
    assert f"at most {P.target_loss:g}, with a limit of {P.max_steps:,} steps" in task.comment(R)


def test_table_and_figures_from_the_results(smoke):
    _, R = smoke
    text = task.table(R)
    assert text.count("\n| ") == 1 + len(R["models"]) and "sensitivity (softmax)" in text
    _clean(text)
    # every model at the target, then none (no dots to draw): the figure is drawn either way
    for rows in (R["models"], [dict(r, reached=False) for r in R["models"]]):
        (fig, caption), = task.figures(dict(R, models=rows))
        assert isinstance(fig, Figure) and "softmax probabilities, mean ‖∂p/∂x‖_F over" in caption
        _clean(caption)
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def test_cache_key_covers_every_training_setting():
    """A setting that changes the trained models must be in the cache key, or a stale model loads."""
    measuring_only = {"n_eval", "chunk_size"}
    assert set(task.TRAINING) == set(task.SPEC) - measuring_only


def test_bad_batch_sizes(tmp_path):
    with pytest.raises(ParamError, match="batch_sizes"):
        resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path, batch_sizes=[64, 16, 128, 256, 512])
    with pytest.raises(ParamError, match="seeds"):
        resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path, seeds=[1, 1])
