"""The report's answers on one page: each HW question's answer in a sentence, its key number with
the uncertainty its results hold, a link to its section; then the limitations of this run.

Everything here is read from the results files (report/results/<notebook>.json), never from the
rendered notebooks, by one small function per sub-task that takes that sub-task's results R and
returns a ``Row``. Each function decides its sentence by the rule the sub-task's comment uses, so
the summary is never more confident than the section it links to: where the comment cannot tell,
the row says so. The task modules import torch, which the build layer must not load, so their rules
are restated here (the constants under each function's name, the formatting helpers below), while the
pure-Python helpers they share (hwlib.wording's exact tests and wording, hwlib.ranks) are imported;
tests/test_summary.py checks each restated rule against the task module's own on random results.

A question whose results file is missing or unreadable, or whose notebook has no section in the
report (it failed or was not run), gets a row saying so, and the rest of the summary is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import numpy as np

from ..ranks import compare_medians
from ..results import load_results
from ..wording import (
    ALPHA,
    OTHER_SEEDS_UNKNOWN,
    RHO_WEAK,
    amount,
    direction,
    fixed,
    gap,
    join,
    no_uncertainty,
    noise_unknown,
    p_text,
    pct,
    plural,
    ranked,
    rho_printed,
    rho_strength,
    seeds_cannot_tell,
    seeds_needed,
)

# The HW questions in the order of the report: section, results file (the notebook's name), and the
# question in a few words.
QUESTIONS = (
    ("1-1a", "1_1a_simulate_function", "At one parameter count, does a deeper MLP fit a function better?"),
    ("1-1b", "1_1b_actual_task", "At one parameter count, does a deeper CNN classify better?"),
    ("1-2a", "1_2a_optimization_process", "Do runs from different seeds end in one place?"),
    ("1-2b", "1_2b_gradient_norm", "How does ‖∇L‖ move while the loss falls?"),
    ("1-2c", "1_2c_minimal_ratio", "Is a point with ‖∇L‖ ≈ 0 a minimum?"),
    ("1-2d", "1_2d_error_surface", "What does the loss surface look like around θ*?"),
    ("1-3a", "1_3a_random_labels", "Can the network fit random labels?"),
    ("1-3b", "1_3b_parameters_vs_generalization", "Does a wider network overfit?"),
    ("1-3c", "1_3c_interpolation", "Of two solutions, which is flatter along the line between them?"),
    ("1-3d", "1_3d_sensitivity", "Does the batch size change the input sensitivity, and does it track generalization?"),
    ("1-3e", "1_3e_sharpness", "Which flatness measure tracks the generalization gap?"),
)

# What each profile is, for the limitations (README: Profiles).
PROFILES = {
    "smoke": "tiny data slices and a few epochs, to exercise the code: its numbers answer nothing",
    "quick": "the homework's questions scaled down to minutes on a CPU (smaller data and models, fewer epochs and "
             "seeds); the full profile runs its settings on MNIST and CIFAR-10",
    "full": "the homework's settings",
}


@dataclass
class Row:
    """One HW question's line of the summary, and what it adds to the limitations."""

    answer: str  # one sentence
    number: str  # the key number with its uncertainty
    seeds: str = ""  # how many runs stand behind it: '5 seeds a model'
    limits: list[str] = field(default_factory=list)  # what these results cannot show
    missed: list[str] = field(default_factory=list)  # runs that missed a target, diverged or hit a limit
    cannot: list[str] = field(default_factory=list)  # what the section says it cannot tell
    single: bool = False  # one run behind each number: the seed's effect is not measured


# ------------------------------------------------------------------ formatting (as the sections print)

def at_least(p: float) -> str:
    """p rounded *down* to two significant digits: 'p ≥ 0.22' must hold for p = 0.2222 and p = 0.2299."""
    if p <= 0:
        return "0"
    exact = Decimal(p)  # the float's exact value: no rounding on the way
    unit = Decimal(1).scaleb(exact.adjusted() - 1)
    return f"{float((exact / unit).to_integral_value(ROUND_FLOOR) * unit):.2g}"


def interval(c: dict) -> str:
    """'0.71 (0.12 to 0.99)': a rank correlation and its 95 % interval, as 1-3d and 1-3e print them."""
    return f"{minus(fixed(c['rho']))} ({minus(fixed(c['low']))} to {minus(fixed(c['high']))})"


def span(values, fmt: str = ".3g", sep: str = "–") -> str:
    """1-2b's ``_span``: '0.5' when every value prints the same, else 'lowest–highest' as printed."""
    lo, hi = format(min(values), fmt), format(max(values), fmt)
    return lo if lo == hi else f"{lo}{sep}{hi}"


def minus(text: str) -> str:
    """A true minus sign for the prose."""
    return "−" + text[1:] if text.startswith("-") else text


def _seeds_of(n: int, per: str) -> str:
    return f"{plural(n, 'seed')} {per}" if n != 1 else f"one seed {per}"


# ------------------------------------------------------------------ 1-1a

# t1_1a_simulate_function.ALPHA is stored in R["alpha"]; its comment's verdict for one comparison:
compare_1_1a = compare_medians  # 1-1a's ``compare``, the one in hwlib.ranks


FUNCTIONS_1_1A = {"sinc": "sin(5πx)/(5πx)", "sign": "sgn(sin(5πx))", "damped_cosine": "exp(-2|x|)·cos(8πx)"}


def layers(d: int) -> str:
    return plural(int(d), "hidden layer")


def ratio_1_1a(x: float) -> str:
    """1-1a's ``_ratio``: two significant digits, more where two would print a ratio off 1 as 1."""
    for d in range(2, 10):
        if x == 1 or float(f"{x:.{d}g}") != 1:
            return f"{x:.{d}g}"
    return f"{x:.9g}"


def tests_1_1a(R: dict) -> tuple[list[tuple], set[str]]:
    """Each deeper MLP against the shallowest finished one, per function: (fn, depth, shallowest depth, test),
    and the kinds of the functions' verdicts as 1-1a's comment names them."""
    P, alpha = R["params"], R["alpha"]
    tests, kinds = [], set()
    for fn in P["functions"]:
        runs = R["runs"].get(fn, [])
        ok = [r for r in runs if r["diverged"] is None]
        depths = sorted({r["depth"] for r in runs})
        loss = {d: [r["train_loss"] for r in ok if r["depth"] == d] for d in depths}
        done = [d for d in depths if loss[d]]
        if len(done) < 2:
            continue
        here = [(fn, d, done[0], compare_1_1a(loss[d], loss[done[0]], alpha)) for d in done[1:]]
        verdicts = {t["verdict"] for *_, t in here}
        kinds.add({frozenset({"better"}): "deeper", frozenset({"worse"}): "shallow", frozenset({"tie"}): "tie",
                   frozenset({"floor"}): "floor"}.get(frozenset(verdicts), "mixed"))
        tests += here
    return tests, kinds


def missed_1_1a(R: dict) -> list[str]:
    """The diverged runs, per function, and the runs stopped at the epoch limit still falling."""
    P, missed, at_limit, n_runs = R["params"], [], 0, 0
    for fn in P["functions"]:
        runs = R["runs"].get(fn, [])
        ok = [r for r in runs if r["diverged"] is None]
        n_runs += len(runs)
        at_limit += sum(1 for r in ok if not r["stopped"] and r["epochs_run"] >= P["epochs"])
        if len(ok) < len(runs):
            missed.append(f"{plural(len(runs) - len(ok), 'run')} on {FUNCTIONS_1_1A.get(fn, fn)} diverged "
                          "and left out")
    if at_limit:
        missed.append(f"{at_limit} of {n_runs} runs stopped at the {P['epochs']:,}-epoch limit with the loss "
                      "still falling")
    return missed


def on_1_1a(R: dict, fn: str) -> str:
    """' on sin(5πx)/(5πx)' where the section has more than one function, else ''."""
    return f" on {FUNCTIONS_1_1A.get(fn, fn)}" if len(R["params"]["functions"]) > 1 else ""


def cannot_answer_1_1a(R: dict, rest: list[tuple]) -> str:
    """The answer where no comparison is decided: the floor of the test, or the seeds' overlap."""
    P, alpha = R["params"], R["alpha"]
    if any(t["verdict"] != "floor" for *_, t in rest):
        return "Cannot tell: no deeper MLP's final training loss could be told from the shallowest's"
    few = _seeds_of(P["seeds"], "a model") if P["seeds"] < seeds_needed(alpha) else "the seeds that finished"
    return (f"Cannot tell: with {few} the exact rank test cannot reach p < {alpha:g}, so no deeper MLP's "
            "final training loss can be told from the shallowest's")


def answer_1_1a(R: dict, decided: list[tuple], rest: list[tuple], kinds: set[str]) -> str:
    """The answer: the verdict every function shares, or the decided comparisons one by one."""
    if not decided:
        return cannot_answer_1_1a(R, rest) + "."
    if kinds == {"deeper"}:
        head = "Yes, here: every deeper MLP reached a lower final training loss than the shallowest"
    elif kinds == {"shallow"}:
        head = "No, here: every deeper MLP reached a higher final training loss than the shallowest"
    else:
        head = "Not consistently: " + join([
            f"the MLP with {layers(d)} reached a {'lower' if t['verdict'] == 'better' else 'higher'} final "
            f"training loss than the one with {layers(s)}{on_1_1a(R, fn)}" for fn, d, s, t in decided])
    if rest:
        head += f"; the other {plural(len(rest), 'comparison')} cannot tell which is lower"
    return head + "."


def number_1_1a(R: dict, decided: list[tuple], rest: list[tuple]) -> str:
    """Each decided comparison's ratio of medians and p; the lowest p of the others."""
    number = "; ".join(f"{d} against {layers(s)}{on_1_1a(R, fn)}: median final loss "
                       f"{ratio_1_1a(t['median_deep'] / t['median_shallow'])} times, rank test p = {t['p_text']}"
                       for fn, d, s, t in decided)
    if rest:
        lowest = min(x[3]["p"] for x in rest)
        number += ("; " if number else "") + f"{'other ' if decided else ''}comparisons p ≥ {at_least(lowest)}"
    return number + f" ({_seeds_of(R['params']['seeds'], 'a model')})"


def summary_1_1a(R: dict) -> Row:
    """Reads params.functions, params.seeds, params.epochs, alpha and runs[fn][*].{depth, diverged,
    train_loss, stopped, epochs_run}: each deeper MLP against the shallowest, per function."""
    alpha = R["alpha"]
    tests, kinds = tests_1_1a(R)
    seeds = _seeds_of(R["params"]["seeds"], "a model")
    if not tests:
        return Row("Not compared: no function has two depths with a finished run.", "—", seeds, missed=missed_1_1a(R))
    decided = [x for x in tests if x[3]["verdict"] in ("better", "worse")]
    rest = [x for x in tests if x[3]["verdict"] not in ("better", "worse")]
    floor = [x for x in rest if x[3]["verdict"] == "floor"]
    limits = [f"{plural(len(floor), 'comparison')} with too few finished seeds for the exact rank test to reach "
              f"p < {alpha:g} ({seeds_needed(alpha)} a side are needed)"] if floor else []
    cannot = ([f"{len(rest)} of {plural(len(tests), 'depth comparison')}"] if rest else [])
    return Row(answer_1_1a(R, decided, rest, kinds), number_1_1a(R, decided, rest), seeds, limits, missed_1_1a(R),
               cannot)


# ------------------------------------------------------------------ 1-1b

LEVEL_1_1B = 0.05  # t1_1b_actual_task.LEVEL: McNemar's p that alone calls an accuracy difference
PCT_1_1B = "95 %"  # t1_1b_actual_task.PCT: the paired-bootstrap interval of the loss difference


def say_p(p: float, level: float = LEVEL_1_1B) -> str:
    """1-1b's ``say_p``: wording.p_text at 1-1b's level."""
    return p_text(p, level)


def loss_format(*values: float) -> str:
    """1-1b's ``loss_format``: 4 decimals, more until no value that is not 0 reads 0 or the wrong sign."""
    for decimals in range(4, 9):
        if all(v == 0 or round(v, decimals) != 0 and (round(v, decimals) > 0) == (v > 0) for v in values):
            return f"+.{decimals}f"
    return "+.1e"


def accuracy_verdict_1_1b(pair: dict) -> str:
    a = pair["accuracy"]
    return "cannot tell" if a["p"] >= LEVEL_1_1B else "higher" if a["only_deep"] > a["only_shallow"] else "lower"


def loss_verdict_1_1b(pair: dict) -> str:
    loss = pair["loss"]
    return "lower" if loss["high"] < 0 else "higher" if loss["low"] > 0 else "cannot tell"


def clause_1_1b(name: str, against: list[dict]) -> str:
    """'on MNIST, against the 1-block CNN: test loss: lower for the 2-block CNN; test accuracy: …'."""
    clauses = []
    for measure, verdict in (("test loss", loss_verdict_1_1b), ("test accuracy", accuracy_verdict_1_1b)):
        groups = {}
        for p in against:
            groups.setdefault(verdict(p), []).append(p["deep"])
        clauses.append(f"{measure}: " + ", ".join(f"{v} for {join(['the ' + d for d in deep])}"
                                                 for v, deep in groups.items()))
    return f"on {name}, against the {against[0]['shallow']}: " + "; ".join(clauses)


def number_1_1b(deepest: dict, where: str) -> str:
    """The deepest CNN against the shallowest: the loss difference with its interval, McNemar's p."""
    loss, acc = deepest["loss"], deepest["accuracy"]
    d = loss_format(loss["mean"], loss["low"], loss["high"])
    return (f"{deepest['deep']} − {deepest['shallow']} test loss{where}: "
            f"{minus(format(loss['mean'], d))} ({PCT_1_1B} interval "
            f"{minus(format(loss['low'], d))} to {minus(format(loss['high'], d))}); test accuracy "
            f"McNemar {say_p(acc['p'])} ({acc['only_deep']:,} against {acc['only_shallow']:,} images)")


def cannot_1_1b(pairs: list[dict]) -> list[str]:
    """How many pairs the section cannot tell apart, by measure: it says so of every pair, not only of those
    against the shallowest."""
    counts = {measure: sum(verdict(p) == "cannot tell" for p in pairs)
              for measure, verdict in (("test loss", loss_verdict_1_1b), ("test accuracy", accuracy_verdict_1_1b))}
    return [f"{measure} in {n} of {plural(len(pairs), 'pair')}" for measure, n in counts.items() if n]


def summary_1_1b(R: dict) -> Row:
    """Reads params.datasets and paired[*].{dataset, deep, shallow, accuracy.{p, only_deep, only_shallow},
    loss.{mean, low, high}}, and runs[*].{dataset, model, history.diverged}: every deeper CNN against the
    shallowest finished one of its dataset, paired on the shared test images."""
    parts, numbers, missed, compared = [], [], [], []
    datasets = R["params"]["datasets"]
    for name in datasets:
        missed += [f"the {r['model']} on {name} diverged" for r in R["runs"]
                   if r["dataset"] == name and r["history"]["diverged"]]
        pairs = [p for p in R["paired"] if p["dataset"] == name]
        if not pairs:
            parts.append(f"on {name} fewer than two CNNs finished, so depth is not compared")
            continue
        compared += pairs
        against = [p for p in pairs if p["shallow"] == pairs[0]["shallow"]]
        parts.append(clause_1_1b(name, against))
        where = f" on {name}" if len(datasets) > 1 else ""
        numbers.append(number_1_1b(against[-1], where))  # pairs run shallow to deep: the last holds the deepest CNN
    answer = "; ".join(parts)
    return Row(answer[0].upper() + answer[1:] + ".", "; ".join(numbers) or "—", "one seed a CNN", [], missed,
               cannot_1_1b(compared), single=True)


# ------------------------------------------------------------------ 1-2a

MOST_VARIANCE_1_2A = 0.5  # t1_2a_optimization_process.MOST_VARIANCE: two components "hold most" of the motion


def over_pairs(d: list[float]) -> str:
    """1-2a's ``_over_pairs``: '7.12 (mean; 6.99–7.37 over 28 pairs)'."""
    if len(d) == 1:
        return f"{d[0]:.3g}"
    return f"{float(np.mean(d)):.3g} (mean; {min(d):.3g}–{max(d):.3g} over {plural(len(d), 'pair')})"  # as 1-2a


def summary_1_2a(R: dict) -> Row:
    """Reads runs (their number), pair_distance.{start, end}, pca.{whole, layer}.explained_variance_ratio and
    step_length: whether the runs end farther apart than they started (the ranges of the pair distances),
    how much of the motion the plane holds (on the printed share), and whether the steps shrink (the exact
    sign test of each run's first step against its last)."""
    start, end = R["pair_distance"]["start"], R["pair_distance"]["end"]
    n = len(R["runs"])
    verdict = gap(end, start).verdict
    answer = {
        "a": f"No: every pair of the {n} runs ends farther apart than any pair started, so each seed finds a "
             "low-loss solution of its own.",
        "b": f"They converge: every pair of the {n} runs ends closer together than any pair started.",
        "tie": "Cannot tell: the distances between runs at the start and at the end overlap.",
        "unknown": f"Cannot tell: with a single pair of runs {noise_unknown('the distance')}.",
    }[verdict]
    number = f"distance between two runs {over_pairs(start)} at initialization, {over_pairs(end)} at the end"
    evr = {"whole model": sum(R["pca"]["whole"]["explained_variance_ratio"]),
           "layer": sum(R["pca"]["layer"]["explained_variance_ratio"])}
    low = [f"{pct(v)} ({k})" for k, v in evr.items() if float(pct(v).split()[0]) <= 100 * MOST_VARIANCE_1_2A]
    limits = ([f"the 2-D PCA plane holds {join(low)} of the variance, so its figures are partial views"]
              if low else [])
    cannot = ["whether the runs end closer or farther apart"] if verdict in ("tie", "unknown") else []
    steps = R["step_length"]
    if len(steps[0]) >= 2 and ranked([x[0] for x in steps], [x[-1] for x in steps], unit="run",
                                     paired=True).verdict not in ("higher", "lower"):
        cannot.append("whether the step length changes")
    return Row(answer, number, f"{n} runs", limits, cannot=cannot)


# ------------------------------------------------------------------ 1-2b

def _direction(start: float, end: float) -> str:
    return "falls" if end < start else "rises" if end > start else "stays level"


def change_1_2b(runs: list[dict], key: str) -> tuple[str, list[float]]:
    """1-2b's ``_change``: the direction every seed shares ('' where they disagree), and each seed's factor."""
    pairs = [(r[f"start_{key}"], r[f"end_{key}"]) for r in runs]
    dirs = {_direction(s, e) for s, e in pairs}
    if len(dirs) > 1:
        return "", []
    d, = dirs
    if d == "stays level":
        return d, []
    ratio = lambda a, b: a / b if b else math.inf
    return d, [ratio(s, e) if d == "falls" else ratio(e, s) for s, e in pairs]


def directions_1_2b(D: dict, loss_dir: str, grad_dir: str) -> str:
    """'on sinc (full batch) the loss and the gradient norm both fall in every seed', or each on its own."""
    every = " in every seed" if len(D["runs"]) > 1 else ""
    how = "full batch" if D["full_batch"] else f"minibatches of {D['batch_size']}"
    if loss_dir and loss_dir == grad_dir:
        both = {"falls": "both fall", "rises": "both rise", "stays level": "both stay level"}[loss_dir]
        return f"on {D['name']} ({how}) the loss and the gradient norm {both}{every}"
    loss_words = f"the loss {loss_dir}{every}" if loss_dir else seeds_cannot_tell("which way the loss goes")
    grad_words = (f"the gradient norm {grad_dir}{every}" if grad_dir else
                  seeds_cannot_tell("which way the gradient norm goes"))
    return f"on {D['name']} ({how}) {loss_words} {'but' if loss_dir and grad_dir else 'and'} {grad_words}"


HUMP_1_2B = 1.5  # t1_2b_gradient_norm.HUMP: a running median this many times both ends' is a climb on the way


def hump_1_2b(runs: list[dict]) -> str:
    """1-2b's ``_hump`` in a clause: start and end do not tell how the gradient norm got there where its running
    median first climbs well above both ends."""
    up = [r for r in runs if r["trend_peak_grad_norm"] > HUMP_1_2B * max(r["start_grad_norm"], r["end_grad_norm"])]
    if not up:
        return ""
    if len(up) < len(runs):
        return f", its running median first climbing over {HUMP_1_2B:g} times both ends in some seeds"
    where = ", in every seed" if len(runs) > 1 else ""
    return (f", its running median first climbing to {span([r['trend_peak_grad_norm'] for r in up])}, over "
            f"{HUMP_1_2B:g} times both ends{where}")


def number_1_2b(D: dict, grad_dir: str, factors: list[float]) -> str:
    """The gradient norm's factor start to end where every seed shares its direction, else its means."""
    runs, name = D["runs"], D["name"]
    if factors:
        return f"{name}: ‖∇L‖ {grad_dir} by a factor of {span(factors)} start to end"
    s = sum(r["start_grad_norm"] for r in runs) / len(runs)
    e = sum(r["end_grad_norm"] for r in runs) / len(runs)
    return f"{name}: ‖∇L‖ {s:.3g} to {e:.3g} (means)"


def cannot_1_2b(D: dict, loss_dir: str, grad_dir: str) -> list[str]:
    """What the section's seeds disagree on: a direction, the strength of the link, which is the noisier."""
    runs, name, cannot = D["runs"], D["name"], []
    if not loss_dir or not grad_dir:
        cannot.append(f"the direction of {'the loss' if not loss_dir else 'the gradient norm'} on {name}")
    if len(runs) < 2:
        return cannot
    rhos = [r["spearman_grad_loss"] for r in runs]
    split = any(rho_printed(x) <= -RHO_WEAK for x in rhos) and any(rho_printed(x) >= RHO_WEAK for x in rhos)
    if split or len({rho_strength(x) for x in rhos}) > 1:
        cannot.append(f"the strength of their link on {name}")
    noisier = {"g" if r["max_jump_grad_norm"] > r["max_jump_loss"] else
               "l" if r["max_jump_loss"] > r["max_jump_grad_norm"] else "=" for r in runs}
    if len(noisier) > 1:
        cannot.append(f"which is the noisier on {name}")
    return cannot


def summary_1_2b(R: dict) -> Row:
    """Reads per_dataset[*].{name, full_batch, batch_size, runs[*].{start_loss, end_loss, start_grad_norm,
    end_grad_norm, spearman_grad_loss, max_jump_grad_norm, max_jump_loss}}: per dataset, which way the
    loss and the gradient norm go over the run, seed by seed."""
    parts, numbers, cannot = [], [], []
    for D in R["per_dataset"].values():
        loss_dir, _ = change_1_2b(D["runs"], "loss")
        grad_dir, factors = change_1_2b(D["runs"], "grad_norm")
        parts.append(directions_1_2b(D, loss_dir, grad_dir) + hump_1_2b(D["runs"]))
        numbers.append(number_1_2b(D, grad_dir, factors))
        cannot += cannot_1_2b(D, loss_dir, grad_dir)
    answer = "; ".join(parts)
    n_seeds = {len(D["runs"]) for D in R["per_dataset"].values()}
    seeds = join([str(n) for n in sorted(n_seeds)], "or")
    number = "; ".join(numbers) + f" ({seeds} seeds; start and end: medians over a window)"
    limits = ([f"one seed a dataset, so {OTHER_SEEDS_UNKNOWN}"] if 1 in n_seeds else [])
    return Row(answer[0].upper() + answer[1:] + ".", number, f"{seeds} seeds a dataset", limits, cannot=cannot)


# ------------------------------------------------------------------ 1-2c

MOST_RUNS_1_2C = 1 / 2  # t1_2c_minimal_ratio.MOST_RUNS: share of runs with a λ < −tol above which most are saddles
MIN_RUNS_RHO_1_2C = 10  # t1_2c_minimal_ratio.MIN_RUNS_RHO: fewest runs for which a ρ is read
TOL_MATTERS_1_2C = 0.05  # t1_2c_minimal_ratio.TOL_MATTERS: the median ratio moves by more: the tolerance matters


def rho_words_1_2c(c: dict | None, n: int) -> str:
    """1-2c's ``_rho_words`` for the summary: what the ratio's rank correlation with the loss over n runs says,
    a tendency only where its printed 95 % interval excludes 0."""
    if n < MIN_RUNS_RHO_1_2C:
        return f"too few runs ({n}) to read its rank correlation with the loss"
    d = direction(c or {})
    if d == "unknown":
        return "its rank correlation with the loss cannot be computed (the ratio is the same in every run)"
    said = (f"Spearman ρ = {minus(fixed(c['rho']))}, 95 % interval {minus(fixed(c['low']))} to "
            f"{minus(fixed(c['high']))} over {c['n']} runs")
    if d == "none":
        return f"it shows no established monotone relation with the loss ({said}, which holds 0)"
    strength = rho_strength(c["rho"])
    return (f"a {'slight' if strength == 'none' else strength} tendency to a higher ratio at "
            f"{'lower' if d == 'down' else 'higher'} loss ({said}, which excludes 0)")


def summary_1_2c(R: dict) -> Row:
    """Reads seeds, n_params, params.{tol, grad_threshold, phase_steps}, phase2.reached, ratio_all and
    summary.{runs_with_negative, ratio_all, ratio_nonzero, rho_all, sweep_median}: how many of the
    near-zero-gradient points have a negative eigenvalue (saddles), and the minimal ratio."""
    P, S = R["params"], R["summary"]
    n, n_neg, tol = len(R["seeds"]), S["runs_with_negative"], P["tol"]
    if n_neg > MOST_RUNS_1_2C * n:
        # "points", not "points with ‖∇L‖ ≈ 0": runs that hit the step limit end above the gradient threshold
        answer = (f"{'No' if n_neg == n else 'Mostly not'}: {n_neg} of the {n} points have an "
                  f"eigenvalue below −{tol:g}, so {'all' if n_neg == n else 'most'} are saddle points, not minima")
    elif n_neg:
        answer = (f"Mostly: {n - n_neg} of the {n} points curve upward in every curved direction, the other "
                  f"{n_neg} {'is a saddle point' if n_neg == 1 else 'are saddle points'}")
    else:
        answer = f"Yes: all {n} points curve upward in every direction that is curved at all"
    answer += reached_saddles_1_2c(R) + f"; {rho_words_1_2c(S['rho_all'], n)}."
    ra, rn = S["ratio_all"], S["ratio_nonzero"]
    number = (f"minimal ratio (tol = {tol:g}) median {ra['median']:.2f}, interquartile {ra['q25']:.2f}–"
              f"{ra['q75']:.2f} over the {n} runs; among the non-negligible eigenvalues {rn['median']:.2f} "
              f"({rn['q25']:.2f}–{rn['q75']:.2f})")
    reached = R["phase2"]["reached"]
    out = [i for i in range(n) if not reached[i]]
    missed, cannot, limits = [], [], []
    if out:
        text = (f"{len(out)} of {n} runs hit the {P['phase_steps']:,}-step limit before ‖∇L‖ < "
                f"{P['grad_threshold']:g} (kept in the figures, marked ×)")
        if len(out) < n:
            verdict = gap([R["ratio_all"][i] for i in out], [R["ratio_all"][i] for i in range(n) if reached[i]])
            if verdict.verdict in ("tie", "unknown"):
                cannot.append("whether the runs that missed the threshold have other minimal ratios")
        missed.append(text)
    sw = S["sweep_median"]
    moves = max(abs(sw[0]["ratio_all"] - sw[-1]["ratio_all"]), abs(sw[0]["ratio_nonzero"] - sw[-1]["ratio_nonzero"]))
    if moves > TOL_MATTERS_1_2C:
        limits.append(f"the minimal ratio depends on the tolerance (median {sw[0]['ratio_all']:.2f} at tol = "
                      f"{sw[0]['tol']:g}, {sw[-1]['ratio_all']:.2f} at {sw[-1]['tol']:g})")
    limits += saddle_limit_1_2c(R, n)
    return Row(answer, number, f"{n} runs", limits, missed, cannot)


def reached_saddles_1_2c(R: dict) -> str:
    """Reads eigenvalues, phase2.reached and params.{tol, grad_threshold}: the saddle count among the runs that
    reached the gradient threshold, where some did not (theirs are points of lowest ‖∇L‖, not ‖∇L‖ ≈ 0)."""
    P, reached = R["params"], [i for i, r in enumerate(R["phase2"]["reached"]) if r]
    if "eigenvalues" not in R or len(reached) == len(R["phase2"]["reached"]):
        return ""
    k = sum(R["eigenvalues"][i][0] < -P["tol"] for i in reached)
    return (f" (among the {len(reached)} runs that reached ‖∇L‖ < {P['grad_threshold']:g}: {k} with an eigenvalue "
            f"below −{P['tol']:g})")


def saddle_limit_1_2c(R: dict, n: int) -> list[str]:
    """Reads eigenvalues and sweep[*].tol: the saddle count at each tolerance of the sweep, where it moves."""
    counts = {s["tol"]: sum(e[0] < -s["tol"] for e in R["eigenvalues"]) for s in R.get("sweep", [])}
    if len(set(counts.values())) < 2:
        return []
    return ["the saddle count depends on the tolerance (" + ", ".join(
        f"{c} of {n} at tol = {t:g}" for t, c in sorted(counts.items())) + ")"]


# ------------------------------------------------------------------ 1-2d

LOWER_1_2D = 0.9  # t1_2d_error_surface.LOWER: a grid value "clearly lower" is below this share of the centre's


def summary_1_2d(R: dict) -> Row:
    """Reads random_plane.{min_loss, center_loss, ring_half, ring_full}, params.span and pca_plane.{min_loss,
    path_end_loss, min_ahead}: 1-2d's rules for a basin (no grid point more than 10 % lower, both circles
    above θ* as their ratios print) and for lower loss on the trajectory's plane."""
    RP, PP = R["random_plane"], R["pca_plane"]
    c, half, full = RP["center_loss"], RP["ring_half"], RP["ring_full"]
    above = lambda v: v > c and (c == 0 or float(f"{v / c:.3g}") > 1)  # as the ratio prints
    margin = pct(1 - LOWER_1_2D, 0)
    random = "along two random filter-normalized directions"
    if RP["min_loss"] < LOWER_1_2D * c:
        answer = f"The trained point θ* is not the lowest point {random}"
    elif half is not None and full is not None and above(half) and above(full):
        answer = f"The trained point θ* sits at the bottom of a basin {random}"
    else:
        answer = f"No point {random} is more than {margin} below θ*, but the circles around it do not both rise"
    if PP["min_loss"] < LOWER_1_2D * PP["path_end_loss"]:
        answer += (f"; the trajectory's PCA plane holds loss more than {margin} lower " + (
            "ahead of it along the last step, which suggests training had not finished descending." if PP["min_ahead"]
            else "but not ahead of it along the last step."))
    else:
        answer += f"; on the trajectory's PCA plane no point is more than {margin} lower."
    number = f"loss at θ* {c:.3g}"
    if half is not None and c > 0:
        number += f"; averaged over the circle of radius {0.5 * R['params']['span']:g}, {half / c:.3g} times that"
    return Row(answer, number + " " + no_uncertainty("one run"), "one run", single=True)


# ------------------------------------------------------------------ 1-3a

NOISE_Z_1_3A = 2  # t1_3a_random_labels.NOISE_Z: binomial standard deviations of a count's sampling noise


def band_1_3a(level: float, n: int) -> tuple[float, float]:
    """1-3a's ``band``: where an accuracy measured on n images falls by chance alone if its true value is level."""
    sd = math.sqrt(level * (1 - level) / n)
    return level - NOISE_Z_1_3A * sd, level + NOISE_Z_1_3A * sd


def against_band_1_3a(acc: float, level: float, n: int) -> str:
    """1-3a's ``against_band``: 'above' / 'below' / 'same', decided on the shares as printed (one decimal)."""
    shown = lambda x: float(f"{100 * x:.1f}")
    lo, hi = band_1_3a(level, n)
    return "above" if shown(acc) > shown(hi) else "below" if shown(acc) < shown(lo) else "same"


def paired_side_1_3a(t: dict) -> str:
    """1-3a's ``paired_side``: the true-label net's test accuracy against the random-label net's on the shared
    test set, 'higher' / 'lower' where McNemar's exact test gives p < ALPHA, else 'cannot tell'."""
    if t["p"] >= ALPHA or t["only_true"] == t["only_random"]:
        return "cannot tell"
    return "higher" if t["only_true"] > t["only_random"] else "lower"


def test_acc_1_3a(R: dict) -> str:
    """Where the random-label net's test accuracy ended against chance's band, and where its best epoch lies
    when that is outside the band on another side."""
    rand, chance, n = R["runs"][0], R["chance"], R["n_test"]
    end, best = against_band_1_3a(rand["final"]["test_acc"], chance, n), against_band_1_3a(rand["best_test_acc"], chance, n)
    text = {"same": "; its test accuracy ended at chance level", "above": "; its test accuracy ended above chance",
            "below": "; its test accuracy ended below chance"}[end]
    if best not in ("same", end):
        text += f" (at its best epoch {pct(rand['best_test_acc'])}, {best} the band)"
    return text + "."


def summary_1_3a(R: dict) -> Row:
    """Reads runs[0].{epochs_to_target, best_test_acc, final.{train_acc, test_acc}}, the true-label run
    runs[*].{label, epochs_to_target, final.test_acc}, test_paired.{only_true, only_random, p}, chance, n_test,
    n_train, model.params and params.{target_acc, epochs}: whether the random labels were memorized, the test
    accuracy against chance's sampling band, and the two nets paired on the shared test set."""
    rand, P = R["runs"][0], R["params"]
    e, acc, chance, n = rand["epochs_to_target"], rand["final"]["test_acc"], R["chance"], R["n_test"]
    target = pct(P["target_acc"], 0)
    per = R["model"]["params"] / R["n_train"]
    if e is not None:
        answer = (f"Yes: the MLP ({R['model']['params']:,} parameters, {amount(per)} per training image) reached "
                  f"{target} training accuracy on random labels after {plural(e, 'epoch')}")
    else:
        answer = (f"Not within {plural(P['epochs'], 'epoch')}: the training accuracy on random labels ended at "
                  f"{pct(rand['final']['train_acc'], 2)}, below {target}")
    lo, hi = band_1_3a(chance, n)
    number = (f"test accuracy {pct(acc)}; chance {pct(chance, 0)}, {NOISE_Z_1_3A} binomial standard deviations on "
              f"{n:,} test images: {pct(lo)} to {pct(hi)}")
    ref = next((r for r in R["runs"][1:] if r["label"] == "true labels"), None)
    if ref is not None:
        t = R["test_paired"]
        number += (f"; the true-label net {pct(ref['final']['test_acc'])}, McNemar {p_text(t['p'])} on the shared test "
                   f"images ({t['only_true']:,} against {t['only_random']:,} images only one net gets right)")
    missed = ([f"the random labels did not reach {target} training accuracy in {plural(P['epochs'], 'epoch')}"]
              if e is None else [])
    return Row(answer + test_acc_1_3a(R), number, "one run per kind of label", missed=missed,
               cannot=cannot_1_3a(R, ref), single=True)


def cannot_1_3a(R: dict, ref: dict | None) -> list[str]:
    """The section's conclusion: what this run cannot answer or show."""
    if R["runs"][0]["epochs_to_target"] is None:
        return ["whether the net fits random labels (it did not within these epochs)"]
    if ref is None or ref["epochs_to_target"] is None:
        return ["whether training accuracy hides the difference (no true-label run that fits)"]
    t = R["test_paired"]
    side = paired_side_1_3a(t)
    if side == "higher":
        return []
    why = "the random-label net tests higher" if side == "lower" else f"not below {ALPHA:g}"
    return [f"whether the true-label net tests higher (McNemar {p_text(t['p'])} on the shared test images, {why})"]


# ------------------------------------------------------------------ 1-3b

FIT_ACC_1_3B = 0.999  # t1_3b_parameters_vs_generalization.FIT_ACC: "fits the training set"
# its differences are called by hwlib.wording.ranked, the exact rank test over the seeds at ALPHA


def widths_1_3b(R: dict) -> dict[int, dict]:
    """Each width's finished runs, narrowest first: its parameter count and its runs' accuracies and losses."""
    W = {}
    for r in R["runs"]:
        if r.get("diverged") is None:
            row = W.setdefault(r["width"], {"params": r["params"], "train_acc": [], "test_acc": [], "test_loss": []})
            for k in ("train_acc", "test_acc", "test_loss"):
                row[k].append(r[k])
    return dict(sorted(W.items()))


def mean_1_3b(values: list[float]) -> float:
    """1-3b's ``_mean``: exactly rounded, so that equal accuracies over different seed counts tie."""
    return math.fsum(values) / len(values)


def fit_from_1_3b(W: dict[int, dict]) -> int | None:
    """The narrowest width from which every run of every wider width fits the training set (None if none)."""
    widths = list(W)
    return next((w for i, w in enumerate(widths) if all(min(W[v]["train_acc"]) >= FIT_ACC_1_3B for v in widths[i:])),
                None)


def near_1_3b(W: dict[int, dict], best: int) -> int:
    """The width 1-3b holds the widest against: the best, or where the widest is the best, the next highest."""
    return best if best != max(W) else max(list(W)[:-1], key=lambda w: mean_1_3b(W[w]["test_acc"]))


def p_1_3b(g) -> str:
    """The p the section prints: the test's, or where these seed counts cannot reach the level, its floor."""
    return f"with these seeds it cannot go below p = {g.min_p:.2g}" if g.verdict == "floor" else p_text(g.p, g.level)


def unranked_answer_1_3b(g, best: int, near: int, fit_from: int | None, fitted: bool) -> str:
    """The answer where the rank test cannot tell the widest model from the best width (or, where the widest has
    the highest mean, from the next highest)."""
    if fitted:
        fits = (f"; every run fits the training set from width {fit_from} on, and no cost of the wider models is shown, "
                "which is not evidence of none.")
    else:
        fits = "; no narrower width fits the training set in every run."
    if best == near:
        return (f"Cannot tell: the rank test cannot tell the widest model's test accuracy from the best width's ({best}; "
                f"{p_1_3b(g)})" + fits)
    return (f"Cannot tell: the widest model has the highest mean test accuracy, but the rank test cannot tell it from "
            f"width {near} ({p_1_3b(g)})" + fits)


def answer_1_3b(R: dict, W: dict[int, dict], best: int, near: int, g) -> str:
    """Whether the widest model tests lower than the best width, or higher than the next highest where it is the
    best, by the rank test, and past which width."""
    large, fit_from = max(W), fit_from_1_3b(W)
    fitted = fit_from is not None and fit_from != large
    per = amount(W[large]["params"] / R["n_train"])
    if g.verdict == "lower":
        return (f"Yes, here: the widest model ({per} parameters per training image) tests lower than width {best} "
                f"(rank test {p_text(g.p, g.level)}).")
    above = f"above width {near}'s by the rank test ({p_1_3b(g)})"
    if best == large and g.verdict == "higher" and fitted:
        return (f"No overfitting seen: past width {fit_from}, where every run fits the training set, the widest "
                f"model (up to {per} parameters per training image) has the highest mean test accuracy, {above}.")
    if best == large and g.verdict == "higher":
        return (f"Cannot tell: the widest model has the highest mean test accuracy, {above}, but no narrower width fits "
                "the training set in every run.")
    return unranked_answer_1_3b(g, best, near, fit_from, fitted)


def cannot_1_3b(W: dict[int, dict], best: int, near: int, g) -> list[str]:
    """What the section cannot tell: past the fitting width, and each comparison the rank test does not decide."""
    widths, large, fit_from = list(W), max(W), fit_from_1_3b(W)
    cannot = []
    if best == large and not (fit_from is not None and fit_from != large):
        cannot.append("what happens past the width that fits the training set")
    if best != large and g.verdict != "lower":
        cannot.append(f"widest against best width ({best})")
    if best == large and g.verdict != "higher":
        cannot.append(f"widest (highest mean test accuracy) against next highest width ({near})")
    if ranked(W[large]["test_acc"], W[widths[0]]["test_acc"]).verdict not in ("higher", "lower"):
        cannot.append("widest against narrowest (test accuracy)")
    low = min(widths, key=lambda w: mean_1_3b(W[w]["test_loss"]))
    if low == large:  # the lowest mean, held against the next lowest
        low = min(widths[:-1], key=lambda w: mean_1_3b(W[w]["test_loss"]))
        if ranked(W[large]["test_loss"], W[low]["test_loss"]).verdict not in ("higher", "lower"):
            cannot.append(f"widest (lowest mean test loss) against next lowest (width {low})")
    elif ranked(W[large]["test_loss"], W[low]["test_loss"]).verdict not in ("higher", "lower"):
        cannot.append(f"widest against lowest test loss (width {low})")
    return cannot


def number_1_3b(W: dict[int, dict], best: int, near: int, seeds: str) -> str:
    """The test accuracy of the widest model and of the width it is held against, with their seed ranges."""
    large = max(W)

    def acc(w):
        v = W[w]["test_acc"]
        return pct(mean_1_3b(v)) + (f" ({pct(min(v))}–{pct(max(v))})" if len(v) > 1 else "")
    other = (f", of the best width ({best}) {acc(best)}" if best != large else
             f", the highest mean of all widths; of the next highest ({near}) {acc(near)}")
    return (f"test accuracy of the widest model {acc(large)}{other} "
            f"({seeds}; {W[min(W)]['params']:,} to {W[large]['params']:,} parameters)")


def summary_1_3b(R: dict) -> Row:
    """Reads runs[*].{width, params, diverged, train_acc, test_acc, test_loss}, params.seeds and n_train: the widest
    model's test accuracy against the best width's (or, where the widest is the best, the next highest's) by the
    exact rank test over the seeds, and the width from which every run fits the training set (1-3b's verdict)."""
    W = widths_1_3b(R)
    seeds = _seeds_of(len(R["params"]["seeds"]), "a width")
    lost = sum(1 for r in R["runs"] if r.get("diverged") is not None)
    missed = [f"{plural(lost, 'run')} diverged and left out"] if lost else []
    if len(W) < 2:
        return Row("Not compared: fewer than two widths have a finished run.", "—", seeds, missed=missed)
    large = max(W)
    best = max(W, key=lambda w: mean_1_3b(W[w]["test_acc"]))
    near = near_1_3b(W, best)
    g = ranked(W[large]["test_acc"], W[near]["test_acc"])
    limits = []
    if g.verdict == "floor":
        limits.append(f"{len(g.a)} and {len(g.b)} seeds: the rank test of the widest against the "
                      f"{'best' if best != large else 'next highest'} width cannot reach p < {g.level:g} "
                      f"({seeds_needed(g.level)} a width could)")
    return Row(answer_1_3b(R, W, best, near, g), number_1_3b(W, best, near, seeds), seeds, limits, missed,
               cannot_1_3b(W, best, near, g))


# ------------------------------------------------------------------ 1-3c

NEAR_ZERO_1_3C = 0.01  # t1_3c_interpolation.NEAR_ZERO: a curvature under this share of the other end's is 0
EQUAL_CURVATURE_1_3C = 0.10  # t1_3c_interpolation.EQUAL_CURVATURE: curvatures this close are called equal


def flatter_1_3c(case: dict) -> str:
    """1-3c's ``flatter``: 'θ₁' / 'θ₂' (the smaller curvature along the line), 'equal', 'concave' or 'unknown'
    (no curvature measured at an end)."""
    k1, k2 = case["curvature"]["model1"], case["curvature"]["model2"]
    if k1 is None or k2 is None:
        return "unknown"
    scale = max(abs(k1), abs(k2))
    k1, k2 = (0.0 if abs(k) <= NEAR_ZERO_1_3C * scale else k for k in (k1, k2))
    if k1 < 0 or k2 < 0:
        return "concave"
    if abs(k1 - k2) <= EQUAL_CURVATURE_1_3C * max(k1, k2):
        return "equal"
    return "θ₁" if k1 < k2 else "θ₂"


def summary_1_3c(R: dict) -> Row:
    """Reads cases[*].{pair, init, values, curvature.{model1, model2}, mid.train_loss, models[*].{reached,
    batch_size, lr, seed}} and params.target_loss: per studied choice, which end the curvature along the line
    calls flatter in each initialization case (1-3c's ``pair_verdict``)."""
    parts, numbers, cannot = [], [], []
    for pair in dict.fromkeys(c["pair"] for c in R["cases"]):
        cases = [c for c in R["cases"] if c["pair"] == pair]
        verdicts = [flatter_1_3c(c) for c in cases]
        decided = [v for v in verdicts if v in ("θ₁", "θ₂")]
        if not decided:
            parts.append(f"{pair}: no case ranks the two ends")
            cannot.append(f"which {pair} gives the flatter solution")
        elif len(set(decided)) > 1:
            parts.append(f"{pair}: the initialization cases disagree")
            cannot.append(f"which {pair} gives the flatter solution")
        else:
            value = cases[0]["values"][0 if decided[0] == "θ₁" else 1]
            parts.append(f"the {pair} {value:g} solution is the flatter end in {len(decided)} of "
                         f"{plural(len(cases), 'initialization case')}"
                         + ("" if len(decided) == len(cases) else ", the other ends not ranked")
                         + (" (cases that share θ₁, so not repeats)" if len(decided) > 1 and shared_theta1_1_3c(cases) else ""))
            cannot.append(f"whether the {pair} decides which solution is flatter (one run per case)")
            if len(decided) < len(cases):
                cannot.append(f"{len(cases) - len(decided)} of the {pair} cases (ends not ranked)")
        for c, v in zip(cases, verdicts):
            if v in ("θ₁", "θ₂"):
                k = c["curvature"]
                numbers.append(f"{pair} {c['values'][0]:g} against {c['values'][1]:g} ({c['init']} initialization): "
                               f"{k['model1']:.3g} against {k['model2']:.3g}")
    answer = "; ".join(parts)
    answer = answer[0].upper() + answer[1:] + "." + paired_1_3c(R["cases"])
    number = ("curvature of the training loss along the line (the smaller, the flatter): " + "; ".join(numbers)
              if numbers else "no case ranks the ends") + " " + no_uncertainty("one run per case")
    models = {(m["batch_size"], m["lr"], m["seed"]): m for c in R["cases"] for m in c["models"]}
    lost = [f"batch {b} lr {lr:g} seed {s}" for (b, lr, s), m in models.items() if not m["reached"]]
    missed = [f"{join(lost)} missed the training-loss target ({R['params']['target_loss']:g})"] if lost else []
    return Row(answer, number, "one run a case", missed=missed, cannot=cannot, single=True)


def shared_theta1_1_3c(cases: list[dict]) -> bool:
    """Whether the cases' θ₁ is one trained model (same batch size, learning rate and seed)."""
    firsts = {(c["models"][0]["batch_size"], c["models"][0]["lr"], c["models"][0]["seed"]) for c in cases}
    return len(cases) > 1 and len(firsts) == 1


ALPHA_1_3C = 0.05  # t1_3c_interpolation.ALPHA: McNemar's level for a pair's two test accuracies


def paired_1_3c(cases: list[dict]) -> str:
    """Whether any pair's two test accuracies differ beyond the test set's noise (McNemar's exact test on the
    shared test set, 1-3c's ``paired_text``), decided on the p values as printed."""
    tests = [c["test_paired"] for c in cases if "test_paired" in c]
    if not tests:
        return ""
    printed = [f"{t['p']:.2g}" for t in tests]
    beyond = [p for p in printed if float(p) < ALPHA_1_3C]
    if not beyond:
        return (f" In no case do the two test accuracies differ beyond the test set's noise (McNemar's exact test, "
                f"p from {min(printed, key=float)} to {max(printed, key=float)}), so no case links flatness to "
                "generalization.")
    return (f" In {len(beyond)} of {plural(len(tests), 'case')} the two test accuracies differ beyond the test set's "
            f"noise (McNemar's exact test, p < {ALPHA_1_3C:g}); one pair is one observation and cannot show a link "
            "between flatness and generalization.")


# ------------------------------------------------------------------ 1-3d

ALPHA_1_3D = 0.05  # t1_3d_sensitivity.ALPHA: the exact rank test's level for smallest against largest batch


def trend_1_3d(trend: dict, name: str) -> tuple[str, list[str]]:
    """The trend of the sensitivity with the batch size over all models, and what it leaves untold."""
    t = direction(trend)
    answer = {"up": f"The sensitivity of the {name} rises with the batch size over all models",
              "down": f"The sensitivity of the {name} falls with the batch size over all models",
              "none": f"No monotone trend of the sensitivity of the {name} with the batch size is established",
              "unknown": "Too few models for a rank correlation with the batch size"}[t]
    return answer, (["the trend of the sensitivity with the batch size"] if t in ("none", "unknown") else [])


def held_1_3d(t: str, partial: dict | None) -> tuple[str, list[str]]:
    """Whether the trend holds with the final training loss fixed (1-3d's controlled_text): the clause to add."""
    held = direction(partial) if partial is not None else None
    if held is not None and t in ("up", "down"):
        if held == t:
            return ", also with the final training loss held fixed", []
        if held in ("none", "unknown"):
            return (", but not with the final training loss held fixed",
                    ["whether that trend is the batch size's or the training level's"])
        return ", but it reverses with the final training loss held fixed", []
    if held in ("up", "down"):
        return f"; with the final training loss held fixed it {'rises' if held == 'up' else 'falls'}", []
    return "", []


def end_sides_1_3d(R: dict, rows: list[dict]) -> tuple[int, int, list[float], list[float]]:
    """The smallest and the largest batch size among the models at the target, and their sensitivities."""
    sens = {}
    for r in sorted(rows, key=lambda r: r["batch_size"]):
        sens.setdefault(r["batch_size"], []).append(r[f"sensitivity_{R['primary']}"])
    small, large = next(iter(sens)), list(sens)[-1]
    return small, large, sens[small], sens[large]


def ends_1_3d(R: dict, rows: list[dict]) -> tuple[str, list[str]]:
    """The smallest batch against the largest: ordered only where the exact rank test gives p < ALPHA."""
    small, large, a, b = end_sides_1_3d(R, rows)
    end = R["ends"][R["primary"]]
    p = f"{end['p']:.2g}"
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    if min(len(a), len(b)) < 2:
        return (f"; batch {small} against {large} is not ranked (one seed on a side)",
                [f"batch {small} against {large}"])
    if float(p) < ALPHA_1_3D and end["side"] != 0 and mean_a != mean_b and (mean_b > mean_a) == (end["side"] > 0):
        return (f"; batch {large} gives {'more' if mean_b > mean_a else 'less'} sensitive models than batch "
                f"{small} (rank test p = {p})"), []
    return (f"; the rank test cannot tell batch {small} from {large} (p = {p})",
            [f"batch {small} against {large} (rank test)"])


def gap_1_3d(link: dict) -> tuple[str, list[str]]:
    """The link of the sensitivity to the generalization gap: the clause that ends the answer."""
    g = direction(link)
    answer = {"up": "; the more sensitive models have the larger generalization gap.",
              "down": "; the more sensitive models have the smaller generalization gap.",
              "none": "; no link to the generalization gap is established.",
              "unknown": "; too few models for a rank correlation with the generalization gap."}[g]
    return answer, (["the link of the sensitivity to the generalization gap"] if g in ("none", "unknown") else [])


def number_1_3d(trend: dict, partial: dict | None, link: dict, n_models: int, seeds: str) -> str:
    """The rank correlations with their 95 % intervals, where the results have them."""
    parts = [f"with the batch size {interval(trend)}" if trend.get("rho") is not None else "",
             f"partial, the training loss held fixed, {interval(partial)}"
             if partial is not None and partial.get("rho") is not None else "",
             f"with the gap {interval(link)}" if link.get("rho") is not None else ""]
    number = "Spearman ρ (95 % interval) " + "; ".join(p for p in parts if p) if any(parts) else "no rank correlation"
    return number + f" (over {plural(n_models, 'model')}, {seeds})"


def summary_1_3d(R: dict) -> Row:
    """Reads primary, outputs[primary], models[*].{reached, batch_size, seed, sensitivity_<primary>},
    trends[primary].{batch_size, gap_loss}.{rho, low, high, n}, partial[primary].{rho, low, high} (where the
    results have it) and ends[primary].{p, min_p, side}: the trend with the batch size, and whether it holds
    with the final training loss fixed, the smallest batch against the largest, and the link to the
    generalization gap."""
    key = R["primary"]
    rows = [r for r in R["models"] if r["reached"]]
    seeds_per = sorted({sum(1 for r in rows if r["batch_size"] == b) for b in {r["batch_size"] for r in rows}})
    seeds = join([str(s) for s in seeds_per], "or") + " seeds a batch size"
    lost = [f"batch {r['batch_size']} seed {r['seed']}" for r in R["models"] if not r["reached"]]
    missed = [f"{join(lost)} missed the training-loss target (left out here and in 1-3e)"] if lost else []
    if len({r["batch_size"] for r in rows}) < 2:
        return Row("Not compared: fewer than two batch sizes have a model at the target.", "—", seeds, missed=missed)
    trend, link = R["trends"][key]["batch_size"], R["trends"][key]["gap_loss"]
    partial = R.get("partial", {}).get(key)  # the trend with the final training loss held fixed
    clauses = [trend_1_3d(trend, R["outputs"][key]), held_1_3d(direction(trend), partial), ends_1_3d(R, rows),
               gap_1_3d(link)]
    answer, cannot = "".join(c for c, _ in clauses), [x for _, more in clauses for x in more]
    _, _, a, b = end_sides_1_3d(R, rows)
    end = R["ends"][key]
    limits = []
    if min(len(a), len(b)) >= 2 and end["min_p"] >= ALPHA_1_3D:
        limits.append(f"{seeds}, so the exact rank test of the smallest against the largest batch cannot "
                      f"reach p < {ALPHA_1_3D:g} (its smallest p is {end['min_p']:.2g})")
    return Row(answer, number_1_3d(trend, partial, link, len(rows), seeds), seeds, limits, missed, cannot)


# ------------------------------------------------------------------ 1-3e

def summary_1_3e(R: dict) -> Row:
    """Reads models[*].{reached, batch_size, seed}, measures, gap and correlations[*].{key, <gap>.{rho, low, high}}:
    which measures' intervals against the generalization gap exclude 0, and whether any two measures' intervals,
    as printed, do not overlap (1-3e's ranking_lines)."""
    kept = [r for r in R["models"] if r["reached"]]
    per_batch = sorted({sum(1 for r in kept if r["batch_size"] == b) for b in {r["batch_size"] for r in kept}})
    seeds = (join([str(n) for n in per_batch], "or") + " seeds a batch size" if per_batch != [1] else
             "one seed a batch size")
    C = {c["key"]: c[R["gap"]] for c in R["correlations"]}
    names = R["measures"]
    if any(C[k]["rho"] is None for k in ("batch_size", *names)):
        return Row("Cannot tell: too few models at the target for a rank correlation.", "—", seeds,
                   cannot=["which measure tracks the generalization gap"])
    separated = [(a, b) for a in names for b in names
                 if a != b and float(fixed(C[a]["low"])) > float(fixed(C[b]["high"]))]
    linked = [k for k in names if direction(C[k]) in ("up", "down")]
    if separated:
        answer = "Where intervals separate: " + join([f"{names[a]} tracks the gap more closely than {names[b]}"
                                                      for a, b in separated])
    else:
        answer = f"Cannot tell which tracks it best: the intervals of all {len(names)} measures overlap"
    answer += ("; " + join([f"a larger {names[k]} goes with a {'larger' if direction(C[k]) == 'up' else 'smaller'} "
                            "gap" for k in linked]) if linked else "; no measure's link to the gap is established") + "."
    number = "Spearman ρ (95 % interval) with the gap: " + "; ".join(f"{names[k]} {interval(C[k])}" for k in names) + \
        f" (over {plural(len(kept), 'model')})"
    cannot = ([] if separated else ["which measure tracks the gap best"])
    if len(linked) < len(names):
        cannot.append(f"the link of {len(names) - len(linked)} of the {len(names)} measures to the gap")
    limits = (["one seed a batch size, so the intervals are optimistic"] if max(per_batch) < 2 else [])
    return Row(answer, number, seeds, limits, cannot=cannot)


# ------------------------------------------------------------------ the page

SUMMARIES = {"1-1a": summary_1_1a, "1-1b": summary_1_1b, "1-2a": summary_1_2a, "1-2b": summary_1_2b,
             "1-2c": summary_1_2c, "1-2d": summary_1_2d, "1-3a": summary_1_3a, "1-3b": summary_1_3b,
             "1-3c": summary_1_3c, "1-3d": summary_1_3d, "1-3e": summary_1_3e}


def row_of(section: str, name: str, R: dict | None, in_report: bool) -> Row:
    """The row of one question: its summary, or why there is none (missing file, failed notebook, a field
    the summary reads that the file lacks)."""
    if R is None:
        return Row(f"Missing: no readable results file (report/results/{name}.json): the notebook did not run "
                   "or failed.", "—", cannot=["anything (its results are missing)"])
    if not in_report:
        return Row(f"Missing: the notebook {name} did not finish (no executed copy; a failed run is kept in "
                   "report/failed/), so its results are not summarized.", "—",
                   cannot=["anything (its notebook did not finish)"])
    try:
        return SUMMARIES[section](R)
    except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as exc:
        return Row(f"Not summarized: its results file lacks what the summary reads ({type(exc).__name__}: {exc}).",
                   "—", cannot=["anything (its results could not be read)"])


def rows(out_dir, sections: set[str] | None = None) -> list[tuple[str, str, Row]]:
    """(section, question, row) for every HW question, from out_dir/results/. ``sections``: those with a
    section in the report (None: all)."""
    out = []
    for section, name, question in QUESTIONS:
        R = load_results(name, out_dir)
        out.append((section, question, row_of(section, name, R, sections is None or section in sections)))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def limitations(results: list[dict], table: list[tuple[str, str, Row]]) -> list[str]:
    """The limitations' bullets: profile and data, seeds, what these results cannot show, targets missed,
    and everything the sections cannot tell."""
    profiles = sorted({r["profile"] for r in results if r.get("profile")})
    data = sorted({str(v) for r in results for k in ("dataset", "datasets", "functions", "function")
                   for v in (r.get("params", {}).get(k) if isinstance(r.get("params", {}).get(k), list)
                             else [r.get("params", {}).get(k)]) if v})
    sizes = sorted({(r["n_train"], r["n_test"]) for r in results if "n_train" in r and "n_test" in r})
    images = (" (" + join([f"{a:,} training / {b:,} test images" for a, b in sizes], "or") + ")") if sizes else ""
    out = []
    if len(profiles) == 1:
        out.append(f"**Profile** {profiles[0]}: {PROFILES.get(profiles[0], 'a profile of its own')}. "
                   f"**Data**: {', '.join(data) or '—'}{images}.")
    elif profiles:
        out.append(f"**Profiles**: the notebooks ran in different profiles ({join(profiles)}), so their numbers "
                   f"come from different settings. **Data**: {', '.join(data) or '—'}{images}.")
    single = [sec for sec, _, row in table if row.single]
    out.append("**Seeds**: " + "; ".join(f"{sec} {row.seeds}" for sec, _, row in table if row.seeds) + "."
               + (f" One run behind each number in {join(single)}: another seed's effect is not measured."
                  if single else ""))

    def by_section(what: str) -> str:  # '1-1b: a, b; 1-2c: c': each section's phrases after its name
        return "; ".join(f"{sec}: {', '.join(getattr(row, what))}" for sec, _, row in table if getattr(row, what))
    if any(row.limits for *_, row in table):
        out.append(f"**What these runs cannot show**: {by_section('limits')}.")
    out.append(f"**Targets missed, runs lost**: {by_section('missed') or 'none'}.")
    if any(row.cannot for *_, row in table):
        out.append(f"**Cannot tell** (each section says why): {by_section('cannot')}.")
    return out


def render(out_dir, sections: set[str] | None = None) -> str:
    """The summary page as Markdown: the answers table, then the limitations."""
    table = rows(out_dir, sections)
    results = [R for _, name, _ in QUESTIONS if (R := load_results(name, out_dir))]
    lines = ["| question | answer | key number (uncertainty) |", "|---|---|---|"]
    for section, question, row in table:
        linked = sections is None or section in sections
        head = f'<a href="#sec-{section}">{section}</a>' if linked else section
        lines.append(f"| **{head}** {_cell(question)} | {_cell(row.answer)} | {_cell(row.number)} |")
    return ('<div class="summary">\n\n# Summary: the answers\n\n'
            "Each answer follows its section's comment (linked), by the same rules on the same results.\n\n"
            + "\n".join(lines) + "\n\n## Limitations\n\n"
            + "\n".join(f"- {x}" for x in limitations(results, table)) + "\n\n</div>")
