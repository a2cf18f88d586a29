"""1-2c What happens when the gradient is almost zero: is a point with ‖∇L‖ ≈ 0 a minimum?

Per run: (1) train a small ReLU MLP on a 1-D function, full batch, Adam on the MSE, for an epoch budget,
and keep the last point it passed with ‖∇L‖ ≥ 10 × the threshold (``phase1_stop``), so that phase 2,
not phase 1, brings every run under the threshold; (2) switch the objective to ‖∇L‖² and descend its
gradient 2 H ∇L until ‖∇L‖ < threshold (or a step limit: such runs are counted, not hidden); (3) take
the exact Hessian of the training loss —
all parameters, all cross-layer blocks, the whole training set — in float64, symmetrize it and
compute its eigenvalues; (4) minimal ratio = fraction of eigenvalues > tol, over all of them and
over the non-negligible ones (|λ| > tol), with a tolerance sweep. All runs go through each stage
together, as one vectorized ensemble. The answer reads the minimal ratios, the runs with negative
eigenvalues (saddles), the rank correlation of the ratio with the loss over the runs, and how much
the tolerance moves the ratio.
"""

from __future__ import annotations

import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import curvature as cv
from .. import data, ensemble, models, ranks, wording
from ..device import cpu_threads
from ..params import Param, ParamError, same
from ..plots import LINESTYLES, _arr, figure
from ..progress import Progress
from ..results import envelope
from ..tables import markdown_table

NAME, SECTION = "1_2c_minimal_ratio", "1-2c"

SPEC = {
    "function": same("str", "sinc", choices=tuple(data.FUNCTIONS), doc="1-D function to fit on [-1, 1]"),
    "n_train": Param("int", smoke=64, quick=256, full=256, low=8, doc="training points (the Hessian covers all of them)"),
    "widths": Param("int_list", smoke=[6, 6], quick=[10, 10], full=[10, 10], positive=True,
                    doc="hidden widths of the ReLU MLP (10, 10: 141 parameters, in the homework's 100 to 200)"),
    "runs": Param("int", smoke=6, quick=100, full=100, low=2,
                  doc="independent runs (seeds 0 … runs-1): the homework asks for 100"),
    "epochs": Param("int", smoke=150, quick=1500, full=4000, positive=True,
                    doc="phase 1: full-batch Adam epochs on the MSE"),
    "lr": same("float", 1e-2, positive=True, doc="phase 1 learning rate"),
    "grad_threshold": same("float", 1e-3, positive=True, doc="phase 2 stops once ‖∇L‖ is below this"),
    # Phase 1's last point left 29 of 100 runs under the threshold already (quick profile): phase 2 took
    # no step for them. Phase 1 now ends at its last point a decade above it; phase 2 does the last decade.
    "phase1_stop": same("float", 10.0, positive=True,
                        doc="phase 1 ends at its last point with ‖∇L‖ ≥ this × grad_threshold"),
    "phase_steps": Param("int", smoke=300, quick=4000, full=10000, positive=True,
                         doc="phase 2 step limit (Adam on ‖∇L‖²)"),
    "phase_lr": same("float", 1e-3, positive=True, doc="phase 2 learning rate"),
    "tol": same("float", 1e-6, positive=True, doc="an eigenvalue counts as positive when > tol"),
    "tol_sweep": same("float_list", [1e-10, 1e-8, 1e-6, 1e-4], positive=True,
                      doc="tolerances compared (all far above float64 rounding)"),
    # Each Hessian already batches its ~141 directions (Ensemble.hessians), so on a CPU stacking runs only adds
    # memory traffic: quick (the CPU default) takes one run per call, as 5 runs per call took 1.15× as long and
    # 25 runs 2.3× (100 nets, float64, one thread). On a GPU (full) larger chunks fill the device.
    "hessian_chunk": Param("int", smoke=3, quick=1, full=25, positive=True, internal=True,
                           doc="runs per vectorized Hessian call"),
}


def checks(P) -> None:
    if P.phase1_stop <= 1:
        raise ParamError(f"phase1_stop={P.phase1_stop} must be > 1: phase 1 has to end above the threshold")
    if P.tol not in P.tol_sweep:
        raise ParamError(f"tol={P.tol} is not in tol_sweep={P.tol_sweep}: add it so the table shows the scatter's tolerance")


def make_model(P):
    return lambda: models.mlp(P.widths, in_dim=1, out_dim=1, activation="relu")


def run(P) -> dict:
    start = time.perf_counter()
    ds = data.function_data(P.function, P.device, n_train=P.n_train)
    seeds = list(range(P.runs))
    ens = ensemble.build(make_model(P), seeds, P.device)
    info = models.describe(ens.model)
    timings = {}

    # Phase 1: ordinary full-batch training (all runs at once) for the epoch budget, each run ending at the
    # last point it passed with ‖∇L‖ ≥ phase1_stop × threshold, so that every run's last decade is phase 2's.
    t = time.perf_counter()
    step = ensemble.step_gradient(ens, ds.kind, full_batch=True)
    with cpu_threads(1, P.device):
        ph1 = cv.train_keeping_last_above(lambda th: step(th, ds.x_train, ds.y_train), ens.theta,
                                          steps=P.epochs, lr=P.lr, above=P.phase1_stop * P.grad_threshold,
                                          progress=Progress(P.epochs, "phase 1 (MSE)"))
    timings["train"] = time.perf_counter() - t
    ens.theta = ph1["theta"]
    loss_of_theta = ens.loss_of_theta(ds.x_train, ds.y_train, ds.kind)

    # Phase 2: minimize ‖∇L‖² (its gradient 2 H ∇L, written out for the MLP), each run until its own ‖∇L‖ < threshold.
    t = time.perf_counter()
    with cpu_threads(1, P.device):
        phase = cv.grad_norm_phase(loss_of_theta, ens.theta, threshold=P.grad_threshold, max_steps=P.phase_steps,
                                   lr=P.phase_lr, progress=Progress(P.phase_steps, "phase 2 (‖∇L‖²)"),
                                   batched_loss=ens.losses_of_theta(ds.x_train, ds.y_train, ds.kind),
                                   batched_step=ens.grad_norm_step(ds.x_train, ds.y_train, ds.kind))
    timings["grad_norm_phase"] = time.perf_counter() - t

    # Exact Hessians in float64 on the same training set, then eigenvalues of the symmetrized matrices.
    t = time.perf_counter()
    x64, y64 = ds.x_train.double(), ds.y_train.double()
    h = ens.hessians(x64, y64, ds.kind, phase["theta"].double(), P.hessian_chunk)
    asym = float(((h - h.transpose(1, 2)).abs().amax((1, 2)) / h.abs().amax((1, 2)).clamp_min(1e-300)).max())
    eig = cv.hessian_eigenvalues(h)  # (K, P) ascending
    timings["hessian_eig"] = time.perf_counter() - t

    sweep = []
    for tol in P.tol_sweep:
        r_all = [cv.minimal_ratio(e, tol) for e in eig]
        r_nz = [cv.minimal_ratio(e, tol, over="nonzero") for e in eig]
        negligible = [(e.abs() <= tol).sum().item() for e in eig]
        sweep.append({"tol": tol, "ratio_all": r_all, "ratio_nonzero": r_nz, "negligible": negligible})
    main = next(s for s in sweep if s["tol"] == P.tol)
    final_loss = phase["loss"].double().cpu()
    summary = {
        "loss": quantiles(final_loss),
        "ratio_all": quantiles(main["ratio_all"]),
        "ratio_nonzero": quantiles(main["ratio_nonzero"]),
        "negligible": quantiles(main["negligible"]),
        "runs_with_negative": int((eig[:, 0] < -P.tol).sum()),  # a λ < -tol: a saddle direction
        "most_negative": float(eig[:, 0].min()),
        # rank correlation with the loss: negative means "higher ratio at lower loss"
        "rho_all": _rank_correlation(final_loss, main["ratio_all"]),
        "rho_nonzero": _rank_correlation(final_loss, main["ratio_nonzero"]),
        "sweep_median": [{"tol": s["tol"], "ratio_all": float(np.median(s["ratio_all"])),
                          "ratio_nonzero": float(np.nanmedian(s["ratio_nonzero"])),
                          "negligible": float(np.median(s["negligible"]))} for s in sweep],
    }
    return envelope(
        P, NAME, SECTION, time.perf_counter() - start,
        dataset=ds.describe(), model=info, n_params=info["params"],
        seeds=seeds, timings=timings,
        phase1={"loss": ph1["loss"], "grad_norm": ph1["grad_norm"], "epochs": ph1["steps"],
                "kept_above": P.phase1_stop * P.grad_threshold,
                "loss_curve_median": ph1["loss_curve"].median(dim=1).values},
        phase2={"loss": phase["loss"], "grad_norm": phase["grad_norm"], "steps": phase["steps"],
                "best_step": phase["best_step"], "reached": phase["reached"], "trace": _trace_sample(phase["trace"])},
        # runs already under the threshold when phase 2 began: phase 2 took no step for them
        no_step=int((phase["steps"] == 0).sum()),
        # the MSE of the best constant prediction (the targets' variance): a run at this loss outputs a constant
        constant_loss=float(ds.y_train.double().var(unbiased=False)),
        missed=int((~phase["reached"]).sum()),
        hessian={"max_relative_asymmetry": asym, "dtype": "float64"},
        eigenvalues=eig,
        ratio_all=main["ratio_all"], ratio_nonzero=main["ratio_nonzero"],
        sweep=sweep, summary=summary,
    )


def quantiles(values) -> dict:
    v = np.asarray(torch.as_tensor(values, dtype=torch.float64).cpu())
    q = np.nanquantile(v, [0, 0.25, 0.5, 0.75, 1])
    return dict(zip(("min", "q25", "median", "q75", "max"), q.tolist()))


TRACES_KEPT = 8  # phase-2 traces saved and drawn: more lines than this cannot be told apart in one panel


def _trace_sample(trace: torch.Tensor, keep: int = TRACES_KEPT) -> list[list[float]]:
    """‖∇L‖ per phase-2 step for the first few runs, each up to the step it stopped at. The ensemble's trace
    has a row per step of the longest run, NaN for a run that had stopped: saved as it was, that padding
    (thousands of nulls a run) was most of the results file."""
    kept = []
    for row in trace[:, :keep].T.tolist():
        n = len(row)
        while n and math.isnan(row[n - 1]):
            n -= 1
        kept.append(row[:n])
    return kept


# ------------------------------------------------------------------ table and figures

def table(R: dict) -> str:
    """The model, the two phases (loss, ‖∇L‖, time), the Hessians, and the tolerance sweep."""
    m, ph1, ph2, P, T = R["model"], R["phase1"], R["phase2"], R["params"], R["timings"]
    seeds = R["seeds"]
    head = (f"Model: {m['structure']} with ReLU, **{R['n_params']} parameters** (counted from the model); data: "
            f"{R['dataset']}; {wording.plural(len(seeds), 'run')} (seeds {seeds[0]} to {seeds[-1]}), each its own "
            "initialization.")
    stage = lambda name, ph, sec: {"stage": name, "median loss": float(np.median(ph["loss"])),
                                   "min ‖∇L‖": float(np.min(ph["grad_norm"])),
                                   "median ‖∇L‖": float(np.median(ph["grad_norm"])),
                                   "max ‖∇L‖": float(np.max(ph["grad_norm"])), "seconds (all runs)": sec}
    phases = markdown_table([stage("after phase 1 (MSE)", ph1, T["train"]),
                             stage("after phase 2 (‖∇L‖²)", ph2, T["grad_norm_phase"])])
    hess = (f"Exact Hessians ({R['n_params']} × {R['n_params']}, float64) and their eigenvalues for all runs: "
            f"{T['hessian_eig']:.1f} s; largest relative asymmetry before symmetrizing "
            f"{R['hessian']['max_relative_asymmetry']:.1e}.")
    sweep = markdown_table([{"tol": s["tol"], "median ratio (all λ)": s["ratio_all"],
                             "median ratio (|λ| > tol)": s["ratio_nonzero"], "median count of |λ| ≤ tol": s["negligible"],
                             "of P": R["n_params"]} for s in R["summary"]["sweep_median"]])
    return "\n\n".join([head, phases, hess, f"**Tolerance sweep** (the figures below use tol = {P['tol']:g}):", sweep])


def figures(R: dict) -> list:
    """How the point is found, the minimal ratio against the loss, then the spectra of three runs."""
    P, ph2, n = R["params"], R["phase2"], len(R["seeds"])
    return [
        (_phase2_traces(R),
         (f"Phase 2 for the first {wording.plural(len(ph2['trace']), 'run')}: ‖∇L‖ at each step of the descent on "
          f"‖∇L‖² (log–log), one colour and line style per run; a run stops once below the threshold "
          f"{P['grad_threshold']:g} (dashed).")),
        (_ratio_vs_loss(R),
         (f"Minimal ratio against the final training loss for the {wording.plural(n, 'run')}, at tol = {P['tol']:g}: "
          f"left over all {R['n_params']} eigenvalues (the homework's definition), right over the eigenvalues with "
          f"|λ| > tol. × marks runs that did not reach ‖∇L‖ < {P['grad_threshold']:g} within the step limit; each is "
          "shown at the point of lowest ‖∇L‖ it passed.")),
        (_spectra(R, _spectrum_picks(ph2["loss"])),
         ("All Hessian eigenvalues, ascending, of the runs with the lowest, the median and the highest loss "
          f"(symmetric log scale, linear inside ±{P['tol']:g}; the grey band holds the eigenvalues counted as zero).")),
    ]


def _spectrum_picks(loss: list[float]) -> list[int]:
    """The runs of lowest, median and highest final loss (fewer when runs share them)."""
    order = np.argsort(_arr(loss))
    return list(dict.fromkeys(int(order[i]) for i in (0, len(order) // 2, -1)))


# Legends go below the axes (fig.legend "outside"): the traces, scatters and spectra fill their panels,
# so no corner is reliably free.

def _phase2_traces(R: dict):
    """How the point is found: ‖∇L‖ per step of the ‖∇L‖² descent for a few runs, and the threshold."""
    fig, ax = figure(height=3.4)
    colors = plt.get_cmap("tab10").colors  # ten clearly different hues, and a line style on top
    for i, tr in enumerate(R["phase2"]["trace"]):
        t = _arr(tr)
        ax.plot(np.arange(1, len(t) + 1), t, lw=1.0, color=colors[i % len(colors)], ls=LINESTYLES[i % len(LINESTYLES)],
                marker="." if np.isfinite(t).sum() < 3 else None, label=f"seed {R['seeds'][i]}")
    ax.axhline(R["params"]["grad_threshold"], color="k", ls=(0, (6, 3)), lw=1.2, label="threshold")
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel("step of the ‖∇L‖² descent")
    ax.set_ylabel("‖∇L‖")
    fig.legend(loc="outside lower center", ncols=5, fontsize="x-small")
    return fig


def _ratio_vs_loss(R: dict):
    """Minimal ratio against the training loss, over all eigenvalues and over the non-negligible ones."""
    fig, axes = figure(ncols=2, height=3.3, sharey=True)
    loss = _arr(R["phase2"]["loss"])
    reached = np.array(R["phase2"]["reached"], dtype=bool)
    tol = R["params"]["tol"]
    for ax, key, title in ((axes[0, 0], "ratio_all", "over all eigenvalues"),
                           (axes[0, 1], "ratio_nonzero", f"over |λ| > {tol:g}")):
        r = _arr(R[key])
        ax.scatter(loss[reached], r[reached], s=16, alpha=0.7,
                   label=f"reached ‖∇L‖ < threshold ({wording.plural(int(reached.sum()), 'run')})")
        if (~reached).any():
            ax.scatter(loss[~reached], r[~reached], s=28, marker="x", color="C3",
                       label=f"missed it: lowest ‖∇L‖ kept ({wording.plural(int((~reached).sum()), 'run')})")
        ax.set_xscale("log")
        ax.set_xlabel("training loss (MSE)")
        ax.set_title(title, fontsize=10)
    axes[0, 0].set_ylabel(f"minimal ratio (λ > {tol:g})")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize="x-small")
    return fig


def _spectra(R: dict, picks: list[int]):
    """Sorted Hessian eigenvalues of a few runs (symmetric log scale: zeros and both signs visible)."""
    fig, ax = figure(height=3.4)
    tol = R["params"]["tol"]
    loss = _arr(R["phase2"]["loss"])
    for j, i in enumerate(picks):
        lam = _arr(R["eigenvalues"][i])
        ax.plot(np.arange(1, len(lam) + 1), lam, marker="o^sD"[j % 4], ms=2.5, lw=0.8,
                ls=LINESTYLES[j % len(LINESTYLES)], label=f"seed {R['seeds'][i]} (loss {loss[i]:.2g})")
    ax.set_yscale("symlog", linthresh=tol)
    ax.axhspan(-tol, tol, color="0.85", zorder=0, label=f"|λ| ≤ {tol:g}")
    ax.set_xlabel("eigenvalue index (ascending)")
    ax.set_ylabel("eigenvalue λ")
    fig.legend(loc="outside lower center", ncols=len(picks) + 1, fontsize="x-small")
    return fig


# ------------------------------------------------------------------ comment
# Phase 2 "stayed where phase 1 ended" when the median loss moved by less than this fraction.
SAME_LOSS = 0.10
# Shares of the P eigenvalues that are |λ| ≤ tol above which the loss is called flat in "most" /
# "many" directions (the spec's warning: a ReLU net has a third to a half of them).
FLAT_MOST, FLAT_MANY = 1 / 2, 1 / 3
# Share of runs with a λ < −tol above which "most" of the points are saddles.
MOST_RUNS = 1 / 2
# A negative eigenvalue is "shallow" when its size is below this fraction of the median largest one.
SHALLOW = 0.01
# The fewest runs for which a ρ over the runs is read at all, on wording's strength scale (with fewer,
# chance alone gives |ρ| > 0.6 often).
MIN_RUNS_RHO = 10
# A run fits a constant when its loss is within this fraction of the targets' variance.
CONSTANT_RTOL = 0.01
# A run has "collapsed" when fewer of its eigenvalues are non-negligible than this share of the
# median run's number (dead units take their parameters' curvature with them).
FEW_CURVED = 0.5
# The tolerance "matters" when the median ratio moves by more than this over the sweep.
TOL_MATTERS = 0.05


def _spread(values, fmt: str = ".2g") -> str:
    """'median 0.0012 (range 0.0010–0.0031)' over the runs."""
    v = np.asarray(values, dtype=float)
    return f"median {float(np.median(v)):{fmt}} (range {float(v.min()):{fmt}}–{float(v.max()):{fmt}})"


def _rank_correlation(loss, ratio) -> dict:
    """Spearman ρ of the ratio against the loss over the runs whose ratio is defined, with its 95 % bootstrap
    interval (hwlib.ranks)."""
    kept = [(float(l), float(r)) for l, r in zip(loss, ratio) if r is not None and math.isfinite(r)]
    return ranks.rank_correlation([l for l, _ in kept], [r for _, r in kept])


def _rho_words(c: dict | None, n: int) -> str:
    """What the minimal ratio's rank correlation with the loss over n runs says: a tendency, with its strength,
    only where the printed 95 % bootstrap interval excludes 0."""
    if n < MIN_RUNS_RHO:
        return f"too few runs ({n}) to read a rank correlation"
    d = wording.direction(c or {})
    if d == "unknown":
        return "no rank correlation can be computed (the ratio is the same in every run)"
    said = wording.interval(c, "Spearman ρ", over="runs")
    if d == "none":
        return f"no established monotone relation with the loss ({said}, which holds 0)"
    strength = wording.rho_strength(c["rho"])
    way = "lower" if d == "down" else "*higher*"
    return (f"a {'slight' if strength == 'none' else strength} tendency to a higher ratio at {way} loss "
            f"({said}, which excludes 0)")


def _degenerate(R: dict, main: dict) -> str:
    """The runs whose every non-negligible eigenvalue is positive (ratio 1 over |λ| > tol): what they are."""
    n_par, loss, rn = R["n_params"], R["phase2"]["loss"], R["ratio_nonzero"]
    idx = [i for i, r in enumerate(rn) if r is not None and r >= 1.0]
    if not idx:
        return ""
    curved = {i: n_par - main["negligible"][i] for i in range(len(rn))}
    med_curved = float(np.median(list(curved.values())))
    const = [i for i in idx if abs(loss[i] - R["constant_loss"]) <= CONSTANT_RTOL * R["constant_loss"]]
    few = [i for i in idx if i not in const and curved[i] < FEW_CURVED * med_curved]
    full = [i for i in idx if i not in const and i not in few]
    seeds = lambda ids: f"{'seed' if len(ids) == 1 else 'seeds'} {wording.join([str(R['seeds'][i]) for i in ids])}"
    verb = lambda ids, one, many: one if len(ids) == 1 else many
    text = (f"- **Ratio 1 over the non-negligible eigenvalues:** {wording.plural(len(idx), 'run')} ({seeds(idx)}) "
            f"at loss {wording.join([f'{loss[i]:.3g}' for i in idx])}, with "
            f"{wording.join([str(curved[i]) for i in idx])} of the {n_par} eigenvalues non-negligible (median over "
            f"all runs {med_curved:.0f}). ")
    if const:
        text += (f"{seeds(const).capitalize()} {verb(const, 'sits', 'sit')} at the loss of the best constant "
                 f"prediction ({R['constant_loss']:.3g}, the targets' variance): the network outputs a constant, and "
                 "only the few parameters that still act on the output (the output bias among them) are curved. ")
    if few:
        text += (f"{seeds(few).capitalize()} {verb(few, 'has', 'have')} fewer than "
                 f"{wording.pct(FEW_CURVED, 0)} of the median number of curved directions, as a network collapsed "
                 "to a much simpler function would. ")
    if const or few:
        text += "A ratio of 1 there is a minimum of a network that no longer fits, not a sign of a better point. "
    if full:
        text += (f"{seeds(full).capitalize()} {verb(full, 'curves', 'curve')} upward in every one of a typical number "
                 "of curved directions: a minimum in every direction that is curved at all.")
    return text.rstrip() + "\n"


def _constant_fits(R: dict, main: dict) -> str:
    """The runs at the loss of the best constant prediction, and the dead ones: a network whose output cannot vary
    with the input (every ReLU off for every input) has one non-negligible Hessian eigenvalue, its output bias's
    (every parameter's derivative of the output is then the same for every input, so the Hessian has rank 1)."""
    c, loss, n = R["constant_loss"], R["phase2"]["loss"], len(R["seeds"])
    seeds = lambda ids: f"{'seed' if len(ids) == 1 else 'seeds'} {wording.join([str(R['seeds'][i]) for i in ids])}"
    near = [i for i, v in enumerate(loss) if abs(v - c) <= CONSTANT_RTOL * c]
    dead = [i for i in range(n) if R["n_params"] - main["negligible"][i] == 1]
    text = ((f"- **Constant fits:** {len(near)} of the {wording.plural(n, 'run')} ({seeds(near)}) "
             f"{'ends' if len(near) == 1 else 'end'}" if near else "- **Constant fits:** no run ends") + " within "
            f"{wording.pct(CONSTANT_RTOL, 0)} of the loss of the best constant prediction ({c:.3g}, the targets' "
            "variance)" + (f", at {wording.join([f'{loss[i]:.3g}' for i in near])}: "
                           f"{'it fits' if len(near) == 1 else 'they fit'} the data no better than a constant. "
                           if near else ". "))
    if not dead:
        return text + ("No run is dead: each has more than one non-negligible Hessian eigenvalue, where a network "
                       "whose ReLUs are all off for every input has only its output bias's.\n")
    return text + (f"{wording.plural(len(dead), 'run')} ({seeds(dead)}) {'is' if len(dead) == 1 else 'are'} dead: a "
                   "single non-negligible Hessian eigenvalue, its output bias's, as when every ReLU is off for every "
                   "input and the output cannot vary with it.\n")


def _reaching(R: dict) -> str:
    """How phase 1 ends, what phase 2 did, the runs it did not bring under the threshold, how far the loss moved."""
    P, ph1, ph2, n = R["params"], R["phase1"], R["phase2"], len(R["seeds"])
    thr = P["grad_threshold"]
    reached = [i for i in range(n) if ph2["reached"][i]]
    out = [i for i in range(n) if not ph2["reached"][i]]
    # a run already under the threshold when phase 2 began took no phase-2 step: phase 2 did not take it there
    idle = [i for i in reached if ph2["steps"][i] == 0]
    text = (f"- **Reaching ‖∇L‖ ≈ 0.** Phase 1 ends each run at the last point of its {P['epochs']:,}-epoch "
            f"budget whose ‖∇L‖ was at least {ph1['kept_above']:g} ({ph1['kept_above'] / thr:g} times the "
            f"threshold), so that phase 2 is what takes it under {thr:g}. When phase 2 began, ‖∇L‖ was "
            f"{_spread(ph1['grad_norm'])} and the loss {_spread(ph1['loss'], '.3g')}; after it, ‖∇L‖ was "
            f"{_spread(ph2['grad_norm'])} and the loss {_spread(ph2['loss'], '.3g')}. ")
    text += f"Phase 2 brought {len(reached) - len(idle)} of {wording.plural(n, 'run')} under {thr:g}. "
    one = len(idle) == 1
    text += (f"{wording.plural(len(idle), 'run').capitalize()} of {n} {'was' if one else 'were'} under it "
             "already when phase 2 began and took no phase-2 step; phase 2 did not bring "
             f"{'it' if one else 'them'} there. " if idle else
             f"No run needed zero phase-2 steps: all {n} were above the threshold when phase 2 began. ")
    text += _missed(R, reached, out) if out else "None hit the step limit. "
    m1, m2 = float(np.median(ph1["loss"])), float(np.median(ph2["loss"]))
    text += f"The median loss went from {m1:.3g} to {m2:.3g} in phase 2"
    return text + (": the points lie near where ordinary training ended.\n" if abs(m2 / m1 - 1) < SAME_LOSS else
                   f", a change of more than {wording.pct(SAME_LOSS, 0)}: the search for ‖∇L‖ ≈ 0 moved the runs "
                   "away from where ordinary training ended.\n")


def _missed(R: dict, reached: list[int], out: list[int]) -> str:
    """The runs that hit phase 2's step limit: how far above the threshold, and their ratios against the others'."""
    P, thr = R["params"], R["params"]["grad_threshold"]
    worst = max(R["phase2"]["grad_norm"][i] for i in out)
    text = (f"{wording.plural(len(out), 'run')} hit the {P['phase_steps']:,}-step limit first; each keeps the "
            f"point of lowest ‖∇L‖ it passed (the largest kept ‖∇L‖ is {worst:.2g}, {worst / thr:.1f} times the "
            f"threshold), and is shown marked ×, not dropped. ")
    if not reached:
        return text
    g = wording.gap([R["ratio_all"][i] for i in out], [R["ratio_all"][i] for i in reached])
    return text + {"a": "Their minimal ratios are above those of every run that reached it. ",
                   "b": "Their minimal ratios are below those of every run that reached it. ",
                   # overlapping ranges: not "within the range", which a partial overlap would make false
                   "tie": "The ranges of their minimal ratios and of the runs that reached it overlap: "
                          "these runs cannot tell the two groups apart. ",
                   "unknown": "With one run on a side, whether its minimal ratio differs from the others "
                              "cannot be told. "}[g.verdict]


def _ratios(R: dict) -> str:
    """The minimal ratio over all eigenvalues, and how many are negligible; why, hedged (it is not measured)."""
    P, ra, neg = R["params"], R["summary"]["ratio_all"], R["summary"]["negligible"]
    share = neg["median"] / R["n_params"]
    text = (f"- **Minimal ratio over all eigenvalues** (tol = {P['tol']:g}): median {ra['median']:.2f}, "
            f"interquartile {ra['q25']:.2f}–{ra['q75']:.2f}, range {ra['min']:.2f}–{ra['max']:.2f}. A median of "
            f"{neg['median']:.0f} of the {R['n_params']} eigenvalues are |λ| ≤ tol ({wording.pct(share, 0)}), and "
            "they count as not positive here")
    if share <= FLAT_MANY:
        return text + ".\n"
    hidden = sum(P["widths"])
    return text + (f": the loss is flat in {'most' if share > FLAT_MOST else 'many'} directions. Why is not measured "
                   "here; known sources of zero curvature in a ReLU network are its rescaling symmetries (one per "
                   f"hidden unit, {hidden} here), dead units, and the few kinks of the piecewise-linear function it "
                   "fits to a 1-D input.\n")


def _negatives(R: dict) -> str:
    """Among the non-negligible eigenvalues: the ratio, and the runs with a negative eigenvalue (saddles)."""
    P, S, n = R["params"], R["summary"], len(R["seeds"])
    rn, n_neg = S["ratio_nonzero"], S["runs_with_negative"]
    med_top = float(np.median([max(e) for e in R["eigenvalues"]]))
    text = (f"- **Among the non-negligible eigenvalues** the ratio is median {rn['median']:.2f} (interquartile "
            f"{rn['q25']:.2f}–{rn['q75']:.2f}). {n_neg} of {wording.plural(n, 'run')} have an eigenvalue below "
            f"−{P['tol']:g}")
    inner = _saddle_counts(R)
    if n_neg:
        shallow = abs(S["most_negative"]) < SHALLOW * med_top
        inner.insert(0, f"the most negative is {S['most_negative']:.2g}, {'small' if shallow else 'not small'} beside "
                        f"the median largest eigenvalue, {med_top:.3g}")
    text += f" ({'; '.join(inner)})" if inner else ""
    if n_neg > MOST_RUNS * n:
        return text + (f": {'all' if n_neg == n else 'most'} of these near-zero-gradient points are not minima but "
                       "saddle points, with downhill directions beside the upward ones.\n")
    if n_neg:
        return text + ": most of these points curve upward in every curved direction; the rest are saddle points.\n"
    return text + ": every point curves upward in every direction that is curved at all.\n"


def _saddle_counts(R: dict) -> list[str]:
    """The same count at the sweep's other tolerances, and among the runs that reached the gradient threshold:
    how much the saddle count owes to the tolerance and to the runs that stopped short."""
    eig, P = R["eigenvalues"], R["params"]
    parts = [f"with tol = {s['tol']:g}: {sum(e[0] < -s['tol'] for e in eig)}" for s in R["sweep"] if s["tol"] != P["tol"]]
    reached = [i for i, r in enumerate(R["phase2"]["reached"]) if r]
    if len(reached) < len(eig):
        parts.append(f"among the {len(reached)} that reached the gradient threshold: "
                     f"{sum(eig[i][0] < -P['tol'] for i in reached)}")
    return parts


def _tolerance(R: dict) -> str:
    sw = R["summary"]["sweep_median"]
    moves = max(abs(sw[0]["ratio_all"] - sw[-1]["ratio_all"]), abs(sw[0]["ratio_nonzero"] - sw[-1]["ratio_nonzero"]))
    return (f"- **Tolerance:** from tol = {sw[0]['tol']:g} to {sw[-1]['tol']:g} the median ratio over all eigenvalues "
            f"moves from {sw[0]['ratio_all']:.2f} to {sw[-1]['ratio_all']:.2f} and over the non-negligible ones from "
            f"{sw[0]['ratio_nonzero']:.2f} to {sw[-1]['ratio_nonzero']:.2f}"
            + (", so a single number means little without its tolerance." if moves > TOL_MATTERS else
               f": within {TOL_MATTERS:.2f} over this range, so the tolerance hardly matters."))


def comment(R: dict) -> str:
    """The Comment section, every sentence decided by the numbers it states."""
    S, n = R["summary"], len(R["seeds"])
    main = next(s for s in R["sweep"] if s["tol"] == R["params"]["tol"])
    return (_reaching(R) + _constant_fits(R, main) + _ratios(R) + _negatives(R) + _degenerate(R, main)
            + f"- **Against the loss:** over all eigenvalues {_rho_words(S['rho_all'], n)}; over the "
              f"non-negligible ones {_rho_words(S['rho_nonzero'], n)}.\n"
            + _tolerance(R))
