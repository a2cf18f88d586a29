"""Figures of Part 3 (generalization), drawn from the results payloads of 1-3a … 1-3e."""

from __future__ import annotations

from .plots import figure, palette

TRAIN, TEST, EXTRA = palette(3)  # one colour per role in every Part 3 figure


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
