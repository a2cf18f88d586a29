"""1-2d: the smoke run end to end, its table and figures, the settings check, and comment() on every
branch with small hand-made results dicts."""

import numpy as np
import pytest
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
                          "path_end_loss": end, "min_loss": pca_min, "argmin": [-1.7, -0.66], "min_ahead": ahead}}


def test_basin_one_dimensional_lower_ahead():
    text = t1_2d.comment(make_R())
    assert "it is the lowest point of the grid" in text and "undoes 33 %" in text
    assert "nearly one-dimensional" in text and "path falls from 2.3" in text
    assert "ahead of it in the direction of the last step" in text
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad


def test_not_the_lowest_no_rings_lower_elsewhere_two_dimensional():
    text = t1_2d.comment(make_R(argmin=(0.5, -0.25), rings=(None, None), ahead=False, evr=(0.6, 0.3)))
    assert "θ* is not the lowest point of this plane" in text and "(0.5, -0.25)" in text
    assert "too coarse to average" in text and "nearly one-dimensional" not in text
    assert "off the path training took" in text


def test_bottom_of_the_valley_and_no_decrease():
    text = t1_2d.comment(make_R(pca_min=0.048, start=0.04, end=0.05))
    assert "No point of the plane is clearly lower" in text and "path rises from" in text
    assert "no decrease to compare with" in text


def test_a_grid_minimum_within_ten_percent_is_still_the_basin():
    R = make_R(argmin=(0.5, -0.25))
    R["random_plane"]["min_loss"] = 0.0498  # 0.4 % below θ*'s 0.05: finer than the grid resolves
    text = t1_2d.comment(R)
    assert "is within 10% of it" in text and "at the bottom of a basin" in text
    assert "not the lowest point" not in text
