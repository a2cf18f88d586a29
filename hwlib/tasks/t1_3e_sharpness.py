"""1-3e Another measure of flatness: top Hessian eigenvalue and ε-sharpness vs the generalization gap.

The models of 1-3d (every batch size × every seed, each trained to one training loss, within ±10 % of a target):
loaded from the model cache when 1-3d ran first with the same settings, else trained here
exactly as 1-3d trains them (hwlib.cache). For each one:
- the top eigenvalue of the Hessian of the training loss (Lanczos on Hessian-vector products,
  hwlib.curvature);
- the ε-sharpness of Keskar et al. at the ε values given (hwlib.sharpness);
- the softmax input sensitivity of 1-3d, for comparison.
Each measure is rank-correlated (Spearman ρ) with the generalization gap — the test loss minus
the training loss — across the models that reached the target, with a 95 % bootstrap interval
over models; two measures are ranked only where their intervals do not overlap. Each measure's
trend with the batch size is also given with the final training loss held fixed (a partial rank
correlation), so that what is left of the training level cannot pass for it. The loss is
taken on a fixed set of training images with the model in eval mode (BatchNorm on its running
statistics), so it is one deterministic function of the weights.
"""

from __future__ import annotations

import time

import torch.nn.functional as F

from .. import wording
from ..batch_words import batch_trend_text, by_batch, controlled_text, criterion_text, direction, fixed, interval, lean
from ..curvature import top_hessian_eigenvalue
from ..params import Param, same
from ..plots import figure, legend_below, log_ticks_at, means_by, palette
from ..ranks import N_BOOT, partial_rank_correlation, rank_correlation
from ..results import envelope
from ..sensitivity import jacobian_norms
from ..sharpness import epsilon_sharpness
from ..tables import markdown_table
from ..to_target import TOLERANCE
from . import batch_models
from .common import load_data

NAME, SECTION = "1_3e_sharpness", "1-3e"

SPEC = {
    **batch_models.SPEC,
    "n_curvature": Param("int", smoke=256, quick=512, full=2000, low=1,
                         doc="training images in the loss whose curvature is measured"),
    "eps": same("float_list", [1e-3, 5e-4], positive=True, doc="box sizes ε of the ε-sharpness (Keskar et al.)"),
    # quick: 10 steps find 94-99 % of the loss rise 20 find on the quick grid, every batch-size ρ unchanged, in
    # 11.2 s against 15.9 s for the notebook (one thread, side by side); each is a lower bound of the box's maximum
    "ascent_steps": Param("int", smoke=5, quick=10, full=20, low=0, doc="sign-gradient ascent steps inside the ε-box"),
    "lanczos_iters": Param("int", smoke=20, quick=40, full=100, low=2, doc="Lanczos steps at most (top eigenvalue)"),
}

checks = batch_models.checks

GAP = "gap_loss"  # the generalization gap every measure is ranked against: test loss − training loss
GAPS = {"gap_loss": "test − train loss", "gap_acc": "train − test accuracy", "test_loss": "test loss"}


def measure_names(P) -> dict:
    return {"top_eigenvalue": "top Hessian eigenvalue",
            **{f"sharpness_{e:g}": f"ε-sharpness (ε = {e:g})" for e in P.eps},
            "sensitivity_softmax": "input sensitivity (softmax)"}


def rank_correlations(rows: list[dict], measures: dict, gaps: dict) -> list[dict]:
    """Spearman ρ of every measure against every gap across the models, each with its bootstrap
    interval (hwlib.ranks): {"measure", "key", gap: {"rho", "low", "high", "n"}}."""
    out = []
    for key, name in measures.items():
        row = {"measure": name, "key": key}
        for g in gaps:
            row[g] = rank_correlation([r[key] for r in rows], [r[g] for r in rows])
        out.append(row)
    return out


def batch_trends(rows: list[dict], measures: dict) -> dict:
    """Each measure against the batch size across the models: {key: {"plain": ρ, "partial": ρ with the
    final training loss held fixed}}, each with its bootstrap interval."""
    b, loss = [r["batch_size"] for r in rows], [r["train_loss"] for r in rows]
    return {k: {"plain": rank_correlation([r[k] for r in rows], b),
                "partial": partial_rank_correlation([r[k] for r in rows], b, loss)} for k in measures}


def run(P) -> dict:
    start = time.perf_counter()
    ds = load_data(P)
    n = min(P.n_curvature, len(ds.x_train))
    x, y = ds.x_train[:n], ds.y_train[:n]
    x_eval, y_eval = batch_models.eval_set(P, ds)

    def loss_fn(model):
        return F.cross_entropy(model(x), y)

    rows = []
    trained, loaded = batch_models.train_models(P, ds)
    for model, record in trained:
        model.eval()
        t = time.perf_counter()
        record["curvature_loss"] = loss_fn(model).item()
        record["top_eigenvalue"] = top_hessian_eigenvalue(model, loss_fn, iters=P.lanczos_iters, seed=record["seed"])
        for e in P.eps:
            record[f"sharpness_{e:g}"] = epsilon_sharpness(model, loss_fn, eps=e, steps=P.ascent_steps,
                                                           seed=record["seed"])["sharpness"]
        record["sensitivity_softmax"] = jacobian_norms(model, x_eval, y_eval, chunk_size=P.chunk_size)["softmax"].mean().item()
        record["measure_seconds"] = time.perf_counter() - t
        rows.append(record)
        print(f"batch {record['batch_size']}, seed {record['seed']}: top eigenvalue {record['top_eigenvalue']:.4g}, "
              + ", ".join(f"ε-sharpness({e:g}) {record[f'sharpness_{e:g}']:.4g}" for e in P.eps), flush=True)
    measures = measure_names(P)
    kept = [r for r in rows if r["reached"]]
    return envelope(P, NAME, SECTION, time.perf_counter() - start,
                    dataset=ds.describe(), n_train=len(ds.x_train), n_test=len(ds.x_test),
                    n_curvature=n, n_eval=len(x_eval), model=batch_models.model_info(P, ds), models_loaded=loaded,
                    measures=measures, gaps=GAPS, gap=GAP, models=rows, n_boot=N_BOOT, tolerance=TOLERANCE,
                    correlations=rank_correlations(kept, {"batch_size": "batch size", **measures}, GAPS),
                    batch_trends=batch_trends(kept, measures))


def correlation_table(R: dict) -> list[dict]:
    """One row per measure: ρ and its bootstrap interval against each gap, as text ("—" without ρ)."""
    def cell(c):
        return "—" if c["rho"] is None else f"{c['rho']:.2f} ({c['low']:.2f} to {c['high']:.2f})"
    return [{"measure": c["measure"], **{name: cell(c[g]) for g, name in R["gaps"].items()}} for c in R["correlations"]]


COLUMNS = {"batch_size": "batch size", "seed": "seed", "steps": "steps", "reached": "reached target",
           "train_loss": "train loss", "test_loss": "test loss", "gap_loss": "test − train loss",
           "gap_acc": "train − test acc"}


def table(R: dict) -> str:
    """The measures of every model, then their rank correlations with the gaps."""
    p, cols = R["params"], {**COLUMNS, **R["measures"]}
    origin = "loaded from 1-3d's model cache" if R["models_loaded"] else "trained here"
    n = R["correlations"][0][R["gap"]]["n"]
    return (f"{R['dataset']}; models {origin}; curvature measured on {R['n_curvature']} training images, sensitivity "
            f"on {R['n_eval']} test images. ε-sharpness: {p['ascent_steps']} ascent steps; λ_max: at most "
            f"{p['lanczos_iters']} Lanczos steps.\n\n"
            + markdown_table([{v: r[k] for k, v in cols.items()} for r in R["models"]])
            + f"\n\n**Rank correlations.** Spearman ρ (95 % bootstrap interval over models) across the "
            f"{wording.plural(n, 'model')} at the target; rows: measure, columns: what it is compared with.\n\n"
            + markdown_table(correlation_table(R))
            + "\n\n**Against the batch size.** Spearman ρ of each measure with the batch size, and the partial ρ "
            "with the final training loss held fixed (95 % bootstrap intervals).\n\n"
            + markdown_table(batch_table(R)))


def batch_table(R: dict) -> list[dict]:
    def cell(c):
        return "—" if c["rho"] is None else f"{c['rho']:.2f} ({c['low']:.2f} to {c['high']:.2f})"
    return [{"measure": name, "with the batch size": cell(R["batch_trends"][k]["plain"]),
             "training loss held fixed": cell(R["batch_trends"][k]["partial"])} for k, name in R["measures"].items()]


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # one per batch size in the bottom row


def _sharpness(R: dict):
    """Top row: each flatness measure against batch size (line: mean over seeds, dots: models);
    bottom row: the generalization gap against each measure, each batch size its own marker."""
    measures = R["measures"]
    fig, axes = figure(ncols=len(measures), nrows=2, height=5.8)
    rows = [r for r in R["models"] if r["reached"]]
    C = {c["key"]: c[R["gap"]] for c in R["correlations"]}
    colours = palette(len(measures))
    for j, (key, name) in enumerate(measures.items()):
        top, bottom = axes[0][j], axes[1][j]
        b, mean, points = means_by(rows, "batch_size", key)
        top.plot(b, mean, "-", lw=1.0, color=colours[j])
        if points:  # none when no model reached the target
            top.scatter(*zip(*points), s=10, color=colours[j])
        log_ticks_at(top, [r["batch_size"] for r in R["models"]])
        top.set(xlabel="batch size")
        top.tick_params(axis="x", labelsize="x-small", labelrotation=90)  # five batch sizes in a quarter of the page
        top.set_title(name.replace(" (", "\n("), fontsize="small")
        # each batch size its own marker, named once in the legend below: labels beside the points ran into
        # each other where models of two batch sizes lie close
        for k, batch in enumerate(sorted({r["batch_size"] for r in rows})):
            mine = [r for r in rows if r["batch_size"] == batch]
            bottom.scatter([r[key] for r in mine], [r[R["gap"]] for r in mine], s=16, color=colours[j],
                           marker=MARKERS[k % len(MARKERS)], label=f"{batch}")
        c = C[key]
        if c["rho"] is not None:
            bottom.set_title(f"ρ = {c['rho']:.2f}\n95 %: {c['low']:.2f} to {c['high']:.2f}", fontsize="x-small")
        bottom.set(ylabel=R["gaps"][R["gap"]] if j == 0 else None)
        bottom.set_xlabel(name.replace(" (", "\n("), fontsize="small")
    if rows:
        legend_below(fig, [axes[1][0]], ncols=len(MARKERS), fontsize="x-small", title="batch size",
                     title_fontsize="x-small")
    return fig


def figures(R: dict) -> list:
    caption = ("Top: each flatness measure against the batch size (log x; line: mean over seeds, dots: models). Bottom: "
               f"the generalization gap ({R['gaps'][R['gap']]}) against each measure, each batch size its own marker "
               "(legend below), and the Spearman ρ with its 95 % bootstrap interval.")
    return [(_sharpness(R), caption)]


# ---------------------------------------------------------------- the comment

def comment(R: dict) -> str:
    lines = [criterion_text(R)]
    kept = [r for r in R["models"] if r["reached"]]
    seeds = sorted(by_batch(kept, "seed").values(), key=len)  # the seeds at the target, per batch size
    C = {c["key"]: c[R["gap"]] for c in R["correlations"]}
    if any(C[k]["rho"] is None for k in ("batch_size", *R["measures"])):
        lines.append(f"\nWith {wording.plural(len(kept), 'model')} at the target (or a single batch size, or a "
                     "measure with a single value) no rank correlation can be computed, so the measures are not "
                     "compared.")
        return "\n".join(lines)
    per_batch = (f"{len(seeds[0])}" if len(seeds[0]) == len(seeds[-1]) else f"{len(seeds[0])} to {len(seeds[-1])}")
    lines.append(f"\nEach measure is ranked against the generalization gap ({R['gaps'][R['gap']]}) over "
                 f"{wording.plural(len(kept), 'model')} ({per_batch} seed{'s' * (len(seeds[-1]) > 1)} per batch "
                 f"size); the interval is a 95 % bootstrap over models ({R['n_boot']:,} resamples).")
    for key, name in {"batch_size": "the batch size itself", **R["measures"]}.items():
        c = C[key]
        lines.append(f"- **{name}**: " + {
            "up": f"larger value, larger gap ({interval(c)}).",
            "down": f"larger value, smaller gap ({interval(c)}).",
            "none": f"no rank correlation is established ({interval(c)}, which holds 0)."}[direction(c)])
    lines += ranking_lines(R, C)
    if len(seeds[-1]) < 2:
        lines.append("With one seed per batch size, the models of one batch size cannot show how much a measure "
                     "varies between seeds, and the intervals are optimistic.")
    lines += batch_lines(R)
    lines.append(keskar_text(R, kept))
    return "\n".join(lines)


def ranking_lines(R: dict, C: dict) -> list[str]:
    """Two measures ranked only where their intervals, as printed, do not overlap (touching ends overlap)."""
    names = list(R["measures"])
    separated = [(a, b) for a in names for b in names
                 if a != b and float(fixed(C[a]["low"])) > float(fixed(C[b]["high"]))]
    if not separated:
        return [(f"\nThe intervals of all {len(names)} measures overlap: with these models the data cannot say "
                 "which measure tracks the generalization gap best.")]
    out = ["\nWhere two intervals do not overlap the measures can be ranked: " + wording.join(
        [f"{R['measures'][a]} has the higher rank correlation with the gap than {R['measures'][b]} "
         f"({fixed(C[a]['rho'])} against {fixed(C[b]['rho'])})" for a, b in separated]) + "."]
    if len(separated) < len(names) * (len(names) - 1) // 2:
        out.append("Every other pair of intervals overlaps, and those measures are not ranked.")
    return out


def batch_lines(R: dict) -> list[str]:
    """Each measure against the batch size, and whether the trend survives the training loss held fixed."""
    out = ["\nAgainst the batch size:"]
    for key, name in R["measures"].items():
        c = R["batch_trends"][key]
        out.append(f"- **{name}**: {batch_trend_text(c['plain'])}. "
                   + controlled_text(c["plain"], c["partial"]))
    return out


# Keskar et al. 2017, "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp Minima"
KESKAR = ("Keskar et al. (2017) found that large batches converge to sharper minima, with a larger ε-sharpness, "
          "and generalize worse")


def keskar_text(R: dict, kept: list[dict]) -> str:
    """Whether the ε-sharpness rises with the batch size as in the paper (every ε alike), and where it does
    not, how this setting differs from the paper's."""
    dirs = {direction(R["batch_trends"][k]["plain"]) for k in R["measures"] if k.startswith("sharpness_")}
    b = sorted({r["batch_size"] for r in kept}) or sorted({r["batch_size"] for r in R["models"]})
    p = R["params"]
    setting = (f"the paper compared batch 256 with a tenth of the training set and maximized the loss in the box "
               f"with L-BFGS-B; here {len(kept)} small BatchNorm CNNs on {R['dataset'].split(':')[0]} with batches "
               f"{b[0]} to {b[-1]}, each trained to one training loss, and the box explored by {p['ascent_steps']} "
               "sign-gradient ascent steps")
    if dirs == {"up"}:
        return f"\n{KESKAR}: the ε-sharpness here rises with the batch size, as in the paper."
    if dirs == {"down"}:
        return f"\n{KESKAR}: here the ε-sharpness falls with the batch size, the opposite, and the setting differs: {setting}."
    why = ("the ε values do not agree on a trend with the batch size" if {"up", "down"} & dirs else
           "no ε-sharpness trend with the batch size is established (no interval that excludes 0)")
    lean = lean_text(R) if dirs <= {"none"} else ""  # a lean only where no ε's trend is established
    return f"\n{KESKAR}: here {why}, so this run cannot tell whether it agrees. The setting: {setting}.{lean}"


def lean_text(R: dict) -> str:
    """Where no ε's trend is established (every interval holds 0) but every ε's ρ with the batch size, as
    printed, has one sign: which way the run leans, said as a lean and not as a finding."""
    rhos = [R["batch_trends"][k]["plain"]["rho"] for k in R["measures"] if k.startswith("sharpness_")]
    way = lean(rhos)
    if way is None:
        return ""
    return (f" Every ε's point estimate leans {way} (ρ = {wording.join([fixed(r) for r in rhos])}), short of an "
            "interval that excludes 0.")
