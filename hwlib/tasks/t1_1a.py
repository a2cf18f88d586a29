"""1-1a Simulate a function: MLPs of different depth at one parameter count fit 1-D functions."""

from __future__ import annotations

import time

import torch

from .. import data, models, train, wording
from ..device import cpu_threads
from ..params import Param, ParamError, same
from ..results import envelope, thin

NAME, SECTION = "1_1a_simulate_function", "1-1a"

SPEC = {
    "functions": same("str_list", ["sinc", "sign"], choices=tuple(data.FUNCTIONS), min_len=1,
                      doc="functions to fit on [-1, 1]"),
    "budget": Param("int", 150, 570, 570, low=20, doc="parameter budget every model is solved for"),
    "depths": Param("int_list", [1, 4], [1, 3, 6], [1, 3, 6], low=1, high=12, min_len=2,
                    doc="hidden layers of each model"),
    "activation": same("str", "relu", choices=tuple(models.ACTIVATIONS)),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS),
    "lr": same("float", 3e-3, positive=True),
    "epochs": Param("int", 60, 4000, 20000, low=1, doc="upper limit; the plateau rule may stop earlier"),
    "n_train": Param("int", 200, 1000, 1000, low=10, doc="training points, evenly spaced"),
    "batch_size": Param("int", 200, 1000, 1000, low=1, doc="≥ n_train means full batch"),
    "seeds": Param("int", 1, 2, 3, low=1, doc="independent initializations per model"),
    "plateau_window": Param("int", 0, 1000, 2000, low=0, doc="0 disables the plateau rule"),
    "plateau_tol": same("float", 0.01, low=0.0, high=1.0),
}


def checks(P) -> None:
    for depth in P.depths:
        try:
            models.solve_mlp_widths(P.budget, depth)
        except ValueError as exc:
            raise ParamError(str(exc)) from None
    if len(set(P.depths)) < 2:
        raise ParamError(f"depths={P.depths!r} compares nothing: give at least 2 different depths")


def plateau(P) -> train.Plateau | None:
    return train.Plateau(P.plateau_window, P.plateau_tol) if P.plateau_window else None


def run(P) -> dict:
    start = time.perf_counter()
    # ~600-parameter nets on 1,000 points: splitting such small ops over threads costs more in
    # synchronization than it saves (measured 5-10× slower per epoch with 2 threads on a busy 2-core CPU).
    with cpu_threads(1, P.device):
        return _run(P, start)


def _run(P, start: float) -> dict:
    table = []
    for depth in P.depths:
        info = models.describe(models.mlp_for_budget(P.budget, depth, activation=P.activation))
        table.append({"depth": depth, "widths": info["widths"], "params": info["params"],
                      "activation": P.activation, "optimizer": P.optimizer, "lr": P.lr, "epochs (max)": P.epochs})
    runs, predictions = {}, {}
    for fn in P.functions:
        ds = data.function_data(fn, P.device, n_train=P.n_train)
        runs[fn], predictions[fn] = [], {"x": ds.x_test[:, 0], "truth": ds.y_test[:, 0], "by_depth": {}}
        for depth in P.depths:
            best = None
            for seed in range(P.seeds):
                torch.manual_seed(seed)
                model = models.mlp_for_budget(P.budget, depth, activation=P.activation).to(P.device)
                h = train.fit(model, ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr, optimizer=P.optimizer,
                              seed=seed, eval_every=P.epochs, plateau=plateau(P), label=f"{fn} depth {depth} seed {seed}")
                runs[fn].append({"depth": depth, "seed": seed, "epochs_run": len(h.epoch), "stopped": h.stopped,
                                 "diverged": h.diverged, "train_loss": h.final["train_loss"],
                                 "test_loss": h.final["test_loss"], "seconds": h.seconds,
                                 "curve": thin(h.epoch, h.train_loss)})
                if h.diverged is None and (best is None or h.final["train_loss"] < best[0]):
                    with torch.no_grad():
                        best = (h.final["train_loss"], model.eval()(ds.x_test)[:, 0])
            if best is not None:
                predictions[fn]["by_depth"][str(depth)] = best[1]
    return envelope(P, NAME, SECTION, time.perf_counter() - start, models=table, runs=runs,
                    predictions=predictions, summary=summarize(runs),
                    plateau=plateau(P).describe() if plateau(P) else "off")


def summarize(runs: dict) -> dict:
    """Per function and depth: mean/min final losses over seeds, epochs and seconds."""
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
                "seconds_mean": sum(r["seconds"] for r in ok) / n if ok else None,
                "plateau_stops": sum(1 for r in ok if r["stopped"]),
            }
    return out


# ------------------------------------------------------------------ comment

def layers(depth) -> str:
    return wording.plural(int(depth), "hidden layer")


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
    lines.append(f"  - Mean epochs run: " + "; ".join(
        f"{layers(d)}: {sum(r['epochs_run'] for r in ok if r['depth'] == d) / len(loss[d]):,.0f}" for d in done)
        + ". " + (f"{wording.plural(at_limit, 'run')} of {len(ok)} reached the epoch limit without meeting the "
                  f"plateau rule, so {'its loss is' if at_limit == 1 else 'their losses are'} not final."
                  if at_limit else f"Every run stopped on the plateau rule before the epoch limit."))
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
