"""1-3d's comment, branch by branch, on hand-made results (no training)."""

import pytest

from hwlib.tasks import t1_3d

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
    text = t1_3d.comment(_R())
    _clean(text)
    assert "All 4 models reached the target" in text
    assert "batch 16: 400, batch 1024: 90" in text
    assert "the largest batch gives the more sensitive models" in text
    assert "Softmax probabilities against the batch size over all batch sizes: rises (ρ = 0.80" in text
    assert "partly above the target" not in text


def test_clear_fall_tie_and_unknown():
    assert "gives the less sensitive models" in t1_3d.comment(_R(sens={16: [0.3, 0.31], 1024: [0.1, 0.12]}))
    assert "no clear difference (the seed ranges overlap)" in t1_3d.comment(_R(sens={16: [0.1, 0.3], 1024: [0.2, 0.25]}))
    one = t1_3d.comment(_R(sens={16: [0.1], 1024: [0.2]}))
    assert "one seed a side, so the seed noise is unknown" in one and "batch 16 → 1024: 0.1 → 0.2:" in one


def test_missed_models_are_named_and_left_out():
    one = t1_3d.comment(_R(missed={(1024, 1)}))
    assert "1 model missed it and is left out" in one and "batch 1024 (seed 1, stopped at 90 steps" in one
    assert "3 models" not in one
    two = _R(missed={(1024, 0), (1024, 1)})
    two["models"][2]["diverged"] = True
    text = t1_3d.comment(two)
    assert "2 models missed it and are left out" in text and "diverged at 90 steps" in text
    assert "Fewer than two batch sizes have a model at the target, so nothing is compared" in text
    _clean(text)


def test_trend_directions_and_the_logits_flip():
    text = t1_3d.comment(_R(trends={"softmax": UP, "loss": NONE, "logits": DOWN}))
    assert "Logits against the batch size over all batch sizes: falls" in text
    assert "Per-sample loss against the batch size over all batch sizes: no monotone trend is established" in text
    assert "which holds 0" in text
    assert "move in opposite directions" in text
    assert "opposite directions" not in t1_3d.comment(_R(trends={"softmax": UP, "loss": UP, "logits": NONE}))
    few = t1_3d.comment(_R(trends={"softmax": UNKNOWN, "loss": UNKNOWN, "logits": UNKNOWN}))
    assert "too few models for a rank correlation" in few


@pytest.mark.parametrize("c,words", [(UP, "the more sensitive ones test worse"),
                                     (DOWN, "the more sensitive ones test better"),
                                     (NONE, "does not establish a link with the test loss"),
                                     (UNKNOWN, "Too few models reached the target to rank-correlate")])
def test_link_with_the_test_loss(c, words):
    assert words in t1_3d.comment(_R(test_loss=c))


def test_eval_loss_above_the_target_is_explained():
    assert "partly above the target" in t1_3d.comment(_R(train_loss=0.08))


def test_rank_correlation_interval():
    r = t1_3d.rank_correlation([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])
    assert r["rho"] == pytest.approx(0.8286, abs=1e-3) and -1 <= r["low"] <= r["rho"] <= r["high"] <= 1
    assert r == t1_3d.rank_correlation([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])  # seeded: reproducible
    assert t1_3d.rank_correlation([1, 2], [1, 2])["rho"] is None  # too few models
    assert t1_3d.rank_correlation([1, 1, 1], [1, 2, 3])["rho"] is None  # one value: no ranking
    perfect = t1_3d.rank_correlation(list(range(8)), [v ** 2 for v in range(8)])
    assert perfect["rho"] == pytest.approx(1) and perfect["low"] == pytest.approx(1)
