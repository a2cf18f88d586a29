"""How the batch-size experiments' results are said, in one place for every comment that says them (1-3d,
1-3e, the summary page): the training criterion, and a rank correlation with its 95 % bootstrap interval
(hwlib.ranks) as a trend, before and after holding the training loss fixed.

A direction is decided on the interval *as printed*, so that "rises" never stands beside "0.00 to …".
"""

from __future__ import annotations

from . import wording
from .wording import direction, fixed, interval  # one way to print a rank correlation, for every comment


def by_batch(rows: list[dict], key: str) -> dict:
    """{batch size: [value per seed]} in batch-size order."""
    out: dict = {}
    for r in sorted(rows, key=lambda r: r["batch_size"]):
        out.setdefault(r["batch_size"], []).append(r[key])
    return out


def criterion_text(R: dict) -> str:
    """The training criterion every model was held to (hwlib.to_target), and the models that missed it."""
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


def trend_text(c: dict, up: str, down: str, none: str) -> str:
    """A rank correlation in words: the direction only where its printed 95 % interval excludes 0."""
    d = direction(c)
    if d == "unknown":
        return "too few models for a rank correlation"
    if d == "none":
        return f"{none} ({interval(c)}, which holds 0)"
    return f"{up if d == 'up' else down} ({interval(c)}, which excludes 0)"


def batch_trend_text(c: dict) -> str:
    """A measure against the batch size."""
    return trend_text(c, "rises", "falls", "no monotone trend is established")


def lean(rhos: list[float | None]) -> str | None:
    """Which way point estimates lean where no interval excludes 0: "the paper's way" where every ρ, as printed,
    is above 0 (the papers these tasks repeat found rising trends), "the other way" where every one is below,
    None where they are missing, print as 0 or disagree. Said as a lean, never as a finding."""
    if not rhos or any(r is None for r in rhos):
        return None
    printed = [float(fixed(r)) for r in rhos]
    if all(v > 0 for v in printed):
        return "the paper's way"
    if all(v < 0 for v in printed):
        return "the other way"
    return None


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
