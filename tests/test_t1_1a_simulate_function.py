"""1-1a: the smoke run's results are plain host data its table and figures draw from; the comment
compares each deeper MLP with the shallowest on final training loss, decided by the seeds."""

import pytest
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
    return results.load(t1_1a.NAME, out)


def test_predictions_reach_the_figures_as_host_lists(smoke):
    # on a GPU box these were CUDA tensors, and the figure failed after all the training
    assert results.host_data_problem(smoke) is None
    pred = smoke["predictions"]["sinc"]
    assert isinstance(pred["x"], list) and isinstance(pred["truth"], list)
    assert all(isinstance(v, list) and len(v) == len(pred["x"]) for v in pred["by_depth"].values())
    # the comment reads this very payload; the smoke profile's single seed leaves the noise unknown
    text = t1_1a.comment(smoke)
    assert "sin(5πx)/(5πx)" in text and "With 1 seed per model the seed noise is unknown" in text


def test_table_and_figures_draw_from_the_saved_results(smoke):
    table = t1_1a.table(smoke)
    assert table.count("\n| ") == len(smoke["params"]["depths"]) and "Plateau rule: off." in table
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
    return [{"depth": depth, "seed": s, "epochs_run": epochs_run, "stopped": stopped if loss is not None else None,
             "diverged": {"epoch": 5} if loss is None else None, "train_loss": loss, "test_loss": loss,
             "seconds": 1.0} for s, loss in enumerate(losses)]


def _R(by_fn, seeds=2, epochs=100):
    return {"profile": "quick", "params": {"functions": list(by_fn), "seeds": seeds, "budget": 570, "lr": 3e-3,
                                           "epochs": epochs},
            "runs": {fn: [r for rs in runs for r in rs] for fn, runs in by_fn.items()}}


def _clean(text):
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad
    return text


SHALLOW = _runs(1, [0.10, 0.12])


def test_overlapping_seeds_are_no_clear_difference():
    text = _clean(t1_1a.comment(_R({"sinc": [SHALLOW, _runs(3, [0.05, 0.11]), _runs(6, [0.11, 0.20])]})))
    assert text.count("**no clear difference**") == 2
    assert "no depth fit clearly better or worse than the shallowest" in text
    assert "paid off" not in text


def test_clear_wins_of_depth_on_every_function():
    R = _R({"sinc": [SHALLOW, _runs(3, [0.01, 0.02])], "sign": [SHALLOW, _runs(3, [0.03, 0.04])]})
    text = _clean(t1_1a.comment(R))
    assert text.count("**clearly lower**") == 2 and "every seed below" in text
    assert "every deeper model fit clearly better than the shallowest on every function compared: here, depth paid off" in text


def test_clear_win_of_the_shallow_model():
    text = _clean(t1_1a.comment(_R({"sinc": [SHALLOW, _runs(3, [0.5, 0.6]), _runs(6, [0.3, 0.4])]})))
    assert text.count("**clearly higher**") == 2
    assert "every deeper model fit clearly worse than the shallowest" in text


def test_deeper_models_that_disagree_are_no_trend():
    # the quick run's sgn: 6 layers clearly better, 3 layers clearly worse
    R = _R({"sign": [SHALLOW, _runs(3, [0.35, 0.40]), _runs(6, [0.02, 0.08])],
            "sinc": [SHALLOW, _runs(3, [0.01, 0.02])]})
    text = _clean(t1_1a.comment(R))
    assert "Depth had no consistent effect" in text
    assert "on sgn(sin(5πx)) the deeper models did not agree with each other" in text
    assert "on sin(5πx)/(5πx) every deeper model fit clearly better" in text


def test_one_seed_leaves_the_noise_unknown():
    text = _clean(t1_1a.comment(_R({"sinc": [_runs(1, [0.1]), _runs(3, [0.01])]}, seeds=1)))
    assert "the seed noise is unknown (one finished run on a side)" in text
    assert "With 1 seed per model the seed noise is unknown, so no depth is called better" in text


def test_a_diverged_seed_is_left_out_and_can_leave_one_run():
    text = _clean(t1_1a.comment(_R({"sinc": [SHALLOW, _runs(3, [0.01, None])]})))
    assert "1 run diverged" in text and "is left out" in text
    assert "seed noise is unknown" in text  # one finished run left on the deep side


def test_every_run_diverged():
    text = _clean(t1_1a.comment(_R({"sinc": [_runs(1, [None, None]), _runs(3, [None, None])]})))
    assert "every run diverged" in text and "Fewer than two depths" in text and "lr=0.003" in text
    assert "No function has two depths with finished runs" in text


def test_one_depth_left_compares_nothing():
    text = _clean(t1_1a.comment(_R({"sinc": [SHALLOW, _runs(3, [None, None])]})))
    assert "2 runs diverged" in text and "are left out" in text and "Fewer than two depths" in text


def test_runs_at_the_epoch_limit_are_not_final():
    one = _R({"sinc": [SHALLOW, _runs(3, [0.01]) + _runs(3, [0.02], epochs_run=100, stopped=None)]})
    assert "1 run of 4 reached the epoch limit" in _clean(t1_1a.comment(one)) and "its loss is not final" in \
        t1_1a.comment(one)
    many = _R({"sinc": [_runs(1, [0.1, 0.2], stopped=None), _runs(3, [0.01, 0.02])]})
    assert "2 runs of 4 reached the epoch limit" in t1_1a.comment(many)
    assert "their losses are not final" in t1_1a.comment(many)
    assert "Every run stopped on the plateau rule" in t1_1a.comment(_R({"sinc": [SHALLOW, _runs(3, [0.01, 0.02])]}))


def test_a_function_without_runs_is_said():
    text = _clean(t1_1a.comment(_R({"sinc": [SHALLOW, _runs(3, [0.01, 0.02])], "sign": []})))
    assert "sgn(sin(5πx))**: no run was recorded" in text
    assert "every deeper model fit clearly better than the shallowest on every function compared" in text


def test_functions_that_disagree_are_each_named():
    R = _R({"sinc": [SHALLOW, _runs(3, [0.01, 0.02])], "sign": [SHALLOW, _runs(3, [0.5, 0.6])],
            "damped_cosine": [SHALLOW, _runs(3, [0.11, 0.13])]})
    text = _clean(t1_1a.comment(R))
    assert "Depth had no consistent effect at about 570 parameters" in text
    assert "on sin(5πx)/(5πx) every deeper model fit clearly better" in text
    assert "on sgn(sin(5πx)) every deeper model fit clearly worse" in text
    assert "on exp(-2|x|)·cos(8πx) the seeds could not tell the depths apart" in text
    one_seed = _R({"sinc": [SHALLOW, _runs(3, [0.01, 0.02])], "sign": [_runs(1, [0.1]), _runs(3, [0.2])]})
    assert "and on sgn(sin(5πx)) the seed noise is unknown" in _clean(t1_1a.comment(one_seed))
