"""Figures of Part 1 (deep vs shallow), drawn from the results payloads."""

from __future__ import annotations

from .plots import figure, palette


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
    ax.legend(title="model")
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
    ax.legend(loc="upper right", fontsize="small")
    return fig


def training_curves(R: dict, dataset: str, metric: str):
    """Train (solid) and test (dashed) ``metric`` ("loss" or "acc") against epoch, one colour per model."""
    fig, ax = figure()
    runs = [r for r in R["runs"] if r["dataset"] == dataset]
    for run, colour in zip(runs, palette(len(runs))):
        h = run["history"]
        note = f", diverged at epoch {h['diverged']['epoch']}" if h["diverged"] else ""
        ax.plot(h["epoch"], h[f"train_{metric}"], color=colour, lw=1.5,
                label=f"{run['model']} ({run['params']:,} params{note}) train")
        ax.plot(h["eval_epoch"], h[f"test_{metric}"], color=colour, lw=1.5, ls="--", label=f"{run['model']} test")
    ax.set(xlabel="epoch", ylabel="cross-entropy loss" if metric == "loss" else "accuracy")
    if metric == "loss":
        ax.set_yscale("log")
    ax.legend(fontsize="small", ncols=2)
    return fig
