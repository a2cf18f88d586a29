"""1-1b Train on an actual task: on image classification, does a deep CNN beat a shallow one of the same size?

For each dataset a family of CNNs is built at one parameter count: the shallowest CNN's width is
solved from the budget and every deeper one is solved for that exact count, so all lie within 1 %
of each other. All share the optimizer, learning rate, batch size, epochs and data order; train and
test loss and accuracy are recorded every epoch. With one seed per model the comment calls a
difference in test accuracy only beyond the test set's own sampling noise.
"""

from __future__ import annotations

import math
import time

import torch
from matplotlib.lines import Line2D

from .. import data, models, train, wording
from ..params import Param, ParamError, same
from ..plots import figure, palette
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
        ds = data.load(name, P.device, root=P.data_root, train_limit=P.train_limit or None)
        for depth, model in zip(P.depths, family(P, ds)):
            info = models.describe(model)
            table.append({"dataset": name, "model": model_name(depth), "channels": info["widths"],
                          "params": info["params"], "structure": info["structure"]})
            h = train.fit(model.to(P.device), ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr,
                          optimizer=P.optimizer, seed=P.seed, label=f"{name} {model_name(depth)}")
            runs.append({"dataset": name, "model": model_name(depth), "depth": depth, "params": info["params"],
                         "n_test": len(ds.x_test), "history": h.to_dict()})
    return envelope(P, NAME, SECTION, time.perf_counter() - start, models=table, runs=runs)


# ------------------------------------------------------------------ table and figures

def table(R: dict) -> str:
    """The CNNs compared, per dataset, with their channels and structure read from the built models."""
    return markdown_table(R["models"])


def figures(R: dict) -> list:
    """Per dataset: the loss curves, then the accuracy curves."""
    out = []
    for name in R["params"]["datasets"]:
        loss = f"Training (solid) and test (dashed) cross-entropy loss of every CNN on {name} per epoch, on a log scale."
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
        handles.append(Line2D([], [], color=colour, lw=1.5, label=f"{run['model']} ({run['params']:,} parameters{note})"))
    # colour says the model, line style the split: one entry each instead of one per line. The legend
    # fills column by column, so putting train/test after the first two models puts them on row 2.
    styles = [Line2D([], [], color="black", lw=1.2, label="train"),
              Line2D([], [], color="black", lw=1.2, ls="--", label="test")]
    handles = [h for i, m in enumerate(handles) for h in ([m, styles[i]] if i < 2 else [m])]
    ax.set(xlabel="epoch", ylabel="cross-entropy loss" if metric == "loss" else "accuracy")
    if metric == "loss":
        ax.set_yscale("log")
    # below the axes: the curves fill the whole panel, so no corner is reliably free of data
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(runs), 4), fontsize="small")
    return fig


# ------------------------------------------------------------------ comment
# One seed per model, so the seed noise is unknown; what is known is the test set's own sampling
# noise. Two accuracies p measured on n test images differ by chance with a standard deviation of
# about sqrt(2·n·p·(1−p)) images (binomial, unpaired: conservative for two models scored on the
# same images). A difference is called only beyond Z of those.
NOISE_Z = 2  # two standard deviations: chance alone exceeds it about once in 20 comparisons
MIN_IMAGES = 3  # near 100 % the binomial noise vanishes, yet one or two images are still no difference


def threshold_images(n_test: int, acc_a: float, acc_b: float) -> int:
    """Fewest test images by which two accuracies must differ to be called different."""
    p = (acc_a + acc_b) / 2
    return max(MIN_IMAGES, math.ceil(NOISE_Z * math.sqrt(2 * n_test * p * (1 - p))))


def versus(deep: dict, shallow: dict) -> tuple[str, int, int]:
    """('better' | 'worse' | 'tie', images gained by ``deep`` over ``shallow``, threshold in images)."""
    n = deep["n_test"]
    a, b = deep["history"]["final"]["test_acc"], shallow["history"]["final"]["test_acc"]
    diff, need = round(a * n) - round(b * n), threshold_images(n, a, b)
    return ("better" if diff >= need else "worse" if -diff >= need else "tie"), diff, need


def _dataset_comment(name: str, runs: list[dict], epochs: int) -> tuple[list[str], str | None]:
    """Bullet lines for one dataset and its verdict ('deeper', 'shallow', 'tie', 'mixed' or None)."""
    lines = [f"- **{name}**: the {r['model']} diverged at epoch {r['history']['diverged']['epoch']}; it is left out."
             for r in runs if r["history"]["diverged"]]
    ok = sorted((r for r in runs if not r["history"]["diverged"]), key=lambda r: r["depth"])
    if len(ok) < 2:
        lines.append(f"- **{name}**: fewer than two CNNs finished, so depth cannot be compared here.")
        return lines, None
    f = lambda r: r["history"]["final"]
    lines.append(f"- **{name}** ({wording.plural(epochs, 'epoch')}, {ok[0]['n_test']:,} test images): " + "; ".join(
        f"{r['model']} ({r['params']:,} parameters): training loss {f(r)['train_loss']:.3f}, training accuracy "
        f"{wording.pct(f(r)['train_acc'])}, test accuracy {wording.pct(f(r)['test_acc'])}" for r in ok) + ".")
    shallow, said = ok[0], []
    for deep in ok[1:]:
        verdict, diff, need = versus(deep, shallow)
        images = wording.plural(abs(diff), "test image")
        said.append(verdict)
        lines.append(f"  - {deep['model']} against the {shallow['model']}: " + {
            "better": f"**better**, {images} more right (the threshold is {need})",
            "worse": f"**worse**, {images} fewer right (the threshold is {need})",
            "tie": f"**no clear difference** ({images} {'more' if diff > 0 else 'fewer'} right, below the threshold "
                   f"of {need})" if diff else f"**no clear difference** (the same number right; threshold {need})",
        }[verdict] + ".")
    verdict = ("deeper" if set(said) == {"better"} else "shallow" if set(said) == {"worse"}
               else "tie" if set(said) == {"tie"} else "mixed")
    return lines, verdict


def comment(R: dict) -> str:
    """The Comment section: each deeper CNN against the shallowest on test accuracy, per dataset."""
    P = R["params"]
    lines, verdicts = [], {}
    for name in P["datasets"]:
        more, verdicts[name] = _dataset_comment(name, [r for r in R["runs"] if r["dataset"] == name], P["epochs"])
        lines += more
    decided = {n: v for n, v in verdicts.items() if v}
    kinds = set(decided.values())
    if not decided:
        verdict = "No dataset has two finished CNNs, so depth is not compared."
    elif kinds == {"deeper"}:
        verdict = ("At the same parameter count, every deeper CNN tested clearly better than the shallowest one: "
                   "here, spending the parameters on more conv blocks paid off.")
    elif kinds == {"shallow"}:
        verdict = ("At the same parameter count, every deeper CNN tested clearly worse than the shallowest one: "
                   "here, spending the parameters on more conv blocks did not pay off.")
    elif kinds == {"tie"}:
        verdict = ("At the same parameter count, no deeper CNN tested clearly better or worse than the shallowest "
                   "one: on this test set, depth made no measurable difference.")
    else:
        parts = [f"{label} on {wording.join([n for n, v in decided.items() if v == kind])}" for kind, label in (
            ("deeper", "every deeper CNN tested clearly better"), ("shallow", "every deeper CNN tested clearly worse"),
            ("tie", "no depth made a clear difference"), ("mixed", "only some deeper CNNs differed clearly"))
            if kind in kinds]
        verdict = f"Depth had no consistent effect: {wording.join(parts)}."
    rule = (f"A difference counts only when it reaches {NOISE_Z} standard deviations of the test set's sampling "
            f"noise and at least {MIN_IMAGES} images: with one seed per model the seed noise is unknown, so this "
            f"is the least a difference must beat.")
    lines.append(f"\n{verdict} {rule}")
    return "\n".join(lines)
