"""1-1b comment: each deeper CNN against the shallowest, called only beyond the test set's noise."""

import pytest

from hwlib.tasks import t1_1b


def _run(depth, right, dataset="digits", n_test=360, diverged=False):
    """One CNN that got ``right`` of ``n_test`` test images right."""
    return {"dataset": dataset, "model": t1_1b.model_name(depth), "depth": depth, "params": 20000, "n_test": n_test,
            "history": {"final": {"train_loss": 0.01, "train_acc": 1.0, "test_loss": 0.05, "test_acc": right / n_test},
                        "diverged": {"epoch": 3, "last_finite_loss": 2.3} if diverged else None}}


def _R(*runs, datasets=("digits",)):
    return {"params": {"datasets": list(datasets), "epochs": 20}, "runs": list(runs)}


def _clean(text):
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad
    return text


def test_threshold_is_the_test_sets_noise_but_never_below_the_floor():
    assert t1_1b.threshold_images(360, 1.0, 1.0) == t1_1b.MIN_IMAGES
    # CIFAR-10-like: 10,000 images at 70 %: 2 × sqrt(2 · 10000 · 0.21) = 129.6
    assert t1_1b.threshold_images(10000, 0.7, 0.7) == 130


def test_one_or_two_images_is_no_difference():
    # the case: the 2-block beats the 1-block by one image, the 4-block is the worst
    text = _clean(t1_1b.comment(_R(_run(1, 353), _run(2, 354), _run(4, 350))))
    assert text.count("**no clear difference**") == 2
    assert "1 test image more right" in text and "3 test images fewer right" in text
    assert "no deeper CNN tested clearly better or worse" in text
    assert "generalizes better" not in text and "paid off" not in text


def test_the_same_count_is_said_as_such():
    text = _clean(t1_1b.comment(_R(_run(1, 340), _run(2, 340))))
    assert "the same number right" in text


def test_clear_win_of_the_deeper_cnns():
    text = _clean(t1_1b.comment(_R(_run(1, 300), _run(2, 340), _run(4, 350))))
    assert text.count("**better**") == 2 and "50 test images more right" in text
    assert "every deeper CNN tested clearly better" in text and "paid off" in text


def test_clear_win_of_the_shallow_cnn():
    text = _clean(t1_1b.comment(_R(_run(1, 350), _run(2, 300), _run(4, 310))))
    assert text.count("**worse**") == 2
    assert "every deeper CNN tested clearly worse" in text and "did not pay off" in text


def test_deeper_cnns_that_disagree_are_no_trend():
    text = _clean(t1_1b.comment(_R(_run(1, 330), _run(2, 350), _run(4, 300))))
    assert "**better**" in text and "**worse**" in text
    assert "Depth had no consistent effect: only some deeper CNNs differed clearly on digits" in text


def test_datasets_that_disagree_are_named():
    R = _R(_run(1, 300), _run(2, 350), _run(1, 9000, "mnist", 10000), _run(2, 9010, "mnist", 10000),
           datasets=("digits", "mnist"))
    text = _clean(t1_1b.comment(R))
    assert ("every deeper CNN tested clearly better on digits and no depth made a clear difference on mnist"
            in text)


def test_a_diverged_cnn_is_left_out_and_the_next_is_the_reference():
    text = _clean(t1_1b.comment(_R(_run(1, 100, diverged=True), _run(2, 300), _run(4, 350))))
    assert "the 1-block CNN diverged at epoch 3; it is left out" in text
    assert "4-block CNN against the 2-block CNN: **better**" in text


@pytest.mark.parametrize("runs", [[_run(1, 300), _run(2, 100, diverged=True)], [_run(1, 300)]])
def test_one_finished_cnn_compares_nothing(runs):
    text = _clean(t1_1b.comment(_R(*runs)))
    assert "fewer than two CNNs finished" in text and "depth is not compared" in text
