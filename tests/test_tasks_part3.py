"""Part 3 task modules, run end to end with the smoke profile (a few seconds each)."""

import pytest

from hwlib.params import ParamError, resolve_task
from hwlib.tasks import t1_3a, t1_3b, t1_3c, t1_3d, t1_3e


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


def test_1_3c_path_endpoints_are_the_trained_models(tmp_path):
    P = _P(t1_3c, tmp_path)
    R = t1_3c.run(P)
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
        # both models of a pair trained to the same criterion: each stops at the target or the step limit
        for m in c["models"]:
            assert m["reached"] or m["steps"] >= P.max_steps
    assert "Which solution is flatter along the line" in t1_3c.comment(R)
    with pytest.raises(ParamError, match="alpha"):
        _P(t1_3c, tmp_path, alpha_min=0.2)


def test_1_3d_and_1_3e_measure_the_same_models(tmp_path):
    P = _P(t1_3d, tmp_path / "shared")
    D = t1_3d.run(P)
    E = t1_3e.run(_P(t1_3e, tmp_path / "shared"))  # after 1-3d: loads its cached models
    alone = t1_3e.run(_P(t1_3e, tmp_path / "alone"))  # no cache: trains them itself
    assert not D["models_loaded"] and E["models_loaded"] and not alone["models_loaded"]
    assert [(r["seed"], r["batch_size"]) for r in D["models"]] == [(s, b) for s in P.seeds for b in P.batch_sizes]
    for r in D["models"]:  # trained to the criterion: stopped at the target, or else at the step limit
        assert r["reached"] or r["steps"] >= P.max_steps
        assert all(r[f"sensitivity_{k}"] > 0 for k in ("softmax", "loss", "logits"))
    assert f"at most {P.target_loss:g}, with a limit of {P.max_steps:,} steps" in t1_3d.comment(D)
    # trained here or loaded, 1-3e measures 1-3d's models: same seed and data order, same models
    for d, e in zip(D["models"], alone["models"]):
        assert e["train_loss"] == pytest.approx(d["train_loss"], rel=1e-4)
        assert e["sensitivity_softmax"] == pytest.approx(d["sensitivity_softmax"], rel=1e-4)
        assert all(e[k] >= 0 for k in E["measures"] if k.startswith("sharpness"))
    # and the cached models are those models exactly: every measurement equal, not just close
    measured = [k for k in alone["models"][0] if "seconds" not in k]
    assert [[r[k] for k in measured] for r in E["models"]] == [[r[k] for k in measured] for r in alone["models"]]
    keys = {c["key"] for c in E["correlations"]}
    assert set(E["measures"]) <= keys
    for c in E["correlations"]:
        g = c["gap_loss"]
        assert g["rho"] is None or -1 <= g["low"] <= g["high"] <= 1
    assert "bootstrap over models" in t1_3e.comment(E)


def test_1_3d_cache_key_covers_every_training_setting():
    """A setting that changes the trained models must be in the cache key, or a stale model loads."""
    measuring_only = {"n_eval", "chunk_size"}
    assert set(t1_3d.TRAINING) == set(t1_3d.SPEC) - measuring_only


def test_bad_batch_sizes(tmp_path):
    with pytest.raises(ParamError, match="batch_sizes"):
        _P(t1_3d, tmp_path, batch_sizes=[64, 16, 128, 256, 512])
    with pytest.raises(ParamError, match="seeds"):
        _P(t1_3d, tmp_path, seeds=[1, 1])
