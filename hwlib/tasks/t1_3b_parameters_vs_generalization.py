"""1-3b Number of parameters vs generalization: as a network gets wider, does it overfit?

One family of models in which only the width w changes (an MLP with ``depth`` hidden layers of w
units, or a CNN with channels [w, w, 2w, 2w]); the widths span more than two orders of magnitude of
parameter count. Each width is trained from several seeds with identical settings; the final
train/test loss and accuracy are measured in eval mode on the whole training and test sets. The
comment compares the widest model with the narrowest and with the best width, calling a difference
only where the seed ranges do not overlap.
"""

from __future__ import annotations

import math
import time

import torch

from .. import batched_mlp, data, ensemble, models, train, wording
from ..params import Param, ParamError, same
from ..plots import figure, palette
from ..progress import Progress
from ..results import envelope
from ..tables import markdown_table
from . import common

NAME, SECTION = "1_3b_parameters_vs_generalization", "1-3b"

SPEC = {
    "dataset": common.DATASET,
    "train_limit": common.train_limit(smoke=256),
    "family": Param("str", smoke="mlp", quick="mlp", full="cnn", choices=("mlp", "cnn"), doc="model family"),
    "depth": same("int", 2, low=1, doc="hidden layers of the MLP family"),
    "widths": Param("int_list", smoke=[2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
                    quick=[2, 4, 8, 12, 16, 32, 64, 128, 256, 512], full=[1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96],
                    positive=True, min_len=2,
                    doc="widths w, increasing (the assignment asks for 10 or more over 2 orders of magnitude)"),
    "seeds": Param("int_list", smoke=[0], quick=[0, 1, 2, 3], full=[0, 1, 2, 3], low=0,
                   doc="one run per seed and width; 4 a width let the exact rank test reach p < 0.05"),
    "epochs": Param("int", smoke=2, quick=40, full=10, low=1, doc="passes over the training set"),
    "batch_size": Param("int", smoke=128, quick=64, full=128, low=1, doc="images per step"),
    "lr": same("float", 1e-3, positive=True, doc="learning rate"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS, doc="optimizer of every model"),
    "data_root": common.DATA_ROOT,
}


def checks(P) -> None:
    if sorted(set(P.widths)) != list(P.widths):
        raise ParamError(f"widths={P.widths!r} must be distinct and increasing, e.g. [2, 4, 8, 16]")
    if len(set(P.seeds)) != len(P.seeds):
        raise ParamError(f"seeds={P.seeds!r} must be distinct, e.g. [0, 1]")


def build(P, ds: data.Dataset, width: int):
    if P.family == "mlp":
        return models.mlp([width] * P.depth, in_dim=math.prod(ds.input_shape), out_dim=ds.n_classes)
    return models.cnn(ds.input_shape, ds.n_classes, [width, width, 2 * width, 2 * width])


def summarize(runs: list[dict]) -> dict:
    """Per width: mean/min/max over seeds of every final metric; the best and worst widths."""
    by_width = {}
    for w in sorted({r["width"] for r in runs}):
        rs = [r for r in runs if r["width"] == w]
        row = {"width": w, "params": rs[0]["params"], "seeds": len(rs)}
        for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
            vals = [r[k] for r in rs]
            row[k] = sum(vals) / len(vals)
            row[f"{k}_min"], row[f"{k}_max"] = min(vals), max(vals)
        by_width[str(w)] = row
    rows = list(by_width.values())
    best = max(rows, key=lambda r: r["test_acc"])
    worst = min(rows, key=lambda r: r["test_acc"])
    return {"by_width": by_width, "best": best, "worst": worst,
            "orders_of_magnitude": math.log10(rows[-1]["params"] / rows[0]["params"])}


# Up to this many parameters a model's seeds train as one ensemble. Measured on a CPU, one thread, 2 seeds of
# 1-3b's quick MLPs against fit twice, with the ensemble's written-out backward pass (hwlib.batched_mlp):
# 1.9× at widths 64 and 128 (9k, 26k parameters; 4 epochs, and 1.76× at 128 over 40), 1.66× at 256 (85k;
# 40 epochs), 0.87× at 512 (300k; 4 epochs),
# where the arithmetic dominates and the ensemble's unfused Adam costs more than torch's fused one.
ENSEMBLE_MAX_PARAMS = 100_000


def train_width(P, ds: data.Dataset, width: int) -> list[dict]:
    """Every seed of one width: seed, final train/test loss and accuracy, seconds, divergence.

    A small MLP trains all its seeds as one vectorized ensemble: each row reproduces its own ``fit`` run
    (same initialization, data order and stops; tests/test_ensemble.py). Larger models, and the CNNs,
    train one seed after another with ``fit``.
    """
    make = lambda: build(P, ds, width)
    with torch.device("meta"):
        probe = make()
    if batched_mlp.plan(probe) is None or models.count_params(probe) > ENSEMBLE_MAX_PARAMS:
        out = []
        for seed in P.seeds:
            torch.manual_seed(seed)
            h = train.fit(make().to(P.device), ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr,
                          optimizer=P.optimizer, seed=seed, label=f"width {width} seed {seed}", log=False)
            out.append({"seed": seed, **h.final, "seconds": h.seconds, "diverged": h.diverged})
        return out
    ens = ensemble.build(make, list(P.seeds), P.device)
    h = ensemble.train(ens, ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr, optimizer=P.optimizer, log=False)
    train_loss, train_acc = ensemble.evaluate(ens, ens.theta, ds.x_train, ds.y_train, ds.kind)
    test_loss, test_acc = ensemble.evaluate(ens, ens.theta, ds.x_test, ds.y_test, ds.kind)
    return [{"seed": seed, "train_loss": train_loss[i].item(), "train_acc": train_acc[i].item(),
             "test_loss": test_loss[i].item(), "test_acc": test_acc[i].item(),
             "seconds": h.seconds / ens.k, "diverged": h.diverged[i]} for i, seed in enumerate(P.seeds)]


def run(P) -> dict:
    start = time.perf_counter()
    ds = common.load_data(P)
    table, runs = [], []
    progress = Progress(len(P.widths) * len(P.seeds), "widths × seeds")
    for width in P.widths:
        with torch.device("meta"):  # structure and count without allocating weights
            info = models.describe(build(P, ds, width))
        table.append({"width": width, "params": info["params"], "structure": info["structure"]})
        for r in train_width(P, ds, width):
            runs.append({"width": width, "params": info["params"], **r})
            progress.update(len(runs), width=width, test_acc=r["test_acc"])
    progress.done()
    return envelope(P, NAME, SECTION, time.perf_counter() - start,
                    dataset=ds.describe(), n_train=len(ds.x_train), n_test=len(ds.x_test),
                    models=table, runs=runs, summary=summarize(runs))


# ------------------------------------------------------------------ table and figures

def table(R: dict) -> str:
    """The structure and parameter count of every width."""
    return markdown_table(R["models"])


def figures(R: dict) -> list:
    seeds = wording.plural(len(R["params"]["seeds"]), "seed")
    caption = (f"Final training and test loss (left, log scale) and accuracy (right, on a scale stretched toward 1, "
               f"evenly in log(1 − accuracy), so that 0.9, 0.99 and 0.999 are a step apart) against the number of "
               f"parameters (log scale), {seeds} per width: the line is the mean, the band spans the lowest to the "
               f"highest seed and each dot is one run.")
    return [(_against_parameters(R), caption)]


ACC_FLOOR = 1e-3  # the accuracy axis stretches 1 − accuracy logarithmically down to this


def toward_one(ax, values: list[float]) -> None:
    """An accuracy axis stretched toward 1, evenly in log(1 − accuracy): 0.9, 0.99 and 0.999 a step apart,
    1 at the top. On a linear axis from the narrowest model's 0.2 up, the wide models' train and test
    accuracies (1.0 against 0.97) drew as one line, hiding the gap the figure is about."""
    import numpy as np

    def forward(a):
        return -np.log10(np.clip(1 - np.asarray(a, float), 0, None) + ACC_FLOOR)

    def inverse(t):
        return 1 - (10 ** -np.asarray(t, float) - ACC_FLOOR)

    ax.set_yscale("function", functions=(forward, inverse))
    low = min(v for v in values if v is not None)
    ticks = [t for t in (0, 0.2, 0.5, 0.9, 0.99, 0.999, 1) if t >= low - 0.1]
    ax.set_ylim(max(0.0, low - 0.05), 1.0)
    ax.set_yticks(ticks, labels=[f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_ylabel("accuracy (scale stretched toward 1)")


def _against_parameters(R: dict):
    """Train/test loss and accuracy against #params (log x): mean over seeds, band min–max, dots per run."""
    train_colour, test_colour = palette(2)
    fig, axes = figure(ncols=2, height=3.3)
    rows = list(R["summary"]["by_width"].values())
    x = [r["params"] for r in rows]
    for ax, metric, ylabel in ((axes[0][0], "loss", "cross-entropy loss"), (axes[0][1], "acc", "accuracy")):
        for split, colour in (("train", train_colour), ("test", test_colour)):
            k = f"{split}_{metric}"
            ax.plot(x, [r[k] for r in rows], "-o", ms=3, color=colour, label=split)
            ax.fill_between(x, [r[f"{k}_min"] for r in rows], [r[f"{k}_max"] for r in rows], color=colour, alpha=0.2,
                            lw=0)
            ax.scatter([r["params"] for r in R["runs"]], [r[k] for r in R["runs"]], s=6, color=colour, alpha=0.6)
        ax.set(xscale="log", xlabel="number of parameters", ylabel=ylabel)
        if metric == "loss":
            ax.set_yscale("log")
        else:
            toward_one(ax, [r[k] for r in R["runs"] for k in ("train_acc", "test_acc")])
    # one legend below both panels: the train and test curves cross the whole range of widths
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize="small")
    return fig


# ------------------------------------------------------------------ comment
FIT_ACC = 0.999  # "fits the training set": at most 1 training image in 1,000 still wrong


def _by_width(runs: list[dict]) -> dict[int, dict[str, list[float]]]:
    """Per width with a finished run: every final metric as a list over seeds; diverged runs dropped."""
    out = {}
    for r in runs:
        if r.get("diverged") is None:
            row = out.setdefault(r["width"], {"params": r["params"]})
            for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
                row.setdefault(k, []).append(r[k])
    return dict(sorted(out.items()))


def _mean(v: list[float]) -> float:
    """Exactly rounded (fsum): equal accuracies over different seed counts tie, as a reader of the table sees them."""
    return math.fsum(v) / len(v)


def _said(g: wording.Ranked, words: dict[str, str]) -> str:
    """The verdict's words where the rank test gives one, else 'cannot tell'; the test beside it."""
    return f"{words.get(g.verdict, 'cannot tell')} ({g.test})"


def _lost(R: dict) -> list[str]:
    lost = [r for r in R["runs"] if r.get("diverged") is not None]
    if not lost:
        return []
    where = sorted({r["width"] for r in lost})
    return [(f"- {wording.plural(len(lost), 'run')} diverged and {'is' if len(lost) == 1 else 'are'} left out "
             f"({'width' if len(where) == 1 else 'widths'} {wording.join([str(w) for w in where])}).")]


def _head(R: dict, W: dict) -> list[str]:
    """How many widths and seeds the comparisons rest on; the runs left out."""
    widths = list(W)
    small, large = W[widths[0]]["params"], W[widths[-1]]["params"]
    k = sorted({len(v["test_acc"]) for v in W.values()})
    seeds = wording.plural(k[0], "seed") + " each" if len(k) == 1 else f"{k[0]} to {k[-1]} finished seeds each"
    return [(f"- {wording.plural(len(W), 'width')} with a finished run, from {small:,} to {large:,} parameters "
             f"({math.log10(large / small):.1f} orders of magnitude), {seeds}; the training set has "
             f"{R['n_train']:,} images.")] + _lost(R)


def _train(W: dict, fit_from: int | None, pw) -> list[str]:
    """Training accuracy from the narrowest to the widest, where every run fits, and whether width limits it."""
    widths = list(W)
    small, large = widths[0], widths[-1]
    acc = lambda w: wording.pct(_mean(W[w]["train_acc"]))
    lines = [f"- Mean training accuracy goes from {acc(small)} at the narrowest to {acc(large)} at the widest" + (
        f"; from {pw(fit_from)} on, every run fits the training set (at least {wording.pct(FIT_ACC)})."
        if fit_from is not None else
        f"; no width fits the training set in every run (at least {wording.pct(FIT_ACC)}).")]
    g = wording.ranked(W[small]["train_acc"], W[large]["train_acc"])
    if g.verdict == "lower":
        lines.append(f"- The narrowest model is limited by its size: with the same training, its training accuracy "
                     f"is lower than the widest's ({g.test}).")
    return lines


def _test(W: dict, best: int, near: int, pw) -> list[str]:
    """Test accuracy: the widest against the narrowest and against the best width (or, where the widest is the
    best, the next highest); the lowest mean test loss against the widest's (or the next lowest) likewise."""
    widths = list(W)
    small, large = widths[0], widths[-1]
    acc = lambda w: wording.pct(_mean(W[w]["test_acc"]))
    loss = lambda w: f"{_mean(W[w]['test_loss']):.3g}"
    up_down = {"higher": "**higher**", "lower": "**lower**"}
    lines = [f"- Test accuracy, widest against narrowest: {acc(large)} against {acc(small)}, "
             + _said(wording.ranked(W[large]["test_acc"], W[small]["test_acc"]), up_down) + "."]
    g = wording.ranked(W[large]["test_acc"], W[near]["test_acc"])
    if best == large:  # the highest mean, held against the next highest by the rank test before it is called best
        lines.append(f"- The widest model also has the highest mean test accuracy of all widths; against the next "
                     f"highest, {pw(near)}: {acc(large)} against {acc(near)}, " + _said(g, up_down) + ".")
    else:
        lines.append(f"- The best mean test accuracy is {acc(best)} at {pw(best)}; the widest model's is {acc(large)}, "
                     + _said(g, up_down) + ".")
    low = min(widths, key=lambda w: _mean(W[w]["test_loss"]))
    if low == large:  # the lowest mean, held against the next lowest
        nxt = min(widths[:-1], key=lambda w: _mean(W[w]["test_loss"]))
        lines.append(f"- Test loss: the lowest mean is the widest model's; against the next lowest, {pw(nxt)}: "
                     f"{loss(large)} against {loss(nxt)}, "
                     + _said(wording.ranked(W[large]["test_loss"], W[nxt]["test_loss"]), up_down) + ".")
    else:
        lines.append(f"- Test loss: the lowest mean is at {pw(low)}, {loss(low)}; at the widest it is {loss(large)}, "
                     + _said(wording.ranked(W[large]["test_loss"], W[low]["test_loss"]), up_down) + ".")
    return lines


def _verdict(R: dict, W: dict, best: int, near: int, fit_from: int | None) -> str:
    """What the widths say about overfitting, as far as the rank test of the widest against the best width (or,
    where the widest is the best, the next highest) can tell."""
    large = list(W)[-1]
    per_image = wording.amount(W[large]["params"] / R["n_train"])
    g = wording.ranked(W[large]["test_acc"], W[near]["test_acc"])
    if g.verdict == "lower":
        return (f"The widest model ({per_image} parameters per training image) tests lower than width {best} "
                f"({g.test}): in this run, that much extra width cost some test accuracy.")
    fitted = fit_from is not None and fit_from != large
    if best == large and g.verdict == "higher":
        return ((f"Past the width where every run fits the training set, adding parameters (up to {per_image} per "
                 "training image) did not lower the mean test accuracy: the widest model's is the highest, above the "
                 "next highest width's by the rank test. The classical bias–variance picture expects a cost there; "
                 "this run shows none.") if fitted else
                ("The widest model has the highest mean test accuracy, but no narrower width fits the training set in "
                 "every run, so this run does not show what happens beyond the point of fitting it."))
    rival = "the best width's" if best != large else "the next highest width's"
    more = (f" With {wording.plural(min(len(g.a), len(g.b)), 'seed')} a side the test cannot reach p < {g.level:g}; "
            f"{wording.seeds_needed(g.level)} or more seeds per width could." if g.verdict == "floor" else "")
    if fitted:
        return (f"Past the width where every run fits the training set, the rank test cannot tell the widest "
                f"model's test accuracy ({per_image} parameters per training image) from {rival}: this run "
                f"shows no cost of the extra parameters, which is not evidence that there is none.{more}")
    return (f"The rank test cannot tell the widest model's test accuracy from {rival}, and no narrower width "
            f"fits the training set in every run, so this run does not show what happens beyond the point of "
            f"fitting it.{more}")


LITERATURE = ("Zhang et al. (2017) and Novak et al. (2018) find that networks with more parameters than training "
              "images fit the training set and still generalize, their test accuracy not falling as parameters are added")


def _literature(R: dict, W: dict, near: int) -> str:
    """Whether the run agrees with the literature it repeats, as the rank tests of the widest decide: lower than a
    narrower width disagrees, higher than the narrowest agrees, anything else cannot confirm a rise."""
    widths = list(W)
    small, large = widths[0], widths[-1]
    vs_small = wording.ranked(W[large]["test_acc"], W[small]["test_acc"]).verdict
    if wording.ranked(W[large]["test_acc"], W[near]["test_acc"]).verdict == "lower" or vs_small == "lower":
        lower = near if vs_small != "lower" else small
        text = (f"This disagrees with the literature the experiment repeats: {LITERATURE}; here the widest model "
                f"tests lower than width {lower}.")
    elif vs_small == "higher":
        also = f" and not lower than width {near}" if near != small else ""
        text = (f"This agrees with the literature the experiment repeats: {LITERATURE}; here the widest model tests "
                f"higher than the narrowest{also}.")
    else:
        text = (f"This run does not contradict the literature the experiment repeats ({LITERATURE}), but it cannot "
                f"confirm a rise either: the rank test cannot tell the widest model's test accuracy from the narrowest's.")
    if W[large]["params"] <= R["n_train"]:
        text += (f" Its widest model has no more parameters than training images "
                 f"({wording.amount(W[large]['params'] / R['n_train'])} per image), short of the regime they study.")
    return text


def comment(R: dict) -> str:
    """The Comment section: the widest model against the narrowest and against the best width, each difference
    called only by an exact rank test over the seeds (p beside it)."""
    W = _by_width(R["runs"])
    if len(W) < 2:
        return "\n".join(_lost(R) + ["- Fewer than two widths have a finished run, so nothing is compared."])
    widths = list(W)
    pw = lambda w: f"width {w} ({W[w]['params']:,} parameters)"
    fit_from = next((w for i, w in enumerate(widths) if all(min(W[v]["train_acc"]) >= FIT_ACC for v in widths[i:])),
                    None)
    best = max(widths, key=lambda w: _mean(W[w]["test_acc"]))
    # the width the widest is held against: the best, or where the widest is the best, the next highest
    near = best if best != widths[-1] else max(widths[:-1], key=lambda w: _mean(W[w]["test_acc"]))
    lines = _head(R, W) + _train(W, fit_from, pw) + _test(W, best, near, pw)
    lines.append(f"\n{_verdict(R, W, best, near, fit_from)} {_literature(R, W, near)} A difference is called only "
                 f"where an exact two-sided rank test (Mann-Whitney, by permutation) over the seeds of two widths gives "
                 f"p < {wording.ALPHA:g}, each comparison on its own.")
    return "\n".join(lines)
