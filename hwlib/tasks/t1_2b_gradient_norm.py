"""1-2b Observe the gradient norm during training: how does ‖∇L‖ evolve while the loss falls?

The gradient norm is sqrt(Σ over all parameters of grad²) of the loss that is being minimized
at that iteration (the minibatch loss), taken after backward and before the optimizer step, and
recorded at every iteration together with that loss. A few seeds run together as an ensemble,
on a 1-D function (full batch) and on an image dataset (minibatches). The answer compares, per
dataset and across seeds, the medians of both quantities over the first and the last window of
iterations, their rank correlation, and which of the two jumps more from one iteration to the next.
"""

from __future__ import annotations

import math
import time

import numpy as np
from matplotlib.lines import Line2D

from .. import data, ensemble, models, ranks, wording
from ..device import cpu_threads
from ..params import Param, same
from ..plots import LINESTYLES, _arr, figure, palette
from ..results import envelope
from ..tables import markdown_table
from . import common

NAME, SECTION = "1_2b_gradient_norm", "1-2b"

SPEC = {
    "datasets": same("str_list", ["sinc", "digits"], choices=data.DATASETS,
                     doc="a 1-D function (full batch) and/or an image dataset (minibatches)"),
    "data_root": common.DATA_ROOT,
    "train_limit": Param("int", smoke=256, quick=0, full=0, low=0, off=0,
                         doc="image datasets: keep the first n training images (0 = all)"),
    "seeds": same("int", 3, low=1, doc="runs per dataset (seeds 0 … seeds-1): enough to see the seed spread"),
    "function_widths": Param("int_list", smoke=[8, 8], quick=[10, 10, 10], full=[10, 10, 10], positive=True,
                             doc="hidden widths of the MLP for a 1-D function"),
    "function_n_train": Param("int", smoke=64, quick=256, full=1000, low=8, doc="training points of a 1-D function"),
    "function_epochs": Param("int", smoke=60, quick=3000, full=20000, positive=True,
                             doc="full-batch epochs = iterations"),
    "function_lr": same("float", 3e-3, positive=True, doc="Adam learning rate for a 1-D function"),
    "image_widths": Param("int_list", smoke=[16], quick=[32, 32], full=[128, 128], positive=True,
                          doc="hidden widths of the image MLP"),
    "image_epochs": Param("int", smoke=2, quick=20, full=10, positive=True,
                          doc="epochs on an image dataset"),
    "image_batch_size": same("int", 64, positive=True, doc="minibatch size on an image dataset"),
    "image_lr": same("float", 1e-3, positive=True, doc="Adam learning rate on an image dataset"),
}


# A full-batch run's trend is read over windows of 1/TREND_WINDOWS of the run; a minibatch run's
# over one epoch, so every window sees each training example once.
TREND_WINDOWS = 50
MIN_WINDOW = 5  # short runs: a median of fewer values is still mostly noise


def trend_window(steps: int, epochs: int) -> int:
    """Iterations per running-median window (at least 1)."""
    per_epoch = steps // max(epochs, 1)
    return max(1, per_epoch if per_epoch > 1 else max(min(MIN_WINDOW, steps), steps // TREND_WINDOWS))


def running_median(values, window: int) -> np.ndarray:
    """Median over each run of ``window`` consecutive values (len − window + 1 of them)."""
    v = np.asarray(values, dtype=float)
    window = min(window, len(v))
    return np.median(np.lib.stride_tricks.sliding_window_view(v, window), axis=1)


def _one(P, name: str) -> dict:
    is_function = name in data.FUNCTIONS
    if is_function:
        ds = data.function_data(name, P.device, n_train=P.function_n_train)
        widths, epochs, bs, lr = P.function_widths, P.function_epochs, P.function_n_train, P.function_lr
    else:
        ds = data.load(name, P.device, root=P.data_root, train_limit=P.train_limit or None)
        widths, epochs, bs, lr = P.image_widths, P.image_epochs, P.image_batch_size, P.image_lr
    make = lambda: models.mlp(widths, in_dim=math.prod(ds.input_shape), out_dim=ds.out_dim)
    ens = ensemble.build(make, list(range(P.seeds)), P.device)
    with cpu_threads(1, P.device):
        hist = ensemble.train(ens, ds, epochs=epochs, batch_size=bs, lr=lr, eval_every=epochs, label=name,
                              record_steps=True)
    gn, loss = hist.step_grad_norm.double().numpy(), hist.step_loss.double().numpy()  # (steps, K)
    window = trend_window(hist.steps, epochs)
    runs = []
    for k, seed in enumerate(ens.seeds):
        g, l = gn[:, k], loss[:, k]
        trend = running_median(g, window)
        runs.append({
            "seed": seed, "grad_norm": g, "loss": l,
            "peak_grad_norm": float(g.max()), "peak_iteration": int(g.argmax()) + 1,
            "first_grad_norm": float(g[0]), "final_grad_norm": float(g[-20:].mean()),
            "first_loss": float(l[0]), "final_loss": float(l[-20:].mean()),
            # do the two fall together? rank correlation over the iterations of this run
            "spearman_grad_loss": ranks.spearman(g, l),
            # largest change from one iteration to the next, in decades (|log10 of the ratio|)
            "max_jump_grad_norm": float(np.abs(np.diff(np.log10(g))).max()) if len(g) > 1 else 0.0,
            "max_jump_loss": float(np.abs(np.diff(np.log10(l))).max()) if len(l) > 1 else 0.0,
            # the trend under the iteration-to-iteration noise: medians over the first / last window,
            # and the top of the running median with the iteration at the centre of its window
            "start_grad_norm": float(np.median(g[:window])), "end_grad_norm": float(np.median(g[-window:])),
            "start_loss": float(np.median(l[:window])), "end_loss": float(np.median(l[-window:])),
            "trend_peak_grad_norm": float(trend.max()), "trend_peak_iteration": int(trend.argmax()) + window // 2 + 1,
        })
    info = models.describe(ens.model)
    return {"dataset": ds.describe(), "name": name, "kind": ds.kind, "trend_window": window, "full_batch": bs >= len(ds.x_train),
            "batch_size": min(bs, len(ds.x_train)), "epochs": epochs, "lr": lr, "steps": hist.steps,
            "optimizer": "adam", "model": info, "seconds": hist.seconds, "runs": runs}


def run(P) -> dict:
    start = time.perf_counter()
    per = {name: _one(P, name) for name in P.datasets}
    return envelope(P, NAME, SECTION, time.perf_counter() - start, per_dataset=per)


# ------------------------------------------------------------------ table and figures

def table(R: dict) -> str:
    """One row per dataset: model, batches, optimizer, length of the run and its time."""
    rows = [{"dataset": D["dataset"], "model": D["model"]["structure"], "parameters": D["model"]["params"],
             "batch": "full" if D["full_batch"] else D["batch_size"], "optimizer": D["optimizer"], "lr": D["lr"],
             "epochs": D["epochs"], "iterations": D["steps"], "seeds": len(D["runs"]), "seconds": D["seconds"]}
            for D in R["per_dataset"].values()]
    return markdown_table(rows)


def figures(R: dict) -> list:
    """One figure per dataset, in the order trained."""
    out = []
    for D in R["per_dataset"].values():
        batches = "full batch" if D["full_batch"] else f"minibatches of {D['batch_size']}"
        out.append((_grad_norm_and_loss(D),
                    (f"{D['dataset']}: gradient norm (top) and training loss (bottom), {batches}, both on a log scale. "
                     f"Faint: the value at every iteration; bold: its running median over "
                     f"{wording.plural(D['trend_window'], 'iteration')}, which shows the trend under the "
                     "iteration-to-iteration swings. One colour and line style per seed.")))
    return out


def _grad_norm_and_loss(D: dict):
    """Two aligned panels sharing the iteration axis: ‖∇L‖ on top, the loss below (log y).

    The raw value of every iteration is drawn faint; over it, a running median over
    ``D["trend_window"]`` iterations shows the trend that the iteration-to-iteration swings hide.
    Legends go below the axes: the traces fill the panels, so no corner is reliably free.
    """
    fig, axes = figure(nrows=2, ncols=1, height=5.4, sharex=True)
    colors = palette(len(D["runs"]))
    w = D["trend_window"]
    for i, (run, c) in enumerate(zip(D["runs"], colors)):
        ls = LINESTYLES[i % len(LINESTYLES)]
        for ax, key in ((axes[0, 0], "grad_norm"), (axes[1, 0], "loss")):
            v = _arr(run[key])
            it = np.arange(1, len(v) + 1)
            ax.plot(it, v, color=c, lw=0.5, alpha=0.25)
            if w > 1 and len(v) >= w:
                med = running_median(v, w)
                ax.plot(it[w // 2: w // 2 + len(med)], med, color=c, lw=1.6, ls=ls,
                        label=f"seed {run['seed']}" if key == "grad_norm" else None)
            else:
                ax.lines[-1].set(alpha=0.9, ls=ls, label=f"seed {run['seed']}" if key == "grad_norm" else None)
    axes[0, 0].set_ylabel("gradient norm ‖∇L‖")
    axes[1, 0].set_ylabel("training loss" + ("" if D["full_batch"] else " (minibatch)"))
    axes[1, 0].set_xlabel("iteration")
    for ax in axes[:, 0]:
        ax.set_yscale("log")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles.append(Line2D([], [], color="0.5", lw=0.5, alpha=0.5))
    labels.append("every iteration (faint)")
    if w > 1:
        labels = [f"{lab}: running median of {w}" if lab.startswith("seed") else lab for lab in labels]
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize="x-small")
    return fig


# ------------------------------------------------------------------ comment
# Spearman |ρ| bands (the usual reading of a rank correlation). Over the iterations of one run the
# values are autocorrelated, so ρ describes how closely the two curves follow each other, not a test.
RHO_STRONG, RHO_MODERATE, RHO_WEAK = 0.6, 0.4, 0.2
# The running median "climbs before it falls" when its top is this many times its start and its end.
HUMP = 1.5


def _change(start: list[float], end: list[float]) -> str:
    """How a quantity went from its start to its end, decided across seeds."""
    s, e = float(np.mean(start)), float(np.mean(end))
    return {"a": f"falls from {s:.3g} to {e:.3g} ({s / e:.0f} times lower, in every seed)",
            "b": f"rises from {s:.3g} to {e:.3g} (in every seed)",
            "tie": f"goes from {s:.3g} to {e:.3g}, within the spread of the seeds: no clear change",
            "unknown": f"goes from {s:.3g} to {e:.3g} (one seed, so the seed noise is unknown)"}[wording.gap(start, end).verdict]


def _rho_words(rhos: list[float]) -> tuple[str, str]:
    """(the sentence, the strength word) for the rank correlations of the seeds."""
    rho = float(np.mean(rhos))
    value = f"{rhos[0]:.2f}" if len(rhos) == 1 else f"{rho:.2f} ({min(rhos):.2f} to {max(rhos):.2f} over {len(rhos)} seeds)"
    if min(rhos) <= -RHO_WEAK and max(rhos) >= RHO_WEAK:
        return ((f"Spearman rank correlation of gradient norm and loss over the iterations: ρ = {value}; the seeds "
                 "disagree even on its sign, so no reading holds for all of them."), "disagree")
    size = round(abs(rho), 2)  # the words follow the number as printed
    strength = ("strong" if size >= RHO_STRONG else "moderate" if size >= RHO_MODERATE else
                "weak" if size >= RHO_WEAK else "none")
    meaning = {"strong": "the two rise and fall together",
               "moderate": "they move together only loosely",
               "weak": "iteration by iteration the gradient norm says little about the loss",
               "none": "no monotone link between the two"}[strength]
    if rho < 0 and strength != "none":
        meaning += ", and in the opposite direction: the gradient norm tends to be larger where the loss is smaller"
    label = "no" if strength == "none" else f"a {strength}"
    return f"Spearman rank correlation of gradient norm and loss over the iterations: ρ = {value}, {label} link: {meaning}.", strength


def _peaks(runs: list[dict]) -> str:
    its = [r["peak_iteration"] for r in runs]
    top = max(r["peak_grad_norm"] for r in runs)
    if len(set(its)) == 1:
        where = ("at the very first iteration" if its[0] == 1 else f"at iteration {its[0]:,}")
        where += " in every seed" if len(its) > 1 else ""
    else:
        where = f"at iterations {wording.join([f'{i:,}' for i in its])}"
    return f"The largest single gradient norm ({top:.3g}) comes {where}."


def comment(R: dict) -> str:
    """The Comment section, every sentence decided by the numbers it states."""
    lines = []
    for D in R["per_dataset"].values():
        runs, w = D["runs"], D["trend_window"]
        batches = "full batch" if D["full_batch"] else f"minibatches of {D['batch_size']}"
        text = (f"- **{D['dataset']}** ({batches}, {wording.plural(len(runs), 'seed')}, "
                f"{wording.plural(D['steps'], 'iteration')}; start and end are medians over the first and the last "
                f"{wording.plural(w, 'iteration')}): the loss "
                f"{_change([r['start_loss'] for r in runs], [r['end_loss'] for r in runs])}; the gradient norm "
                f"{_change([r['start_grad_norm'] for r in runs], [r['end_grad_norm'] for r in runs])}. ")
        start = float(np.mean([r["start_grad_norm"] for r in runs]))
        end = float(np.mean([r["end_grad_norm"] for r in runs]))
        peak = float(np.mean([r["trend_peak_grad_norm"] for r in runs]))
        if peak > HUMP * max(start, end):
            text += (f"It does not get there steadily: its running median first climbs to {peak:.3g} near iteration "
                     f"{np.mean([r['trend_peak_iteration'] for r in runs]):,.0f} (means over the seeds) and then comes "
                     "down. ")
        text += _peaks(runs) + " "
        sentence, strength = _rho_words([r["spearman_grad_loss"] for r in runs])
        text += sentence
        both_fall = (wording.gap([r["start_loss"] for r in runs], [r["end_loss"] for r in runs]).verdict == "a" and
                     wording.gap([r["start_grad_norm"] for r in runs], [r["end_grad_norm"] for r in runs]).verdict == "a")
        if both_fall and strength in ("weak", "none", "disagree"):
            text += " Both fall over the run as a whole, but not in step with each other."
        grad_fell = wording.gap([r["start_grad_norm"] for r in runs], [r["end_grad_norm"] for r in runs]).verdict == "a"
        if not D["full_batch"] and not grad_fell:
            text += (" With minibatches the gradient measured is the minibatch's, which need not vanish where the "
                     "training loss as a whole stops falling.")
        jg, jl = [r["max_jump_grad_norm"] for r in runs], [r["max_jump_loss"] for r in runs]
        jumps = (f"largest change from one iteration to the next {max(jg):.2f} decades ({10 ** max(jg):.3g} times) for "
                 f"the gradient norm, {max(jl):.2f} decades ({10 ** max(jl):.3g} times) for the loss")
        text += " " + {
            "a": f"The gradient norm is the noisier of the two in every seed ({jumps}): by itself it is a poor "
                 "measure of progress.",
            "b": f"The loss is the noisier of the two in every seed ({jumps}).",
            "tie": f"Neither is clearly the noisier ({jumps}; the seeds overlap).",
            "unknown": f"With one seed, which is noisier cannot be told from the seed noise ({jumps}).",
        }[wording.gap(jg, jl).verdict]
        lines.append(text)
    return "\n".join(lines)
