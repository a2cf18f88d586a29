"""1-1b Train on an actual task: on image classification, does a deep CNN beat a shallow one of the same size?

For each dataset a family of CNNs is built at one parameter count: the shallowest CNN's width is
solved from the budget and every deeper one is solved for that exact count, so all lie within 1 %
of each other. All share the optimizer, learning rate, batch size, epochs and data order; train and
test loss and accuracy are recorded every epoch. After training, each CNN's correctness and loss on
every test image are kept, and since all CNNs of a dataset are scored on the same test images, each
pair is compared paired (``hwlib.paired``): McNemar's exact test on accuracy, a paired bootstrap over
test images on the mean loss. The comment calls a difference only at a stated level.
"""

from __future__ import annotations

import math
import time

import torch
from matplotlib.lines import Line2D

from .. import data, models, paired, train, wording
from ..params import Param, ParamError, same
from ..plots import figure, palette, whole_number_ticks
from ..results import envelope
from ..tables import markdown_table
from . import common

NAME, SECTION = "1_1b_actual_task", "1-1b"

SPEC = {
    "datasets": Param("str_list", smoke=["digits"], quick=["digits"], full=["mnist", "cifar10"],
                      choices=data.IMAGE_DATASETS, doc="image datasets (quick: the embedded digits)"),
    "budget": Param("int", smoke=3000, quick=20000, full=100000, low=100,
                    doc="parameter budget of the shallowest CNN"),
    "depths": Param("int_list", smoke=[1, 2], quick=[1, 2, 4], full=[1, 2, 4], low=1, high=8, min_len=2,
                    doc="conv blocks of each CNN; deeper ones matched to the first's count"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS, doc="optimizer of every CNN"),
    "lr": same("float", 1e-3, positive=True, doc="learning rate of every CNN"),
    "epochs": Param("int", smoke=2, quick=20, full=20, low=1, doc="passes over the training set"),
    "batch_size": Param("int", smoke=64, quick=64, full=128, low=1, doc="images per step"),
    "train_limit": common.train_limit(smoke=300),
    "seed": same("int", 0, low=0, doc="initialization and data order of every CNN"),
    # Without it the 4-block CNN of a 100k-parameter CIFAR-10-sized family stayed at chance on 2,000
    # random images (loss 2.30 after 8 epochs; with BatchNorm 0.34, all memorized).
    # tests/test_t1_1b_actual_task.py fails without it.
    "batchnorm": same("bool", True, doc="BatchNorm after every conv (lets the deepest CNN train)"),
    "data_root": common.DATA_ROOT,
}


def checks(P) -> None:
    if len(set(P.depths)) < 2:
        raise ParamError(f"depths={P.depths!r} compares nothing: give at least 2 different depths")


def model_name(depth: int) -> str:
    return f"{depth}-block CNN"


def family(P, ds: data.Dataset) -> list:
    """The CNNs compared, one per depth, all within 1 % of one parameter count."""
    torch.manual_seed(P.seed)
    try:
        return models.cnn_family(P.budget, P.depths, ds.input_shape, ds.n_classes, batchnorm=P.batchnorm)
    except ValueError as exc:
        raise ParamError(str(exc)) from None


def run(P) -> dict:
    start = time.perf_counter()
    runs, table = [], []
    for name in P.datasets:
        ds = data.load_dataset(name, P.device, root=P.data_root, train_limit=P.train_limit or None)
        for depth, model in zip(P.depths, family(P, ds)):
            info = models.describe(model)
            table.append({"dataset": name, "model": model_name(depth), "channels": info["widths"],
                          "params": info["params"], "structure": info["structure"]})
            h = train.fit(model.to(P.device), ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr,
                          optimizer=P.optimizer, seed=P.seed, label=f"{name} {model_name(depth)}")
            correct, losses = per_image(model, ds)
            runs.append({"dataset": name, "model": model_name(depth), "depth": depth,
                         "params": info["params"], "n_test": len(ds.x_test), "history": h.to_dict(),
                         "test_correct": correct, "test_losses": losses})
    return envelope(P, NAME, SECTION, time.perf_counter() - start, models=table, runs=runs,
                    paired=paired_results(runs))


# Significant digits kept of a per-image loss: rounding moves a loss by at most 5e-7 of itself, far below
# what the interval resolves, and a 10,000-image test set (full profile) costs ~12 bytes a loss, not ~20.
LOSS_DIGITS = 6


@torch.no_grad()
def per_image(model: torch.nn.Module, ds: data.Dataset) -> tuple[list[bool], list[float]]:
    """Whether each test image is classified right, and its cross-entropy loss, in eval mode after
    training: what the paired tests compare image by image (one pass, after the last epoch)."""
    was_training = model.training
    model.eval()
    correct, losses = [], []
    for i in range(0, len(ds.x_test), train.EVAL_CHUNK):
        out, y = model(ds.x_test[i:i + train.EVAL_CHUNK]), ds.y_test[i:i + train.EVAL_CHUNK]
        correct.append(out.argmax(1) == y)
        losses.append(torch.nn.functional.cross_entropy(out, y, reduction="none"))
    model.train(was_training)
    return torch.cat(correct).tolist(), [float(f"{v:.{LOSS_DIGITS}g}") for v in torch.cat(losses).tolist()]


# Paired tests on the shared test set (hwlib/paired.py says why paired). A verdict only at these levels.
LEVEL = 0.05  # McNemar: a difference in accuracy is called at p < LEVEL, two-sided
CONFIDENCE = 0.95  # paired bootstrap: a difference in mean loss is called when this interval excludes 0
N_BOOT = 10_000  # resamples: over 10 seeds the quick profile's interval ends moved by 1-3.5 % of its width
BOOT_SEED = 0  # the interval is the same run after run
PCT = f"{100 * CONFIDENCE:.0f} %"  # "95 %", as the interval is named in the prose


def finished(run: dict) -> bool:
    """Trained to the end with a finite loss on every test image (a diverged CNN has nothing to compare)."""
    losses = run["test_losses"]
    return not run["history"]["diverged"] and all(v is not None and math.isfinite(v) for v in losses)


def paired_results(runs: list[dict]) -> list[dict]:
    """Every pair of finished CNNs of a dataset, the shallower second ("deep" against "shallow"): McNemar's
    exact test on per-image correctness and the paired-bootstrap interval of the mean per-image loss
    difference, deep minus shallow (below 0: the deeper CNN's test loss is lower)."""
    out = []
    for name in dict.fromkeys(r["dataset"] for r in runs):
        ok = sorted((r for r in runs if r["dataset"] == name and finished(r)), key=lambda r: r["depth"])
        for i, shallow in enumerate(ok):
            for deep in ok[i + 1:]:
                acc = paired.mcnemar(deep["test_correct"], shallow["test_correct"])
                loss = paired.bootstrap_mean_difference(deep["test_losses"], shallow["test_losses"],
                                                        n_boot=N_BOOT, confidence=CONFIDENCE, seed=BOOT_SEED)
                out.append({"dataset": name, "deep": deep["model"], "shallow": shallow["model"],
                            "n_test": len(deep["test_correct"]),
                            "accuracy": {"only_deep": acc["only_a"], "only_shallow": acc["only_b"],
                                         "p": acc["p"]},
                            "loss": {"mean": loss["mean"], "low": loss["low"], "high": loss["high"]}})
    return out


# ------------------------------------------------------------------ table and figures

def table(R: dict) -> str:
    """The CNNs compared, per dataset, with their channels and structure read from the built models."""
    return markdown_table(R["models"])


def figures(R: dict) -> list:
    """Per dataset: the loss curves, then the accuracy curves."""
    out = []
    for name in R["params"]["datasets"]:
        loss = (f"Training (solid) and test (dashed) cross-entropy loss of every CNN on {name} per epoch, "
                f"on a log scale.")
        acc = f"Training (solid) and test (dashed) accuracy of every CNN on {name} per epoch."
        out += [(_training_curves(R, name, "loss"), loss), (_training_curves(R, name, "acc"), acc)]
    return out


def _training_curves(R: dict, dataset: str, metric: str):
    """Train (solid) and test (dashed) ``metric`` ("loss" or "acc") against epoch, one colour per model."""
    fig, ax = figure()
    runs = [r for r in R["runs"] if r["dataset"] == dataset]
    handles = []
    for run, colour in zip(runs, palette(len(runs))):
        h = run["history"]
        note = f", diverged at epoch {h['diverged']['epoch']}" if h["diverged"] else ""
        ax.plot(h["epoch"], h[f"train_{metric}"], color=colour, lw=1.5)
        ax.plot(h["eval_epoch"], h[f"test_{metric}"], color=colour, lw=1.5, ls="--")
        label = f"{run['model']} ({run['params']:,} parameters{note})"
        handles.append(Line2D([], [], color=colour, lw=1.5, label=label))
    # colour says the model, line style the split: one entry each instead of one per line. The legend
    # fills column by column, so putting train/test after the first two models puts them on row 2.
    styles = [Line2D([], [], color="black", lw=1.2, label="train"),
              Line2D([], [], color="black", lw=1.2, ls="--", label="test")]
    handles = [h for i, m in enumerate(handles) for h in ([m, styles[i]] if i < 2 else [m])]
    ax.set(xlabel="epoch", ylabel="cross-entropy loss" if metric == "loss" else "accuracy")
    whole_number_ticks(ax.xaxis)
    if metric == "loss":
        ax.set_yscale("log")
    # below the axes: the curves fill the whole panel, so no corner is reliably free of data
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(runs), 4), fontsize="small")
    return fig


# ------------------------------------------------------------------ comment
# One seed per model, so the seed noise is unknown; what the paired tests measure is the test set's
# sampling noise, for these trained CNNs. Every number below is printed at a precision that keeps it on
# the same side of its level as the unrounded value, so no printed number contradicts its verdict.


def say_p(p: float) -> str:
    """'p = 0.25', 'p < 0.001': wording.p_text at LEVEL (more digits where rounding would carry p across it)."""
    return wording.p_text(p, LEVEL)


def say_diff(value: float, spec: str) -> str:
    """'+0.0123', '−0.0045', '+7.6e-09': signed, with a true minus sign (``spec`` from ``loss_format``)."""
    text = format(value, spec)
    return "−" + text[1:] if text.startswith("-") else text


def loss_format(*values: float) -> str:
    """Format of a loss difference and its interval: 4 decimals, more (up to 8) until no value that is not
    0 reads 0 or the wrong sign ('interval −0.0000 to …' never stands beside 'below 0'); smaller
    values in two significant digits, which never round to 0."""
    for decimals in range(4, 9):
        if all(v == 0 or round(v, decimals) != 0 and (round(v, decimals) > 0) == (v > 0) for v in values):
            return f"+.{decimals}f"
    return "+.1e"


def accuracy_verdict(pair: dict) -> str:
    """'higher' / 'lower' (the deeper CNN's accuracy, McNemar p < LEVEL) or 'cannot tell'."""
    a = pair["accuracy"]
    if a["p"] >= LEVEL:
        return "cannot tell"
    return "higher" if a["only_deep"] > a["only_shallow"] else "lower"


def loss_verdict(pair: dict) -> str:
    """'lower' / 'higher' (the deeper CNN's test loss; the interval lies below / above 0) or 'cannot tell'."""
    loss = pair["loss"]
    return "lower" if loss["high"] < 0 else "higher" if loss["low"] > 0 else "cannot tell"


def _pair_line(pair: dict) -> str:
    a, loss = pair["accuracy"], pair["loss"]
    deep, shallow = pair["deep"], pair["shallow"]
    acc_v, loss_v = accuracy_verdict(pair), loss_verdict(pair)
    d = loss_format(loss["mean"], loss["low"], loss["high"])
    where = {"lower": "below 0", "higher": "above 0", "cannot tell": "holds 0"}[loss_v]
    images = wording.plural(a["only_deep"], "test image")
    side = "not below" if acc_v == "cannot tell" else "below"
    return (f"  - {deep} against the {shallow}: test accuracy **{acc_v}** ({images} right only for the "
            f"{deep}, {a['only_shallow']:,} only for the {shallow}; McNemar {say_p(a['p'])}, "
            f"{side} {LEVEL:g}); "
            f"test loss **{loss_v}**: mean per-image difference {say_diff(loss['mean'], d)}, {PCT} "
            f"paired-bootstrap interval {say_diff(loss['low'], d)} to {say_diff(loss['high'], d)}, {where}.")


def _groups(pairs: list[dict], verdict, measure: str, said: dict[str, str]) -> list[str]:
    """One clause per verdict: 'the test loss of the 2-block CNN and the 4-block CNN is lower (…)'."""
    out = []
    for v, how in said.items():
        names = [f"the {p['deep']}" for p in pairs if verdict(p) == v]
        if names:
            verb = "cannot be told apart from it" if v == "cannot tell" else f"is {v}"
            out.append(f"the {measure} of {wording.join(names)} {verb} ({how})")
    return out


def _nets_line(name: str, ok: list[dict], epochs: int) -> str:
    """The dataset's bullet: each finished CNN's final training and test numbers."""
    f = lambda r: r["history"]["final"]
    nets = "; ".join(f"{r['model']} ({r['params']:,} parameters): training loss {f(r)['train_loss']:.3f}, "
                     f"training accuracy {wording.pct(f(r)['train_acc'])}, "
                     f"test loss {f(r)['test_loss']:.4f}, test accuracy {wording.pct(f(r)['test_acc'])}"
                     for r in ok)
    return (f"- **{name}** ({wording.plural(epochs, 'epoch')}, the same {ok[0]['n_test']:,} test images for every "
            f"CNN): {nets}.")


def _against_base(name: str, base: str, against: list[dict]) -> str:
    """'On MNIST, against the 1-block CNN at the same parameter count, the test loss of … is lower (…) …'."""
    level = f"McNemar p < {LEVEL:g}"
    loss_said = {"lower": f"{PCT} interval below 0", "higher": f"{PCT} interval above 0",
                 "cannot tell": f"{PCT} interval holds 0"}
    acc_said = {"higher": level, "lower": level, "cannot tell": f"McNemar p ≥ {LEVEL:g}"}
    clauses = (_groups(against, loss_verdict, "test loss", loss_said)
               + _groups(against, accuracy_verdict, "test accuracy", acc_said))
    return f"\nOn {name}, against the {base} at the same parameter count, {wording.join(clauses)}."


def _depth_reading(against: list[dict], n: int) -> str:
    """What the verdicts against the shallowest CNN say of depth, where they agree on a reading ('' if not)."""
    loss_said = {loss_verdict(p) for p in against}
    acc_said = {accuracy_verdict(p) for p in against}
    if loss_said == {"lower"} and acc_said == {"cannot tell"}:
        return (f" So depth lowered the test loss measurably here, but the accuracy differences are too "
                f"small for {n:,} test images to tell apart.")
    if loss_said == {"lower"} and acc_said == {"higher"}:
        return " Here, spending the parameters on more conv blocks paid off on both measures."
    if loss_said == {"higher"} and acc_said == {"lower"}:
        return " Here, spending the parameters on more conv blocks did not pay off, on either measure."
    if loss_said == acc_said == {"cannot tell"}:
        return (f" These tests cannot tell the depths apart on {n:,} test images, which is not evidence "
                f"that depth makes no difference.")
    return ""


def _dataset_comment(name: str, runs: list[dict], pairs: list[dict], epochs: int) -> list[str]:
    """Bullet lines for one dataset: each CNN's final numbers, each pair's paired tests, a summary against
    the shallowest finished CNN."""
    lines = [f"- **{name}**: the {r['model']} diverged at epoch {r['history']['diverged']['epoch']}; "
             f"it is left out." for r in runs if r["history"]["diverged"]]
    ok = sorted((r for r in runs if not r["history"]["diverged"]), key=lambda r: r["depth"])
    if len(ok) < 2 or not pairs:
        lines.append(f"- **{name}**: fewer than two CNNs finished, so depth cannot be compared here.")
        return lines
    lines.append(_nets_line(name, ok, epochs))
    lines += [_pair_line(p) for p in pairs]
    base = pairs[0]["shallow"]  # pairs run shallowest first: the first pair's shallow CNN is the reference
    against = [p for p in pairs if p["shallow"] == base]
    lines.append(_against_base(name, base, against) + _depth_reading(against, ok[0]["n_test"]))
    return lines


def comment(R: dict) -> str:
    """The Comment section: per dataset, every pair of CNNs compared paired on the shared test set."""
    P = R["params"]
    lines = []
    for name in P["datasets"]:
        lines += _dataset_comment(name, [r for r in R["runs"] if r["dataset"] == name],
                                  [p for p in R["paired"] if p["dataset"] == name], P["epochs"])
    if not R["paired"]:
        lines.append("\nNo dataset has two finished CNNs, so depth is not compared.")
        return "\n".join(lines)
    rule = (f"Every comparison is paired on the shared test set: all CNNs of a dataset are scored on "
            f"the same test images, so accuracy is compared by McNemar's exact test on the images exactly "
            f"one of the two gets right, and loss by a paired bootstrap over test images ({N_BOOT:,} "
            f"resamples) of the mean per-image loss difference, deeper minus shallower. A difference is "
            f"called only at McNemar p < {LEVEL:g}, or where the {PCT} interval excludes 0; otherwise the "
            f"comment says it cannot tell. Each test stands at its own level, not corrected for the number "
            f"of pairs. With one seed per CNN these tests are about these trained networks on this data: "
            f"how much another seed would move them is not measured.")
    lines.append(f"\n{rule}")
    return "\n".join(lines)
