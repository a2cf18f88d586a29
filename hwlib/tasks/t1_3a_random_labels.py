"""1-3a Can the network fit random labels? An MLP memorizes seeded random training labels.

The question (Zhang et al., 2017): can a network reach (almost) zero training error when the
training labels carry no information, and what happens on the test set? Every training label is
replaced by a seeded random class; the test labels stay true. A fully connected net with far more
parameters than training images is trained on them and, for reference, the identical net (same
initialization, same data order) on the true labels. The training set is evaluated in eval mode
after every epoch, so "epochs to 99 %" is measured on fixed weights, not on a running average over
an epoch of changing weights.
"""

from __future__ import annotations

import math
import time

import torch

from .. import data, models, train, wording
from ..labels import agreement, with_random_labels
from ..params import Param, same
from ..plots import figure, legend_below, palette, whole_number_ticks
from ..results import envelope
from ..tables import markdown_table
from . import common

NAME, SECTION = "1_3a_random_labels", "1-3a"

SPEC = {
    "dataset": common.DATASET,
    "train_limit": common.train_limit(smoke=256),
    "widths": Param("int_list", smoke=[128], quick=[512, 512], full=[700, 700, 700], positive=True,
                    doc="hidden widths of the MLP (full: the 784-700-700-700-10 net of the assignment)"),
    "epochs": Param("int", smoke=4, quick=80, full=150, low=1, doc="passes over the training set"),
    "batch_size": Param("int", smoke=64, quick=64, full=100, low=1, doc="images per step"),
    "lr": Param("float", smoke=1e-3, quick=1e-3, full=1e-4, positive=True, doc="learning rate"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS, doc="optimizer of both runs"),
    "seed": same("int", 0, low=0, doc="initialization and data order"),
    "label_seed": same("int", 0, low=0, doc="seed of the random labels"),
    "true_labels_reference": same("bool", True, doc="also train the same net on the true labels"),
    "target_acc": same("float", 0.99, low=0.0, high=1.0, doc="training accuracy that counts as memorized"),
    "data_root": common.DATA_ROOT,
}


class TrainSetMonitor:
    """end_epoch hook: loss and accuracy on the (possibly random-labelled) training set, eval
    mode. Kept as device tensors and read back once at the end (no per-epoch sync)."""

    def __init__(self, ds: data.Dataset):
        self.ds = ds
        self.values = []

    def end_epoch(self, model, epoch, metrics):
        self.values.append(train.evaluate_tensors(model, self.ds.x_train, self.ds.y_train, self.ds.kind))

    def lists(self) -> tuple[list[float], list[float]]:
        return [float(v[0]) for v in self.values], [float(v[1]) for v in self.values]


def first_epoch_reaching(acc: list[float], target: float) -> int | None:
    """1-based epoch at which the accuracy first reaches ``target``, or None."""
    return next((i + 1 for i, a in enumerate(acc) if a >= target), None)


def train_one(P, ds: data.Dataset, label: str):
    torch.manual_seed(P.seed)  # same initialization for the random- and the true-label run
    model = models.mlp(P.widths, in_dim=math.prod(ds.input_shape), out_dim=ds.n_classes).to(P.device)
    monitor = TrainSetMonitor(ds)
    h = train.fit(model, ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr, optimizer=P.optimizer,
                  seed=P.seed, hooks=[monitor], label=label)
    train_loss, train_acc = monitor.lists()
    return model, {
        "label": label,
        "epoch": list(range(1, len(train_loss) + 1)), "train_loss": train_loss, "train_acc": train_acc,
        "eval_epoch": h.eval_epoch, "test_loss": h.test_loss, "test_acc": h.test_acc,
        "final": h.final, "seconds": h.seconds, "steps": h.steps, "stopped": h.stopped,
        "epochs_to_target": first_epoch_reaching(train_acc, P.target_acc),
        "best_test_acc": max(h.test_acc) if h.test_acc else None,
        "min_test_loss_epoch": h.eval_epoch[min(range(len(h.test_loss)), key=h.test_loss.__getitem__)]
        if h.test_loss else None,
    }


def run(P) -> dict:
    start = time.perf_counter()
    ds = common.load_data(P)
    noisy = with_random_labels(ds, seed=P.label_seed)
    model, random_run = train_one(P, noisy, "random labels")
    runs = [random_run]
    if P.true_labels_reference:
        runs.append(train_one(P, ds, "true labels")[1])
    info = models.describe(model)
    return envelope(P, NAME, SECTION, time.perf_counter() - start,
                    dataset=ds.describe(), n_train=len(ds.x_train), n_test=len(ds.x_test),
                    chance=1 / ds.n_classes, label_agreement=agreement(noisy.y_train, ds.y_train),
                    model={"widths": info["widths"], "structure": info["structure"], "params": info["params"]},
                    steps_per_epoch=math.ceil(len(ds.x_train) / P.batch_size), runs=runs)


# ------------------------------------------------------------------ table and figures

def table(R: dict) -> str:
    """The task, the model and the training settings in one row."""
    P, m = R["params"], R["model"]
    return markdown_table([
        {"task": R["dataset"], "model": f"MLP (ReLU) {m['structure']}", "params": m["params"],
         "params per training image": m["params"] / R["n_train"], "optimizer": P["optimizer"], "lr": P["lr"],
         "batch size": P["batch_size"], "steps per epoch": R["steps_per_epoch"], "epochs": P["epochs"],
         "label seed": P["label_seed"]}])


def figures(R: dict) -> list:
    target = wording.pct(R["params"]["target_acc"], 0)
    reference = ("; dotted: the same net trained on the true labels (reference)"
                 if any(r["label"] == "true labels" for r in R["runs"]) else "")
    caption = (f"Loss (log scale, left) and accuracy (right) per epoch. Solid: the training set with the random "
               f"labels the net is trained on; dashed: the test set with the true labels{reference}; black dashed: "
               f"chance accuracy; dash-dotted vertical line: the epoch at which the random-label training accuracy "
               f"first reached {target}.")
    return [(_curves(R), caption)]


def _curves(R: dict):
    """Loss (log) and accuracy per epoch: train on the labels trained on, test on the true labels."""
    train_colour, test_colour = palette(2)
    fig, axes = figure(ncols=2, height=3.3)
    ax_loss, ax_acc = axes[0]
    for run in R["runs"]:
        ref = run["label"] != "random labels"
        style = {"lw": 1.0 if ref else 1.6, "alpha": 0.55 if ref else 1.0}
        tag = "true-label reference" if ref else "random labels"
        ax_loss.plot(run["epoch"], run["train_loss"], color=train_colour, ls=":" if ref else "-",
                     label=f"train ({tag})", **style)
        ax_loss.plot(run["eval_epoch"], run["test_loss"], color=test_colour, ls=":" if ref else "--",
                     label=f"test ({tag})", **style)
        ax_acc.plot(run["epoch"], run["train_acc"], color=train_colour, ls=":" if ref else "-", **style)
        ax_acc.plot(run["eval_epoch"], run["test_acc"], color=test_colour, ls=":" if ref else "--", **style)
        if not ref and run["epochs_to_target"]:
            ax_acc.axvline(run["epochs_to_target"], color="grey", lw=0.8, ls="-.")
    ax_acc.axhline(R["chance"], color="black", lw=0.8, ls="--", label="chance")
    ax_loss.set(yscale="log", xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02), title="accuracy")
    for ax in (ax_loss, ax_acc):
        whole_number_ticks(ax.xaxis)
    # below both panels: the accuracy curves span the whole height and the loss curves the whole width
    legend_below(fig, (ax_loss, ax_acc), ncols=3, fontsize="x-small")
    return fig


# ------------------------------------------------------------------ comment
# One run per label kind, so the seed noise is unknown; what is known is the test set's sampling
# noise: an accuracy p measured on n images wobbles by sqrt(p·(1−p)/n) by chance.
NOISE_Z = 2  # two standard deviations: chance alone exceeds it about once in 20 comparisons
# The test loss of one run wobbles from epoch to epoch by a few per cent; a change smaller than
# this fraction of the first epoch's value is read as flat, not as a trend.
LOSS_CHANGE = 0.10


def test_acc_vs(acc: float, other: float, n: int, both_measured: bool) -> str:
    """'above' / 'below' / 'same': ``acc`` against ``other`` (a fixed level, or a second measured
    accuracy when ``both_measured``, whose noise then adds) on ``n`` test images."""
    sd = math.sqrt(max(acc * (1 - acc), other * (1 - other)) * (2 if both_measured else 1) / n)
    return "above" if acc - other > NOISE_Z * sd else "below" if other - acc > NOISE_Z * sd else "same"


def comment(R: dict) -> str:
    """The Comment section, every sentence decided by the numbers it states."""
    P, rand = R["params"], R["runs"][0]
    ref = next((r for r in R["runs"][1:] if r["label"] == "true labels"), None)
    f, e, chance, n = rand["final"], rand["epochs_to_target"], R["chance"], R["n_test"]
    target = wording.pct(P["target_acc"], 0)
    agree = (f"- The random labels agree with the true ones on {wording.pct(R['label_agreement'])} of the training "
             f"images (chance: {wording.pct(chance, 0)}): they are drawn independently of the images.")
    lines = [agree]
    if e is not None:
        lines.append(f"- The network **memorized** the random labels: its training accuracy first reached {target} "
                     f"after {wording.plural(e, 'epoch')} ({wording.plural(e * R['steps_per_epoch'], 'step')} of "
                     f"{P['batch_size']} images) and ended at {wording.pct(f['train_acc'], 2)} (training loss "
                     f"{f['train_loss']:.2e}).")
    else:
        lines.append(f"- Within {wording.plural(P['epochs'], 'epoch')} the training accuracy on random labels did "
                     f"**not** reach {target}: it ended at {wording.pct(f['train_acc'], 2)} (training loss "
                     f"{f['train_loss']:.3g}); memorizing needs more epochs or a larger model.")
    lines[-1] += (f" The model has {R['model']['params']:,} parameters, {R['model']['params'] / R['n_train']:,.0f} "
                  f"per training image.")
    level = test_acc_vs(f["test_acc"], chance, n, both_measured=False)
    lines.append(f"- Test accuracy (true labels) ended at **{wording.pct(f['test_acc'])}**, " + {
        "same": f"which is chance level ({wording.pct(chance, 0)}) within the sampling noise of {n:,} test images",
        "above": f"above chance ({wording.pct(chance, 0)}) by more than the sampling noise of {n:,} test images: "
                 f"the net learned something about the true labels along the way",
        "below": f"below chance ({wording.pct(chance, 0)}) by more than the sampling noise of {n:,} test images",
    }[level] + f" (best over the epochs: {wording.pct(rand['best_test_acc'])}).")
    first, last = rand["test_loss"][0], rand["test_loss"][-1]
    change = (last - first) / first
    lines.append(f"- The test loss went from {first:.3g} after the first epoch to {last:.3g} at the end: " + (
        "it **grew**, as the net grows confident in labels that are wrong for the test images."
        if change > LOSS_CHANGE else
        "it **fell**, so the net still picked up something that holds on the test images."
        if change < -LOSS_CHANGE else
        f"it stayed within {wording.pct(LOSS_CHANGE, 0)} of where it started."))
    if ref is not None:
        er = ref["epochs_to_target"]
        lines.append(
            "- On the true labels the same net (same initialization and data order) "
            + (f"reached {target} training accuracy after {wording.plural(er, 'epoch')}" if er is not None
               else f"did not reach {target} training accuracy within {wording.plural(P['epochs'], 'epoch')}")
            + f" and ended at {wording.pct(ref['final']['test_acc'])} test accuracy"
            + (f"; fitting the random labels took {e / er:.1f} times as many epochs in this run." if e and er else "."))
    separated = (ref is not None and e is not None and ref["epochs_to_target"] is not None
                 and test_acc_vs(ref["final"]["test_acc"], f["test_acc"], n, both_measured=True) == "above")
    if separated:
        lines.append(f"\nThe same network reached {target} training accuracy on labels that mean nothing and on "
                     f"the true ones, yet the true-label net tests clearly better ({wording.pct(ref['final']['test_acc'])} "
                     f"against {wording.pct(f['test_acc'])}): training accuracy alone cannot tell the two apart, so "
                     f"the model's capacity alone does not explain why it generalizes.")
    elif e is not None:
        lines.append("\nA network this large can fit labels that carry no information. Without a true-label run "
                     "that fits the training set too and tests clearly better, this run cannot show that training "
                     "accuracy hides the difference.")
    else:
        lines.append(f"\nThis run does not show memorization within {wording.plural(P['epochs'], 'epoch')}, so "
                     f"it cannot answer the question: train for more epochs.")
    return "\n".join(lines)
