"""1-2d: the smoke run end to end, its table and figures, the settings check, comment() on every branch
with small hand-made results dicts, and a property test that re-derives every number and claim of
comment() from random results."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from hwlib.params import ParamError, resolve_task
from hwlib.plots import png
from hwlib.tasks import t1_2d_error_surface as t1_2d


def _P(tmp_path, **kw):
    return resolve_task(t1_2d, profile="smoke", device="cpu", out_dir=tmp_path, **kw)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    P = _P(tmp_path_factory.mktemp("out"))
    return P, t1_2d.run(P)


def test_surfaces(smoke):
    P, R = smoke
    rp, pp = R["random_plane"], R["pca_plane"]
    assert np.array(rp["loss"]).shape == (P.grid, P.grid) == np.array(pp["loss"]).shape
    # the centre of the random plane is the trained model: its loss is the final training loss
    # (the surface uses the first surface_points images; smoke keeps all 256 of them)
    assert rp["center_loss"] == pytest.approx(R["final"]["train_loss"], rel=1e-4)
    assert len(pp["path"]) == P.epochs + 1 and np.allclose(pp["path"][-1], 0, atol=1e-5)
    assert "(s)" not in t1_2d.comment(R)


def test_an_even_grid_is_refused(tmp_path):
    with pytest.raises(ParamError, match="grid=8 is even"):
        _P(tmp_path, grid=8)


def test_table_and_figures(smoke):
    P, R = smoke
    table = t1_2d.table(R)
    assert f"{P.grid} × {P.grid} grids" in table and "| test set |" in table
    figs = t1_2d.figures(R)
    assert len(figs) == 2  # the random plane, then the PCA plane with the path
    assert figs[0][0].legends == [] and len(figs[1][0].legends) == 1  # only the path has a legend
    for fig, caption in figs:
        assert isinstance(fig, Figure) and caption.endswith(".")
        for bad in ("(s)", "[", "`", "True", "False"):
            assert bad not in caption, bad
        assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


def make_R(argmin=(0.0, 0.0), rings=(0.8, 4.9), start=2.3, end=0.05, pca_min=0.025, ahead=True, evr=(0.9, 0.08)):
    return {"params": {"span": 1.0},
            "random_plane": {"center_loss": 0.05, "min_loss": 0.05 if argmin == (0.0, 0.0) else 0.04,
                             "argmin": list(argmin), "ring_half": rings[0], "ring_full": rings[1]},
            "pca_plane": {"explained_variance_ratio": list(evr), "max_off_plane": 0.12, "path_start_loss": start,
                          "path_end_loss": end, "min_loss": pca_min, "argmin": [-1.7, -0.66], "min_ahead": ahead,
                          "alphas": [-2.0, -1.7, 8.0], "betas": [-1.0, -0.66, 2.0]}}


def test_basin_one_dimensional_lower_ahead():
    text = t1_2d.comment(make_R())
    assert "no point of the grid is lower" in text and "undoes 33 %" in text
    assert "both are above θ*'s, so along these directions θ* sits at the bottom of a basin" in text
    assert "more than 80 %: the path is nearly one-dimensional" in text and "path falls from 2.3" in text
    assert "ahead of it along the direction of the last step, which suggests training had not finished" in text
    assert "edge of the grid" not in text
    R = make_R()
    R["pca_plane"]["alphas"][0] = -1.7  # the lowest point on the grid's border
    assert "It lies on the edge of the grid drawn, so the plane's lowest point may lie farther out." in t1_2d.comment(R)
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad


def test_not_the_lowest_no_rings_lower_elsewhere_two_dimensional():
    text = t1_2d.comment(make_R(argmin=(0.5, -0.25), rings=(None, None), ahead=False, evr=(0.6, 0.3)))
    assert "θ* is not the lowest point of this plane" in text and "(0.5, -0.25)" in text
    assert "too coarse to average" in text and "nearly one-dimensional" not in text
    assert "basin" not in text and "not ahead of it along the direction of the last step." in text


def test_no_lower_region_and_no_decrease():
    text = t1_2d.comment(make_R(pca_min=0.048, start=0.04, end=0.05))
    assert "No point of the plane is more than 10 % below the end point's loss (the lowest: 0.048)" in text
    assert "path rises from" in text and "no decrease to compare with" in text
    assert "stays at 0.05." in t1_2d.comment(make_R(start=0.05))


def test_a_grid_minimum_within_ten_percent_is_still_the_basin():
    R = make_R(argmin=(0.5, -0.25))
    R["random_plane"]["min_loss"] = 0.0498  # 0.4 % below θ*'s 0.05: finer than the grid resolves
    text = t1_2d.comment(R)
    assert "is within 10 % of it, as fine as this grid resolves" in text and "at the bottom of a basin" in text
    assert "not the lowest point" not in text


def test_circles_not_above_the_centre():
    # lower on the circles than at θ*: no basin, and the move undoes none of the decrease
    text = t1_2d.comment(make_R(rings=(0.04, 0.06)))
    assert "basin" not in text and "undoes none of the decrease" in text and "(0.8 times θ*'s)" in text
    # a loss of exactly 0 at θ*: no ratio to print
    R = make_R(rings=(0.5, 1.0))
    R["random_plane"].update(center_loss=0.0, min_loss=0.0)
    assert "times θ*'s" not in t1_2d.comment(R) and "bottom of a basin" in t1_2d.comment(R)


# ------------------------------------------------------------------ property test
# Random results built the way run() builds them (a loss grid on each plane, θ* at the random grid's centre,
# the trajectory ending at the PCA plane's origin), parsed back and re-derived claim by claim.

NUM = r"(-?\d[\d,]*(?:\.\d+)?(?:e[+-]\d+)?)"
# losses from a small pool (ties, θ* equal to the grid minimum, exactly 10 % apart) and over many decades
LOSS = st.one_of(st.sampled_from([0.0, 0.05, 0.045, 0.0449, 0.5, 1.0, 2.3]),
                 st.floats(-8, 4).map(lambda e: 10.0 ** e))
SHARE = st.one_of(st.sampled_from([0.0, 0.5, 0.8, 0.8004, 0.7996, 1.0]), st.floats(0, 1))


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


def first_min(grid: np.ndarray) -> tuple[int, int]:
    """Row-major first position of the smallest value (what np.argmin and unravel_index give)."""
    flat = grid.ravel().tolist()
    return divmod(flat.index(min(flat)), grid.shape[1])


@st.composite
def random_results(draw) -> dict:
    n, span = draw(st.sampled_from([3, 5, 7, 9])), draw(st.sampled_from([1.0, 0.5, 2.0]))
    grid = np.array(draw(st.lists(LOSS, min_size=n * n, max_size=n * n))).reshape(n, n)
    c = n // 2
    centre = draw(st.sampled_from(["free", "min", "max", "edge"]))
    if centre == "min":  # θ* at (or tied with) the grid's minimum, as after training
        grid[c, c] = grid.min() * draw(st.sampled_from([1.0, 0.5, 0.0]))
    elif centre == "max":  # or on a hill: the circles around it lower
        grid[c, c] = grid.max()
    elif centre == "edge":  # the lowest point at, just above or just below the 10 % margin
        grid = np.maximum(grid, grid[c, c])
        grid[0, 0] = draw(st.sampled_from([0.9, 0.9000001, 0.8999999])) * grid[c, c]
    axis = np.linspace(-span, span, n)
    i, j = first_min(grid)
    start = draw(st.one_of(LOSS, st.sampled_from([1.0, 2.0]).map(lambda f: f * float(grid[c, c]) + (f - 1) / 10)))
    k = draw(st.integers(2, 6))  # snapshots: the initialization and one per epoch
    path = [[draw(st.floats(-5, 5)), draw(st.floats(-5, 5))] for _ in range(k - 1)] + [[0.0, 0.0]]
    a, b = (np.linspace(min(v) - 1, max(v) + 1, n) for v in zip(*path))
    pgrid = np.array(draw(st.lists(LOSS, min_size=n * n, max_size=n * n))).reshape(n, n)
    if draw(st.booleans()):  # the plane's lowest point at, just above or just below the margin
        pgrid = np.maximum(pgrid, float(grid[c, c]))
        pgrid[0, 0] = draw(st.sampled_from([0.9, 0.9000001, 0.8999999, 1.0])) * float(grid[c, c])
    pi, pj = first_min(pgrid)
    step = np.subtract(path[-1], path[-2])
    e0 = draw(SHARE)
    return {"params": {"span": span},
            "random_plane": {"center_loss": float(grid[c, c]), "min_loss": float(grid.min()),
                             "argmin": [float(axis[i]), float(axis[j])],
                             "ring_half": t1_2d._ring(grid, axis, axis, 0.5 * span, span / n),
                             "ring_full": t1_2d._ring(grid, axis, axis, span, span / n)},
            "pca_plane": {"explained_variance_ratio": [e0, draw(st.floats(0, 1 - e0))],
                          "max_off_plane": draw(st.one_of(st.sampled_from([0.0, 0.005, 1.0]), st.floats(0, 3))),
                          "path_start_loss": start, "path_end_loss": float(grid[c, c]),
                          "min_loss": float(pgrid.min()), "argmin": [float(a[pi]), float(b[pj])],
                          "alphas": [float(v) for v in a], "betas": [float(v) for v in b],
                          "min_ahead": bool(np.dot([a[pi] - path[-1][0], b[pj] - path[-1][1]], step) > 0)}}


def check_random_plane(line: str, R: dict):
    RP, span, start = R["random_plane"], R["params"]["span"], R["pca_plane"]["path_start_loss"]
    c, low, half, full = RP["center_loss"], RP["min_loss"], RP["ring_half"], RP["ring_full"]
    m = re.fullmatch(rf"- \*\*Random plane\.\*\* The loss at θ\* is {NUM}; (.+?\.) (.+)", line)
    assert m and m[1] == f"{c:.3g}", line
    where = f"(α, β) = ({RP['argmin'][0]:.2g}, {RP['argmin'][1]:.2g})"
    if m[2] == "no point of the grid is lower.":
        assert low == c  # the centre is a grid point, so the grid's minimum is at most θ*'s loss
    elif m[2].endswith("as fine as this grid resolves."):
        assert m[2] == f"the grid's lowest value, {low:.3g} at {where}, is within 10 % of it, as fine as this grid resolves."
        assert 0.9 * c <= low < c, (low, c)
    else:
        assert m[2] == (f"the grid's lowest value, {low:.3g} at {where}, is more than 10 % below it: θ* is not the "
                        "lowest point of this plane.")
        assert low < 0.9 * c, (low, c)
    rest = m[3]
    if half is None or full is None:
        assert rest == "The grid is too coarse to average the loss over circles around θ*."
        return
    times = lambda v: f" ({v / c:.3g} times θ*'s)" if c > 0 else ""
    head = (f"Averaged over the circle of radius {0.5 * span:g} the loss is {half:.3g}{times(half)}, at radius "
            f"{span:g} {full:.3g}{times(full)}")
    assert rest.startswith(head), (rest, head)
    rest = rest[len(head):]
    # "above θ*'s": above as the printed ratio shows it (any positive value where θ*'s loss is 0)
    above = lambda v: v > c if c == 0 else float(f"{v / c:.3g}") > 1
    basin = "; both are above θ*'s, so along these directions θ* sits at the bottom of a basin"
    assert rest.startswith(basin) == (low >= 0.9 * c and above(half) and above(full)), (rest, R)
    rest = rest.removeprefix(basin)
    if start <= c:
        assert rest == "; training did not lower the loss from its initial value, so there is no decrease to compare with."
    elif not above(half):
        assert rest == (f". On the circle of radius {0.5 * span:g} the loss is not above θ*'s, so such a move "
                        "undoes none of the decrease training achieved.")
    else:
        t = re.fullmatch(rf"\. Moving every filter by about {0.5 * span:g} times its own norm in a random direction of "
                         rf"this plane undoes (\d+) % of the decrease training achieved \(from {NUM} at "
                         r"initialization\)\.", rest)
        assert t and t[1] + " %" == pct((half - c) / (start - c), 0) and t[2] == f"{start:.3g}", (rest, R)


def check_pca_plane(line: str, R: dict):
    PP = R["pca_plane"]
    evr, s, e, low = PP["explained_variance_ratio"], PP["path_start_loss"], PP["path_end_loss"], PP["min_loss"]
    m = re.fullmatch(rf"- \*\*PCA plane\.\*\* Two components hold {NUM} % of the trajectory's variance \(the "
                     rf"first alone {NUM} %(, more than 80 %: the path is nearly one-dimensional at this scale)?\); "
                     rf"the farthest a snapshot lies from the plane is (\d+) % of the distance from θ₀ to θ\*, so "
                     rf"the drawn path is its shadow on the plane\. The loss along the real path "
                     rf"(falls from {NUM} to {NUM}|rises from {NUM} to {NUM}|stays at {NUM})\. (.+)", line)
    assert m, line
    assert m[1] + " %" == pct(sum(evr)) and m[2] + " %" == pct(evr[0])
    assert bool(m[3]) == (float(m[2]) > 80), line  # "more than 80 %": the printed share
    assert m[4] + " %" == pct(PP["max_off_plane"], 0)
    if e < s:
        assert (m[6], m[7]) == (f"{s:.3g}", f"{e:.3g}"), line
    elif e > s:
        assert (m[8], m[9]) == (f"{s:.3g}", f"{e:.3g}"), line
    else:
        assert m[10] == f"{s:.3g}", line
    if low >= 0.9 * e:
        assert m[11] == (f"No point of the plane is more than 10 % below the end point's loss (the lowest: "
                         f"{low:.3g}), so to within 10 % no lower region lies on this plane.")
        return
    where = f"({PP['argmin'][0]:.2g}, {PP['argmin'][1]:.2g})"
    edge = (PP["argmin"][0] in (PP["alphas"][0], PP["alphas"][-1])
            or PP["argmin"][1] in (PP["betas"][0], PP["betas"][-1]))
    assert m[11] == (f"The plane holds loss more than 10 % below the end point's: {low:.3g} at {where}, " + (
        "ahead of it along the direction of the last step, which suggests training had not finished descending."
        if PP["min_ahead"] else "not ahead of it along the direction of the last step.")
        + (" It lies on the edge of the grid drawn, so the plane's lowest point may lie farther out." if edge else "")
    ), (m[11], PP)


def check_comment(R: dict):
    lines = t1_2d.comment(R).split("\n")
    assert len(lines) == 2
    check_random_plane(lines[0], R)
    check_pca_plane(lines[1], R)


@settings(max_examples=300, deadline=None)
@given(random_results())
def test_comment_rederived_from_random_results(R):
    check_comment(R)
