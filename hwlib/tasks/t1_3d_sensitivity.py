"""1-3d Flatness vs generalization, part 2: input sensitivity of models trained with different batch sizes.

The same BatchNorm CNN is trained with several log-spaced batch sizes and several seeds, each
model **to one training loss** (within ±10 % of a target, in eval mode over the whole training set;
hwlib.to_target), not for a fixed number of epochs: with equal epochs a large batch takes a
fraction of the steps and is simply less trained, and every flatness measure then measures the
training length. What is left of the training level is controlled for: each trend with the batch
size is also given as a partial rank correlation with the final training loss held fixed. After training, the sensitivity of
each model (hwlib.sensitivity) is the per-sample Frobenius norm of an input Jacobian, averaged
over one fixed evaluation set (the first n_eval test images, the same for every model): of the
softmax probabilities (Novak et al. 2018; the primary), of each sample's own loss, and of the
logits as a third view. Trends carry a 95 % bootstrap interval over the models (hwlib.ranks).
"""

from __future__ import annotations

import time

import numpy as np

from .. import wording
from ..batch_words import batch_trend_text, by_batch, controlled_text, criterion_text, direction, fixed, lean, trend_text
from ..plots import figure, legend_below, log_ticks_at, means_by, palette
from ..ranks import partial_rank_correlation, rank_correlation, rank_test
from ..results import envelope
from ..sensitivity import OUTPUTS, jacobian_norms
from ..tables import markdown_table
from ..to_target import TOLERANCE
from . import batch_models, common

# the grid of trained models lives in batch_models, shared with 1-3e; named here too, because make trains it as
# this notebook's product (python -m hwlib.pipeline.runner product notebooks/1_3d_sensitivity.ipynb)
from .batch_models import MODELS, build, cache_key, eval_set, model_info, train_models  # noqa: F401

NAME, SECTION = "1_3d_sensitivity", "1-3d"

SPEC = batch_models.SPEC
checks = batch_models.checks

PRIMARY = "softmax"  # Novak et al.'s sensitivity; "loss" is the homework's wording, "logits" a third view
ALPHA = 0.05  # level of the exact rank test that alone may rank the smallest batch against the largest


def end_test(rows: list[dict], key: str) -> dict | None:
    """The smallest batch against the largest on ``key`` (rank_test over their seeds), or None with
    fewer than two batch sizes."""
    values = by_batch(rows, key)
    if len(values) < 2:
        return None
    small, large = next(iter(values)), list(values)[-1]
    return {"small": small, "large": large, **rank_test(values[large], values[small])}


def run(P) -> dict:
    start = time.perf_counter()
    ds = common.load_data(P)
    x, y = eval_set(P, ds)
    # the common starting points: how sensitive the networks are before any training (mean over seeds)
    init = {k: float(np.mean([jacobian_norms(build(P, ds, s), x, y, chunk_size=P.chunk_size)[k].mean().item()
                              for s in P.seeds])) for k in OUTPUTS}
    rows = []
    trained, loaded = train_models(P, ds)
    for model, record in trained:
        norms = jacobian_norms(model, x, y, chunk_size=P.chunk_size)
        for k in OUTPUTS:
            record[f"sensitivity_{k}"] = norms[k].mean().item()
            record[f"sensitivity_{k}_std"] = norms[k].std().item() if len(norms[k]) > 1 else 0.0
        rows.append(record)
        print(f"batch {record['batch_size']}, seed {record['seed']}: {record['steps']} steps, train loss "
              f"{record['train_loss']:.3g}, test acc {record['test_acc']:.4f}, sensitivity (softmax) "
              f"{record['sensitivity_softmax']:.4g}", flush=True)
    kept = [r for r in rows if r["reached"]]
    trends = {k: {against: rank_correlation([r[f"sensitivity_{k}"] for r in kept], [r[against] for r in kept])
                  for against in ("batch_size", "test_loss", "gap_loss", "train_loss")} for k in OUTPUTS}
    # the trend with the batch size among equally trained models: what is left of the training level (the
    # band's ±10 %) held fixed, so that a trend that only follows the training loss does not pass for one
    partial = {k: partial_rank_correlation([r[f"sensitivity_{k}"] for r in kept], [r["batch_size"] for r in kept],
                                           [r["train_loss"] for r in kept]) for k in OUTPUTS}
    # computed here once, so that every page prints the same p (the comment only reads it)
    ends = {k: end_test(kept, f"sensitivity_{k}") for k in OUTPUTS}
    return envelope(P, NAME, SECTION, time.perf_counter() - start,
                    dataset=ds.describe(), n_train=len(ds.x_train), n_test=len(ds.x_test), n_eval=len(x),
                    model=model_info(P, ds), outputs=OUTPUTS, primary=PRIMARY, models=rows,
                    sensitivity_at_init=init, models_loaded=loaded, trends=trends, partial=partial, ends=ends,
                    tolerance=TOLERANCE)



def table(R: dict) -> str:
    """The models: steps, losses, accuracies and the three sensitivities of each."""
    m, p = R["model"], R["params"]
    rows = [{"batch size": r["batch_size"], "seed": r["seed"], "steps": r["steps"], "reached target": r["reached"],
             "train loss": r["train_loss"], "test loss": r["test_loss"], "train acc": r["train_acc"],
             "test acc": r["test_acc"], "sensitivity (softmax)": r["sensitivity_softmax"],
             "sd": r["sensitivity_softmax_std"], "sensitivity (own loss)": r["sensitivity_loss"],
             "sensitivity (logits)": r["sensitivity_logits"]} for r in R["models"]]
    return (f"CNN with BatchNorm: {m['structure']}, {m['params']:,} parameters; {p['optimizer']}, lr {p['lr']:g}; "
            f"every model trained until its training loss (eval mode, whole training set) is within "
            f"±{R['tolerance'] * 100:g} % of {p['target_loss']:g} (limit {p['max_steps']:,} steps). Sensitivities are means "
            f"over {R['n_eval']} test images (sd: over those images); train and test loss are measured after training "
            "in eval mode.\n\n" + markdown_table(rows))


TRAIN, TEST, SENSITIVITY = palette(3)  # one colour per role
UNTRAINED_STRIP = 0.15  # the x range widened by this share at the right: room for the untrained level
AXIS_LABEL = {"softmax": r"$\|\partial p/\partial x\|_F$ (softmax)", "loss": r"$\|\partial \ell_i/\partial x\|$ (own loss)",
              "logits": r"$\|\partial z/\partial x\|_F$ (logits)"}  # mathtext: the norms on the twin axis
SYMBOL = {"softmax": "‖∂p/∂x‖<sub>F</sub>", "loss": "‖∂ℓ/∂x‖", "logits": "‖∂z/∂x‖<sub>F</sub>"}  # the same in a caption


def _sensitivity(R: dict):
    """Left: loss; right: accuracy — train and test against batch size (line: mean over seeds,
    dots: each model at the target), the primary sensitivity on the twin axis."""
    from matplotlib.transforms import blended_transform_factory

    fig, axes = figure(ncols=2, height=3.3)
    rows = [r for r in R["models"] if r["reached"]]
    if not rows:  # nothing reached the target (a step limit too low): show every model, and say so
        rows = R["models"]
        fig.suptitle("No model reached the loss target: every model is shown where its step limit stopped it",
                     fontsize="small")
    key = f"sensitivity_{R['primary']}"
    for ax, metric, ylabel in ((axes[0][0], "loss", "cross-entropy loss"), (axes[0][1], "acc", "accuracy")):
        for split, colour in (("train", TRAIN), ("test", TEST)):
            b, mean, points = means_by(rows, "batch_size", f"{split}_{metric}")
            ax.plot(b, mean, "-o", ms=3, color=colour, label=split)  # the panel says which metric
            if points:  # none when no model reached the target
                ax.scatter(*zip(*points), s=8, color=colour, alpha=0.5)
        log_ticks_at(ax, [r["batch_size"] for r in R["models"]])
        ax.set(xlabel="batch size", ylabel=ylabel)
        if metric == "loss":
            ax.set_yscale("log")
        twin = ax.twinx()
        b, mean, points = means_by(rows, "batch_size", key)
        twin.plot(b, mean, "-s", ms=3, lw=1.2, color=SENSITIVITY,
                  label=f"sensitivity of the {R['outputs'][R['primary']]}")
        if points:
            twin.scatter(*zip(*points), s=8, marker="s", color=SENSITIVITY, alpha=0.5)
        # the untrained networks' level: a short dotted stub in a strip kept free at the right end of the x axis,
        # where it crosses no point of either axis (a line across the panel ran through the data)
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi * (hi / lo) ** UNTRAINED_STRIP)  # log x: the strip, as a share of the old range
        untrained = R["sensitivity_at_init"][R["primary"]]
        start = 1 - 0.8 * UNTRAINED_STRIP / (1 + UNTRAINED_STRIP)  # in the strip, clear of the last points
        twin.plot([start, 0.99], [untrained, untrained], color=SENSITIVITY, lw=1.4, ls=":",
                  transform=blended_transform_factory(twin.transAxes, twin.transData),
                  label="sensitivity, untrained (right edge)")
        twin.set(ylabel="sensitivity " + AXIS_LABEL[R["primary"]])
        twin.grid(False)
    # below the panels: the curves run across the whole range of batch sizes on both axes
    legend_below(fig, fig.axes, ncols=4, fontsize="x-small")
    return fig


def figures(R: dict) -> list:
    caption = ("Left: train and test cross-entropy (log); right: train and test accuracy; both against the batch size "
               "(log x), line: mean over seeds, dots: each model that reached the target. Twin axis: the sensitivity of "
               f"the {R['outputs'][R['primary']]}, mean {SYMBOL[R['primary']]} over {R['n_eval']} test images "
               "(dotted, at the right edge: the untrained networks). "
               "The other sensitivities are in the table above.")
    return [(_sensitivity(R), caption)]


# ---------------------------------------------------------------- the comment

def _digits(pairs: list[tuple[float, float]], least: int = 3, most: int = 10) -> int:
    """The fewest significant digits (at least ``least``) at which every u < v of pairs still prints
    as smaller: rounding can only merge values, so the order the text claims must survive it."""
    for d in range(least, most + 1):
        if all(float(f"{u:.{d}g}") < float(f"{v:.{d}g}") for u, v in pairs):
            return d
    return most


def _apart(a: list[float], b: list[float]) -> list[tuple[float, float]]:
    """The pair whose order makes two seed ranges disjoint ([] where they overlap)."""
    return [(max(a), min(b))] if max(a) < min(b) else [(max(b), min(a))] if max(b) < min(a) else []


def comment(R: dict) -> str:
    rows = [r for r in R["models"] if r["reached"]]
    out = R["outputs"]
    lines = [criterion_text(R)]
    if len({r["batch_size"] for r in rows}) < 2:
        lines.append("\nFewer than two batch sizes have a model at the target, so nothing is compared.")
        return "\n".join(lines)
    steps = by_batch(rows, "steps")
    losses = [r["train_loss"] for r in rows]
    lines.append("\n- Steps to the target (mean over seeds): " + ", ".join(
        f"batch {b}: {sum(v) / len(v):,.0f}" for b, v in steps.items())
        + f"; training loss afterwards from {min(losses):.3g} to {max(losses):.3g} "
        f"(largest over smallest {max(losses) / min(losses):.2f}).")
    lines.append(_ends_text(R, rows))
    for k, name in out.items():
        c = R["trends"][k]["batch_size"]
        lines.append(f"- {name.capitalize()} against the batch size over all batch sizes: "
                     f"{batch_trend_text(c)}. "
                     + controlled_text(c, R["partial"][k]))
    dirs = {k: direction(R["trends"][k]["batch_size"]) for k in out}
    if {dirs["softmax"], dirs["logits"]} == {"up", "down"}:
        lines.append("\nThe softmax and the logits move in opposite directions with the batch size: which output "
                     "is differentiated decides the sign, so only the softmax (Novak et al.'s definition) is read.")
    test, gap = (R["trends"][R["primary"]][g] for g in ("test_loss", "gap_loss"))
    link = ("the more sensitive, the larger", "the more sensitive, the smaller", "no link is established")
    lines.append(f"\nAcross the models, the sensitivity against the test loss: {trend_text(test, *link)}; "
                 f"against the generalization gap (test − train loss): {trend_text(gap, *link)}.")
    others = [k for k in out if k != R["primary"]]
    if others:
        lines.append("The other outputs' sensitivity against the generalization gap: " + "; ".join(
            f"{out[k]}: {trend_text(R['trends'][k]['gap_loss'], *link)}" for k in others) + ".")
    lines.append(_novak_text(R, gap, len(rows)))
    return "\n".join(lines)



def _ends_text(R: dict, rows: list[dict]) -> str:
    """The smallest batch against the largest: seed ranges printed with the digits that show whether
    they overlap, and an order only where the exact rank test of run() (R["ends"]) gives p < ALPHA."""
    sens = by_batch(rows, f"sensitivity_{R['primary']}")
    small, large = next(iter(sens)), list(sens)[-1]
    a, b = sens[small], sens[large]
    t = R["ends"][R["primary"]]
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    p = f"{t['p']:.2g}"
    ordered = (float(p) < ALPHA and t["side"] != 0 and mean_a != mean_b
               and (mean_b > mean_a) == (t["side"] > 0))
    pairs = _apart(a, b) + ([tuple(sorted((mean_a, mean_b)))] if ordered else [])
    fmt = f".{_digits(pairs)}g"
    head = (f"- Sensitivity of the {R['outputs'][R['primary']]} (the figure), batch {small} → {large}: "
            f"{wording.spread(a, fmt)} → {wording.spread(b, fmt)}: ")
    if min(len(a), len(b)) < 2:
        where = ("one seed a side" if len(a) == len(b) else
                 f"one seed at batch {small if len(a) < 2 else large}")
        return head + f"{where}, so {wording.noise_unknown()} and the two are not ranked."
    test = f"exact two-sided rank test over the seeds, p = {p}"
    if ordered:
        more = "more" if mean_b > mean_a else "less"
        return head + f"the largest batch gives the {more} sensitive models ({test})."
    # an overlap claim on the printed ranges: _digits printed enough digits to show a gap that exists
    apart = _apart(*([float(format(v, fmt)) for v in side] for side in (a, b)))
    floor = (f" (with {len(a)} and {len(b)} seeds it cannot go below {t['min_p']:.2g})"
             if t["min_p"] >= ALPHA else "")
    return head + (f"the seed ranges {'do not overlap, but' if apart else 'overlap, and'} the exact two-sided rank "
                   f"test over the seeds gives p = {p}{floor}, so it cannot tell which batch gives the more "
                   "sensitive models.")


# Novak et al. 2018 ("Sensitivity and Generalization in Neural Networks: an Empirical Study"), abstract
NOVAK = ("Novak et al. (2018) found over thousands of fully connected networks, with various architectures, "
         "optimizers and other hyper-parameters, on four image datasets that the input-output Jacobian norm "
         "correlates with the generalization gap")


def _novak_text(R: dict, gap: dict, n: int) -> str:
    """Whether this run agrees with the paper, read from the gap correlation; where not, how the
    setting differs."""
    d = direction(gap)
    setting = (f"its {n} models are BatchNorm CNNs on {R['dataset'].split(':')[0]} that differ only in "
               "batch size and seed, each trained to one training loss "
               f"({R['params']['target_loss']:g} ± {R['tolerance'] * 100:g} %)")
    out = R["outputs"]
    others = {k: direction(R["trends"][k]["gap_loss"]) for k in out if k != R["primary"]}
    agree = [out[k] for k, v in others.items() if v == "up"]
    oppose = [out[k] for k, v in others.items() if v == "down"]
    rest = "".join([f" The sensitivity of the {wording.join(agree)} does rise with the gap." if agree else "",
                    f" The sensitivity of the {wording.join(oppose)} falls with the gap." if oppose else ""])
    if d == "up":
        return f"{NOVAK}; for the {out[R['primary']]}, this run agrees.{rest}"
    if d == "down":
        return (f"{NOVAK}; for the {out[R['primary']]}, this run finds the opposite sign, and its setting differs: "
                f"{setting}.{rest}")
    way = lean([gap["rho"]])
    leaning = (f" Its point estimate leans {way} (ρ = {fixed(gap['rho'])}), short of an interval that excludes 0."
               if way else "")
    return (f"{NOVAK}; for the {out[R['primary']]}, this run cannot tell whether it agrees (no rank correlation "
            f"that excludes 0): {setting}.{leaning}{rest}")
