"""1-3a Can the network fit random labels? An MLP memorizes seeded random training labels.

The question (Zhang et al., 2017): can a network reach (almost) zero training error when the
training labels carry no information, and what happens on the test set? Every training label is
replaced by a seeded random class; the test labels stay true. A fully connected net with far more
parameters than training images is trained on them and, for reference, the identical net (same
initialization, same data order) on the true labels. The training set is evaluated in eval mode
after every epoch, so "epochs to 99 %" is measured on fixed weights, not on a running average over
an epoch of changing weights. Both final models are scored on the same test images, so their test
accuracies are compared paired, image by image (McNemar's exact test, ``hwlib.paired``).
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import torch

from .. import data, models, train, wording
from ..labels import agreement, with_random_labels
from ..paired import mcnemar
from ..params import Param, same
from ..plots import figure, legend_below, palette, whole_number_ticks
from ..results import envelope
from ..tables import markdown_table
from . import common

NAME, SECTION = "1_3a_random_labels", "1-3a"

SPEC = {
    "dataset": common.DATASET,
    "train_limit": common.train_limit(smoke=256),
    "widths": Param("int_list", smoke=[128], quick=[512, 512], full=[700, 700, 700], positive=True,
                    doc="hidden widths of the MLP (full: the 784-700-700-700-10 net of the assignment)"),
    "epochs": Param("int", smoke=4, quick=80, full=150, low=1, doc="passes over the training set"),
    "batch_size": Param("int", smoke=64, quick=64, full=100, low=1, doc="images per step"),
    "lr": Param("float", smoke=1e-3, quick=1e-3, full=1e-4, positive=True, doc="learning rate"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS, doc="optimizer of both runs"),
    "seed": same("int", 0, low=0, doc="initialization and data order"),
    "label_seed": same("int", 0, low=0, doc="seed of the random labels"),
    "true_labels_reference": same("bool", True, doc="also train the same net on the true labels"),
    "target_acc": same("float", 0.99, low=0.0, high=1.0, doc="training accuracy that counts as memorized"),
    "data_root": common.DATA_ROOT,
}


class TrainSetMonitor:
    """end_epoch hook: loss and accuracy on the (possibly random-labelled) training set, eval
    mode. Kept as device tensors and read back once at the end (no per-epoch sync)."""

    def __init__(self, ds: data.Dataset):
        self.ds = ds
        self.values = []

    def end_epoch(self, model, epoch, metrics):
        self.values.append(train.evaluate_tensors(model, self.ds.x_train, self.ds.y_train, self.ds.kind))

    def lists(self) -> tuple[list[float], list[float]]:
        return [float(v[0]) for v in self.values], [float(v[1]) for v in self.values]


def first_epoch_reaching(acc: list[float], target: float) -> int | None:
    """1-based epoch at which the accuracy first reaches ``target``, or None."""
    return next((i + 1 for i, a in enumerate(acc) if a >= target), None)


@torch.no_grad()
def test_correct(model: torch.nn.Module, ds: data.Dataset) -> list[bool]:
    """Whether each test image is classified right by the model as it is now, in eval mode."""
    was_training = model.training
    model.eval()
    correct = torch.cat([model(ds.x_test[i:i + train.EVAL_CHUNK]).argmax(1) == ds.y_test[i:i + train.EVAL_CHUNK]
                         for i in range(0, len(ds.x_test), train.EVAL_CHUNK)])
    model.train(was_training)
    return correct.tolist()


def train_one(P, ds: data.Dataset, label: str):
    torch.manual_seed(P.seed)  # same initialization for the random- and the true-label run
    model = models.mlp(P.widths, in_dim=math.prod(ds.input_shape), out_dim=ds.n_classes).to(P.device)
    monitor = TrainSetMonitor(ds)
    h = train.fit(model, ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr, optimizer=P.optimizer,
                  seed=P.seed, hooks=[monitor], label=label)
    train_loss, train_acc = monitor.lists()
    return model, {
        "label": label,
        "epoch": list(range(1, len(train_loss) + 1)), "train_loss": train_loss, "train_acc": train_acc,
        "eval_epoch": h.eval_epoch, "test_loss": h.test_loss, "test_acc": h.test_acc,
        "final": h.final, "seconds": h.seconds, "steps": h.steps, "stopped": h.stopped,
        "epochs_to_target": first_epoch_reaching(train_acc, P.target_acc),
        "best_test_acc": max(h.test_acc) if h.test_acc else None,
        "min_test_loss_epoch": h.eval_epoch[min(range(len(h.test_loss)), key=h.test_loss.__getitem__)]
        if h.test_loss else None,
        "test_correct": test_correct(model, ds),  # the final model, image by image: for the paired test in run()
    }


def run(P) -> dict:
    start = time.perf_counter()
    ds = common.load_data(P)
    noisy = with_random_labels(ds, seed=P.label_seed)
    model, random_run = train_one(P, noisy, "random labels")
    runs = [random_run]
    paired = None
    if P.true_labels_reference:
        runs.append(train_one(P, ds, "true labels")[1])
        # the two final models on the same test images: true-label net (a) against random-label net (b)
        t = mcnemar(runs[1]["test_correct"], random_run["test_correct"])
        paired = {"only_true": t["only_a"], "only_random": t["only_b"], "p": t["p"]}
    for r in runs:
        del r["test_correct"]  # the whole test set per run: the paired test above is what is kept
    info = models.describe(model)
    return envelope(P, NAME, SECTION, time.perf_counter() - start,
                    dataset=ds.describe(), n_train=len(ds.x_train), n_test=len(ds.x_test),
                    chance=1 / ds.n_classes, label_agreement=agreement(noisy.y_train, ds.y_train),
                    model={"widths": info["widths"], "structure": info["structure"], "params": info["params"]},
                    steps_per_epoch=math.ceil(len(ds.x_train) / P.batch_size), runs=runs, test_paired=paired)


# ------------------------------------------------------------------ table and figures

def table(R: dict) -> str:
    """The task, the model and the training settings in one row."""
    P, m = R["params"], R["model"]
    return markdown_table([
        {"task": R["dataset"], "model": f"MLP (ReLU) {m['structure']}", "params": m["params"],
         "params per training image": m["params"] / R["n_train"], "optimizer": P["optimizer"], "lr": P["lr"],
         "batch size": P["batch_size"], "steps per epoch": R["steps_per_epoch"], "epochs": P["epochs"],
         "label seed": P["label_seed"]}])


def figures(R: dict) -> list:
    target = wording.pct(R["params"]["target_acc"], 0)
    reference = ("; dotted: the same net trained on the true labels (reference)"
                 if any(r["label"] == "true labels" for r in R["runs"]) else "")
    caption = (f"Loss (log scale, left) and accuracy (right) per epoch. Solid: the training set with the random "
               f"labels the net is trained on; dashed: the test set with the true labels{reference}; black dashed: "
               f"chance accuracy; dash-dotted vertical line: the epoch at which the random-label training accuracy "
               f"first reached {target}.")
    return [(_curves(R), caption)]


def _curves(R: dict):
    """Loss (log) and accuracy per epoch: train on the labels trained on, test on the true labels."""
    train_colour, test_colour = palette(2)
    fig, axes = figure(ncols=2, height=3.3)
    ax_loss, ax_acc = axes[0]
    for run in R["runs"]:
        ref = run["label"] != "random labels"
        style = {"lw": 1.0 if ref else 1.6, "alpha": 0.55 if ref else 1.0}
        tag = "true-label reference" if ref else "random labels"
        ax_loss.plot(run["epoch"], run["train_loss"], color=train_colour, ls=":" if ref else "-",
                     label=f"train ({tag})", **style)
        ax_loss.plot(run["eval_epoch"], run["test_loss"], color=test_colour, ls=":" if ref else "--",
                     label=f"test ({tag})", **style)
        ax_acc.plot(run["epoch"], run["train_acc"], color=train_colour, ls=":" if ref else "-", **style)
        ax_acc.plot(run["eval_epoch"], run["test_acc"], color=test_colour, ls=":" if ref else "--", **style)
        if not ref and run["epochs_to_target"]:
            ax_acc.axvline(run["epochs_to_target"], color="grey", lw=0.8, ls="-.")
    ax_acc.axhline(R["chance"], color="black", lw=0.8, ls="--", label="chance")
    ax_loss.set(yscale="log", xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02), title="accuracy")
    for ax in (ax_loss, ax_acc):
        whole_number_ticks(ax.xaxis)
    # below both panels: the accuracy curves span the whole height and the loss curves the whole width
    legend_below(fig, (ax_loss, ax_acc), ncols=3, fontsize="x-small")
    return fig


# ------------------------------------------------------------------ comment
# One run per label kind, so the seed noise is unknown; what is known is the sampling noise of a count: an
# accuracy p measured on n images wobbles by sqrt(p·(1−p)/n) by chance. A level is "reached" or "left" only
# by more than NOISE_Z of those standard deviations, the band printed beside the verdict.
NOISE_Z = 2  # two standard deviations: chance alone crosses it about once in 20 comparisons
# The test loss of one run wobbles from epoch to epoch by a few per cent; a change smaller than
# this fraction of the first epoch's value is read as flat, not as a trend.
LOSS_CHANGE = 0.10


def band(level: float, n: int) -> tuple[float, float]:
    """Where an accuracy measured on n images falls by chance alone, if its true value is ``level``."""
    sd = math.sqrt(level * (1 - level) / n)
    return level - NOISE_Z * sd, level + NOISE_Z * sd


def _shown(x: float) -> float:
    """A share as the comment prints it (wording.pct: a percentage with one decimal): verdicts are decided
    on these, so no printed number contradicts its verdict."""
    return float(f"{100 * x:.1f}")


def against_band(acc: float, level: float, n: int) -> str:
    """'above' / 'below' / 'same': ``acc`` against the band around a fixed ``level`` on n images, as printed."""
    lo, hi = band(level, n)
    return "above" if _shown(acc) > _shown(hi) else "below" if _shown(acc) < _shown(lo) else "same"


def paired_side(t: dict | None) -> str:
    """The true-label net's test accuracy against the random-label net's, paired on the shared test set:
    'higher' / 'lower' where McNemar's exact test gives p < wording.ALPHA, else 'cannot tell'."""
    if t["p"] >= wording.ALPHA or t["only_true"] == t["only_random"]:
        return "cannot tell"
    return "higher" if t["only_true"] > t["only_random"] else "lower"


def _band_words(level: float, n: int, what: str) -> str:
    lo, hi = band(level, n)
    return (f"chance {wording.pct(level, 0)}; {NOISE_Z} binomial standard deviations on {n:,} {what}: "
            f"{wording.pct(lo)} to {wording.pct(hi)}")


def _labels_and_fit(R: dict) -> list[str]:
    """How often the random labels agree with the true ones; whether the net fit them, and how fast."""
    P, rand = R["params"], R["runs"][0]
    f, e, target = rand["final"], rand["epochs_to_target"], wording.pct(R["params"]["target_acc"], 0)
    same = against_band(R["label_agreement"], R["chance"], R["n_train"]) == "same"
    lines = [f"- The random labels agree with the true ones on {wording.pct(R['label_agreement'])} of the training "
             f"images ({_band_words(R['chance'], R['n_train'], 'training images')}): "
             + ("within that band, as for labels drawn independently of the images." if same else
                "outside that band, so by this test they are not independent of the images.")]
    if e is not None:
        lines.append(f"- The network **memorized** the random labels: its training accuracy first reached {target} "
                     f"after {wording.plural(e, 'epoch')} ({wording.plural(e * R['steps_per_epoch'], 'step')} of "
                     f"{wording.plural(P['batch_size'], 'image')}) and ended at {wording.pct(f['train_acc'], 2)} (training loss "
                     f"{f['train_loss']:.2e}).")
    else:
        lines.append(f"- Within {wording.plural(P['epochs'], 'epoch')} the training accuracy on random labels did "
                     f"**not** reach {target}: it ended at {wording.pct(f['train_acc'], 2)} (training loss "
                     f"{f['train_loss']:.3g}); more epochs or a larger model may get there.")
    lines[-1] += (f" The model has {R['model']['params']:,} parameters, "
                  f"{wording.amount(R['model']['params'] / R['n_train'])} per training image.")
    return lines


def _test_set(R: dict) -> list[str]:
    """The random-label net on the true test labels: its accuracy against chance, its loss over the epochs."""
    rand, chance, n = R["runs"][0], R["chance"], R["n_test"]
    acc = rand["final"]["test_acc"]
    lines = [f"- Test accuracy (true labels) ended at **{wording.pct(acc)}** ({_band_words(chance, n, 'test images')}): "
             + {"same": "within that band, so at chance level",
                "above": "above that band: the net learned something about the true labels along the way",
                "below": "below that band, so below chance"}[against_band(acc, chance, n)]
             + f" (best over the epochs: {wording.pct(rand['best_test_acc'])}, "
             + {"same": "within", "above": "above", "below": "below"}[against_band(rand["best_test_acc"], chance, n)]
             + " the band)."]
    first, last = rand["test_loss"][0], rand["test_loss"][-1]
    # decided on the printed values (a tolerance for the float product), so "more than 10 %" holds for them
    a, b = float(f"{first:.3g}"), float(f"{last:.3g}")
    lines.append(f"- The test loss went from {first:.3g} after the first epoch to {last:.3g} at the end: " + (
        f"it **grew** by more than {wording.pct(LOSS_CHANGE, 0)}, as a net confident in labels that are wrong for "
        "the test images would."
        if b > a * (1 + LOSS_CHANGE) * (1 + 1e-12) else
        f"it **fell** by more than {wording.pct(LOSS_CHANGE, 0)}."
        if b < a * (1 - LOSS_CHANGE) * (1 - 1e-12) else
        f"it stayed within {wording.pct(LOSS_CHANGE, 0)} of where it started."))
    return lines


def _reference(R: dict, ref: dict) -> str:
    P, e, er = R["params"], R["runs"][0]["epochs_to_target"], ref["epochs_to_target"]
    target = wording.pct(P["target_acc"], 0)
    return ("- On the true labels the same net (same initialization and data order) "
            + (f"reached {target} training accuracy after {wording.plural(er, 'epoch')}" if er is not None
               else f"did not reach {target} training accuracy within {wording.plural(P['epochs'], 'epoch')}")
            + f" and ended at {wording.pct(ref['final']['test_acc'])} test accuracy"
            + (f"; fitting the random labels took {e / er:.1f} times as many epochs in this run." if e and er else "."))


def _conclusion(R: dict, ref: dict | None) -> str:
    P, rand = R["params"], R["runs"][0]
    e, target = rand["epochs_to_target"], wording.pct(P["target_acc"], 0)
    if e is None:
        return (f"This run does not show memorization within {wording.plural(P['epochs'], 'epoch')}, so it cannot "
                "answer the question; more epochs or a larger model may.")
    if ref is None or ref["epochs_to_target"] is None:
        return ("A network this large can fit labels that carry no information. Without a true-label run that fits "
                "the training set too, this run cannot show that training accuracy hides the difference.")
    side, test = paired_side(R["test_paired"]), _paired_words(R, ref)
    if side != "higher":
        what = ("the random-label net tests higher" if side == "lower" else
                "the two nets' test accuracies do not differ beyond the test set's noise")
        return (f"A network this large can fit labels that carry no information; {what} ({test}), so this run cannot "
                "show that training accuracy hides the difference.")
    return (f"The same network reached {target} training accuracy on labels that mean nothing and on the true ones, "
            f"yet the true-label net tests higher ({test}): training accuracy alone cannot tell the two apart, so the "
            "model's capacity alone does not explain why it generalizes.")


def _paired_words(R: dict, ref: dict) -> str:
    """Both final test accuracies and McNemar's exact test of them on the shared test images."""
    t, acc = R["test_paired"], R["runs"][0]["final"]["test_acc"]
    below = "not below" if paired_side(t) == "cannot tell" else "below"
    return (f"{wording.pct(ref['final']['test_acc'])} against {wording.pct(acc)}; McNemar's exact test, paired on the "
            f"shared {R['n_test']:,} test images: {wording.plural(t['only_true'], 'image')} only the true-label net "
            f"classifies right, {t['only_random']:,} only the random-label net, {wording.p_text(t['p'])}, {below} "
            f"{wording.ALPHA:g}")


def comment(R: dict) -> str:
    """The Comment section, every sentence decided by the numbers it states."""
    ref = next((r for r in R["runs"][1:] if r["label"] == "true labels"), None)
    lines = _labels_and_fit(R) + _test_set(R) + ([_reference(R, ref)] if ref is not None else [])
    lines += ["\n" + _conclusion(R, ref), "\n" + _zhang(R, ref)]
    return "\n".join(lines)


ZHANG = ("Zhang et al. (2017) found that networks fit random labels perfectly given enough training, that their "
         "test accuracy then falls to chance, and that fitting random labels takes longer than fitting the true "
         "ones, by a small constant factor")


# Their Figure 1b (CIFAR-10, "convergence slowdown"): fitting random labels took about 1.5 to 3.5 times the steps
# fitting the true ones took.
ZHANG_FACTOR = (1.5, 3.5)


def factor_bounds(e: int, er: int) -> tuple[str, str | None]:
    """The slow-down factor e / er as far as whole epochs fix it: each net reached the target after more than
    one epoch fewer than counted and at most the epochs counted, so the factor lies between (e − 1) / er and
    e / (er − 1) (no upper bound where er is 1), printed rounded outward to one decimal."""
    low = math.floor(Fraction(10 * (e - 1), er))
    high = math.ceil(Fraction(10 * e, er - 1)) if er > 1 else None
    return f"{low / 10:.1f}", (f"{high / 10:.1f}" if high is not None else None)


def against_zhang(e: int, er: int) -> str:
    """'larger' / 'smaller' / 'overlaps': the factor's whole-epoch bounds, as printed, against ZHANG_FACTOR."""
    low, high = factor_bounds(e, er)
    return ("larger" if float(low) > ZHANG_FACTOR[1] else
            "smaller" if high is not None and float(high) < ZHANG_FACTOR[0] else "overlaps")


def _speed(e: int, er: int) -> tuple[list[str], list[str]]:
    """Their third finding against this run: (agreeing clauses, differing clauses)."""
    counts = f"{e} against {er}, counted in whole epochs"
    if e <= er:
        return [], [f"fitting them took {'as many epochs as' if e == er else 'fewer epochs than'} the true labels "
                    f"({counts}) {wording.no_uncertainty('one run each')}"]
    low, high = factor_bounds(e, er)
    factor = (f"{e / er:.1f} times as many epochs as the true labels {wording.no_uncertainty('one run each')}, "
              f"{counts}, so " + (f"between {low} and {high}" if high else f"at least {low}"))
    paper = f"the roughly {ZHANG_FACTOR[0]} to {ZHANG_FACTOR[1]} times their Figure 1b shows (CIFAR-10)"
    side = against_zhang(e, er)
    if side == "overlaps":
        return [f"fitting them took longer, by a factor whose range reaches {paper}: {factor}"], []
    return ["fitting them took longer"], [f"the factor is {side} than {paper}: {factor}"]


def _zhang(R: dict, ref: dict | None) -> str:
    """Whether this run agrees with Zhang et al. on each of their three findings, and what differs here."""
    P, rand = R["params"], R["runs"][0]
    e, er = rand["epochs_to_target"], ref["epochs_to_target"] if ref else None
    acc = rand["final"]["test_acc"]
    agree, differ = [], []
    target = wording.pct(P["target_acc"], 0)
    (agree if e is not None else differ).append(
        f"the net fit the random labels (training accuracy {target} after {wording.plural(e, 'epoch')})"
        if e is not None else f"the net did not fit the random labels (training accuracy "
        f"{wording.pct(rand['final']['train_acc'], 2)} after {wording.plural(P['epochs'], 'epoch')})")
    level = against_band(acc, R["chance"], R["n_test"])
    (agree if level == "same" else differ).append(
        f"its test accuracy ended at chance within {NOISE_Z} binomial standard deviations" if level == "same" else
        f"its test accuracy ended {level} chance by more than {NOISE_Z} binomial standard deviations")
    unknown = f"the speed cannot be compared without both nets reaching {target}" if e is None or er is None else None
    if not unknown:
        longer, unlike = _speed(e, er)
        agree, differ = agree + longer, differ + unlike
    factor = against_zhang(e, er) if not unknown and e > er else None
    verdict = ("agrees" if not differ and not unknown else "does not agree" if not agree else
               "agrees where it can be compared" if not differ else "agrees in part")
    return (f"{ZHANG}. This run **{verdict}**: "
            + "; ".join(([f"as they found, {wording.join(agree)}"] if agree else [])
                        + ([f"unlike their finding, {wording.join(differ)}"] if differ else [])
                        + ([unknown] if unknown else []))
            + ("" if unknown else f". {wording.OTHER_SEEDS_UNKNOWN[0].upper()}{wording.OTHER_SEEDS_UNKNOWN[1:]}")
            + _setting(R, bool(differ or unknown), factor))


def _setting(R: dict, differs: bool, factor: str | None) -> str:
    """Where this run differs from theirs, its setting, and what may explain a factor unlike theirs."""
    P = R["params"]
    if not differs:
        return "."
    why = (f" The dataset, the size of the net or the learning rate may explain the {factor} factor; this run does "
           "not test that." if factor in ("larger", "smaller") else "")
    return (f". The setting differs: here {R['dataset'].split(':')[0]} and an MLP of {R['model']['params']:,} "
            f"parameters trained for {wording.plural(P['epochs'], 'epoch')} by {P['optimizer']} at learning rate "
            f"{P['lr']:g} (the {R['profile']} profile); theirs, CIFAR-10 and ImageNet.{why}")
