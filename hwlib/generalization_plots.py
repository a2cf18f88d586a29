"""Figures of Part 3 (generalization), drawn from the results payloads of 1-3a … 1-3e."""

from __future__ import annotations

import numpy as np

from .plots import figure, palette

TRAIN, TEST, EXTRA = palette(3)  # one colour per role in every Part 3 figure


def _legend(*axes, **kw):
    """One legend for the lines of twin axes."""
    handles, labels = [], []
    for ax in axes:
        h, l = ax.get_legend_handles_labels()
        handles += h
        labels += l
    axes[0].legend(handles, labels, **kw)


# ---------------------------------------------------------------- 1-3a

def random_labels(R: dict):
    """Loss (log) and accuracy per epoch: train on the labels trained on, test on the true labels."""
    fig, axes = figure(ncols=2, height=3.3)
    ax_loss, ax_acc = axes[0]
    for run in R["runs"]:
        ref = run["label"] != "random labels"
        style = {"lw": 1.0 if ref else 1.6, "alpha": 0.55 if ref else 1.0}
        tag = "true-label reference" if ref else "random labels"
        ax_loss.plot(run["epoch"], run["train_loss"], color=TRAIN, ls=":" if ref else "-", label=f"train ({tag})", **style)
        ax_loss.plot(run["eval_epoch"], run["test_loss"], color=TEST, ls=":" if ref else "--",
                     label=f"test ({tag})", **style)
        ax_acc.plot(run["epoch"], run["train_acc"], color=TRAIN, ls=":" if ref else "-", **style)
        ax_acc.plot(run["eval_epoch"], run["test_acc"], color=TEST, ls=":" if ref else "--", **style)
        if not ref and run["epochs_to_target"]:
            ax_acc.axvline(run["epochs_to_target"], color="grey", lw=0.8, ls="-.")
    ax_acc.axhline(R["chance"], color="black", lw=0.8, ls="--", label="chance")
    ax_loss.set(yscale="log", xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02), title="accuracy")
    # below both panels: the accuracy curves span the whole height and the loss curves the whole width
    handles, labels = [], []
    for ax in (ax_loss, ax_acc):
        h, l = ax.get_legend_handles_labels()
        handles, labels = handles + h, labels + l
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize="x-small")
    return fig


# ---------------------------------------------------------------- 1-3b

def parameters_vs_generalization(R: dict):
    """Train/test loss and accuracy against #params (log x): mean over seeds, band min–max, dots per run."""
    fig, axes = figure(ncols=2, height=3.3)
    rows = list(R["summary"]["by_width"].values())
    x = [r["params"] for r in rows]
    for ax, metric, ylabel in ((axes[0][0], "loss", "cross-entropy loss"), (axes[0][1], "acc", "accuracy")):
        for split, colour in (("train", TRAIN), ("test", TEST)):
            k = f"{split}_{metric}"
            ax.plot(x, [r[k] for r in rows], "-o", ms=3, color=colour, label=split)
            ax.fill_between(x, [r[f"{k}_min"] for r in rows], [r[f"{k}_max"] for r in rows], color=colour, alpha=0.2,
                            lw=0)
            ax.scatter([r["params"] for r in R["runs"]], [r[k] for r in R["runs"]], s=6, color=colour, alpha=0.6)
        ax.set(xscale="log", xlabel="number of parameters", ylabel=ylabel)
        if metric == "loss":
            ax.set_yscale("log")
    # one legend below both panels: the train and test curves cross the whole range of widths
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize="small")
    return fig


# ---------------------------------------------------------------- 1-3c

def _clipped_spans(alphas, counts):
    """Contiguous α intervals where some running variance was clipped (count > 0)."""
    spans, start = [], None
    for i, (a, n) in enumerate(zip(alphas, counts)):
        if n and start is None:
            start = alphas[i - 1] if i else a
        if not n and start is not None:
            spans.append((start, a))
            start = None
    if start is not None:
        spans.append((start, alphas[-1]))
    return spans


def interpolation(R: dict, pair: str):
    """One panel per initialization case: loss (log, left) and accuracy (right) against α; grey
    background where a BatchNorm running variance extrapolated below zero and was clipped."""
    cases = [c for c in R["cases"] if c["pair"] == pair]
    fig, axes = figure(ncols=len(cases), height=3.5)
    for ax, case in zip(axes[0], cases):
        a = case["alpha"]
        for lo, hi in _clipped_spans(a, case["clipped_variances"]):
            ax.axvspan(lo, hi, color="grey", alpha=0.15, lw=0, label="variance clipped")
        ax.plot(a, case["train_loss"], color=TRAIN, lw=1.5, label="train loss")
        ax.plot(a, case["test_loss"], color=TEST, lw=1.5, label="test loss")
        ax.set(yscale="log", xlabel="α", ylabel="cross-entropy loss (log)")
        acc = ax.twinx()
        acc.plot(a, case["train_acc"], color=TRAIN, lw=1.1, ls="--", label="train accuracy")
        acc.plot(a, case["test_acc"], color=TEST, lw=1.1, ls="--", label="test accuracy")
        acc.set(ylim=(-0.02, 1.02), ylabel="accuracy")
        acc.grid(False)
        for end in (0, 1):
            ax.axvline(end, color="black", lw=0.7, ls=":")
        v1, v2 = case["values"]
        ax.set_title(f"{case['init']} init: {v1:g} (α=0) → {v2:g} (α=1)", fontsize="small")
    handles, labels = [], []
    for axis in fig.axes:
        for h, l in zip(*axis.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="outside lower center", ncols=5, fontsize="x-small")
    return fig


# ---------------------------------------------------------------- 1-3d

def _per_batch(rows, key):
    """Batch sizes in order, the mean over seeds of each, and every (batch size, value) point."""
    groups = {}
    for r in sorted(rows, key=lambda r: r["batch_size"]):
        groups.setdefault(r["batch_size"], []).append(r[key])
    return list(groups), [float(np.mean(v)) for v in groups.values()], [(r["batch_size"], r[key]) for r in rows]


SENSITIVITY_LABEL = {"softmax": r"$\|\partial p/\partial x\|_F$ (softmax)",
                     "loss": r"$\|\partial \ell_i/\partial x\|$ (own loss)",
                     "logits": r"$\|\partial z/\partial x\|_F$ (logits)"}


def sensitivity(R: dict):
    """Left: loss; right: accuracy — train and test against batch size (line: mean over seeds,
    dots: each model at the target), the primary sensitivity on the twin axis."""
    fig, axes = figure(ncols=2, height=3.3)
    rows = [r for r in R["models"] if r["reached"]]
    key = f"sensitivity_{R['primary']}"
    for ax, metric, ylabel in ((axes[0][0], "loss", "cross-entropy loss"), (axes[0][1], "acc", "accuracy")):
        for split, colour in (("train", TRAIN), ("test", TEST)):
            b, mean, points = _per_batch(rows, f"{split}_{metric}")
            ax.plot(b, mean, "-o", ms=3, color=colour, label=f"{split} {'loss' if metric == 'loss' else 'accuracy'}")
            if points:  # none when no model reached the target
                ax.scatter(*zip(*points), s=8, color=colour, alpha=0.5)
        ax.set(xscale="log", xlabel="batch size", ylabel=ylabel)
        if metric == "loss":
            ax.set_yscale("log")
        twin = ax.twinx()
        b, mean, points = _per_batch(rows, key)
        twin.plot(b, mean, "-s", ms=3, lw=1.2, color=EXTRA, label=f"sensitivity of the {R['outputs'][R['primary']]}")
        if points:  # none when no model reached the target
            twin.scatter(*zip(*points), s=8, marker="s", color=EXTRA, alpha=0.5)
        twin.axhline(R["sensitivity_at_init"][R["primary"]], color=EXTRA, lw=0.9, ls=":", label="sensitivity, untrained")
        twin.set(ylabel="sensitivity " + SENSITIVITY_LABEL[R["primary"]])
        twin.grid(False)
    handles, labels = [], []
    for axis in (axes[0][0], fig.axes[-1]):
        h, l = axis.get_legend_handles_labels()
        handles += h
        labels += l
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize="x-small")
    return fig


# ---------------------------------------------------------------- 1-3e

def sharpness(R: dict):
    """Top row: each flatness measure against batch size (line: mean over seeds, dots: models);
    bottom row: the generalization gap against each measure, points labelled with their batch size."""
    measures = R["measures"]
    fig, axes = figure(ncols=len(measures), nrows=2, height=5.8)
    rows = [r for r in R["models"] if r["reached"]]
    C = {c["key"]: c[R["gap"]] for c in R["correlations"]}
    colours = palette(len(measures))
    for j, (key, name) in enumerate(measures.items()):
        top, bottom = axes[0][j], axes[1][j]
        b, mean, points = _per_batch(rows, key)
        top.plot(b, mean, "-", lw=1.0, color=colours[j])
        if points:  # none when no model reached the target
            top.scatter(*zip(*points), s=10, color=colours[j])
        top.set(xscale="log", xlabel="batch size")
        top.set_title(name.replace(" (", "\n("), fontsize="small")
        vals, gap = [r[key] for r in rows], [r[R["gap"]] for r in rows]
        bottom.scatter(vals, gap, s=14, color=colours[j])
        for v, g, r in zip(vals, gap, rows):
            bottom.annotate(str(r["batch_size"]), (v, g), fontsize="xx-small", xytext=(2, 2), textcoords="offset points")
        c = C[key]
        if c["rho"] is not None:
            bottom.set_title(f"ρ = {c['rho']:.2f}\n95 %: {c['low']:.2f} to {c['high']:.2f}", fontsize="x-small")
        bottom.set(ylabel=R["gaps"][R["gap"]] if j == 0 else None)
        bottom.set_xlabel(name.replace(" (", "\n("), fontsize="small")
    return fig
