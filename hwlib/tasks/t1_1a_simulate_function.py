"""1-1a Simulate a function: with the same number of parameters, does a deeper MLP fit a 1-D function better?

Each function is sampled on evenly spaced points of [-1, 1]. For every depth the hidden widths are
solved from one parameter budget, so all models land within 1 % of it. Every model trains
full-batch from several seeds until the epoch limit or the plateau rule; the test loss is taken on a
denser grid between the training points. A run's final training loss is the median of its training
loss over the last FINAL_WINDOW of the epochs it ran, not the value after its last Adam step, which
can sit on a spike. The comment compares each deeper model with the shallowest on those final
losses, calling a difference only where an exact two-sided rank test over the seeds gives p < ALPHA.
"""

from __future__ import annotations

import math
import statistics
import time

import torch

from .. import data, ensemble, models, train, wording
from ..device import cpu_threads
from ..params import Param, ParamError, same
from ..plots import figure, palette
from ..ranks import compare_medians, rank_test
from ..results import envelope, thin
from ..tables import markdown_table

NAME, SECTION = "1_1a_simulate_function", "1-1a"

# A run's final training loss is the median of its per-epoch training loss over the last 5 % of the epochs
# it ran (200 of 4,000): the loss after the last Adam step alone sat on a spike (1.1e-4 on the curve,
# 1.8e-4 after the step) and moved up to 10× with the CPU's rounding; a median over many epochs does not.
FINAL_WINDOW = 0.05
ALPHA = 0.05  # level of the exact rank test that alone may call a deeper model's loss lower or higher

SPEC = {
    "functions": same("str_list", ["sinc", "sign"], choices=tuple(data.FUNCTIONS), min_len=1,
                      doc="functions to fit on [-1, 1]"),
    "budget": Param("int", smoke=150, quick=570, full=570, low=20, doc="parameter budget every model is solved for"),
    "depths": Param("int_list", smoke=[1, 4], quick=[1, 3, 6], full=[1, 3, 6], low=1, high=12, min_len=2,
                    doc="hidden layers of each model"),
    "activation": same("str", "relu", choices=tuple(models.ACTIVATIONS), doc="activation of every hidden layer"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS, doc="optimizer of every model"),
    "lr": same("float", 3e-3, positive=True, doc="learning rate of every model"),
    "epochs": Param("int", smoke=60, quick=4000, full=20000, low=1,
                    doc="upper limit; the plateau rule may stop earlier"),
    "n_train": Param("int", smoke=200, quick=1000, full=1000, low=10, doc="training points, evenly spaced"),
    "batch_size": Param("int", smoke=200, quick=1000, full=1000, low=1, doc="≥ n_train means full batch"),
    # 5 a model: with 5 against 5 the exact rank test can reach p = 2/252 ≈ 0.008; with 2 against 2 it
    # cannot go below 1/3, so no depth could be called better. Measured on one thread, side by side, the
    # quick run took 1.7-2.1× (median 1.9×) as long with 5 seeds as with 2: 13-20 s against 6-10 s.
    "seeds": Param("int", smoke=1, quick=5, full=5, low=1, doc="independent initializations per model"),
    "plateau_window": Param("int", smoke=0, quick=1000, full=2000, low=0,
                            doc="epochs the plateau rule looks back; 0 disables it"),
    "plateau_tol": same("float", 0.01, low=0.0, high=1.0,
                        doc="a model stops when its best loss of the window improved less than this fraction"),
}


def checks(P) -> None:
    for depth in P.depths:
        try:
            models.solve_mlp_widths(P.budget, depth)
        except ValueError as exc:
            raise ParamError(str(exc)) from None
    if len(set(P.depths)) < 2:
        raise ParamError(f"depths={P.depths!r} compares nothing: give at least 2 different depths")


def layers(depth) -> str:
    """'1 hidden layer', '3 hidden layers': how the table, the figures and the comment name a model."""
    return wording.plural(int(depth), "hidden layer")


def plateau(P) -> train.Plateau | None:
    return train.Plateau(P.plateau_window, P.plateau_tol) if P.plateau_window else None


def stacked_functions(P) -> tuple[dict, list[tuple[str, int]], data.Dataset]:
    """Each function's data, the (function, seed) of every model, and one dataset whose targets are
    (models, n, 1): row k holds model k's function, for an ensemble trained with ``per_model_y``."""
    sets = {fn: data.function_data(fn, P.device, n_train=P.n_train) for fn in P.functions}
    pairs = [(fn, seed) for fn in P.functions for seed in range(P.seeds)]
    first = sets[pairs[0][0]]
    both = data.Dataset("functions", "regression", first.x_train, torch.stack([sets[fn].y_train for fn, _ in pairs]),
                        first.x_test, torch.stack([sets[fn].y_test for fn, _ in pairs]))
    return sets, pairs, both


def _run(P, start: float) -> dict:
    table = []
    for depth in P.depths:
        info = models.describe(models.mlp_for_budget(P.budget, depth, activation=P.activation))
        table.append({"depth": depth, "widths": info["widths"], "params": info["params"],
                      "activation": P.activation, "optimizer": P.optimizer, "lr": P.lr, "epochs (max)": P.epochs})
    # Every function and seed of one depth trains as one vectorized ensemble (one model per row, its
    # own function as its targets): the per-step overhead that dominates these ~600-parameter nets is
    # paid once per depth instead of once per model. Each row reproduces its own fit() run, plateau
    # stop included (tests/test_ensemble.py).
    sets, pairs, both = stacked_functions(P)
    runs = {fn: [] for fn in P.functions}
    predictions = {fn: {"x": sets[fn].x_test[:, 0], "truth": sets[fn].y_test[:, 0], "by_depth": {}}
                   for fn in P.functions}
    ensembles = []
    for depth in P.depths:
        ens = ensemble.build(lambda depth=depth: models.mlp_for_budget(P.budget, depth, activation=P.activation),
                             [seed for _, seed in pairs], P.device, distinct=False)
        h = ensemble.train(ens, both, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr, optimizer=P.optimizer,
                           plateau=plateau(P), per_model_y=True,
                           # a progress label in plain words: run reads nothing of the display modules (hwlib.inputs)
                           label=f"depth {depth}: {len(pairs)} models ({', '.join(P.functions)} × {P.seeds} seeds)")
        train_loss, _ = ensemble.evaluate(ens, ens.theta, both.x_train, both.y_train, "regression", per_model_y=True)
        test_loss, _ = ensemble.evaluate(ens, ens.theta, both.x_test, both.y_test, "regression", per_model_y=True)
        with torch.no_grad():
            outputs = ens.outputs(ens.theta, both.x_test)[:, :, 0]  # (K, n_test)
        ensembles.append({"depth": depth, "models": len(pairs), "epochs": len(h.epoch), "seconds": h.seconds})
        for i, (fn, seed) in enumerate(pairs):
            curve = h.curve(i)
            runs[fn].append({"depth": depth, "seed": seed, "epochs_run": h.epochs_run[i], "stopped": h.stopped[i],
                             "diverged": h.diverged[i], "window": window(h.epochs_run[i]),
                             "train_loss": final_loss(curve) if h.diverged[i] is None else None,
                             "train_loss_last": train_loss[i].item(), "test_loss": test_loss[i].item(),
                             "curve": thin(h.epoch[:h.epochs_run[i]], curve)})
        for fn in P.functions:  # the figure shows each depth's best seed (lowest final training loss)
            ok = [i for i, (f, _) in enumerate(pairs) if f == fn and h.diverged[i] is None]
            if ok:
                best = min(ok, key=lambda i: final_loss(h.curve(i)))
                predictions[fn]["by_depth"][str(depth)] = outputs[best]
    return envelope(P, NAME, SECTION, time.perf_counter() - start, models=table, runs=runs,
                    predictions=predictions, summary=summarize(runs), ensembles=ensembles,
                    final_window=FINAL_WINDOW, alpha=ALPHA,
                    plateau=plateau(P).describe() if plateau(P) else "off")


def window(epochs_run: int) -> int:
    """Epochs in a run's final window: the last FINAL_WINDOW of those it ran, at least one."""
    return max(1, math.ceil(FINAL_WINDOW * epochs_run)) if epochs_run else 0


def final_loss(curve: list[float]) -> float | None:
    """A run's final training loss: the median of its per-epoch loss over its final window."""
    return statistics.median(curve[-window(len(curve)):]) if curve else None


def seeds_needed(alpha: float = ALPHA) -> int:
    """The fewest seeds a model at which the rank test of n against n can reach p < alpha."""
    return next(n for n in range(1, 50) if 2 / math.comb(2 * n, n) < alpha)


def _finished(runs: list[dict], depth: int, key: str = "train_loss") -> list[float]:
    return [r[key] for r in runs if r["depth"] == depth and r["diverged"] is None]


def summarize(runs: dict) -> dict:
    """Per function and depth: final losses over seeds (median and range), epochs run, and the rank
    test of each deeper model's final training losses against the shallowest's."""
    out = {}
    for fn, rs in runs.items():
        out[fn] = {}
        depths = sorted({r["depth"] for r in rs})
        done = [d for d in depths if _finished(rs, d)]
        for depth in depths:
            loss, ok = _finished(rs, depth), [r for r in rs if r["depth"] == depth and r["diverged"] is None]
            out[fn][str(depth)] = {
                "runs": len(ok),
                "diverged": sum(r["depth"] == depth and r["diverged"] is not None for r in rs),
                "train_loss_median": statistics.median(loss) if loss else None,
                "train_loss_min": min(loss, default=None), "train_loss_max": max(loss, default=None),
                "test_loss_median": statistics.median(_finished(rs, depth, "test_loss")) if ok else None,
                "epochs_mean": sum(r["epochs_run"] for r in ok) / len(ok) if ok else None,
                "plateau_stops": sum(1 for r in ok if r["stopped"]),
                "against_shallowest": (rank_test(loss, _finished(rs, done[0]))
                                       if loss and done and depth != done[0] else None),
            }
    return out


def run(P) -> dict:
    start = time.perf_counter()
    # ~600-parameter nets on 1,000 points: splitting such small ops over threads costs more in
    # synchronization than it saves (measured 5-10× slower per epoch with 2 threads on a busy 2-core CPU).
    with cpu_threads(1, P.device):
        return _run(P, start)


# ------------------------------------------------------------------ table and figures

def window_words(R: dict) -> str:
    """'the last 5 % of the epochs it ran': how the table, the captions and the comment name the window."""
    return f"the last {100 * R['final_window']:g} % of the epochs it ran"


def table(R: dict) -> str:
    """The models compared (read from the built models), the stopping rule, and every run's final losses."""
    rows = [{"function": data.FUNCTIONS[fn][1], "depth": r["depth"], "seed": r["seed"],
             "epochs run": r["epochs_run"], "stopped by": _stop_words(r),
             "final train loss": r["train_loss"], "after last step": r["train_loss_last"],
             "test loss": r["test_loss"]} for fn in R["params"]["functions"] for r in R["runs"].get(fn, [])]
    return (markdown_table(R["models"]) + f"\n\nPlateau rule: {R['plateau']}.\n\n"
            f"Every run. Final train loss: the median of its training loss over {window_words(R)} (the "
            "number the comment quotes); after last step: the training loss after its last Adam step; "
            "test loss: on the dense grid, after the last step.\n\n" + markdown_table(rows))


def _stop_words(r: dict) -> str:
    return "diverged" if r["diverged"] is not None else "plateau rule" if r["stopped"] else "epoch limit"


def figures(R: dict) -> list:
    """Per function: the training loss of every model, then the predictions over the ground truth."""
    out = []
    for fn in R["params"]["functions"]:
        formula = data.FUNCTIONS[fn][1]
        loss = (f"Training loss of every model on {formula} against the epoch, both axes logarithmic: one "
                f"faint line per seed. A dot at the end of each line marks its final training loss, the "
                f"median of its loss over {window_words(R)} (the number the comment quotes, which a spike at "
                f"the last epoch does not move); × marks a run that diverged.")
        fits = (f"Prediction of each model (its seed with the lowest final training loss) over the ground "
                f"truth {formula} on the test grid.")
        out += [(_loss_curves(R, fn), loss), (_predictions(R, fn, formula), fits)]
    return out


# Every legend here goes below the axes: the curves fill the whole panel, so no corner is reliably free.

def _loss_curves(R: dict, fn: str):
    """Training loss (log) against epoch, one colour per depth, one faint line per seed, each run's
    final-window median marked at its end."""
    fig, ax = figure()
    depths = [m["depth"] for m in R["models"]]
    colours = dict(zip(depths, palette(len(depths))))
    params = {m["depth"]: m["params"] for m in R["models"]}
    seen = set()
    for r in R["runs"][fn]:
        label = None if r["depth"] in seen else f"{layers(r['depth'])} ({params[r['depth']]:,} parameters)"
        seen.add(r["depth"])
        colour = colours[r["depth"]]
        # every seed alike and faint: the seeds' spread is the band the comment's test reads
        ax.plot(r["curve"]["x"], r["curve"]["y"], color=colour, lw=0.8, alpha=0.45)
        if r["diverged"]:
            ax.plot(r["curve"]["x"][-1:], r["curve"]["y"][-1:], "x", color=colour, ms=8)
        elif r["train_loss"] is not None:
            ax.plot([r["epochs_run"]], [r["train_loss"]], "o", color=colour, ms=4, mec="black", mew=0.4)
        if label:  # one legend entry a depth, drawn solid
            ax.plot([], [], color=colour, lw=1.4, marker="o", ms=4, label=label)
    ax.set(xscale="log", yscale="log", xlabel="epoch", ylabel="training loss (MSE)")
    fig.legend(loc="outside lower center", ncols=min(len(depths), 3), fontsize="small")
    return fig


def _predictions(R: dict, fn: str, formula: str):
    """The kept prediction of every depth on the dense test grid over the ground truth."""
    fig, ax = figure()
    pred = R["predictions"][fn]
    ax.plot(pred["x"], pred["truth"], color="black", lw=2.2, label=f"ground truth {formula}")
    depths = list(pred["by_depth"])
    for depth, colour in zip(depths, palette(len(depths))):
        ax.plot(pred["x"], pred["by_depth"][depth], color=colour, lw=1.3, label=layers(depth))
    ax.set(xlabel="x", ylabel="y")
    fig.legend(loc="outside lower center", ncols=min(len(depths) + 1, 4), fontsize="small")
    return fig


# ------------------------------------------------------------------ comment

def _median_spread(values: list[float], fmt: str) -> str:
    """'1.20e-04' for one value, '1.20e-04 (3.29e-05–2.89e-03 over 5 seeds)' for several: the median
    over seeds and their range (a median, as one seed far off would carry a mean)."""
    mid = statistics.median(values)
    if len(values) == 1:
        return format(mid, fmt)
    return f"{mid:{fmt}} ({min(values):{fmt}}–{max(values):{fmt}} over {len(values)} seeds)"


def _fmt(pairs: list[tuple[float, float]]) -> str:
    """'.2e', or more digits where needed so that every u < v of pairs still prints smaller: the text
    calls those losses lower or higher, and rounding can only merge values."""
    for d in range(2, 10):
        if all(float(f"{u:.{d}e}") < float(f"{v:.{d}e}") for u, v in pairs):
            return f".{d}e"
    return ".9e"


def _ratio(x: float) -> str:
    """x with two significant digits, more where two would print a ratio off 1 as 1."""
    for d in range(2, 10):
        if x == 1 or float(f"{x:.{d}g}") != 1:
            return f"{x:.{d}g}"
    return f"{x:.9g}"


# the exact rank test of a deeper model's final losses against the shallowest's, with its verdict: written once
# in hwlib.ranks, where the report's summary page (which imports no task) reads it too
compare = compare_medians


def _losses_line(name: str, done: list[int], loss: dict, test: dict, fmt: str, R: dict) -> str:
    """The function's bullet: each finished depth's final training loss and test loss over the seeds."""
    if not done:
        return f"- **{name}**: every run diverged (the loss became NaN or infinite)."
    train_losses = "; ".join(f"{layers(d)}: {_median_spread(loss[d], fmt)}" for d in done)
    test_losses = "; ".join(f"{layers(d)}: {_median_spread(test[d], '.2e')}" for d in done)
    return (f"- **{name}**: final training loss (each run's median over {window_words(R)}; the median over "
            f"seeds, their range in brackets): {train_losses}. Test loss on the dense grid between the training "
            f"points, after the last step: {test_losses}.")


def _diverged_line(diverged: list[dict]) -> str:
    return (f"  - {wording.plural(len(diverged), 'run')} diverged (the loss became NaN or infinite, "
            f"× in the figure) and {'is' if len(diverged) == 1 else 'are'} left out.")


def _at_limit(ok: list[dict], P: dict) -> int:
    """How many of the finished runs the epoch limit stopped, not the plateau rule (their losses still falling)."""
    return sum(1 for r in ok if not r["stopped"] and r["epochs_run"] >= P["epochs"])


def _epochs_line(runs: list[dict], done: list[int], loss: dict, P: dict) -> str:
    """How long the finished runs trained, and whether any stopped at the epoch limit still improving."""
    ok = [r for r in runs if r["diverged"] is None]
    at_limit = _at_limit(ok, P)
    mean_epochs = {d: sum(r["epochs_run"] for r in ok if r["depth"] == d) / len(loss[d]) for d in done}
    means = "; ".join(f"{layers(d)}: {mean_epochs[d]:,.0f}" for d in done)
    if not at_limit:
        return f"  - Mean epochs run: {means}. Every run stopped on the plateau rule before the epoch limit."
    one = at_limit == 1
    return (f"  - Mean epochs run: {means}. {wording.plural(at_limit, 'run')} of {len(ok)} reached the epoch "
            f"limit without meeting the plateau rule: {'its loss was' if one else 'their losses were'} still "
            f"falling, so more epochs may reduce {'it' if one else 'them'}.")


def _cannot_tell_words(t: dict, n_deep: int, n_shallow: int, alpha: float) -> str:
    """Why one comparison has no verdict: p at or above alpha, ranks and medians ordered apart, or a floor."""
    test_words = f"exact two-sided rank test over the seeds, p = {t['p_text']}"
    head = "cannot tell which final training loss is lower"
    if t["verdict"] == "floor":
        return (f"{head}: with {n_deep} and {n_shallow} finished seeds the exact two-sided rank test cannot go "
                f"below p = {t['min_p']:.2g}, not below {alpha:g}")
    if float(t["p_text"]) >= alpha:
        return f"{head} ({test_words}, not below {alpha:g})"
    return f"{head}: the {test_words}, but the seeds' medians order the other way"


def _comparison_line(d: int, shallow: int, t: dict, loss: dict, alpha: float) -> str:
    """One deeper MLP against the shallowest, by the rank test's verdict."""
    head = f"  - The MLP with {layers(d)} against the one with {layers(shallow)}: "
    if t["verdict"] in ("tie", "floor"):
        return head + _cannot_tell_words(t, len(loss[d]), len(loss[shallow]), alpha) + "."
    side = "**lower**" if t["verdict"] == "better" else "**higher**"
    times = _ratio(t["median_deep"] / t["median_shallow"])
    return (f"{head}{side} final training loss (its median {times} times the shallow one's; exact two-sided "
            f"rank test over the seeds, p = {t['p_text']} < {alpha:g}).")


def _function_comment(fn: str, runs: list[dict], R: dict) -> tuple[list[str], str | None]:
    """Bullet lines for one function and its verdict ('deeper', 'shallow', 'tie', 'floor', 'mixed' or None):
    every deeper model against the shallowest, on the seeds' final training losses."""
    P, alpha = R["params"], R["alpha"]
    name = data.FUNCTIONS[fn][1]
    if not runs:
        return [f"- **{name}**: no run was recorded, so there is nothing to compare."], None
    depths = sorted({r["depth"] for r in runs})
    loss = {d: _finished(runs, d) for d in depths}
    test = {d: _finished(runs, d, "test_loss") for d in depths}
    done = [d for d in depths if loss[d]]
    tests = {d: compare(loss[d], loss[done[0]], alpha) for d in done[1:]}
    ordered = [tuple(sorted((t["median_deep"], t["median_shallow"]))) for t in tests.values()
               if t["verdict"] in ("better", "worse")]
    lines = [_losses_line(name, done, loss, test, _fmt(ordered), R)]
    diverged = [r for r in runs if r["diverged"] is not None]
    if diverged and done:
        lines.append(_diverged_line(diverged))
    if len(done) < 2:
        lines.append(f"  - Fewer than two depths have a finished run, so depth is not compared; a smaller "
                     f"learning rate (now lr={P['lr']:g}) may keep the runs finite.")
        return lines, None
    lines.append(_epochs_line(runs, done, loss, P))
    lines += [_comparison_line(d, done[0], t, loss, alpha) for d, t in tests.items()]
    kinds = frozenset(t["verdict"] for t in tests.values())
    verdict = {frozenset({"better"}): "deeper", frozenset({"worse"}): "shallow", frozenset({"tie"}): "tie",
               frozenset({"floor"}): "floor"}.get(kinds, "mixed")
    return lines, verdict


# Across functions, where they got different verdicts: what each kind of verdict says of its functions.
KIND_WORDS = (("deeper", "every deeper model reached a lower final training loss"),
              ("shallow", "every deeper model reached a higher final training loss"),
              ("tie", "the rank test could not tell any deeper model from the shallowest"),
              ("floor", "too few seeds finished for the rank test to reach its level"),
              ("mixed", "the deeper models got different verdicts"))


def _mixed_verdict(decided: dict[str, str], budget: int) -> str:
    """The across-functions sentence where the functions got different verdicts: which function got which."""
    kinds = set(decided.values())
    name = lambda fn: data.FUNCTIONS[fn][1]
    parts = [f"on {wording.join([name(fn) for fn, v in decided.items() if v == kind])} {label}"
             for kind, label in KIND_WORDS if kind in kinds]
    return f"Depth had no consistent effect at about {budget:,} parameters: {wording.join(parts, 'and')}."


def _overall_verdict(decided: dict[str, str], P: dict, alpha: float) -> str:
    """The across-functions sentence: the verdict every compared function shares, or which got which."""
    kinds = set(decided.values())
    budget = f"At about {P['budget']:,} parameters"
    if not decided:
        return "No function has two depths with finished runs, so depth is not compared."
    if kinds == {"deeper"}:
        return (f"{budget} every deeper model reached a lower final training loss than the shallowest on every "
                "function compared: here, depth paid off.")
    if kinds == {"shallow"}:
        return (f"{budget} every deeper model reached a higher final training loss than the shallowest: with this "
                "training budget depth did not pay off.")
    if kinds == {"tie"}:
        return (f"{budget} the rank test could not tell any deeper model from the shallowest: the seeds vary too "
                "much for these seed counts to separate the depths.")
    if kinds == {"floor"} and P["seeds"] < seeds_needed(alpha):
        return (f"With {wording.plural(P['seeds'], 'seed')} per model the exact rank test cannot reach "
                f"p < {alpha:g}, so the report cannot tell whether depth helps; it takes {seeds_needed(alpha)} or "
                "more seeds per model.")
    if kinds == {"floor"}:
        return (f"{budget} too few runs finished (the diverged ones are left out) for the exact rank test to "
                f"reach p < {alpha:g}, so the report cannot tell whether depth helps.")
    return _mixed_verdict(decided, P["budget"])


def comment(R: dict) -> str:
    """The Comment section: per function, each deeper MLP against the shallowest; then across functions."""
    P, alpha = R["params"], R["alpha"]
    lines, verdicts = [], {}
    for fn in P["functions"]:
        more, verdicts[fn] = _function_comment(fn, R["runs"].get(fn, []), R)
        lines += more
    verdict = _overall_verdict({fn: v for fn, v in verdicts.items() if v}, P, alpha)
    seeds = wording.plural(P["seeds"], "seed")
    lines.append(f"\n{verdict} A difference is called only where an exact two-sided rank test (Mann-Whitney, "
                 f"by permutation) of the seeds' final training losses gives p < {alpha:g}, each comparison "
                 f"on its own ({seeds} per model, {R['profile']} profile); a run's final training loss is "
                 f"the median of its training loss over {window_words(R)}, not the loss after its last step."
                 + _budget_text(R))
    return "\n".join(lines)


def _budget_text(R: dict) -> str:
    """Where runs stopped at the epoch limit, still falling: the verdicts are about this budget, not convergence."""
    P = R["params"]
    ok = [r for fn in P["functions"] for r in R["runs"].get(fn, []) if r["diverged"] is None]
    at_limit = _at_limit(ok, P)
    if not at_limit:
        return ""
    return (f" The losses compared are those reached within {P['epochs']:,} epochs under the plateau rule, and "
            f"{at_limit} of {len(ok)} runs were stopped by that limit while still falling: the verdicts are about this "
            "budget, and a longer one could change them.")
