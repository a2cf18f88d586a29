"""1-3b: the smoke run's widths, table and figure; the comment: the widest model against the
narrowest and against the best width, decided by the seeds."""

import pytest
from matplotlib.figure import Figure

from hwlib import results
from hwlib.params import ParamError, resolve_task
from hwlib.plots import png
from hwlib.tasks import common
from hwlib.tasks import t1_3b_parameters_vs_generalization as t1_3b


def _P(tmp_path, **kw):
    return resolve_task(t1_3b, profile="smoke", device="cpu", out_dir=tmp_path, **kw)


def test_smoke_run_widths_span_orders_of_magnitude(tmp_path):
    P = _P(tmp_path)
    common.run(t1_3b, P)
    R = results.load(t1_3b.NAME, tmp_path)  # as the notebook's later cells see it
    assert len(R["models"]) >= 10 and R["summary"]["orders_of_magnitude"] >= 2
    params = [m["params"] for m in R["models"]]
    assert params == sorted(params) and len(set(params)) == len(params)
    assert len(R["runs"]) == len(P.widths) * len(P.seeds)
    s = R["summary"]
    assert s["best"]["test_acc"] == max(r["test_acc"] for r in s["by_width"].values())
    # the comment reads this very payload; one seed per width leaves the noise unknown
    assert "With 1 seed per width the seed noise is unknown" in t1_3b.comment(R)
    assert t1_3b.table(R).count("\n| ") == len(P.widths)
    figs = t1_3b.figures(R)
    try:
        assert len(figs) == 1
        fig, caption = figs[0]
        assert isinstance(fig, Figure) and "1 seed per width" in _clean(caption)
        assert [t.get_text() for t in fig.legends[0].get_texts()] == ["train", "test"]
    finally:
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def test_widths_must_increase(tmp_path):
    with pytest.raises(ParamError, match="widths"):
        _P(tmp_path, widths=[8, 4])
    with pytest.raises(ParamError, match="seeds"):
        _P(tmp_path, seeds=[1, 1])


# ------------------------------------------------------------ the comment

PARAMS = {2: 166, 8: 682, 64: 8970, 512: 301066}


def _runs(width, test_acc, train_acc=(1.0, 1.0), test_loss=None, diverged=()):
    """One run per seed; ``diverged`` lists the seeds that diverged."""
    test_loss = test_loss or [1 - a for a in test_acc]
    return [{"width": width, "seed": s, "params": PARAMS[width], "train_loss": 0.01, "test_loss": test_loss[s],
             "train_acc": train_acc[s], "test_acc": test_acc[s], "seconds": 1.0,
             "diverged": {"epoch": 2} if s in diverged else None} for s in range(len(test_acc))]


def _R(*runs, seeds=(0, 1)):
    return {"params": {"seeds": list(seeds)}, "runs": [r for rs in runs for r in rs], "n_train": 1437}


def _clean(text):
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad
    return text


NARROW = _runs(2, (0.20, 0.24), train_acc=(0.19, 0.25))


def test_widest_ties_the_best_width_past_the_fit():
    # the quick run: width 128 best, the widest within its seed range
    R = _R(NARROW, _runs(8, (0.90, 0.92), (0.97, 0.98)), _runs(64, (0.975, 0.978)), _runs(512, (0.970, 0.975)))
    text = _clean(t1_3b.comment(R))
    assert "from width 64 (8,970 parameters) on, every run fits the training set" in text
    assert "The narrowest model is limited by its size" in text
    assert "widest against narrowest: 97.2 % against 22.0 %, **clearly higher**" in text
    assert "the widest model's is 97.2 %, **no clear difference**" in text
    assert "did not clearly cost test accuracy" in text and "210 per training image" in text


def test_widest_clearly_below_the_best_width():
    R = _R(_runs(8, (0.90, 0.91)), _runs(64, (0.975, 0.978)), _runs(512, (0.95, 0.96), test_loss=(0.3, 0.35)))
    text = _clean(t1_3b.comment(R))
    assert "the widest model's is 95.5 %, **clearly lower**" in text
    assert "tests clearly below width 64: in this run, that much extra width cost some test accuracy" in text
    # test loss: lowest at width 64 (0.02–0.03), the widest clearly above
    assert "lowest at width 64" in text and "**clearly higher** (every seed above)" in text
    assert "limited by its size" not in text  # width 8 fits as well as the widest here


def test_widest_clearly_below_the_narrowest_and_best_is_the_widest():
    lower = _clean(t1_3b.comment(_R(_runs(8, (0.90, 0.91)), _runs(512, (0.80, 0.82)))))
    assert "widest against narrowest: 81.0 % against 90.5 %, **clearly lower**" in lower
    best = _clean(t1_3b.comment(_R(_runs(8, (0.90, 0.91)), _runs(512, (0.95, 0.96)))))
    assert "The widest model also has the best mean test accuracy" in best
    assert "Test loss: lowest at the widest model" in best


def test_test_loss_tie_at_the_widest():
    R = _R(_runs(8, (0.90, 0.91), test_loss=(0.30, 0.40)), _runs(512, (0.95, 0.96), test_loss=(0.35, 0.45)))
    assert "at the widest it is 0.4, **no clear difference**" in _clean(t1_3b.comment(R))


def test_one_seed_leaves_the_noise_unknown():
    R = _R(_runs(8, (0.90,), (0.99,)), _runs(64, (0.97,)), _runs(512, (0.96,)), seeds=(0,))
    text = _clean(t1_3b.comment(R))
    assert "1 seed each" in text
    assert text.count("the seed noise is unknown") >= 3
    assert "With 1 seed per width the seed noise is unknown, so no width is called better" in text


def test_no_width_fits_the_training_set():
    R = _R(_runs(8, (0.90, 0.91), (0.95, 0.96)), _runs(512, (0.92, 0.93), (0.98, 0.99)))
    text = _clean(t1_3b.comment(R))
    assert "no width fits the training set in every run" in text
    assert "does not show what happens beyond the point of fitting it" in text


def test_only_the_widest_fits_the_training_set():
    R = _R(_runs(8, (0.90, 0.91), (0.95, 0.96)), _runs(512, (0.92, 0.93)))
    assert "does not show what happens beyond" in _clean(t1_3b.comment(R))


def test_diverged_runs_are_left_out():
    R = _R(NARROW, _runs(64, (0.97, 0.98), diverged=(1,)), _runs(512, (0.97, 0.98), diverged=(0, 1)))
    text = _clean(t1_3b.comment(R))
    assert "3 runs diverged and are left out (widths 64 and 512)" in text
    # the widest finished width is 64 now, with one seed left: its noise is unknown
    assert "to 8,970 parameters" in text and "seed noise is unknown" in text


def test_fewer_than_two_widths_compare_nothing():
    R = _R(_runs(64, (0.97, 0.98)), _runs(512, (0.97,), diverged=(0,)))
    text = _clean(t1_3b.comment(R))
    assert "1 run diverged and is left out (width 512)" in text and "nothing is compared" in text


def test_widest_and_narrowest_within_the_seed_noise():
    R = _R(_runs(8, (0.90, 0.95)), _runs(512, (0.92, 0.93)))
    text = _clean(t1_3b.comment(R))
    assert "widest against narrowest: 92.5 % against 92.5 %, **no clear difference** (the seed ranges overlap)" in text
    assert "clearly higher" not in text and "clearly lower" not in text


def test_seeds_trained_together_end_as_their_own_fit_runs(tmp_path):
    # the MLP family trains a width's seeds as one ensemble; each must end where its own fit run ends
    import torch
    from hwlib import train
    P = _P(tmp_path, seeds=[0, 3], widths=[4, 16], epochs=2)
    ds = common.load_data(P)
    together = t1_3b.train_width(P, ds, 16)
    for r, seed in zip(together, [0, 3]):
        torch.manual_seed(seed)
        alone = train.fit(t1_3b.build(P, ds, 16), ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr,
                          seed=seed, log=False).final
        assert r["seed"] == seed
        for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
            assert r[k] == pytest.approx(alone[k], rel=1e-4, abs=1e-6), (seed, k)


def test_accuracy_axis_shows_the_gap_between_train_and_test_at_the_top():
    """The wide models fit the training set (1.0) and score 0.97 on the test set: that gap takes a visible
    share of the accuracy panel's height, where a linear axis from the narrowest model's 0.2 drew the two
    as one line (a gap of 4 % of the height)."""
    runs = [r for rs in (NARROW, _runs(8, (0.90, 0.92), (0.97, 0.98)), _runs(64, (0.975, 0.978)),
                         _runs(512, (0.970, 0.975))) for r in rs]
    R = dict(_R(runs), summary=t1_3b.summarize(runs))
    (fig, caption), = t1_3b.figures(R)
    ax = fig.axes[1]
    fig.canvas.draw()
    height = ax.bbox.height

    def y(v):
        return ax.transData.transform((1000, v))[1]

    assert (y(1.0) - y(0.97)) / height > 0.15  # the widest models' gap
    assert y(0.2) >= ax.bbox.y0 - 0.5 and y(1.0) <= ax.bbox.y1 + 0.5  # every accuracy on the axis
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "0.99" in ticks and "1" in ticks and "stretched toward 1" in caption
    assert png(fig)[:4] == b"\x89PNG"
