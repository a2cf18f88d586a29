"""Part 3 task modules, run end to end with the smoke profile (a few seconds each)."""

import pytest

from hwlib.params import ParamError, resolve_task
from hwlib.tasks import t1_3a, t1_3b


def _P(task, tmp_path, **kw):
    return resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path, **kw)


def test_1_3a_random_labels(tmp_path):
    P = _P(t1_3a, tmp_path)
    R = t1_3a.run(P)
    rand, ref = R["runs"]
    assert rand["label"] == "random labels" and ref["label"] == "true labels"
    # one eval-mode measurement of the training set per epoch, test curves per epoch
    assert len(rand["train_acc"]) == P.epochs == len(rand["test_acc"])
    # the eval-mode training metrics end where fit's own final evaluation ends
    assert rand["train_acc"][-1] == pytest.approx(rand["final"]["train_acc"])
    assert abs(R["label_agreement"] - R["chance"]) < 0.08
    # the first-epoch rule
    assert t1_3a.first_epoch_reaching([0.2, 0.995, 0.98, 1.0], 0.99) == 2
    assert t1_3a.first_epoch_reaching([0.2, 0.5], 0.99) is None
    # the comment reads this very payload
    text = t1_3a.comment(R)
    assert f"ended at **{100 * rand['final']['test_acc']:.1f} %**" in text and "On the true labels" in text


def test_1_3b_widths_span_orders_of_magnitude(tmp_path):
    P = _P(t1_3b, tmp_path)
    R = t1_3b.run(P)
    assert len(R["models"]) >= 10 and R["summary"]["orders_of_magnitude"] >= 2
    params = [m["params"] for m in R["models"]]
    assert params == sorted(params) and len(set(params)) == len(params)
    assert len(R["runs"]) == len(P.widths) * len(P.seeds)
    s = R["summary"]
    assert s["best"]["test_acc"] == max(r["test_acc"] for r in s["by_width"].values())
    # the comment reads this very payload; one seed per width leaves the noise unknown
    assert "With 1 seed per width the seed noise is unknown" in t1_3b.comment(R)
    with pytest.raises(ParamError, match="widths"):
        _P(t1_3b, tmp_path, widths=[8, 4])
