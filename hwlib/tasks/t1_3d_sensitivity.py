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
import torch

from .. import cache, data, models, train, wording
from ..params import Param, ParamError, same
from ..plots import figure, legend_below, log_ticks_at, means_by, palette
from ..progress import Progress
from ..ranks import partial_rank_correlation, rank_correlation, rank_test
from ..results import envelope
from ..sensitivity import OUTPUTS, jacobian_norms
from ..tables import markdown_table
from ..to_target import TOLERANCE, fit_to_loss
from . import common

NAME, SECTION = "1_3d_sensitivity", "1-3d"

SPEC = {
    "dataset": common.DATASET,
    "train_limit": common.train_limit(smoke=512),
    "channels": Param("int_list", smoke=[4, 8], quick=[16, 32], full=[32, 64], positive=True,
                      doc="conv channels of the BatchNorm CNN"),
    "batch_sizes": Param("int_list", smoke=[16, 32, 64, 128, 512], quick=[16, 32, 64, 256, 1024],
                         full=[16, 64, 256, 1024, 4096], positive=True, min_len=5,
                         doc="log-spaced, one model per seed each"),
    "seeds": Param("int_list", smoke=[0, 1], quick=[0, 1], full=[0, 1, 2], low=0,
                   doc="initialization and data order; every batch size is trained once per seed"),
    "target_loss": Param("float", smoke=1.2, quick=0.05, full=0.05, positive=True,
                         doc="train each model until its training loss (eval mode, whole training set) is within ±10 % of this"),
    "max_steps": Param("int", smoke=150, quick=2000, full=20000, low=1,
                       doc="step limit of a model that does not reach the target loss"),
    "lr": same("float", 1e-3, positive=True, doc="learning rate, the same for every batch size"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS, doc="optimizer of every model"),
    "n_eval": Param("int", smoke=128, quick=360, full=2000, low=1, doc="evaluation images for the sensitivity"),
    "chunk_size": Param("int", smoke=64, quick=128, full=128, low=1, internal=True,
                        doc="samples per vectorized Jacobian chunk (result unchanged)"),
    "data_root": common.DATA_ROOT,
}

PRIMARY = "softmax"  # Novak et al.'s sensitivity; "loss" is the homework's wording, "logits" a third view
ALPHA = 0.05  # level of the exact rank test that alone may rank the smallest batch against the largest


def checks(P) -> None:
    if sorted(set(P.batch_sizes)) != list(P.batch_sizes):
        raise ParamError(f"batch_sizes={P.batch_sizes!r} must be distinct and increasing, e.g. [16, 64, 256, 1024, 4096]")
    if len(set(P.seeds)) != len(P.seeds):
        raise ParamError(f"seeds={P.seeds!r} must be distinct, e.g. [0, 1, 2]")


def build(P, ds: data.Dataset, seed: int):
    torch.manual_seed(seed)
    return models.cnn(ds.input_shape, ds.n_classes, P.channels, batchnorm=True).to(P.device)


# the settings that decide the trained models (n_eval and chunk_size only change the measuring)
TRAINING = ("dataset", "train_limit", "channels", "batch_sizes", "seeds", "target_loss", "max_steps", "lr",
            "optimizer", "data_root")
# the science modules the models are built and trained with: their files are in the cache key
TRAINING_MODULES = ("hwlib.data", "hwlib.models", "hwlib.train", "hwlib.to_target")
MODELS = "1_3d_models"  # cache name of the trained models, shared with 1-3e


def cache_key(P) -> str:
    """The trained models' cache key (hwlib.cache): the training settings, and the text of the code that
    loads the data, builds and trains the models with the files of TRAINING_MODULES; not this module's
    figures or comment, so editing those keeps the models."""
    return cache.key({k: getattr(P, k) for k in TRAINING}, P.device,
                     functions=(common.load_data, build, train_models, cache_key), modules=TRAINING_MODULES)


def train_models(P, ds: data.Dataset) -> tuple[list[tuple], bool]:
    """One model per (seed, batch size): ([(model, record)], loaded). The models are cached
    (hwlib.cache): whichever of 1-3d and 1-3e comes second with the same settings loads them instead of
    training again (waiting while the other trains them), and ``loaded`` says so."""
    key = cache_key(P)
    with cache.lock(MODELS, P.out_dir):  # 1-3d and 1-3e may run side by side: one trains, the other waits and loads
        stored = cache.load(MODELS, key, P.out_dir)
        if stored is not None:
            out = []
            for state, record in stored:
                model = build(P, ds, record["seed"])
                model.load_state_dict(state)
                out.append((model, record))
            print(f"loaded the {len(out)} trained models from {cache.path(MODELS, key, P.out_dir)}", flush=True)
            return out, True
        out = []
        progress = Progress(len(P.batch_sizes) * len(P.seeds), "models")
        for seed in P.seeds:
            for batch in P.batch_sizes:
                model = build(P, ds, seed)
                record = fit_to_loss(model, ds, batch_size=batch, lr=P.lr, optimizer=P.optimizer, seed=seed,
                                     target=P.target_loss, max_steps=P.max_steps, label=f"batch {batch}, seed {seed}")
                out.append((model, record))
                progress.update(len(out), batch=batch, seed=seed, steps=record["steps"], train_loss=record["train_loss"])
        progress.done()
        cache.save(MODELS, key, [(m.state_dict(), dict(r)) for m, r in out], P.out_dir)
        return out, False


def eval_set(P, ds: data.Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed evaluation set: the first n_eval test images, the same for every model."""
    n = min(P.n_eval, len(ds.x_test))
    return ds.x_test[:n], ds.y_test[:n]


def model_info(P, ds: data.Dataset) -> dict:
    with torch.device("meta"):
        info = models.describe(models.cnn(ds.input_shape, ds.n_classes, P.channels, batchnorm=True))
    return {"channels": info["widths"], "structure": info["structure"], "params": info["params"], "batchnorm": True}


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

def by_batch(rows: list[dict], key: str) -> dict:
    """{batch size: [value per seed]} in batch-size order."""
    out: dict = {}
    for r in sorted(rows, key=lambda r: r["batch_size"]):
        out.setdefault(r["batch_size"], []).append(r[key])
    return out


def _fixed(v: float, digits: int = 2) -> str:
    """v with ``digits`` decimals, and never "-0.00": a printed end of an interval is read against 0."""
    text = f"{v:.{digits}f}"
    return text[1:] if float(text) == 0 and text.startswith("-") else text


def interval(c: dict, name: str = "ρ") -> str:
    return (f"{name} = {_fixed(c['rho'])}, 95 % interval {_fixed(c['low'])} to {_fixed(c['high'])} "
            f"over {c['n']} models")


def direction(c: dict) -> str:
    """'up' / 'down' when the bootstrap interval AS PRINTED excludes 0, 'none' when it holds 0,
    'unknown' without ρ. Decided on the printed ends, so that "rises" never stands beside "0.00 to …"."""
    if c["rho"] is None:
        return "unknown"
    low, high = float(_fixed(c["low"])), float(_fixed(c["high"]))
    return "up" if low > 0 else "down" if high < 0 else "none"


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


def criterion_text(R: dict) -> str:
    p, rows = R["params"], R["models"]
    missed = [r for r in rows if not r["reached"]]
    text = (f"Every model was trained until its training loss (eval mode, whole training set, checked between "
            f"steps) was within ±{R['tolerance'] * 100:g} % of {p['target_loss']:g}, with a limit of {p['max_steps']:,} "
            "steps. ")
    if not missed:
        return text + f"All {wording.plural(len(rows), 'model')} reached the target."
    names = wording.join([f"batch {r['batch_size']} (seed {r['seed']}, {_missed_how(r, R)} "
                          f"at {r['steps']:,} steps, training loss {r['train_loss']:.3g})" for r in missed])
    return (text + f"{wording.plural(len(missed), 'model')} missed it and {'is' if len(missed) == 1 else 'are'} "
            f"left out of every comparison below: {names}.")


def _missed_how(r: dict, R: dict) -> str:
    """Why a model is not at the target: diverged, fell through the band in one step, or ran out of steps."""
    if r["diverged"]:
        return "diverged"
    return "ended below the band" if r["train_loss"] < R["params"]["target_loss"] else "stopped"


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
                     f"{_trend_text(c, 'rises', 'falls', 'no monotone trend is established')}. "
                     + controlled_text(c, R["partial"][k]))
    dirs = {k: direction(R["trends"][k]["batch_size"]) for k in out}
    if {dirs["softmax"], dirs["logits"]} == {"up", "down"}:
        lines.append("\nThe softmax and the logits move in opposite directions with the batch size: which output "
                     "is differentiated decides the sign, so only the softmax (Novak et al.'s definition) is read.")
    test, gap = (R["trends"][R["primary"]][g] for g in ("test_loss", "gap_loss"))
    link = ("the more sensitive, the larger", "the more sensitive, the smaller", "no link is established")
    lines.append(f"\nAcross the models, the sensitivity against the test loss: {_trend_text(test, *link)}; "
                 f"against the generalization gap (test − train loss): {_trend_text(gap, *link)}.")
    others = [k for k in out if k != R["primary"]]
    if others:
        lines.append("The other outputs' sensitivity against the generalization gap: " + "; ".join(
            f"{out[k]}: {_trend_text(R['trends'][k]['gap_loss'], *link)}" for k in others) + ".")
    lines.append(_novak_text(R, gap, len(rows)))
    return "\n".join(lines)



def controlled_text(trend: dict, partial: dict) -> str:
    """Whether a trend with the batch size survives holding the final training loss fixed (a partial rank
    correlation): decided, like the trend, on whether the printed 95 % interval excludes 0."""
    d, pd = direction(trend), direction(partial)
    held = "With the final training loss held fixed (partial rank correlation)"
    if pd == "unknown":
        return f"{held} nothing can be computed: too few models, or the training loss orders them exactly."
    c = interval(partial, "partial ρ")
    if d in ("up", "down"):
        if pd == d:
            return f"{held} the trend survives ({c}, which excludes 0)."
        if pd == "none":
            return (f"{held} it does not survive ({c}, which holds 0): these models cannot tell it apart from what is "
                    "left of the training level.")
        return f"{held} it reverses ({c}): it is not the batch size's."
    if pd == "none":
        return f"{held} no trend either ({c}, which holds 0)."
    return f"{held} a trend appears ({c}, which excludes 0): the training level hid it."


def _trend_text(c: dict, up: str, down: str, none: str) -> str:
    """A rank correlation in words: the direction only where its printed 95 % interval excludes 0."""
    d = direction(c)
    if d == "unknown":
        return "too few models for a rank correlation"
    if d == "none":
        return f"{none} ({interval(c)}, which holds 0)"
    return f"{up if d == 'up' else down} ({interval(c)}, which excludes 0)"


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
    return (f"{NOVAK}; for the {out[R['primary']]}, this run cannot tell whether it agrees (no rank correlation "
            f"that excludes 0): {setting}.{rest}")
