"""1-1a Simulate a function: with the same number of parameters, does a deeper MLP fit a 1-D function better?

Each function is sampled on evenly spaced points of [-1, 1]. For every depth the hidden widths are
solved from one parameter budget, so all models land within 1 % of it. Every model trains
full-batch from several seeds until the epoch limit or the plateau rule; the test loss is taken on a
denser grid between the training points. The comment compares each deeper model with the shallowest
on final training loss, calling a difference only where the seed ranges do not overlap.
"""

from __future__ import annotations

import time

import torch

from .. import data, ensemble, models, train, wording
from ..device import cpu_threads
from ..params import Param, ParamError, same
from ..plots import figure, palette
from ..results import envelope, thin
from ..tables import markdown_table

NAME, SECTION = "1_1a_simulate_function", "1-1a"

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
    "seeds": Param("int", smoke=1, quick=2, full=3, low=1, doc="independent initializations per model"),
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
                           label=f"depth {depth}: {wording.plural(len(pairs), 'model')} "
                                 f"({wording.join(P.functions)} × {wording.plural(P.seeds, 'seed')})")
        train_loss, _ = ensemble.evaluate(ens, ens.theta, both.x_train, both.y_train, "regression", per_model_y=True)
        test_loss, _ = ensemble.evaluate(ens, ens.theta, both.x_test, both.y_test, "regression", per_model_y=True)
        with torch.no_grad():
            outputs = ens.outputs(ens.theta, both.x_test)[:, :, 0]  # (K, n_test)
        ensembles.append({"depth": depth, "models": len(pairs), "epochs": len(h.epoch), "seconds": h.seconds})
        for i, (fn, seed) in enumerate(pairs):
            runs[fn].append({"depth": depth, "seed": seed, "epochs_run": h.epochs_run[i], "stopped": h.stopped[i],
                             "diverged": h.diverged[i], "train_loss": train_loss[i].item(),
                             "test_loss": test_loss[i].item(), "curve": thin(h.epoch[:h.epochs_run[i]], h.curve(i))})
        for fn in P.functions:  # the figure shows each depth's best seed (lowest final training loss)
            ok = [i for i, (f, _) in enumerate(pairs) if f == fn and h.diverged[i] is None]
            if ok:
                best = min(ok, key=lambda i: train_loss[i].item())
                predictions[fn]["by_depth"][str(depth)] = outputs[best]
    return envelope(P, NAME, SECTION, time.perf_counter() - start, models=table, runs=runs,
                    predictions=predictions, summary=summarize(runs), ensembles=ensembles,
                    plateau=plateau(P).describe() if plateau(P) else "off")


def summarize(runs: dict) -> dict:
    """Per function and depth: mean/min final losses over seeds, and epochs run."""
    out = {}
    for fn, rs in runs.items():
        out[fn] = {}
        for depth in sorted({r["depth"] for r in rs}):
            ok = [r for r in rs if r["depth"] == depth and r["diverged"] is None]
            n = max(len(ok), 1)
            out[fn][str(depth)] = {
                "runs": len(ok), "diverged": sum(r["depth"] == depth and r["diverged"] is not None for r in rs),
                "train_loss_mean": sum(r["train_loss"] for r in ok) / n if ok else None,
                "train_loss_min": min((r["train_loss"] for r in ok), default=None),
                "test_loss_mean": sum(r["test_loss"] for r in ok) / n if ok else None,
                "epochs_mean": sum(r["epochs_run"] for r in ok) / n if ok else None,
                "plateau_stops": sum(1 for r in ok if r["stopped"]),
            }
    return out


def run(P) -> dict:
    start = time.perf_counter()
    # ~600-parameter nets on 1,000 points: splitting such small ops over threads costs more in
    # synchronization than it saves (measured 5-10× slower per epoch with 2 threads on a busy 2-core CPU).
    with cpu_threads(1, P.device):
        return _run(P, start)


# ------------------------------------------------------------------ table and figures

def table(R: dict) -> str:
    """The models compared (read from the built models) and the stopping rule."""
    return markdown_table(R["models"]) + f"\n\nPlateau rule: {R['plateau']}."


def figures(R: dict) -> list:
    """Per function: the training loss of every model, then the predictions over the ground truth."""
    out = []
    for fn in R["params"]["functions"]:
        formula = data.FUNCTIONS[fn][1]
        loss = (f"Training loss of every model on {formula} against the epoch, both axes logarithmic: one line "
                f"per seed (the first seed drawn thicker), and × marks a run that diverged.")
        fits = (f"Prediction of each model (its seed with the lowest final training loss) over the ground truth "
                f"{formula} on the test grid.")
        out += [(_loss_curves(R, fn), loss), (_predictions(R, fn, formula), fits)]
    return out


# Every legend here goes below the axes: the curves fill the whole panel, so no corner is reliably free.

def _loss_curves(R: dict, fn: str):
    """Training loss (log) against epoch, one colour per depth, one line per seed."""
    fig, ax = figure()
    depths = [m["depth"] for m in R["models"]]
    colours = dict(zip(depths, palette(len(depths))))
    params = {m["depth"]: m["params"] for m in R["models"]}
    seen = set()
    for r in R["runs"][fn]:
        label = None if r["depth"] in seen else f"{layers(r['depth'])} ({params[r['depth']]:,} parameters)"
        seen.add(r["depth"])
        ax.plot(r["curve"]["x"], r["curve"]["y"], color=colours[r["depth"]], lw=1.4 if r["seed"] == 0 else 0.9,
                alpha=1.0 if r["seed"] == 0 else 0.5, label=label)
        if r["diverged"]:
            ax.plot(r["curve"]["x"][-1:], r["curve"]["y"][-1:], "x", color=colours[r["depth"]], ms=8)
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

def _function_comment(fn: str, runs: list[dict], P: dict) -> tuple[list[str], str | None]:
    """Bullet lines for one function and its verdict ('deeper', 'shallow', 'tie', 'unknown', 'mixed' or None):
    every deeper model against the shallowest, on final training loss over seeds."""
    name = data.FUNCTIONS[fn][1]
    if not runs:
        return [f"- **{name}**: no run was recorded, so there is nothing to compare."], None
    depths = sorted({r["depth"] for r in runs})
    loss = {d: [r["train_loss"] for r in runs if r["depth"] == d and r["diverged"] is None] for d in depths}
    test = {d: [r["test_loss"] for r in runs if r["depth"] == d and r["diverged"] is None] for d in depths}
    done = [d for d in depths if loss[d]]
    lines = [f"- **{name}**: final training loss: "
             + "; ".join(f"{layers(d)}: {wording.spread(loss[d], '.2e')}" for d in done)
             + ". Test loss on the dense grid between the training points: "
             + "; ".join(f"{layers(d)}: {wording.spread(test[d], '.2e')}" for d in done) + "."
             if done else f"- **{name}**: every run diverged (the loss became NaN or infinite)."]
    diverged = [r for r in runs if r["diverged"] is not None]
    if diverged and done:
        lines.append(f"  - {wording.plural(len(diverged), 'run')} diverged (the loss became NaN or infinite, "
                     f"× in the figure) and {'is' if len(diverged) == 1 else 'are'} left out.")
    if len(done) < 2:
        lines.append(f"  - Fewer than two depths have a finished run, so depth is not compared; a lower learning "
                     f"rate (now lr={P['lr']:g}) may keep the runs finite.")
        return lines, None
    ok = [r for r in runs if r["diverged"] is None]
    at_limit = sum(1 for r in ok if not r["stopped"] and r["epochs_run"] >= P["epochs"])
    lines.append("  - Mean epochs run: " + "; ".join(
        f"{layers(d)}: {sum(r['epochs_run'] for r in ok if r['depth'] == d) / len(loss[d]):,.0f}" for d in done)
        + ". " + (f"{wording.plural(at_limit, 'run')} of {len(ok)} reached the epoch limit without meeting the "
                  f"plateau rule, so {'its loss is' if at_limit == 1 else 'their losses are'} not final."
                  if at_limit else "Every run stopped on the plateau rule before the epoch limit."))
    shallow, said = done[0], []
    for d in done[1:]:
        g = wording.gap(loss[d], loss[shallow])
        said.append({"a": "worse", "b": "better"}.get(g.verdict, g.verdict))
        lines.append(f"  - The MLP with {layers(d)} against the one with {layers(shallow)}: " + {
            "b": f"**clearly lower** training loss ({g.mean_a / g.mean_b:.2g} times the shallow one; every seed below "
                 f"every seed of the shallow model)",
            "a": f"**clearly higher** training loss ({g.mean_a / g.mean_b:.2g} times the shallow one; every seed above "
                 f"every seed of the shallow model)",
            "tie": "**no clear difference** (the seed ranges overlap)",
            "unknown": "the seed noise is unknown (one finished run on a side), so no difference is called",
        }[g.verdict] + ".")
    kinds = set(said)
    verdict = ("deeper" if kinds == {"better"} else "shallow" if kinds == {"worse"} else "tie" if kinds == {"tie"}
               else "unknown" if kinds == {"unknown"} else "mixed")
    return lines, verdict


def comment(R: dict) -> str:
    """The Comment section: per function, each deeper MLP against the shallowest; then across functions."""
    P = R["params"]
    lines, verdicts = [], {}
    for fn in P["functions"]:
        more, verdicts[fn] = _function_comment(fn, R["runs"].get(fn, []), P)
        lines += more
    name = lambda fn: data.FUNCTIONS[fn][1]
    decided = {fn: v for fn, v in verdicts.items() if v}
    kinds = set(decided.values())
    seeds = wording.plural(P["seeds"], "seed")
    if not decided:
        verdict = "No function has two depths with finished runs, so depth is not compared."
    elif kinds == {"deeper"}:
        verdict = (f"At about {P['budget']:,} parameters every deeper model fit clearly better than the shallowest "
                   f"on every function compared: here, depth paid off.")
    elif kinds == {"shallow"}:
        verdict = (f"At about {P['budget']:,} parameters every deeper model fit clearly worse than the shallowest: "
                   f"with this training budget depth did not pay off.")
    elif kinds == {"tie"}:
        verdict = (f"At about {P['budget']:,} parameters no depth fit clearly better or worse than the shallowest: "
                   f"the seeds vary more than the depths do.")
    elif kinds == {"unknown"}:
        verdict = (f"With {seeds} per model the seed noise is unknown, so no depth is called better; "
                   f"run 2 or more seeds to compare.")
    else:
        parts = [f"on {wording.join([name(fn) for fn, v in decided.items() if v == kind])} {label}"
                 for kind, label in (("deeper", "every deeper model fit clearly better"),
                                     ("shallow", "every deeper model fit clearly worse"),
                                     ("tie", "the seeds could not tell the depths apart"),
                                     ("unknown", "the seed noise is unknown"),
                                     ("mixed", "the deeper models did not agree with each other"))
                 if kind in kinds]
        verdict = f"Depth had no consistent effect at about {P['budget']:,} parameters: {wording.join(parts, 'and')}."
    lines.append(f"\n{verdict} A difference is called only when every seed of one model beats every seed of the "
                 f"other ({seeds} per model, {R['profile']} profile).")
    return "\n".join(lines)
