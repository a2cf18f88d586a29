"""1-2a Visualize the optimization process: where do training runs go in parameter space, and do
runs from different seeds end in the same place?

Eight runs of one architecture differ only in their seed (initialization and data order) and train
together as one vectorized ensemble. Every ``snapshot_every`` epochs all parameters are copied, with
the loss and accuracy on the whole training set at that moment. One PCA (hwlib.pca) is fitted over
the snapshots of all runs together, once for the whole parameter vector and once for one layer, so
every run is drawn in the same two coordinates. The answer compares, in the full parameter space,
the distances between runs at the start and at the end, and the step lengths early and late.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D

from .. import ensemble, models, train, trajectory, wording
from ..device import cpu_threads
from ..params import Param, ParamError, same
from ..plots import _arr, figure
from ..results import envelope
from ..tables import markdown_table
from . import common

NAME, SECTION = "1_2a_optimization_process", "1-2a"

SPEC = {
    "dataset": common.DATASET,
    "data_root": common.DATA_ROOT,
    "train_limit": Param("int", smoke=256, quick=0, full=0, low=0, off=0, doc="keep the first n training images (0 = all)"),
    "widths": Param("int_list", smoke=[16], quick=[32, 32], full=[64, 64], positive=True,
                    doc="hidden widths of the ReLU MLP"),
    "layer": same("str", "1.weight", doc="the single layer shown in its own PCA (a parameter name)"),
    "runs": same("int", 8, low=2, doc="runs (seeds 0 … runs-1): the homework asks for 8"),
    "epochs": Param("int", smoke=6, quick=30, full=30, positive=True, doc="training epochs"),
    "snapshot_every": same("int", 3, positive=True, doc="epochs between weight snapshots (the homework: every 3)"),
    "batch_size": same("int", 64, positive=True, doc="minibatch size"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS, doc="optimizer of every run"),
    "lr": same("float", 1e-3, positive=True, doc="learning rate"),
}


def checks(P) -> None:
    if P.snapshot_every > P.epochs:
        raise ParamError(f"snapshot_every={P.snapshot_every} exceeds epochs={P.epochs}: use at most {P.epochs}")


def run(P) -> dict:
    start = time.perf_counter()
    ds = common.load_data(P)
    in_dim = math.prod(ds.input_shape)
    make = lambda: models.mlp(P.widths, in_dim=in_dim, out_dim=ds.n_classes)
    seeds = list(range(P.runs))
    ens = ensemble.build(make, seeds, P.device)
    try:
        columns = trajectory.layer_columns(ens.model, [P.layer])
    except ValueError as exc:
        raise ParamError(str(exc)) from None
    with cpu_threads(1, P.device):
        hist = ensemble.train(ens, ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr, optimizer=P.optimizer,
                              snapshot_every=P.snapshot_every, eval_every=P.epochs, label=f"{P.runs} runs")
    per_run = trajectory.runs_from_snapshots(hist.snapshots)
    whole = trajectory.joint_pca(per_run)
    layer = trajectory.joint_pca(trajectory.runs_from_snapshots(hist.snapshots, columns))
    runs = [{"seed": s, "epoch": hist.snapshot_epoch,
             "loss": [row[k] for row in hist.snapshot_loss], "acc": [row[k] for row in hist.snapshot_acc],
             "test_loss": hist.test_loss[-1][k], "test_acc": hist.test_acc[-1][k]} for k, s in enumerate(seeds)]
    info = models.describe(ens.model)
    return envelope(
        P, NAME, SECTION, time.perf_counter() - start,
        dataset=ds.describe(), model=info, n_params=info["params"], layer_params=len(columns),
        snapshots_per_run=len(hist.snapshot_epoch), train_seconds=hist.seconds,
        runs=runs, pca={"whole": whole.to_dict(), "layer": layer.to_dict()},
        # in the full parameter space (not the plane): distance of every pair of runs at the start and at the
        # end, and the length of each run's step between consecutive snapshots
        pair_distance={"start": _pairs([r[0] for r in per_run]), "end": _pairs([r[-1] for r in per_run])},
        step_length=[np.linalg.norm(np.diff(r, axis=0), axis=1) for r in per_run],
    )


def _pairs(points) -> list[float]:
    return [float(np.linalg.norm(a - b)) for a, b in itertools.combinations(points, 2)]


# ------------------------------------------------------------------ table and figures

def table(R: dict) -> str:
    """The model and the data in a sentence, then each run's final loss and accuracy."""
    m, P = R["model"], R["params"]
    head = (f"Model: {m['structure']} with ReLU, **{R['n_params']:,} parameters**; the layer {P['layer']} has "
            f"{R['layer_params']:,} of them. Data: {R['dataset']}. {wording.plural(len(R['runs']), 'run')} × "
            f"{wording.plural(R['snapshots_per_run'], 'snapshot')} (epoch 0 and every "
            f"{wording.plural(P['snapshot_every'], 'epoch')}); training all runs took {R['train_seconds']:.1f} s.")
    rows = [{"seed": r["seed"], "final train loss": r["loss"][-1], "final train acc": r["acc"][-1],
             "test loss": r["test_loss"], "test acc": r["test_acc"]} for r in R["runs"]]
    return head + "\n\n" + markdown_table(rows)


def figures(R: dict) -> list:
    """The runs in the PCA plane of the whole model, then in that of one layer."""
    evr, evr_l = (sum(R["pca"][k]["explained_variance_ratio"]) for k in ("whole", "layer"))
    return [
        (_pca_paths(R, "whole"),
         (f"All {R['n_params']:,} parameters of every snapshot of the {wording.plural(len(R['runs']), 'run')}, "
          "projected on the two principal components of one PCA fitted over all snapshots together "
          f"({wording.pct(evr)} of the variance). Colour: training loss; marker: seed; label: seed and final "
          "training accuracy; circle: initialization.")),
        (_pca_paths(R, "layer"),
         (f"The same snapshots restricted to layer {R['params']['layer']} ({R['layer_params']:,} parameters), with "
          f"its own PCA fitted over all runs together ({wording.pct(evr_l)} of the variance).")),
    ]


MARKERS = "osD^v<>Pp*hX"  # one marker per run: the colour already means the loss


def _pca_paths(R: dict, which: str):
    """Snapshots of every run in one PCA plane: a line per run, points coloured by the training loss.

    The legend (markers per seed) goes below the axes: the paths fill the plane, so no corner is free.
    """
    P = R["pca"][which]
    fig, ax = figure(height=4.4)
    values = np.concatenate([_arr(r["loss"]) for r in R["runs"]])
    norm = LogNorm(vmin=np.nanmin(values), vmax=np.nanmax(values))
    span = np.ptp(np.vstack(P["coords"]), axis=0) + 1e-12
    # each end point's training accuracy with as many decimals as it takes to tell the runs apart
    digits = wording.distinct_pct_digits([_arr(run["acc"])[-1] for run in R["runs"]])
    for i, run in enumerate(R["runs"]):
        xy = np.array(P["coords"][i])
        ax.plot(xy[:, 0], xy[:, 1], color="0.6", lw=0.8, zorder=1)
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=_arr(run["loss"]), cmap="viridis_r", norm=norm, s=22,
                        marker=MARKERS[i % len(MARKERS)], edgecolor="k", linewidth=0.3, zorder=2)
        acc = _arr(run["acc"])[-1]  # the end point is labelled with its training accuracy
        text = f"{run['seed']}" + (f": {wording.pct(acc, digits)}" if np.isfinite(acc) else "")
        # the label sits beyond the end point, along the run's overall direction, so it does not cover the path
        u = (xy[-1] - xy[0]) / span
        u = u / (np.linalg.norm(u) + 1e-12)
        ax.annotate(text, xy[-1], xytext=(10 * u[0], 10 * u[1]), textcoords="offset points", fontsize=7,
                    ha="left" if u[0] >= 0 else "right", va="bottom" if u[1] >= 0 else "top",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
        ax.scatter(*xy[0], s=40, facecolor="none", edgecolor="C3", linewidth=0.8, zorder=3)
    ax.margins(0.14)  # room inside the axes for the end labels
    evr = P["explained_variance_ratio"]
    ax.set_xlabel(f"PC 1 ({wording.pct(evr[0])} of variance)")
    ax.set_ylabel(f"PC 2 ({wording.pct(evr[1])} of variance)")
    fig.colorbar(sc, ax=ax, label="training loss")
    handles = [Line2D([], [], ls="", marker=MARKERS[i % len(MARKERS)], color="0.5", markeredgecolor="k",
                      markeredgewidth=0.3, label=f"seed {run['seed']}") for i, run in enumerate(R["runs"])]
    handles.append(Line2D([], [], ls="", marker="o", markerfacecolor="none", markeredgecolor="C3", label="start"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 9), fontsize="x-small")
    return fig


# ------------------------------------------------------------------ comment
# Two components "hold most" of the variance when they explain more than this share of it, as printed.
MOST_VARIANCE = 0.5


def _over_pairs(d: list[float]) -> str:
    """'2.7 (mean; 2.5–2.9 over 28 pairs)': the mean distance and its range over the pairs of runs."""
    if len(d) == 1:
        return f"{d[0]:.3g}"
    return f"{np.mean(d):.3g} (mean; {min(d):.3g}–{max(d):.3g} over {wording.plural(len(d), 'pair')})"


def _span(values: list[float], say) -> str:
    """'a to b' (the lowest and the highest, as printed), or 'a' where they print alike."""
    lo, hi = say(min(values)), say(max(values))
    return lo if lo == hi else f"{lo} to {hi}"


def _ends(R: dict) -> str:
    runs = R["runs"]
    who = "The one run ends" if len(runs) == 1 else f"All {wording.plural(len(runs), 'run')} end"
    g3 = lambda x: f"{x:.3g}"
    return (f"- {who} with training loss {_span([r['loss'][-1] for r in runs], g3)} (training accuracy "
            f"{_span([r['acc'][-1] for r in runs], wording.pct)}, test accuracy "
            f"{_span([r['test_acc'] for r in runs], wording.pct)}).")


def _distances(R: dict) -> str:
    """Pairs of runs at the start and at the end, in the full parameter space: every pair against any pair."""
    d0, d1 = R["pair_distance"]["start"], R["pair_distance"]["end"]
    text = (f"- In the full {R['n_params']:,}-dimensional parameter space the distance between two runs is "
            f"{_over_pairs(d0)} at initialization and {_over_pairs(d1)} at the end: ")
    return text + {
        "a": "every pair ends farther apart than any pair started, so each seed finds its *own* low-loss solution, "
             "not a common point (permuting the hidden units alone gives many equally good ones).",
        "b": "every pair ends closer together than any pair started: the runs head towards a common region.",
        "tie": "the two ranges overlap, so these distances cannot tell whether the runs end closer together or "
               "farther apart than they started.",
        "unknown": "with a single pair of runs, whether that change exceeds what the seed alone does is unknown.",
    }[wording.gap(d1, d0).verdict]


def _plane(R: dict) -> str:
    """How much of the snapshots' variance the two components hold; decided on the printed shares."""
    evr = {k: sum(R["pca"][k]["explained_variance_ratio"]) for k in ("whole", "layer")}
    low = [name for k, name in (("whole", "the whole model"), ("layer", "the layer"))
           if float(wording.pct(evr[k]).split()[0]) <= 100 * MOST_VARIANCE]
    return (f"- Two components explain {wording.pct(evr['whole'])} of the variance of all snapshots (whole model) "
            f"and {wording.pct(evr['layer'])} (layer {R['params']['layer']}, {R['layer_params']:,} parameters)"
            + (f"; for {wording.join(low)} no more than half of it lies in the plane, so the figure is a partial view."
               if low else ": more than half in both, so the plane holds most of it."))


def _loss_change(d: float) -> str:
    return f"falls by {d:.3g}" if d > 0 else f"rises by {-d:.3g}" if d < 0 else "does not change"


def _steps(R: dict) -> str:
    """Each run's first step against its own last one, by the exact sign test; the loss beside them."""
    runs, steps = R["runs"], R["step_length"]
    if len(steps[0]) < 2:
        return "- With a single step between snapshots, how the step length changes cannot be seen."
    first, last = [s[0] for s in steps], [s[-1] for s in steps]
    g = wording.ranked(first, last, unit="run", paired=True)
    early = float(np.mean([r["loss"][0] - r["loss"][1] for r in runs]))
    late = float(np.mean([r["loss"][-2] - r["loss"][-1] for r in runs]))
    flattens = early > 0 and float(f"{abs(late):.3g}") < float(f"{early:.3g}")
    return (f"- The step between the first two snapshots is {wording.spread(first)} long, between the last two "
            f"{wording.spread(last)}; the last is the shorter in {g.above} of the {len(first)} runs and the longer "
            f"in {g.below} ({g.test}): " + {
                "higher": "the steps shrink.",
                "lower": "the steps grow, so training had not settled by the last snapshot.",
            }.get(g.verdict, "the test cannot tell whether the step length changes.")
            + f" On average the loss {_loss_change(early)} between the first two snapshots and {_loss_change(late)} "
              "between the last two" + (", so it flattens." if flattens else "."))


def comment(R: dict) -> str:
    """The Comment section, every sentence decided by the numbers it states."""
    return "\n".join([_ends(R), _distances(R), _plane(R), _steps(R)])
