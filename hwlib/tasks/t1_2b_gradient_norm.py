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
    "seeds": same("int", 3, low=1,
                  doc="runs per dataset (seeds 0 … seeds-1): enough to see the seed spread"),
    "function_widths": Param("int_list", smoke=[8, 8], quick=[10, 10, 10], full=[10, 10, 10], positive=True,
                             doc="hidden widths of the MLP for a 1-D function"),
    "function_n_train": Param("int", smoke=64, quick=256, full=1000, low=8,
                              doc="training points of a 1-D function"),
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
        ds = data.load_dataset(name, P.device, root=P.data_root, train_limit=P.train_limit or None)
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
            "trend_peak_grad_norm": float(trend.max()),
            "trend_peak_iteration": int(trend.argmax()) + window // 2 + 1,
        })
    info = models.describe(ens.model)
    return {"dataset": ds.describe(), "name": name, "kind": ds.kind, "trend_window": window,
            "full_batch": bs >= len(ds.x_train),
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
             "batch": "full" if D["full_batch"] else D["batch_size"], "optimizer": D["optimizer"],
             "lr": D["lr"], "epochs": D["epochs"], "iterations": D["steps"], "seeds": len(D["runs"]),
             "seconds": D["seconds"]}
            for D in R["per_dataset"].values()]
    return markdown_table(rows)


def figures(R: dict) -> list:
    """One figure per dataset, in the order trained."""
    out = []
    for D in R["per_dataset"].values():
        batches = "full batch" if D["full_batch"] else f"minibatches of {D['batch_size']}"
        out.append((_grad_norm_and_loss(D),
                    (f"{D['dataset']}: gradient norm (top) and training loss (bottom), {batches}, "
                     "both on a log scale. "
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
                ax.lines[-1].set(alpha=0.9, ls=ls,
                                 label=f"seed {run['seed']}" if key == "grad_norm" else None)
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
# Each run gives its own start, end, peak and ρ, so every statement is made seed by seed (the two ends
# of one run are paired): "in every seed" only where each seed's own numbers say it, a mean only with
# the word "mean", and where the seeds go different ways the text names them and says it cannot tell.
# Nothing here is a test over seeds: with 3 seeds even a unanimous sign gives a sign test p = 0.25.

# ρ is read on wording's strength scale. Over the iterations of one run the values are autocorrelated,
# so ρ describes how closely the two curves follow each other, not a test.
# The running median "climbs before it falls" when its top is this many times its start and its end.
HUMP = 1.5
ONE_SEED = f"one seed, so {wording.OTHER_SEEDS_UNKNOWN}"


def _seeds(runs: list[dict]) -> str:
    """'seed 1', 'seeds 0 and 2'."""
    return ("seed " if len(runs) == 1 else "seeds ") + wording.join([str(r["seed"]) for r in runs])


def _span(values, fmt: str = ".3g", sep: str = "–") -> str:
    """'0.5' when every value prints the same, else 'lowest–highest' as printed."""
    lo, hi = format(min(values), fmt), format(max(values), fmt)
    return lo if lo == hi else f"{lo}{sep}{hi}"


def _ratio(a: float, b: float) -> float:
    """a / b; a value that reached exactly 0 (a loss can, in float32) changed by an unbounded factor."""
    return a / b if b else math.inf


def _times(decades: float) -> float:
    """10 ** decades without OverflowError (float32 series jump at most ~83 decades; this is for safety)."""
    return 10.0 ** decades if decades < 308 else math.inf


def _direction(start: float, end: float) -> str:
    return "falls" if end < start else "rises" if end > start else "stays level"


def _change(runs: list[dict], key: str) -> tuple[str, str]:
    """(how ``start_key`` went to ``end_key``, seed by seed; the direction shared by every seed or '')."""
    starts, ends = [r[f"start_{key}"] for r in runs], [r[f"end_{key}"] for r in runs]
    dirs = [_direction(s, e) for s, e in zip(starts, ends)]
    s, e, n = float(np.mean(starts)), float(np.mean(ends)), len(runs)
    if len(set(dirs)) > 1:
        groups = [f"{d} in {_seeds([r for r, dr in zip(runs, dirs) if dr == d])}"
                  for d in ("falls", "rises", "stays level") if d in dirs]
        return (f"goes from {s:.3g} to {e:.3g} (means over the {n} seeds), but it {wording.join(groups)}: "
                + wording.seeds_cannot_tell("which way it goes")), ""
    d = dirs[0]
    if d == "stays level":
        return (f"stays level at {s:.3g} ({ONE_SEED})" if n == 1 else
                f"stays level in every seed, at {s:.3g} (mean over the {n} seeds)"), d
    factors = [_ratio(a, b) if d == "falls" else _ratio(b, a) for a, b in zip(starts, ends)]
    if n == 1:
        return f"{d} from {s:.3g} to {e:.3g}, by a factor of {factors[0]:.3g} ({ONE_SEED})", d
    f = _span(factors)
    return (f"{d} in every seed, from {s:.3g} to {e:.3g} (means over the {n} seeds), by a factor of {f} "
            + ("in every seed" if "–" not in f else "depending on the seed")), d


def _hump(runs: list[dict]) -> str:
    """The sentence on the seeds whose running median climbs well above both of its ends ('' if none)."""
    climbs = [r["trend_peak_grad_norm"] > HUMP * max(r["start_grad_norm"], r["end_grad_norm"]) for r in runs]
    up, rest = [r for r, c in zip(runs, climbs) if c], [r for r, c in zip(runs, climbs) if not c]
    if not up:
        return ""
    who = ("It" if len(runs) == 1 else "In every seed it" if not rest else
           f"In {_seeds(up)} (not in {_seeds(rest)}) it")
    its = _span([r["trend_peak_iteration"] for r in up], ",")
    return (f"{who} does not get there steadily: its running median first climbs to "
            f"{_span([r['trend_peak_grad_norm'] for r in up])}, more than {HUMP:g} times both its start and "
            f"its end, near iteration{'s' if '–' in its else ''} {its}, and then comes down. ")


def _where(it: int) -> str:
    return "the very first iteration" if it == 1 else f"iteration {it:,}"


def _peaks(runs: list[dict]) -> str:
    """Each seed's own largest gradient norm and its iteration (never one seed's peak for all)."""
    its = [r["peak_iteration"] for r in runs]
    if len(runs) == 1:
        return f"The largest single gradient norm is {runs[0]['peak_grad_norm']:.3g}, at {_where(its[0])}."
    if len(set(its)) == 1:
        return (f"The largest single gradient norm comes at {_where(its[0])} in every seed: "
                + wording.join([f"{r['peak_grad_norm']:.3g} (seed {r['seed']})" for r in runs]) + ".")
    return ("Each seed's largest single gradient norm: "
            + wording.join([f"{r['peak_grad_norm']:.3g} at {_where(r['peak_iteration'])} (seed {r['seed']})"
                            for r in runs]) + ".")


BAND_ORDER = ("none", "weak", "moderate", "strong")
LINK = {"none": "no link", "weak": "a weak link", "moderate": "a moderate link", "strong": "a strong link"}
MEANING = {"strong": "the two rise and fall together",
           "moderate": "they move together only loosely",
           "weak": "iteration by iteration the gradient norm says little about the loss",
           "none": "no monotone link between the two"}
OPPOSITE = "in the opposite direction: the gradient norm tends to be larger where the loss is smaller"


def _rho_words(runs: list[dict]) -> tuple[str, set[str]]:
    """(the sentence, the set of the seeds' strength bands) for the rank correlations of the seeds."""
    rhos = [r["spearman_grad_loss"] for r in runs]
    head = "Spearman rank correlation of gradient norm and loss over the iterations: ρ = "
    bands = {wording.rho_strength(x) for x in rhos}
    negative = any(wording.rho_printed(x) <= -wording.RHO_WEAK for x in rhos)
    if len(runs) == 1:
        b = wording.rho_strength(rhos[0])
        return (f"{head}{rhos[0]:.2f}, {LINK[b]}: {MEANING[b]}" + (f", and {OPPOSITE}" if negative else "")
                + f" ({ONE_SEED}).", bands)
    head += (f"{float(np.mean(rhos)):.2f} (mean over the {len(runs)} seeds; "
             f"{_span(rhos, '.2f', ' to ')} by seed)")
    if negative and any(wording.rho_printed(x) >= wording.RHO_WEAK for x in rhos):
        return f"{head}; the seeds disagree even on its sign, so no reading holds for all of them.", bands
    if len(bands) == 1:
        b, = bands
        return (f"{head}, {LINK[b]} in every seed: {MEANING[b]}" + (f", and {OPPOSITE}" if negative else "")
                + ".", bands)
    lo, hi = (sorted(bands, key=BAND_ORDER.index)[i] for i in (0, -1))
    name = lambda b: _seeds([r for r in runs if wording.rho_strength(r["spearman_grad_loss"]) == b])
    return (f"{head}: how closely the two follow each other depends on the seed, from {LINK[lo]} "
            f"({name(lo)}) to {LINK[hi]} ({name(hi)}), so {wording.seeds_cannot_tell()}"
            + (f"; where there is a link it runs {OPPOSITE}" if negative else "") + ".", bands)


def _jumps(runs: list[dict]) -> str:
    """Which of the two jumps more from one iteration to the next, seed by seed."""
    jg, jl = [r["max_jump_grad_norm"] for r in runs], [r["max_jump_loss"] for r in runs]
    over = "" if len(runs) == 1 else ", lowest to highest over the seeds"
    size = lambda j: f"{_span(j, '.2f')} decades, a factor of {_span([_times(x) for x in j])},"
    nums = (f"largest change from one iteration to the next{over}: {size(jg)} for the gradient norm and "
            f"{size(jl)} for the loss")
    if len(runs) == 1:
        who = ("the gradient norm is the noisier of the two" if jg[0] > jl[0] else
               "the loss is the noisier of the two" if jl[0] > jg[0] else "neither is the noisier")
        return f"In its one seed {who} ({nums}); {wording.OTHER_SEEDS_UNKNOWN}."
    grad = [r for r, g, l in zip(runs, jg, jl) if g > l]
    loss = [r for r, g, l in zip(runs, jg, jl) if l > g]
    level = [r for r, g, l in zip(runs, jg, jl) if l == g]
    if len(grad) == len(runs):
        return (f"The gradient norm is the noisier of the two in every seed ({nums}): by itself it is a poor "
                "measure of progress.")
    if len(loss) == len(runs):
        return f"The loss is the noisier of the two in every seed ({nums})."
    if len(level) == len(runs):
        return f"Neither is the noisier of the two in any seed ({nums})."
    groups = [f"{what} in {_seeds(g)}" for what, g in (("the gradient norm", grad), ("the loss", loss),
                                                        ("neither", level)) if g]
    return (f"Which of the two is the noisier depends on the seed, {wording.join(groups)} ({nums}): "
            f"{wording.seeds_cannot_tell()}.")


def comment(R: dict) -> str:
    """The Comment section, every sentence decided by the numbers it states, seed by seed."""
    lines = []
    for D in R["per_dataset"].values():
        runs, w = D["runs"], D["trend_window"]
        batches = "full batch" if D["full_batch"] else f"minibatches of {D['batch_size']}"
        loss, loss_dir = _change(runs, "loss")
        grad, grad_dir = _change(runs, "grad_norm")
        text = (f"- **{D['dataset']}** ({batches}, {wording.plural(len(runs), 'seed')}, "
                f"{wording.plural(D['steps'], 'iteration')}; start and end are medians over the first and "
                f"the last {wording.plural(w, 'iteration')}): the loss {loss}; the gradient norm {grad}. ")
        text += _hump(runs) + _peaks(runs) + " "
        sentence, bands = _rho_words(runs)
        text += sentence
        if loss_dir == grad_dir == "falls" and bands <= {"weak", "none"}:
            text += (" Both fall over the run as a whole" + (" in every seed" if len(runs) > 1 else "")
                     + ", but not in step with each other.")
        if loss_dir == "falls" and grad_dir == "rises":
            # the textbook's own example of training that never nears a critical point
            text += (" Goodfellow, Bengio and Courville (Deep Learning, 2016, Fig. 8.1) show the same: "
                     "the gradient norm can grow while training succeeds, so a falling loss need "
                     "not mean a shrinking gradient.")
        if not D["full_batch"] and grad_dir != "falls":
            text += (" With minibatches the gradient measured is the minibatch's, which need not vanish "
                     "where the training loss as a whole stops falling.")
        text += " " + _jumps(runs)
        lines.append(text)
    return "\n".join(lines)
