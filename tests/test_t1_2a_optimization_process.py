"""1-2a comment(): every branch on small hand-made results dicts."""

from hwlib.tasks import t1_2a_optimization_process as t1_2a


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
