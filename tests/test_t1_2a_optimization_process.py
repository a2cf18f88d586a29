"""1-2a: the smoke run end to end, its table and figures, and comment() on every branch with small
hand-made results dicts."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
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


def test_apart_partial_whole_model_steps_shrink():
    text = t1_2a.comment(make_R())
    assert "All 3 runs end" in text and "99.0 %" in text
    assert "every pair ends farther apart" in text and "over 3 pairs" in text
    assert "for the whole model most of the motion is outside the plane" in text
    assert "the steps shrink" in text
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad


def test_closer_and_steps_grow():
    text = t1_2a.comment(make_R(start=(3.0, 3.1, 3.2), end=(2.0, 2.1, 2.2), first=(0.1, 0.2, 0.3), last=(0.8, 0.9, 1.0)))
    assert "every pair ends closer together" in text and "the steps grow" in text


def test_ties():
    text = t1_2a.comment(make_R(end=(2.05, 2.15, 2.25), last=(0.85, 0.95, 1.05)))
    assert "neither clearly closer together nor clearly farther apart" in text
    assert "no clear change of the step length" in text


def test_plane_holds_most_or_neither():
    assert "the plane holds most of the motion" in t1_2a.comment(make_R(evr=(0.5, 0.2), evr_layer=(0.6, 0.1)))
    both = t1_2a.comment(make_R(evr_layer=(0.2, 0.1)))
    assert "for the whole model and the layer most of the motion" in both


def test_two_runs_one_pair_and_one_run():
    two = t1_2a.comment(make_R(k=2, start=(2.0,), end=(3.0,)))
    assert "with a single pair of runs" in two and "over 1 pair" not in two
    one = t1_2a.comment(make_R(k=1, start=(2.0,), end=(3.0,)))
    assert "The one run ends" in one and "the seed noise is unknown" in one


def test_single_step_between_snapshots():
    text = t1_2a.comment(make_R(snapshots=2))
    assert "With a single step between snapshots" in text


def test_figure_labels_a_run_without_accuracy_by_its_seed_alone():
    runs = [{"seed": s, "loss": [2.0, 0.5], "acc": [0.1, acc]} for s, acc in ((0, 0.9), (1, None))]
    pca = {"coords": [[[0, 0], [1, 1]], [[0, 1], [-1, 0]]], "explained_variance_ratio": [0.6, 0.3]}
    R = {"params": {"layer": "1.weight"}, "n_params": 100, "layer_params": 40, "runs": runs,
         "pca": {"whole": pca, "layer": pca}}
    (fig, _), (fig2, _) = t1_2a.figures(R)
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["0: 90 %", "1"]
    assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here
    plt.close(fig2)


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
