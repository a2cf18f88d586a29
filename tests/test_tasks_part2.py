"""Part 2 task modules, run end to end with the smoke profile (a few seconds each)."""

import numpy as np
import pytest
import torch

from hwlib import curvature as cv
from hwlib.params import ParamError, resolve_task
from hwlib.tasks import t1_2c_minimal_ratio as t1_2c


def _P(task, tmp_path, **kw):
    return resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path, **kw)


def test_1_2c_minimal_ratio_pipeline(tmp_path):
    P = _P(t1_2c, tmp_path)
    R = t1_2c.run(P)
    k, p = P.runs, R["n_params"]
    eig = torch.tensor(R["eigenvalues"], dtype=torch.float64)
    assert eig.shape == (k, p)  # the full Hessian: one eigenvalue per parameter
    assert R["missed"] == k - sum(R["phase2"]["reached"])
    # phase 2 did not raise the gradient norm of any run (it starts from phase 1's end point)
    assert all(b <= a * (1 + 1e-6) for a, b in zip(R["phase1"]["grad_norm"], R["phase2"]["grad_norm"]))
    # the reported ratios are recomputable from the stored eigenvalues
    for i in range(k):
        assert R["ratio_all"][i] == cv.minimal_ratio(eig[i], P.tol)
        assert R["ratio_nonzero"][i] == cv.minimal_ratio(eig[i], P.tol, over="nonzero")
    assert R["hessian"]["max_relative_asymmetry"] < 1e-10
    # a run that missed the threshold is reported at the lowest ‖∇L‖ it passed, not where the step limit left it
    for i, trace in enumerate(R["phase2"]["trace"]):
        if not R["phase2"]["reached"][i]:
            assert R["phase2"]["grad_norm"][i] <= min(t for t in trace if t is not None) * (1 + 1e-5)
    assert "(s)" not in t1_2c.comment(R)
    with pytest.raises(ParamError, match="tol_sweep"):
        _P(t1_2c, tmp_path, tol=1e-3)
