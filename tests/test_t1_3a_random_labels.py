"""1-3a: the smoke run (random labels, true-label reference), its table and figure; the comment:
memorized or not, test accuracy against chance, the test loss's direction, the true-label
reference, each decided by the numbers it states."""

import pytest
from matplotlib.figure import Figure

from hwlib import results
from hwlib.params import resolve_task
from hwlib.plots import png
from hwlib.tasks import common
from hwlib.tasks import t1_3a_random_labels as t1_3a


def test_smoke_run_table_and_figure(tmp_path):
    P = resolve_task(t1_3a, profile="smoke", device="cpu", out_dir=tmp_path)
    common.run(t1_3a, P)
    R = results.load(t1_3a.NAME, tmp_path)  # as the notebook's later cells see it
    rand, ref = R["runs"]
    assert rand["label"] == "random labels" and ref["label"] == "true labels"
    # one eval-mode measurement of the training set per epoch, test curves per epoch
    assert len(rand["train_acc"]) == P.epochs == len(rand["test_acc"])
    # the eval-mode training metrics end where fit's own final evaluation ends
    assert rand["train_acc"][-1] == pytest.approx(rand["final"]["train_acc"])
    assert abs(R["label_agreement"] - R["chance"]) < 0.08
    # the comment reads this very payload
    text = t1_3a.comment(R)
    assert f"ended at **{100 * rand['final']['test_acc']:.1f} %**" in text and "On the true labels" in text
    table = t1_3a.table(R)
    assert table.count("\n| ") == 1 and "MLP (ReLU) Linear(64→128)" in table and "1 × 8 × 8" in table
    figs = t1_3a.figures(R)
    try:
        assert len(figs) == 1
        fig, caption = figs[0]
        assert isinstance(fig, Figure) and "first reached 99 %" in _clean(caption) and "reference" in caption
        # one legend below both panels, each line named once: 2 splits × 2 label kinds, and chance
        assert [t.get_text() for t in fig.legends[0].get_texts()] == [
            "train (random labels)", "test (random labels)", "train (true-label reference)",
            "test (true-label reference)", "chance"]
    finally:
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here
    # without the true-label run, the caption does not promise its dotted lines
    fig, caption = t1_3a.figures(dict(R, runs=[rand]))[0]
    assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here
    assert "reference" not in caption and "dotted: the same net" not in caption


def test_first_epoch_reaching():
    assert t1_3a.first_epoch_reaching([0.2, 0.995, 0.98, 1.0], 0.99) == 2
    assert t1_3a.first_epoch_reaching([0.2, 0.5], 0.99) is None


# ------------------------------------------------------------ the comment


def _run(label, epochs_to_target, test_acc, test_loss=(2.3, 8.0), train_acc=1.0):
    return {"label": label, "epochs_to_target": epochs_to_target, "test_loss": list(test_loss),
            "best_test_acc": test_acc + 0.01,
            "final": {"train_acc": train_acc, "train_loss": 0.01, "test_acc": test_acc, "test_loss": test_loss[-1]}}


def _R(rand, ref=None, epochs=80):
    return {"params": {"epochs": epochs, "batch_size": 64, "target_acc": 0.99}, "runs": [rand] + ([ref] if ref else []),
            "chance": 0.1, "n_test": 360, "n_train": 1437, "label_agreement": 0.093, "model": {"params": 301066},
            "steps_per_epoch": 23}


def _clean(text):
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad
    return text


MEMORIZED = _run("random labels", 34, 0.122)
REFERENCE = _run("true labels", 4, 0.978, test_loss=(0.37, 0.09))


def test_memorized_at_chance_with_a_reference_that_tests_clearly_better():
    text = _clean(t1_3a.comment(_R(MEMORIZED, REFERENCE)))
    assert "**memorized**" in text and "after 34 epochs (782 steps of 64 images)" in text
    assert "which is chance level (10 %) within the sampling noise of 360 test images" in text
    assert "it **grew**" in text
    assert "reached 99 % training accuracy after 4 epochs" in text and "8.5 times as many epochs" in text
    assert "the true-label net tests clearly better (97.8 % against 12.2 %)" in text


def test_test_accuracy_clearly_above_and_below_chance():
    # 2 standard deviations of a 10 % accuracy on 360 images: 3.2 points
    above = _clean(t1_3a.comment(_R(_run("random labels", 34, 0.15))))
    assert "above chance (10 %) by more than the sampling noise" in above
    below = _clean(t1_3a.comment(_R(_run("random labels", 34, 0.05))))
    assert "below chance (10 %) by more than the sampling noise" in below


def test_test_loss_that_falls_or_stays_flat():
    fell = _clean(t1_3a.comment(_R(_run("random labels", 34, 0.1, test_loss=(2.3, 1.5)))))
    assert "it **fell**" in fell
    flat = _clean(t1_3a.comment(_R(_run("random labels", 34, 0.1, test_loss=(2.3, 2.4)))))
    assert "it stayed within 10 % of where it started" in flat


def test_not_memorized_cannot_answer():
    text = _clean(t1_3a.comment(_R(_run("random labels", None, 0.1, train_acc=0.4), REFERENCE, epochs=4)))
    assert "did **not** reach 99 %" in text and "memorizing needs more epochs" in text
    assert "times as many epochs" not in text
    assert "This run does not show memorization within 4 epochs" in text


def test_without_a_reference_or_one_that_does_not_fit_nothing_is_concluded():
    alone = _clean(t1_3a.comment(_R(MEMORIZED)))
    assert "On the true labels" not in alone and "this run cannot show that training accuracy hides" in alone
    unfit = _clean(t1_3a.comment(_R(MEMORIZED, _run("true labels", None, 0.9, train_acc=0.95))))
    assert "did not reach 99 % training accuracy within 80 epochs" in unfit
    assert "times as many epochs" not in unfit and "this run cannot show" in unfit


def test_a_reference_within_the_noise_is_not_clearly_better():
    text = _clean(t1_3a.comment(_R(MEMORIZED, _run("true labels", 4, 0.14))))
    assert "the true-label net tests clearly better" not in text and "this run cannot show" in text
