"""Figures of Part 1 (deep vs shallow), drawn from the results payloads."""

from __future__ import annotations

from matplotlib.lines import Line2D

from .plots import figure, palette

# Every legend here goes below the axes (fig.legend "outside"): the curves fill the whole panel,
# so no corner is reliably free of data.


def loss_curves(R: dict, fn: str):
    """Training loss (log) against epoch, one colour per depth, one line per seed."""
    fig, ax = figure()
    depths = [m["depth"] for m in R["models"]]
    colours = dict(zip(depths, palette(len(depths))))
    params = {m["depth"]: m["params"] for m in R["models"]}
    seen = set()
    for r in R["runs"][fn]:
        label = None if r["depth"] in seen else f"{r['depth']} hidden layer{'s' if r['depth'] > 1 else ''} ({params[r['depth']]} params)"
        seen.add(r["depth"])
        ax.plot(r["curve"]["x"], r["curve"]["y"], color=colours[r["depth"]], lw=1.4 if r["seed"] == 0 else 0.9,
                alpha=1.0 if r["seed"] == 0 else 0.5, label=label)
        if r["diverged"]:
            ax.plot(r["curve"]["x"][-1:], r["curve"]["y"][-1:], "x", color=colours[r["depth"]], ms=8)
    ax.set(xscale="log", yscale="log", xlabel="epoch", ylabel="training loss (MSE)")
    fig.legend(loc="outside lower center", ncols=min(len(depths), 3), fontsize="small")
    return fig


def predictions(R: dict, fn: str, formula: str):
    """Every model's prediction on the dense test grid over the ground truth."""
    fig, ax = figure()
    P = R["predictions"][fn]
    ax.plot(P["x"], P["truth"], color="black", lw=2.2, label=f"ground truth {formula}")
    depths = list(P["by_depth"])
    for depth, colour in zip(depths, palette(len(depths))):
        ax.plot(P["x"], P["by_depth"][depth], color=colour, lw=1.3, label=f"{depth} hidden layer{'s' if depth != '1' else ''}")
    ax.set(xlabel="x", ylabel="y")
    fig.legend(loc="outside lower center", ncols=min(len(depths) + 1, 4), fontsize="small")
    return fig


def training_curves(R: dict, dataset: str, metric: str):
    """Train (solid) and test (dashed) ``metric`` ("loss" or "acc") against epoch, one colour per model."""
    fig, ax = figure()
    runs = [r for r in R["runs"] if r["dataset"] == dataset]
    handles = []
    for run, colour in zip(runs, palette(len(runs))):
        h = run["history"]
        note = f", diverged at epoch {h['diverged']['epoch']}" if h["diverged"] else ""
        ax.plot(h["epoch"], h[f"train_{metric}"], color=colour, lw=1.5)
        ax.plot(h["eval_epoch"], h[f"test_{metric}"], color=colour, lw=1.5, ls="--")
        handles.append(Line2D([], [], color=colour, lw=1.5, label=f"{run['model']} ({run['params']:,} params{note})"))
    # colour says the model, line style the split: one entry each instead of one per line. The legend
    # fills column by column, so putting train/test after the first two models puts them on row 2.
    styles = [Line2D([], [], color="black", lw=1.2, label="train"),
              Line2D([], [], color="black", lw=1.2, ls="--", label="test")]
    handles = [h for i, m in enumerate(handles) for h in ([m, styles[i]] if i < 2 else [m])]
    ax.set(xlabel="epoch", ylabel="cross-entropy loss" if metric == "loss" else "accuracy")
    if metric == "loss":
        ax.set_yscale("log")
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(runs), 4), fontsize="small")
    return fig
