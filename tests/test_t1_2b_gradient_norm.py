"""1-2b: the smoke run end to end, its table and figures, comment() on every branch with small
hand-made results dicts, a property test that re-derives every number and claim of comment() from
random results, and the trend helpers."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from hwlib.params import resolve_task
from hwlib.plots import png
from hwlib.tasks import t1_2b_gradient_norm as t1_2b


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    P = resolve_task(t1_2b, profile="smoke", device="cpu", out_dir=tmp_path_factory.mktemp("out"))
    return P, t1_2b.run(P)


def test_records_every_iteration(smoke):
    P, R = smoke
    fn = R["per_dataset"]["sinc"]
    assert fn["full_batch"] and fn["steps"] == P.function_epochs
    img = R["per_dataset"]["digits"]
    assert img["steps"] == P.image_epochs * -(-P.train_limit // P.image_batch_size)
    for D in (fn, img):
        for run in D["runs"]:
            assert len(run["grad_norm"]) == len(run["loss"]) == D["steps"]
            assert all(g > 0 for g in run["grad_norm"])
            end = float(np.median(run["grad_norm"][-D["trend_window"]:]))
            assert run["end_grad_norm"] == pytest.approx(end)
    assert "(s)" not in t1_2b.comment(R)


def test_table_and_figures(smoke):
    _, R = smoke
    table = t1_2b.table(R)
    assert table.count("\n") == 1 + len(R["per_dataset"]) and "| full |" in table
    figs = t1_2b.figures(R)
    assert len(figs) == len(R["per_dataset"])  # one per dataset
    for fig, caption in figs:
        assert isinstance(fig, Figure) and caption.endswith(".")
        for bad in ("(s)", "[", "`", "True", "False"):
            assert bad not in caption, bad
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def run(seed=0, gs=1.0, ge=0.1, ls=2.0, le=0.1, rho=0.7, peak=1.0, peak_it=1, jg=1.0, jl=0.1, tp=None,
        tpi=50):
    d = seed * 0.01  # a little seed spread
    return {"seed": seed, "start_grad_norm": gs + d, "end_grad_norm": ge + d, "start_loss": ls + d,
            "end_loss": le + d,
            "spearman_grad_loss": rho + d, "peak_grad_norm": peak, "peak_iteration": peak_it,
            "max_jump_grad_norm": jg + d, "max_jump_loss": jl + d,
            "trend_peak_grad_norm": gs if tp is None else tp, "trend_peak_iteration": tpi}


def make_R(runs, full_batch=True):
    return {"per_dataset": {"sinc": {"dataset": "sinc: 64 train", "full_batch": full_batch, "batch_size": 64,
                                     "steps": 3000, "trend_window": 60, "runs": runs}}}


def test_both_fall_strong_link_gradient_noisier():
    text = t1_2b.comment(make_R([run(s) for s in range(3)]))
    assert "the loss falls in every seed, from" in text
    assert "the gradient norm falls in every seed, from" in text
    assert "a strong link in every seed" in text and "not in step" not in text
    assert "at the very first iteration in every seed" in text
    assert "The gradient norm is the noisier" in text
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad


def test_weak_link_while_both_fall_is_called_weak():
    text = t1_2b.comment(make_R([run(s, rho=0.33) for s in range(3)]))
    assert "a weak link in every seed" in text
    assert "Both fall over the run as a whole in every seed, but not in step" in text
    assert "shrinks roughly along" not in text


@pytest.mark.parametrize("rho, words", [(0.45, "a moderate link"), (0.1, "no link"),
                                        (-0.5, "in the opposite direction"), (0.395, "a moderate link")])
def test_rho_bands(rho, words):
    assert words in t1_2b.comment(make_R([run(s, rho=rho) for s in range(3)]))


def test_seeds_disagree_on_the_sign():
    runs = [run(0, rho=-0.3), run(1, rho=0.1), run(2, rho=0.9)]
    assert "the seeds disagree even on its sign" in t1_2b.comment(make_R(runs))


def test_gradient_rises_with_minibatches_and_a_hump():
    runs = [run(s, gs=0.3, ge=0.6, tp=1.2, tpi=100, peak_it=100 + s) for s in range(3)]
    text = t1_2b.comment(make_R(runs, full_batch=False))
    assert "the gradient norm rises in every seed, from" in text
    assert "first climbs to 1.2, more than 1.5 times both its start and its end, near iteration 100," in text
    assert ("Each seed's largest single gradient norm: 1 at iteration 100 (seed 0), 1 at iteration 101 "
            "(seed 1) and 1 at iteration 102 (seed 2).") in text
    assert "Goodfellow, Bengio and Courville" in text  # the loss falls while the gradient norm rises
    assert "With minibatches the gradient measured is the minibatch's" in text
    # full batch: no minibatch sentence; no hump when the top is not well above both ends
    text = t1_2b.comment(make_R([run(s, gs=0.3, ge=0.6, tp=0.7) for s in range(3)]))
    assert "minibatch's" not in text and "first climbs" not in text


def test_ties_and_loss_noisier():
    runs = [run(s, gs=1.0 - 0.1 * s, ge=0.9 + 0.15 * s, ls=1.0 - 0.1 * s, le=0.9 + 0.15 * s, jg=0.1, jl=1.0,
                peak_it=7) for s in range(3)]
    text = t1_2b.comment(make_R(runs))
    # start and end are paired within a seed: seed 0 falls, seeds 1 and 2 rise, whatever the ranges do
    assert text.count("but it falls in seed 0 and rises in seeds 1 and 2: the seeds cannot tell") == 2
    assert "The loss is the noisier of the two in every seed" in text
    assert "at iteration 7 in every seed: 1 (seed 0), 1 (seed 1) and 1 (seed 2)." in text
    # overlapping ranges but the loss jumps more in every seed: that is what the paired numbers say
    overlap = [run(s, jg=0.5 + 0.1 * s, jl=0.55 + 0.1 * s) for s in range(3)]
    assert "The loss is the noisier of the two in every seed" in t1_2b.comment(make_R(overlap))
    mixed = [run(0, jg=0.5, jl=0.6), run(1, jg=0.69, jl=0.59), run(2, jg=0.58, jl=0.58)]
    assert ("depends on the seed, the gradient norm in seed 1, the loss in seed 0 and neither in seed 2"
            in t1_2b.comment(make_R(mixed)))


def test_one_seed_unknown():
    text = t1_2b.comment(make_R([run(0)]))
    # the loss, the gradient norm, ρ and the noisier one: each says that one seed cannot speak for others
    assert "1 seed," in text and text.count("whether other seeds would agree is unknown") == 4
    assert "In its one seed the gradient norm is the noisier" in text
    assert "in every seed" not in text and "mean" not in text and "at the very first iteration." in text


def test_running_median_and_window():
    assert t1_2b.running_median([1, 100, 2, 3, 4], 3).tolist() == [2, 3, 3]
    assert t1_2b.trend_window(460, 20) == 23  # minibatches: one epoch
    assert t1_2b.trend_window(3000, 3000) == 60  # full batch: a fiftieth of the run
    assert t1_2b.trend_window(60, 60) == 5 and t1_2b.trend_window(3, 3) == 3
    assert len(t1_2b.running_median(np.ones(4), 10)) == 1


def test_figure_without_a_trend_window_and_with_a_missing_value():
    # a run too short for a running median: the raw trace itself is drawn bold and labelled
    D = {"dataset": "sinc: 8 train", "full_batch": True, "batch_size": 8, "trend_window": 1,
         "runs": [{"seed": 0, "grad_norm": [1.0, None, 0.5], "loss": [2.0, 1.0, 0.5]}]}
    (fig, caption), = t1_2b.figures({"per_dataset": {"sinc": D}})
    assert "over 1 iteration," in caption
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["seed 0", "every iteration (faint)"]
    assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def test_each_seed_has_its_own_peak():
    # the referee's case (issue 20): 2.01 was seed 0's peak, printed as if it were every seed's
    runs = [run(0, peak=2.01, peak_it=319), run(1, peak=1.71, peak_it=110), run(2, peak=1.86, peak_it=391)]
    text = t1_2b.comment(make_R(runs, full_batch=False))
    assert ("Each seed's largest single gradient norm: 2.01 at iteration 319 (seed 0), 1.71 at iteration 110 "
            "(seed 1) and 1.86 at iteration 391 (seed 2).") in text


# ------------------------------------------------------------------ property test
# Random results with the structure run() returns; the test parses comment(R) back sentence by sentence
# and re-derives, from R alone, every number it prints and every claim it makes (which seeds, which
# iteration, which way, which band). A sentence no pattern below knows fails the test, so a new
# sentence cannot slip in unchecked.

NUM = r"(-?(?:\d[\d,]*(?:\.\d+)?(?:e[+-]\d+)?|inf))"
SPAN = NUM + r"(?:–" + NUM + r")?"  # one printed value, or lowest–highest
SEEDS = r"(seeds? (?:\d+(?:, | and ))*\d+)"
ONE = "one seed, so whether other seeds would agree is unknown"
HEAD = "Spearman rank correlation of gradient norm and loss over the iterations: ρ = "
LINKS = {"no link": "none", "a weak link": "weak", "a moderate link": "moderate", "a strong link": "strong"}
MEANING = {"strong": "the two rise and fall together", "moderate": "they move together only loosely",
           "weak": "iteration by iteration the gradient norm says little about the loss",
           "none": "no monotone link between the two"}
OPPOSITE = "in the opposite direction: the gradient norm tends to be larger where the loss is smaller"
LINK_RE = "(" + "|".join(LINKS) + ")"


def prints_as(s: str, x: float, fmt: str) -> bool:
    """``s`` is ``x`` at ``fmt``; a mean summed in another order may differ in its last bit."""
    return any(format(v, fmt) == s for v in (x, x * (1 + 1e-12), x * (1 - 1e-12)))


def check_span(lo, hi, values, fmt=".3g"):
    """'a' claims every value prints as a; 'a–b' the lowest and the highest as printed, which differ."""
    want = format(min(values), fmt), format(max(values), fmt)
    assert (lo, hi) == ((want[0], None) if want[0] == want[1] else want), (lo, hi, values)


def seed_ids(phrase: str) -> set[int]:
    return {int(i) for i in re.findall(r"\d+", phrase)}


def band(rho: float) -> str:
    """The strength band of ρ as printed (2 decimals): |ρ| ≥ 0.6 strong, ≥ 0.4 moderate, ≥ 0.2 weak."""
    size = abs(float(f"{rho:.2f}"))
    return "strong" if size >= 0.6 else "moderate" if size >= 0.4 else "weak" if size >= 0.2 else "none"


def direction(start, end):
    return "falls" if end < start else "rises" if end > start else "stays level"


def check_change(phrase: str, runs: list[dict], key: str) -> str:
    """Check how the text says ``key`` went from start to end; return the direction all seeds share, or ''."""
    starts, ends = [r[f"start_{key}"] for r in runs], [r[f"end_{key}"] for r in runs]
    dirs = {r["seed"]: direction(s, e) for r, s, e in zip(runs, starts, ends)}
    n, ms, me = len(runs), math.fsum(starts) / len(runs), math.fsum(ends) / len(runs)
    if m := re.fullmatch(rf"goes from {NUM} to {NUM} \(means over the (\d+) seeds\), but it (.+): "
                         "the seeds cannot tell which way it goes", phrase):
        assert prints_as(m[1], ms, ".3g") and prints_as(m[2], me, ".3g") and int(m[3]) == n
        named = {}
        for d in ("falls", "rises", "stays level"):
            g = re.search(rf"{d} in {SEEDS}", m[4])
            named.update({i: d for i in (seed_ids(g[1]) if g else ())})
        assert named == dirs and len(set(dirs.values())) > 1, (phrase, dirs)
        return ""
    if m := re.fullmatch(rf"(falls|rises) in every seed, from {NUM} to {NUM} \(means over the (\d+) seeds\), "
                         rf"by a factor of {SPAN} (in every seed|depending on the seed)", phrase):
        assert set(dirs.values()) == {m[1]} and n > 1 and int(m[4]) == n, (phrase, dirs)
        assert prints_as(m[2], ms, ".3g") and prints_as(m[3], me, ".3g")
        check_span(m[5], m[6], [s / e if m[1] == "falls" else e / s for s, e in zip(starts, ends)])
        assert (m[6] is None) == (m[7] == "in every seed")
        return m[1]
    if m := re.fullmatch(rf"stays level in every seed, at {NUM} \(mean over the (\d+) seeds\)", phrase):
        assert set(dirs.values()) == {"stays level"} and n > 1 and int(m[2]) == n
        assert prints_as(m[1], ms, ".3g")
        return "stays level"
    if m := re.fullmatch(rf"(falls|rises) from {NUM} to {NUM}, by a factor of {NUM} \({ONE}\)", phrase):
        (s,), (e,) = starts, ends
        assert direction(s, e) == m[1] and m[2] == f"{s:.3g}" and m[3] == f"{e:.3g}"
        assert m[4] == format(s / e if m[1] == "falls" else e / s, ".3g")
        return m[1]
    m = re.fullmatch(rf"stays level at {NUM} \({ONE}\)", phrase)
    assert m and n == 1 and starts == ends and m[1] == f"{starts[0]:.3g}", phrase
    return "stays level"


def check_where(phrase: str, it: int):
    assert phrase == ("the very first iteration" if it == 1 else f"iteration {it:,}"), (phrase, it)


def check_peaks(sentence: str, runs: list[dict]):
    peak = {r["seed"]: (r["peak_grad_norm"], r["peak_iteration"]) for r in runs}
    if m := re.fullmatch(rf"The largest single gradient norm is {NUM}, at (.+)\.", sentence):
        (v, it), = peak.values()
        assert m[1] == f"{v:.3g}"
        return check_where(m[2], it)
    if m := re.fullmatch(r"The largest single gradient norm comes at (.+?) in every seed: (.+)\.", sentence):
        items = re.findall(rf"{NUM} \(seed (\d+)\)", m[2])
        assert len(runs) > 1 and sorted(int(i) for _, i in items) == sorted(peak)  # each seed once
        for v, i in items:
            assert v == f"{peak[int(i)][0]:.3g}", (sentence, peak)
            check_where(m[1], peak[int(i)][1])  # "in every seed": the same iteration for each
        return
    m = re.fullmatch(r"Each seed's largest single gradient norm: (.+)\.", sentence)
    assert m, sentence
    items = re.findall(rf"{NUM} at (the very first iteration|iteration [\d,]+) \(seed (\d+)\)", m[1])
    assert len(runs) > 1 and sorted(int(i) for *_, i in items) == sorted(peak)
    for v, where, i in items:
        assert v == f"{peak[int(i)][0]:.3g}", (sentence, peak)
        check_where(where, peak[int(i)][1])


def check_hump(sentence: str, runs: list[dict]):
    up = [r for r in runs if r["trend_peak_grad_norm"] > 1.5 * max(r["start_grad_norm"], r["end_grad_norm"])]
    m = re.fullmatch(rf"(It|In every seed it|In {SEEDS} \(not in {SEEDS}\) it) does not get there steadily: "
                     rf"its running median first climbs to {SPAN}, more than 1\.5 times both its start and "
                     rf"its end, near (iterations?) ([\d,]+)(?:–([\d,]+))?, and then comes down\.", sentence)
    assert m and up, (sentence, runs)
    if m[1] == "It":
        assert len(runs) == 1
    elif m[1] == "In every seed it":
        assert len(up) == len(runs) > 1
    else:
        assert seed_ids(m[2]) == {r["seed"] for r in up}
        assert seed_ids(m[3]) == {r["seed"] for r in runs} - seed_ids(m[2])
    check_span(m[4], m[5], [r["trend_peak_grad_norm"] for r in up])
    check_span(m[7], m[8], [r["trend_peak_iteration"] for r in up], ",")
    assert (m[6] == "iterations") == (m[8] is not None)


def check_rho(sentence: str, runs: list[dict]) -> set[str]:
    rhos = {r["seed"]: r["spearman_grad_loss"] for r in runs}
    bands = {i: band(x) for i, x in rhos.items()}
    printed = {i: float(f"{x:.2f}") for i, x in rhos.items()}
    opp = rf"(, and {OPPOSITE})?"
    if len(runs) == 1:
        m = re.fullmatch(rf"{re.escape(HEAD)}{NUM}, {LINK_RE}: (.+?){opp} \({ONE}\)\.", sentence)
        (i, x), = rhos.items()
        assert m and m[1] == f"{x:.2f}" and LINKS[m[2]] == bands[i] and m[3] == MEANING[bands[i]], sentence
        assert bool(m[4]) == (printed[i] <= -0.2)  # the direction said is the sign of ρ
        return set(bands.values())
    m = re.fullmatch(rf"{re.escape(HEAD)}{NUM} \(mean over the (\d+) seeds; {NUM}(?: to {NUM})? by seed\)"
                     r"(.+)\.", sentence)
    assert m and int(m[2]) == len(runs), sentence
    assert prints_as(m[1], math.fsum(rhos.values()) / len(runs), ".2f"), sentence
    lo, hi = format(min(rhos.values()), ".2f"), format(max(rhos.values()), ".2f")
    assert (m[3], m[4]) == ((lo, None) if lo == hi else (lo, hi))
    tail = m[5]
    pos, neg = [i for i in printed if printed[i] >= 0.2], [i for i in printed if printed[i] <= -0.2]
    if tail == "; the seeds disagree even on its sign, so no reading holds for all of them":
        assert pos and neg
    elif t := re.fullmatch(rf", {LINK_RE} in every seed: (.+?){opp}", tail):
        assert set(bands.values()) == {LINKS[t[1]]} and t[2] == MEANING[LINKS[t[1]]], (tail, rhos)
        assert not (pos and neg) and (not t[3] or not pos) and (t[3] or not neg)  # one direction for all
    else:
        t = re.fullmatch(rf": how closely the two follow each other depends on the seed, from {LINK_RE} "
                         rf"\({SEEDS}\) to {LINK_RE} \({SEEDS}\), so the seeds cannot tell"
                         rf"(; where there is a link it runs {OPPOSITE})?", tail)
        assert t and not (pos and neg), (tail, rhos)
        order = ["none", "weak", "moderate", "strong"]
        weakest, strongest = min(bands.values(), key=order.index), max(bands.values(), key=order.index)
        assert (LINKS[t[1]], LINKS[t[3]]) == (weakest, strongest) and weakest != strongest
        assert seed_ids(t[2]) == {i for i in bands if bands[i] == weakest}
        assert seed_ids(t[4]) == {i for i in bands if bands[i] == strongest}
        assert bool(t[5]) == bool(neg)
    return set(bands.values())


def check_jumps(sentence: str, runs: list[dict]):
    jg = {r["seed"]: r["max_jump_grad_norm"] for r in runs}
    jl = {r["seed"]: r["max_jump_loss"] for r in runs}
    nums = (r"largest change from one iteration to the next(, lowest to highest over the seeds)?: "
            rf"{SPAN} decades, a factor of {SPAN}, for the gradient norm and {SPAN} decades, a factor of "
            rf"{SPAN}, for the loss")
    forms = [(r"In its one seed (the gradient norm is the noisier of the two|the loss is the noisier of the "
              rf"two|neither is the noisier) \({nums}\); whether other seeds would agree is unknown\."),
             (rf"(The gradient norm) is the noisier of the two in every seed \({nums}\): by itself it is a "
              r"poor measure of progress\."),
             rf"(The loss) is the noisier of the two in every seed \({nums}\)\.",
             rf"(Neither) is the noisier of the two in any seed \({nums}\)\.",
             (rf"Which of the two is the noisier depends on the seed, (.+) \({nums}\): "
              r"the seeds cannot tell\.")]
    m = next(filter(None, (re.fullmatch(f, sentence) for f in forms)), None)
    assert m, sentence
    assert (m[2] is None) == (len(runs) == 1)
    check_span(m[3], m[4], list(jg.values()), ".2f")
    check_span(m[5], m[6], [10.0 ** x for x in jg.values()])
    check_span(m[7], m[8], list(jl.values()), ".2f")
    check_span(m[9], m[10], [10.0 ** x for x in jl.values()])
    who = {i: "the gradient norm" if jg[i] > jl[i] else "the loss" if jl[i] > jg[i] else "neither"
           for i in jg}
    if sentence.startswith("In its one seed"):
        assert len(runs) == 1 and m[1].startswith(*who.values())
    elif sentence.startswith("Which"):
        named = {}
        for what in ("the gradient norm", "the loss", "neither"):
            g = re.search(rf"{what} in {SEEDS}", m[1])
            named.update({i: what for i in (seed_ids(g[1]) if g else ())})
        assert named == who and len(set(who.values())) > 1, (sentence, who)
    else:
        assert len(runs) > 1 and set(who.values()) == {m[1].lower()}, (sentence, who)


BOTH_FALL = r"Both fall over the run as a whole( in every seed)?, but not in step with each other\."
LITERATURE = ("Goodfellow, Bengio and Courville (Deep Learning, 2016, Fig. 8.1) show the same: the gradient "
              "norm can grow while training succeeds, so a falling loss need not mean a shrinking "
              "gradient.")
MINIBATCH = ("With minibatches the gradient measured is the minibatch's, which need not vanish where the "
             "training loss as a whole stops falling.")


def check_comment(R: dict):
    lines = t1_2b.comment(R).split("\n")
    assert len(lines) == len(R["per_dataset"])
    for line, D in zip(lines, R["per_dataset"].values()):
        runs, n = D["runs"], len(D["runs"])
        m = re.match(rf"- \*\*{re.escape(D['dataset'])}\*\* \((full batch|minibatches of ([\d,]+)), "
                     r"([\d,]+) (seeds?), ([\d,]+) (iterations?); start and end are medians over the first "
                     r"and the last ([\d,]+) (iterations?)\): the loss (.+?); the gradient norm (.+?)\. "
                     r"(?=[A-Z])", line)
        assert m, line
        assert (m[1] == "full batch") == D["full_batch"] and (m[2] is None or m[2] == str(D['batch_size']))
        for count, word, value in ((m[3], m[4], n), (m[5], m[6], D["steps"]),
                                   (m[7], m[8], D["trend_window"])):
            assert count == f"{value:,}" and word.endswith("s") == (value != 1), (count, word)
        loss_dir, grad_dir = check_change(m[9], runs, "loss"), check_change(m[10], runs, "grad_norm")
        sentences = re.split(r"(?<=\.) (?=[A-Z])", line[m.end():])
        kinds = []
        for s in sentences:
            if s.startswith(("It ", "In every seed it")) or re.match(r"In seeds? \d", s):
                check_hump(s, runs)
                kinds.append("hump")
            elif "largest single gradient norm" in s:
                check_peaks(s, runs)
                kinds.append("peaks")
            elif s.startswith("Spearman"):
                bands = check_rho(s, runs)
                kinds.append("rho")
            elif b := re.fullmatch(BOTH_FALL, s):
                assert bool(b[1]) == (n > 1)
                kinds.append("both fall")
            elif s in (LITERATURE, MINIBATCH):
                kinds.append(s)
            else:
                check_jumps(s, runs)
                kinds.append("jumps")
        # which sentences are there, re-derived: each of the optional ones exactly when its claim holds
        hump = any(r["trend_peak_grad_norm"] > 1.5 * max(r["start_grad_norm"], r["end_grad_norm"])
                   for r in runs)
        both = loss_dir == grad_dir == "falls" and bands <= {"weak", "none"}
        want = (["hump"] * hump + ["peaks", "rho"] + ["both fall"] * both
                + [LITERATURE] * (loss_dir == "falls" and grad_dir == "rises")
                + [MINIBATCH] * (not D["full_batch"] and grad_dir != "falls") + ["jumps"])
        assert kinds == want, (kinds, want)
        # "not in step": every seed's |ρ| as printed is under the moderate band
        assert not both or all(abs(float(f"{r['spearman_grad_loss']:.2f}")) < 0.4 for r in runs)


# values with ties (a small pool) and extremes (float32 reaches about 1e±38; norms and losses are > 0,
# since run() takes their log10); a jump is |Δ log10| of float32 values, so at most ~83 decades
POSITIVE = st.one_of(st.sampled_from([0.5, 1.0, 2.0, 1e-30, 1e30]),
                     st.floats(-30, 30).map(lambda e: 10.0 ** e))
RHO = st.one_of(st.sampled_from([-1.0, -0.6, -0.595, -0.4, -0.395, -0.2, -0.195, 0.0, 0.195, 0.2, 0.395, 0.4,
                                 0.595, 0.6, 1.0]), st.floats(-1, 1))
JUMP = st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0, 83))


@st.composite
def random_run(draw, seed: int, steps: int) -> dict:
    # ties within a seed (start = end, equal jumps) are drawn on purpose: they are the edge of each claim
    gs = draw(POSITIVE)
    ge, ls = draw(st.one_of(POSITIVE, st.just(gs))), draw(POSITIVE)
    jg = draw(JUMP)
    # a trend top at or just past the hump threshold as often as anywhere else
    tp = draw(st.one_of(POSITIVE, st.sampled_from([0.5, 1.5, 1.5000001, 3.0]).map(lambda f: f * max(gs, ge))))
    it = st.one_of(st.sampled_from([1, steps]), st.integers(1, steps))
    g, l = draw(st.lists(POSITIVE, min_size=1, max_size=3)), draw(st.lists(POSITIVE, min_size=1, max_size=3))
    return {"seed": seed, "grad_norm": g, "loss": l, "peak_grad_norm": draw(POSITIVE),
            "peak_iteration": draw(it),
            "first_grad_norm": g[0], "final_grad_norm": g[-1], "first_loss": l[0], "final_loss": l[-1],
            "spearman_grad_loss": draw(RHO),
            "max_jump_grad_norm": jg, "max_jump_loss": draw(st.one_of(JUMP, st.just(jg))),
            "start_grad_norm": gs, "end_grad_norm": ge,
            "start_loss": ls, "end_loss": draw(st.one_of(POSITIVE, st.just(ls))),
            "trend_peak_grad_norm": tp, "trend_peak_iteration": draw(it)}


@st.composite
def random_results(draw) -> dict:
    per = {}
    for name in draw(st.sampled_from([["sinc"], ["digits"], ["sinc", "digits"]])):
        steps, n = draw(st.integers(1, 200_000)), draw(st.integers(1, 5))
        runs = [draw(random_run(seed, steps)) for seed in range(n)]
        per[name] = {"dataset": f"{name}: some data", "name": name, "full_batch": draw(st.booleans()),
                     "batch_size": draw(st.integers(1, 2048)), "steps": steps,
                     "trend_window": draw(st.integers(1, steps)), "runs": runs}
    return {"per_dataset": per}


@settings(max_examples=250, deadline=None)
@given(random_results())
def test_comment_rederived_from_random_results(R):
    check_comment(R)
