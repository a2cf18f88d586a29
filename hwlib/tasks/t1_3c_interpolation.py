"""1-3c Flatness vs generalization, part 1: the loss along the line between two solutions.

Two pairs of models differ in one training choice each: the batch size (small vs large, same
learning rate) and the learning rate (small vs large, same batch size). The net is a small CNN
with BatchNorm, so its state holds running statistics besides the weights, and θ(α) is taken
over the whole state (hwlib.interpolation). Each pair is trained twice: from one shared
initialization (same seed, same data order: only the studied choice differs) and from two
independent initializations (model 2 uses the next seed). Every model is trained to one training
loss (within ±10 % of a target, eval mode, whole training set; hwlib.to_target), not for a fixed
number of epochs: with equal epochs the large-batch model takes a fraction of the steps and the
comparison measures training length.

Each line is drawn twice: with the BatchNorm running statistics interpolated like the weights, and
with them re-estimated from the training images at each α (hwlib.interpolation), which extrapolates
nothing. Which end is flatter is read from a symmetric measure at each end: the central second
difference of the training loss along the line (statistics re-estimated, one grid step each side),
with the top Hessian eigenvalue of each end model beside it as a measure of every direction. Each
pair's two test accuracies are compared paired on the shared test set (McNemar's exact test).
"""

from __future__ import annotations

import math
import time
from decimal import Decimal

import numpy as np
import torch
import torch.nn.functional as F

from .. import data, models, train, wording
from ..curvature import top_hessian_eigenvalue
from ..interpolation import clipped_variances, evaluate_path, evaluate_path_recomputed
from ..paired import mcnemar
from ..params import Param, ParamError, same
from ..plots import figure, legend_below, palette
from ..results import envelope
from ..tables import markdown_table
from ..to_target import TOLERANCE, fit_to_loss
from . import batch_models, common

NAME, SECTION = "1_3c_interpolation", "1-3c"

SPEC = {
    "dataset": common.DATASET,
    "train_limit": common.train_limit(smoke=512),
    "channels": batch_models.CHANNELS,
    "target_loss": batch_models.TARGET_LOSS,
    "max_steps": batch_models.MAX_STEPS,
    "batch_sizes": same("int_list", [64, 1024], positive=True, min_len=2, doc="the batch-size pair (at base_lr)"),
    "lrs": same("float_list", [1e-3, 1e-2], positive=True, min_len=2, doc="the learning-rate pair (at base_batch)"),
    "base_lr": same("float", 1e-3, positive=True, doc="learning rate of the batch-size pair"),
    "base_batch": same("int", 64, low=1, doc="batch size of the learning-rate pair"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS, doc="optimizer of every model"),
    "inits": same("str_list", ["shared", "independent"], choices=("shared", "independent"),
                  doc="shared: one seed for both models; independent: seed and seed + 1"),
    "seed": same("int", 0, low=0, doc="seed of model 1 (initialization and data order)"),
    "alpha_min": same("float", -1.0, doc="start of the α range: one segment length before θ₁"),
    "alpha_max": same("float", 2.0, doc="end of the α range: one segment length past θ₂"),
    # quick: a step of 1/15 of the segment, so that 0 and 1 lie on the grid with a point at one distance each
    # side (the central curvature); 61 points (a step of 1/20) took 23.4-26.7 s against 20.5-20.7 s (one thread,
    # side by side), and moved the end curvatures by under 2 %
    "n_alpha": Param("int", smoke=31, quick=46, full=61, low=31, doc="α points (0, 0.5 and 1 are always added)"),
    "data_root": common.DATA_ROOT,
}


def checks(P) -> None:
    if len(P.batch_sizes) != 2 or len(P.lrs) != 2:
        raise ParamError(f"batch_sizes={P.batch_sizes!r} and lrs={P.lrs!r} must each hold two values, e.g. [64, 1024]")
    if len(set(P.inits)) != len(P.inits):
        raise ParamError(f"inits={P.inits!r} must name each initialization once, e.g. ['shared', 'independent']")
    if not (P.alpha_min < 0 and P.alpha_max > 1):
        raise ParamError(f"alpha_min={P.alpha_min}, alpha_max={P.alpha_max}: the range must hold [0, 1] strictly "
                         f"inside, e.g. -1 and 2")


def pairs(P) -> list[dict]:
    """The two studied choices: a name and the (batch size, lr) of model 1 and of model 2."""
    return [{"name": "batch size", "values": list(P.batch_sizes), "settings": [(b, P.base_lr) for b in P.batch_sizes]},
            {"name": "learning rate", "values": list(P.lrs), "settings": [(P.base_batch, lr) for lr in P.lrs]}]


def alpha_grid(P) -> list[float]:
    grid = torch.linspace(P.alpha_min, P.alpha_max, P.n_alpha, dtype=torch.float64).tolist()
    return sorted({round(a, 10) for a in grid} | {0.0, 0.5, 1.0})  # endpoints and midpoint always present


def near(alphas: list[float], a: float) -> int:
    return min(range(len(alphas)), key=lambda i: abs(alphas[i] - a))


def rise_beyond_ends(alphas: list[float], loss: list[float], unclipped: list[float], step: float = 0.2) -> dict | None:
    """Change of the loss one equal step δ·‖θ₂ − θ₁‖ beyond each end (δ ≤ step), staying where no
    running variance is clipped: which end sits in the sharper region along this line.
    None when no such step exists on both sides of the grid."""
    delta = min(step, -unclipped[0], unclipped[1] - 1)
    i0, i1, j0, j1 = near(alphas, -delta), near(alphas, 1 + delta), alphas.index(0.0), alphas.index(1.0)
    if delta <= 0 or i0 == j0 or i1 == j1 or abs((alphas[j0] - alphas[i0]) - (alphas[i1] - alphas[j1])) > 1e-9:
        return None
    return {"delta": alphas[j0] - alphas[i0], "model1": loss[i0] - loss[j0], "model2": loss[i1] - loss[j1]}


def central_curvatures(alphas: list[float], loss: list[float]) -> dict:
    """d²L/dα² along the line at each end from a central second difference, one grid step h each side:
    (L(α − h) − 2 L(α) + L(α + h)) / h². Symmetric about the end, unlike a difference from inside the
    segment, which reads one wall of a barrier as curvature. None at an end without a grid point on
    each side at one distance."""
    def second(a: float):
        i = alphas.index(a)
        if i == 0 or i == len(alphas) - 1:
            return None
        h = alphas[i + 1] - a
        if abs((a - alphas[i - 1]) - h) > 1e-9:
            return None
        return (loss[i - 1] - 2 * loss[i] + loss[i + 1]) / h ** 2

    i0 = alphas.index(0.0)
    return {"model1": second(0.0), "model2": second(1.0), "step": alphas[i0 + 1] - alphas[i0]}


# the top Hessian eigenvalue of each end model: the training loss on this many training images (eval mode),
# at most this many Lanczos steps (1-3e's quick settings, where the value settles well before the limit)
N_CURVATURE = 512
LANCZOS_ITERS = 40
# BatchNorm statistics re-estimated at each α from this many training images: the means and variances of a
# few dozen channels settle long before (their standard error is under 5 % of a standard deviation), and a
# pass over the whole set at each of the ~64 α of four lines was a third of the notebook's time
N_STATISTICS = 512


def sharpest_direction(model, ds: data.Dataset, seed: int) -> float:
    """λ_max of the Hessian of the training loss on the first N_CURVATURE training images, in eval mode."""
    x, y = ds.x_train[:N_CURVATURE], ds.y_train[:N_CURVATURE]
    model.eval()
    return top_hessian_eigenvalue(model, lambda m: F.cross_entropy(m(x), y), iters=LANCZOS_ITERS, seed=seed)


def run(P) -> dict:
    start = time.perf_counter()
    ds = common.load_data(P)
    alphas = alpha_grid(P)
    trained = {}  # (batch, lr, seed) -> (model, record): a model shared by several cases is trained once
    grid = batch_models.grid_models(P, ds)  # the same models 1-3d's grid trained, where it holds them

    def trained_model(batch: int, lr: float, seed: int):
        if (batch, lr, seed) not in trained:
            if (batch, lr, seed) in grid:
                model, record = grid[batch, lr, seed]
            else:
                model = batch_models.build(P, ds, seed)  # the BatchNorm CNN of 1-3d and 1-3e
                record = fit_to_loss(model, ds, batch_size=batch, lr=lr, optimizer=P.optimizer, seed=seed,
                                     target=P.target_loss, max_steps=P.max_steps,
                                     label=f"batch {batch}, lr {lr:g}, seed {seed}")
            record["top_eigenvalue"] = sharpest_direction(model, ds, seed)
            with torch.no_grad():
                record["test_correct"] = torch.cat([model(ds.x_test[i:i + 2048]).argmax(1)
                                                    for i in range(0, len(ds.x_test), 2048)]).eq(ds.y_test).tolist()
            trained[batch, lr, seed] = model, record
        return trained[batch, lr, seed]

    cases = []
    for pair in pairs(P):
        for init in P.inits:
            seeds = (P.seed, P.seed) if init == "shared" else (P.seed, P.seed + 1)
            (m1, r1), (m2, r2) = [trained_model(b, lr, s) for (b, lr), s in zip(pair["settings"], seeds)]
            tr = evaluate_path(m1, m2, alphas, ds.x_train, ds.y_train, ds.kind)
            te = evaluate_path(m1, m2, alphas, ds.x_test, ds.y_test, ds.kind)
            re = evaluate_path_recomputed(m1, m2, alphas, ds.x_train[:N_STATISTICS],
                                          {"train": (ds.x_train, ds.y_train), "test": (ds.x_test, ds.y_test)}, ds.kind)
            at = {a: i for i, a in enumerate(alphas)}
            inside = [i for i, a in enumerate(alphas) if 0 <= a <= 1]
            case = {"pair": pair["name"], "values": pair["values"], "init": init, "models": [r1, r2],
                    "alpha": alphas, "train_loss": tr["loss"], "train_acc": tr["acc"],
                    "test_loss": te["loss"], "test_acc": te["acc"],
                    "mid": {k: v[at[0.5]] for k, v in (("train_loss", tr["loss"]), ("test_loss", te["loss"]),
                                                        ("train_acc", tr["acc"]), ("test_acc", te["acc"]))},
                    # how far the training loss rises above the worse endpoint between α = 0 and α = 1
                    "barrier": max(tr["loss"][i] for i in inside) - max(tr["loss"][at[0.0]], tr["loss"][at[1.0]]),
                    "min_train_acc_inside": min(tr["acc"][i] for i in inside),
                    # the same line with BatchNorm statistics re-estimated at each α: nothing extrapolated
                    "recomputed": {"train_loss": re["train"]["loss"], "train_acc": re["train"]["acc"],
                                   "test_loss": re["test"]["loss"], "test_acc": re["test"]["acc"]},
                    # the two end models' test accuracies, paired on the shared test set
                    "test_paired": mcnemar(r1["test_correct"], r2["test_correct"])}
            case["clipped_variances"] = clipped_variances(m1.state_dict(), m2.state_dict(), alphas)
            clean = [a for a, n in zip(alphas, case["clipped_variances"]) if n == 0]
            case["unclipped_range"] = [min(clean), max(clean)]  # [0, 1] is always inside
            case["rise"] = rise_beyond_ends(alphas, re["train"]["loss"], [alphas[0], alphas[-1]])
            case["curvature"] = central_curvatures(alphas, re["train"]["loss"])
            cases.append(case)
            print(f"{pair['name']} ({init} init): train loss at α=0.5 {case['mid']['train_loss']:.4g}, "
                  f"ends {tr['loss'][at[0.0]]:.3g} and {tr['loss'][at[1.0]]:.3g}", flush=True)
    with torch.device("meta"):
        shape = models.cnn(ds.input_shape, ds.n_classes, P.channels, batchnorm=True)
    info = models.describe(shape)
    for _, record in trained.values():
        del record["test_correct"]  # 2 × the test set per model: the paired test above is what is kept
    return envelope(P, NAME, SECTION, time.perf_counter() - start,
                    dataset=ds.describe(), n_train=len(ds.x_train), n_test=len(ds.x_test),
                    model={"channels": info["widths"], "structure": info["structure"], "params": info["params"],
                           "batchnorm": True},
                    buffers=[k for k, _ in shape.named_buffers()], cases=cases, tolerance=TOLERANCE,
                    n_curvature=min(N_CURVATURE, len(ds.x_train)), lanczos_iters=LANCZOS_ITERS,
                    n_statistics=min(N_STATISTICS, len(ds.x_train)))


def table(R: dict) -> str:
    """Every trained model of every case: its settings, the steps it took and where it ended."""
    m, p = R["model"], R["params"]
    rows = [{"pair": c["pair"], "init": c["init"], "model": f"θ{i + 1}", "batch size": e["batch_size"], "lr": e["lr"],
             "seed": e["seed"], "steps": e["steps"], "reached target": e["reached"], "train loss": e["train_loss"],
             "train acc": e["train_acc"], "test acc": e["test_acc"], "λ_max": e["top_eigenvalue"]}
            for c in R["cases"] for i, e in enumerate(c["models"])]
    return (f"CNN with BatchNorm: {m['structure']}, {m['params']:,} parameters; interpolated buffers: "
            f"{', '.join(R['buffers'])}. {p['optimizer']}; every model trained until its training loss (eval mode, whole "
            f"training set) is within ±{R['tolerance'] * 100:g} % of {p['target_loss']:g} (limit {p['max_steps']:,} steps); "
            f"{len(R['cases'][0]['alpha'])} values of α. λ_max: the top eigenvalue of the Hessian of the training loss "
            f"on {R['n_curvature']} training images (eval mode, at most {R['lanczos_iters']} Lanczos steps); "
            f"re-estimated BatchNorm statistics: from the first {R['n_statistics']} training images at each α."
            "\n\n" + markdown_table(rows))


TRAIN, TEST = palette(2)  # one colour per data split


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


def _interpolation(R: dict, pair: str):
    """One panel per initialization case: loss (log, left) and accuracy (right) against α; grey
    background where a BatchNorm running variance extrapolated below zero and was clipped."""
    cases = [c for c in R["cases"] if c["pair"] == pair]
    fig, axes = figure(ncols=len(cases), height=3.5)
    for ax, case in zip(np.ravel(axes), cases):  # one case (one init): a single Axes, not a grid
        a = case["alpha"]
        for lo, hi in _clipped_spans(a, case["clipped_variances"]):
            ax.axvspan(lo, hi, color="grey", alpha=0.15, lw=0, label="variance clipped")
        ax.plot(a, case["train_loss"], color=TRAIN, lw=1.5, label="train loss")
        ax.plot(a, case["test_loss"], color=TEST, lw=1.5, label="test loss")
        ax.plot(a, case["recomputed"]["train_loss"], color=TRAIN, lw=1.0, ls=":",
                label="train loss, statistics re-estimated")
        ax.plot(a, case["recomputed"]["test_loss"], color=TEST, lw=1.0, ls=":",
                label="test loss, statistics re-estimated")
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
    legend_below(fig, fig.axes, ncols=4, fontsize="x-small")  # the curves span every panel's width and height
    return fig


INIT_TEXT = {"shared": "both models from one initialization", "independent": "the models from independent initializations"}


def _panels(cases: list[dict]) -> str:
    """Which initialization each panel shows (checks() allows each at most once: two panels at most)."""
    texts = [INIT_TEXT[c["init"]] for c in cases]
    if len(texts) == 1:
        return texts[0][0].upper() + texts[0][1:] + "."
    return f"Left panel: {texts[0]}; right panel: {texts[1]}."


def figures(R: dict) -> list:
    """One figure per studied choice (batch size, then learning rate), its initialization cases side by side."""
    p, out = R["params"], []
    for pair in dict.fromkeys(c["pair"] for c in R["cases"]):
        cases = [c for c in R["cases"] if c["pair"] == pair]
        v1, v2 = cases[0]["values"]
        fixed = f"lr {p['base_lr']:g}" if pair == "batch size" else f"batch size {p['base_batch']}"
        out.append((_interpolation(R, pair), (
                    f"Interpolation between the {pair} {v1:g} model (α = 0) and the {pair} {v2:g} model (α = 1), "
                    f"{fixed}: cross-entropy (log, solid, left axis) and accuracy (dashed, right axis) on the training "
                    f"and test sets; dotted: the loss with the BatchNorm statistics re-estimated from the training images "
                    f"at each α instead of interpolated. {_panels(cases)}")))
    return out


# ---------------------------------------------------------------- the comment

# A barrier is called one when the training accuracy between the ends falls this far below the
# worse end: a 5-point dip is well beyond the ±1 image a few hundred training images resolve.
ACC_DROP = 0.05
# One run per case, so the seed noise of a curvature is unknown: curvatures within 10 % of each
# other are called equal rather than ranked on a difference no second run could confirm.
EQUAL_CURVATURE = 0.10
# A curvature under 1 % of the larger one at the other end is zero within the finite differences'
# error: the loss is flat there along the line, it does not bend down.
NEAR_ZERO = 0.01


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def _shown(v: float) -> Decimal:
    """v exactly as the comment prints it (3 significant digits): the verdicts are decided on it."""
    return Decimal(f"{v:.3g}")


def _curvatures(c: dict) -> tuple[Decimal, Decimal]:
    """The two ends' curvatures as printed, each set to 0 where it is under NEAR_ZERO of the larger one
    (both given: flatter() answers 'unknown' first where one is missing)."""
    k1, k2 = _shown(c["curvature"]["model1"]), _shown(c["curvature"]["model2"])
    scale = max(abs(k1), abs(k2))
    return tuple(Decimal(0) if abs(k) < Decimal(str(NEAR_ZERO)) * scale else k for k in (k1, k2))


def flatter(c: dict) -> str:
    """Which end of the line is flatter: 'θ₁' / 'θ₂' (the smaller curvature along the line), 'equal',
    'concave' (the loss bends down at an end: no valley floor along the line to compare), or 'unknown'
    (no grid point on both sides of an end, or a loss that is not finite there)."""
    if not all(_finite(c["curvature"][k]) for k in ("model1", "model2")):
        return "unknown"
    k1, k2 = _curvatures(c)
    if k1 < 0 or k2 < 0:
        return "concave"
    if abs(k1 - k2) <= Decimal(str(EQUAL_CURVATURE)) * max(k1, k2):  # both 0: equal too
        return "equal"
    return "θ₁" if k1 < k2 else "θ₂"


def shape_text(c: dict) -> str:
    """Barrier, bump or none: ACC_DROP decided on the accuracies as printed."""
    floor = min(e["train_acc"] for e in c["models"])
    low = c["min_train_acc_inside"]
    shown = [Decimal(wording.pct(v).split()[0]) for v in (low, floor)]
    if shown[0] < shown[1] - Decimal(str(ACC_DROP * 100)):
        loss = (f"the training loss rises {c['barrier']:.3g} above the worse end and" if c["barrier"] > 0 else
                "the training loss never exceeds the worse end's, but")  # an accuracy barrier alone
        return f"a barrier: {loss} the training accuracy falls to {wording.pct(low)} in between"
    acc = (f"the training accuracy between the ends does not drop below the ends' {wording.pct(floor)}" if low >= floor
           else f"the training accuracy between the ends dips to {wording.pct(low)}, within {ACC_DROP * 100:.0f} "
                f"points of the worse end's {wording.pct(floor)}")
    if c["barrier"] > 0:
        return (f"a bump, not a barrier (a barrier here means a training accuracy more than {ACC_DROP * 100:.0f} points "
                f"below the worse end's): the training loss rises {c['barrier']:.3g} above the worse end and {acc}")
    return f"no barrier: between the ends the training loss never exceeds the worse end's, and {acc}"


def rise_text(c: dict) -> str:
    """Only where it says something: the loss still falls one equal step beyond an end."""
    r = c["rise"]
    if r is None:
        return ""
    below = [n for n, k in (("θ₁", "model1"), ("θ₂", "model2")) if r[k] < 0]
    if not below:
        return ""
    who = "it is not at the bottom of its" if len(below) == 1 else "neither is at the bottom of its"
    return (f" One step of {r['delta']:.2g}·‖θ₂−θ₁‖ beyond {wording.join(below)} the training loss still falls, so "
            f"along this line {who} valley.")


def curvature_text(c: dict, names: tuple[str, str]) -> str:
    k, verdict = c["curvature"], flatter(c)
    if None in (k["model1"], k["model2"]):
        return "The α grid has no point on both sides of an end, so the curvature at the ends is not measured."
    if verdict == "unknown":
        return "The loss along the line is not finite at an end, so the curvature there is not measured."
    text = (f"The curvature of the training loss along the line (BatchNorm statistics re-estimated; central "
            f"difference, step {k['step']:.2g}) is {k['model1']:.3g} at θ₁ ({names[0]}) and "
            f"{k['model2']:.3g} at θ₂ ({names[1]})")
    zero = [n for n, key, e in zip(("θ₁", "θ₂"), ("model1", "model2"), _curvatures(c)) if e == 0 and k[key] != 0]
    if zero:
        text += (f" ({'its' if len(zero) == 1 else 'their'} value at {wording.join(zero)}, under "
                 f"{NEAR_ZERO * 100:g} % of the other end's, is zero within the finite differences' error)")
    if verdict == "concave":
        bent = [n for n, e in zip(("θ₁", "θ₂"), _curvatures(c)) if e < 0]
        return text + f": the loss bends down at {wording.join(bent)}, so the ends are not ranked."
    if verdict == "equal":
        return text + f": within {EQUAL_CURVATURE * 100:.0f} % of each other, so neither end is flatter along this line."
    i = 0 if verdict == "θ₁" else 1
    return text + f": **θ{'₁₂'[i]} ({names[i]}) is the flatter end** along this line."


def eigen_text(c: dict, names: tuple[str, str]) -> str:
    """The top Hessian eigenvalue of each end (every direction, not only the line), and whether it ranks
    the ends as the line does. Within EQUAL_CURVATURE of each other the two are called equal."""
    l1, l2 = (m["top_eigenvalue"] for m in c["models"])
    text = f" λ_max is {l1:.3g} at θ₁ and {l2:.3g} at θ₂"
    if not (_finite(l1) and _finite(l2)):
        return text + "."
    l1, l2 = _shown(l1), _shown(l2)  # decided on the printed values
    if abs(l1 - l2) <= Decimal(str(EQUAL_CURVATURE)) * max(abs(l1), abs(l2)):
        return text + f": within {EQUAL_CURVATURE * 100:.0f} % of each other."
    smaller = "θ₁" if l1 < l2 else "θ₂"
    line = flatter(c)
    if line in ("θ₁", "θ₂"):
        return text + (": it ranks the ends as the line does." if line == smaller else
                       f": in every direction {smaller} is the flatter end, the opposite of the line.")
    return text + f": in every direction {smaller} is the flatter end."


# a test-accuracy difference is called beyond the test set's noise at this level of McNemar's exact test
ALPHA = 0.05


def paired_text(c: dict, n_test: int) -> str:
    """The two ends' test accuracies, paired on the shared test set (McNemar's exact test)."""
    a1, a2 = (m["test_acc"] for m in c["models"])
    t = c["test_paired"]
    p = float(f"{t['p']:.2g}")  # the verdict follows the p as printed
    head = (f" Test accuracy {wording.pct(a1)} (θ₁) against {wording.pct(a2)} (θ₂): {t['only_a']} of {n_test} test "
            f"images only θ₁ classifies right, {t['only_b']} only θ₂ (McNemar's exact test, p = {t['p']:.2g})")
    if p >= ALPHA:
        return head + ": within the test set's noise, so this pair cannot link flatness to generalization."
    return head + (": beyond the test set's noise, but one pair is one observation and cannot show a link between "
                   "flatness and generalization.")


def pair_verdict(pair: str, cases: list[dict]) -> str:
    """One sentence per studied choice from the flatness verdicts of its initialization cases."""
    names = [f"{pair} {v:g}" for v in cases[0]["values"]]
    verdicts = [flatter(c) for c in cases]
    decided = [v for v in verdicts if v in ("θ₁", "θ₂")]
    if not decided:
        return f"- {pair.capitalize()}: no case ranks the two ends, so the line does not say which solution is flatter."
    if len(set(decided)) > 1:
        return (f"- {pair.capitalize()}: the initialization cases disagree on which end is flatter, so the line "
                "does not decide between the two solutions.")
    i = 0 if decided[0] == "θ₁" else 1
    rest = len(cases) - len(decided)
    agree = (f"in all {len(cases)} initialization cases" if not rest else
             f"in {len(decided)} of {len(cases)} initialization cases (the "
             + ("other one does" if rest == 1 else f"other {rest} do") + " not rank the ends)")
    ends = {(m["batch_size"], m["lr"], m["seed"]) for m in (c["models"][0] for c in cases)}
    shared = ("; the cases share θ₁ (one trained model), so they are lines through one solution, not repeats"
              if len(cases) > 1 and len(ends) == 1 else "")
    return (f"- {pair.capitalize()}: the {names[i]} solution is the flatter one {agree}{shared}; with one run per case "
            f"{wording.noise_unknown('the curvatures')}.")


# Keskar et al. 2017, "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp Minima", the
# experiment this one repeats (after Goodfellow et al. 2015): the loss along the line from a small-batch to a
# large-batch solution
KESKAR = ("Keskar et al. (2017) drew this line from a small-batch to a large-batch solution and found the "
          "large-batch end the sharper one")


def keskar_text(R: dict) -> str:
    """Whether the batch-size pair agrees with the paper: the flatter end decided as pair_verdict decides it
    (every case that ranks the ends agrees, and one at least does)."""
    cases = [c for c in R["cases"] if c["pair"] == "batch size"]
    if not cases:
        return ""
    small, large = sorted(cases[0]["values"])
    big = "θ₂" if cases[0]["values"][1] == large else "θ₁"  # the pair may list the larger batch first
    decided = {flatter(c) for c in cases} & {"θ₁", "θ₂"}
    setting = (f"the models are small BatchNorm CNNs trained with {R['params']['optimizer']} to one training "
               f"loss, batch {small:g} against {large:g} (the paper: 256 against a tenth of the training set), "
               "with one run per case")
    other = " The learning-rate pair has no counterpart in that paper."
    if decided == {"θ₁", "θ₂"} - {big}:
        return f"\n{KESKAR}; so is it here (batch {large:g}, {big}).{other}"
    if decided == {big}:
        return f"\n{KESKAR}; here it is the flatter one, the opposite, and the setting differs: {setting}.{other}"
    return (f"\n{KESKAR}; here the cases do not rank the two ends alike, so this run cannot tell whether it agrees. "
            f"The setting: {setting}.{other}")


def missed_text(R: dict, missed: list[dict]) -> str:
    """The models off the target, and the studied choices whose cases hold one (a model may serve both)."""
    def key(m):
        return m["batch_size"], m["lr"], m["seed"]
    off = {key(m) for m in missed}
    pairs = list(dict.fromkeys(c["pair"] for c in R["cases"] if any(key(m) in off for m in c["models"])))
    return wording.join([f"batch {m['batch_size']}, lr {m['lr']:g}, seed {m['seed']} missed it ({m['steps']:,} "
                         f"steps, training loss {m['train_loss']:.3g})" for m in missed]) + (
        f", so the {wording.join(pairs)} {'pair compares' if len(pairs) == 1 else 'pairs compare'} models not both "
        "at the target.")


def _target_text(R: dict, trained: dict) -> str:
    """The training criterion, and whether every model met it."""
    p = R["params"]
    missed = [m for m in trained.values() if not m["reached"]]
    losses = [m["train_loss"] for m in trained.values()]
    crit = (f"Every model was trained until its training loss (eval mode, whole training set) was within "
            f"±{R['tolerance'] * 100:g} % of {p['target_loss']:g} (limit {p['max_steps']:,} steps): ")
    if missed:
        return crit + missed_text(R, missed)
    return crit + f"all reached it (training loss from {min(losses):.3g} to {max(losses):.3g})."


def _case_text(c: dict, n_test: int) -> str:
    """One case's bullet: the midpoint against the ends, the re-estimated BatchNorm, curvature and tests."""
    v1, v2 = c["values"]
    m = c["mid"]
    at = c["alpha"]
    e1, e2 = c["train_loss"][at.index(0.0)], c["train_loss"][at.index(1.0)]
    lo, hi = c["unclipped_range"]
    names = (f"{c['pair']} {v1:g}", f"{c['pair']} {v2:g}")
    mid = at.index(0.5)
    rc = c["recomputed"]
    return (f"- **{c['pair']} {v1:g} → {v2:g}, {c['init']} initialization**: at α = 0.5 the train/test loss is "
            f"**{m['train_loss']:.3g} / {m['test_loss']:.3g}** (accuracy {wording.pct(m['train_acc'])} / "
            f"{wording.pct(m['test_acc'])}), against {e1:.3g} (θ₁) and {e2:.3g} (θ₂) at the ends: {shape_text(c)}. "
            f"With the BatchNorm statistics re-estimated there instead of interpolated it is "
            f"{rc['train_loss'][mid]:.3g} / {rc['test_loss'][mid]:.3g}. No interpolated running variance is clipped "
            f"for α from {lo + 0.0:.3g} to {hi + 0.0:.3g}. {curvature_text(c, names)}{rise_text(c)}{eigen_text(c, names)}"
            f"{paired_text(c, n_test)}")


def _initialization_text(R: dict) -> str:
    """Whether the midpoint losses separate the shared from the independent initializations ('' without both)."""
    shared = [c for c in R["cases"] if c["init"] == "shared"]
    indep = [c for c in R["cases"] if c["init"] == "independent"]
    if not (shared and indep):
        return ""
    worst_shared = max(c["mid"]["train_loss"] for c in shared)
    best_indep = min(c["mid"]["train_loss"] for c in indep)
    if _shown(worst_shared) >= _shown(best_indep):  # not apart as printed
        return "\nThe midpoint losses do not separate the shared from the independent initializations here."
    return (f"\nThe initialization decides the shape of the slice. Solutions trained from one initialization are "
            f"joined by a straight path of low loss (midpoint training loss at most {worst_shared:.3g}); "
            f"independently initialized ones are separated by higher loss (midpoint training loss {best_indep:.3g} "
            "or more). The slice says more about where the solutions came from than about their flatness.")


CLIPPED = ("\nOutside the unclipped range (grey) some BatchNorm running variance extrapolates below zero and is "
           "clipped; the layer then divides by about √eps, and the jumps there are that artifact, not a property of "
           "the weights.")


def comment(R: dict) -> str:
    trained = {(m["batch_size"], m["lr"], m["seed"]): m for c in R["cases"] for m in c["models"]}
    lines = [_target_text(R, trained)]
    lines += [_case_text(c, R["n_test"]) for c in R["cases"]]
    lines.append("\nWhich solution is flatter along the line:")
    for pair in dict.fromkeys(c["pair"] for c in R["cases"]):
        lines.append(pair_verdict(pair, [c for c in R["cases"] if c["pair"] == pair]))
    lines.append(keskar_text(R))
    initialization = _initialization_text(R)
    if initialization:
        lines.append(initialization)
    if any(n for c in R["cases"] for n in c["clipped_variances"]):
        lines.append(CLIPPED)
    return "\n".join(lines)
