"""1-2b: the smoke run end to end, its table and figures, comment() on every branch with small
hand-made results dicts, and the trend helpers."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from hwlib.params import resolve_task
from hwlib.plots import png
from hwlib.tasks import t1_2b_gradient_norm as t1_2b


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    P = resolve_task(t1_2b, profile="smoke", device="cpu", out_dir=tmp_path_factory.mktemp("out"))
    return P, t1_2b.run(P)


def test_records_every_iteration(smoke):
    P, R = smoke
    fn = R["per_dataset"]["sinc"]
    assert fn["full_batch"] and fn["steps"] == P.function_epochs
    img = R["per_dataset"]["digits"]
    assert img["steps"] == P.image_epochs * -(-P.train_limit // P.image_batch_size)
    for D in (fn, img):
        for run in D["runs"]:
            assert len(run["grad_norm"]) == len(run["loss"]) == D["steps"]
            assert all(g > 0 for g in run["grad_norm"])
            assert run["end_grad_norm"] == pytest.approx(float(np.median(run["grad_norm"][-D["trend_window"]:])))
    assert "(s)" not in t1_2b.comment(R)


def test_table_and_figures(smoke):
    _, R = smoke
    table = t1_2b.table(R)
    assert table.count("\n") == 1 + len(R["per_dataset"]) and "| full |" in table
    figs = t1_2b.figures(R)
    assert len(figs) == len(R["per_dataset"])  # one per dataset
    for fig, caption in figs:
        assert isinstance(fig, Figure) and caption.endswith(".")
        for bad in ("(s)", "[", "`", "True", "False"):
            assert bad not in caption, bad
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def run(seed=0, gs=1.0, ge=0.1, ls=2.0, le=0.1, rho=0.7, peak=1.0, peak_it=1, jg=1.0, jl=0.1, tp=None, tpi=50):
    d = seed * 0.01  # a little seed spread
    return {"seed": seed, "start_grad_norm": gs + d, "end_grad_norm": ge + d, "start_loss": ls + d, "end_loss": le + d,
            "spearman_grad_loss": rho + d, "peak_grad_norm": peak, "peak_iteration": peak_it,
            "max_jump_grad_norm": jg + d, "max_jump_loss": jl + d,
            "trend_peak_grad_norm": gs if tp is None else tp, "trend_peak_iteration": tpi}


def make_R(runs, full_batch=True):
    return {"per_dataset": {"sinc": {"dataset": "sinc: 64 train", "full_batch": full_batch, "batch_size": 64,
                                     "steps": 3000, "trend_window": 60, "runs": runs}}}


def test_both_fall_strong_link_gradient_noisier():
    text = t1_2b.comment(make_R([run(s) for s in range(3)]))
    assert "the loss falls from" in text and "the gradient norm falls from" in text and "in every seed" in text
    assert "a strong link" in text and "not in step" not in text
    assert "at the very first iteration in every seed" in text
    assert "The gradient norm is the noisier" in text
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad


def test_weak_link_while_both_fall_is_called_weak():
    text = t1_2b.comment(make_R([run(s, rho=0.33) for s in range(3)]))
    assert "a weak link" in text and "Both fall over the run as a whole, but not in step" in text
    assert "shrinks roughly along" not in text


@pytest.mark.parametrize("rho, words", [(0.45, "a moderate link"), (0.1, "no link"),
                                        (-0.5, "in the opposite direction"), (0.395, "a moderate link")])
def test_rho_bands(rho, words):
    assert words in t1_2b.comment(make_R([run(s, rho=rho) for s in range(3)]))


def test_seeds_disagree_on_the_sign():
    runs = [run(0, rho=-0.3), run(1, rho=0.1), run(2, rho=0.9)]
    assert "the seeds disagree even on its sign" in t1_2b.comment(make_R(runs))


def test_gradient_rises_with_minibatches_and_a_hump():
    runs = [run(s, gs=0.3, ge=0.6, tp=1.2, tpi=100, peak_it=100 + s) for s in range(3)]
    text = t1_2b.comment(make_R(runs, full_batch=False))
    assert "the gradient norm rises from" in text and "first climbs to 1.2 near iteration 100" in text
    assert "at iterations 100, 101 and 102" in text
    assert "With minibatches the gradient measured is the minibatch's" in text
    # full batch: no minibatch sentence; no hump when the top is not well above both ends
    text = t1_2b.comment(make_R([run(s, gs=0.3, ge=0.6, tp=0.7) for s in range(3)]))
    assert "minibatch's" not in text and "first climbs" not in text


def test_ties_and_loss_noisier():
    runs = [run(s, gs=1.0 - 0.1 * s, ge=0.9 + 0.15 * s, ls=1.0 - 0.1 * s, le=0.9 + 0.15 * s, jg=0.1, jl=1.0, peak_it=7)
            for s in range(3)]
    text = t1_2b.comment(make_R(runs))
    assert text.count("no clear change") == 2 and "The loss is the noisier" in text
    assert "at iteration 7 in every seed" in text
    tie = [run(s, jg=0.5 + 0.1 * s, jl=0.55 + 0.1 * s) for s in range(3)]
    assert "Neither is clearly the noisier" in t1_2b.comment(make_R(tie))


def test_one_seed_unknown():
    text = t1_2b.comment(make_R([run(0)]))
    assert "1 seed," in text and text.count("the seed noise is unknown") == 2
    assert "cannot be told" in text and "in every seed" not in text and "at the very first iteration." in text


def test_running_median_and_window():
    assert t1_2b.running_median([1, 100, 2, 3, 4], 3).tolist() == [2, 3, 3]
    assert t1_2b.trend_window(460, 20) == 23  # minibatches: one epoch
    assert t1_2b.trend_window(3000, 3000) == 60  # full batch: a fiftieth of the run
    assert t1_2b.trend_window(60, 60) == 5 and t1_2b.trend_window(3, 3) == 3
    assert len(t1_2b.running_median(np.ones(4), 10)) == 1


def test_figure_without_a_trend_window_and_with_a_missing_value():
    # a run too short for a running median: the raw trace itself is drawn bold and labelled
    D = {"dataset": "sinc: 8 train", "full_batch": True, "batch_size": 8, "trend_window": 1,
         "runs": [{"seed": 0, "grad_norm": [1.0, None, 0.5], "loss": [2.0, 1.0, 0.5]}]}
    (fig, caption), = t1_2b.figures({"per_dataset": {"sinc": D}})
    assert "over 1 iteration," in caption
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["seed 0", "every iteration (faint)"]
    assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here
