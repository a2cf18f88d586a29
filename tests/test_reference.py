"""The report's numbers are pinned: a fresh run reproduces the stored reference (tests/reference/) within the
stated tolerances. A change that moves a number fails here, naming each one, until `make reference` refreshes
the reference on purpose (then `git diff tests/reference/` shows what moved)."""

import json

import pytest
from support import reference as ref

TASKS = ref.tasks()


def _check(name, profile, tmp_path):
    same, moved = ref.compare(name, profile, tmp_path)
    where = ("exactly, as on the machine the reference was made on" if same else
             "within the tolerances for another machine (tests/support/reference.py)")
    assert not moved, (f"{len(moved)} {profile}-profile number(s) of {name} moved; expected {where}. "
                       f"If the change is meant: make reference, and commit tests/reference/.\n" + "\n".join(moved[:40]))


@pytest.mark.slow
@pytest.mark.parametrize("name", TASKS)
def test_smoke_numbers_match_the_reference(name, tmp_path):
    _check(name, "smoke", tmp_path)


@pytest.mark.slow
@pytest.mark.quick
@pytest.mark.parametrize("name", TASKS)
def test_quick_headlines_match_the_reference(name, tmp_path):
    _check(name, "quick", tmp_path)


def test_every_task_has_a_reference():
    assert sorted(p.stem for p in (ref.REFERENCE_DIR / "smoke").glob("*.json")) == TASKS
    assert sorted(json.loads(ref.reference_path("quick").read_text())["tasks"]) == TASKS == sorted(ref.HEADLINES)


def test_a_moved_number_is_named():
    reference = {"runs/0/loss": 0.5, "runs/0/steps": 40, "ok": True, "gap": None}
    loose, exact = (lambda path: (1e-3, 0)), (lambda path: (0, 0))
    assert ref.differences(reference, dict(reference), exact) == []
    moved = ref.differences(reference, {**reference, "runs/0/loss": 0.51, "runs/0/steps": 41, "ok": False}, loose)
    assert moved == ["ok: False, reference True", "runs/0/loss: 0.51, reference 0.5", "runs/0/steps: 41, reference 40"]
    assert ref.differences(reference, {**reference, "runs/0/loss": 0.5004}, loose) == []  # within rtol
    nudged = {**reference, "runs/0/loss": 0.5000001}
    assert ref.differences(reference, nudged, exact) == ["runs/0/loss: 0.5000001, reference 0.5"]
    assert ref.differences(reference, {**reference, "gap": 0.0}, lambda path: (1, 1)) == ["gap: 0.0, reference None"]
    assert ref.differences(reference, {**reference, "runs/0/loss": 9.0}, lambda path: None) == []  # skipped field
    assert ref.differences({"a": 1}, {"b": 1}, exact) == ["a: gone (reference 1)", "b: new (1), not in the reference"]


def test_tolerance_is_exact_on_the_reference_machine_and_follows_the_rules_elsewhere(monkeypatch):
    monkeypatch.setattr(ref, "RULES", [("smoke", r"^t1_2c[^:]*:phase2/", None, 0, "chaotic"),
                                       ("smoke", r":cases/\d+/curvature/", 0.2, 0, "second difference")])
    assert ref.tolerance("smoke", "t1_2c_minimal_ratio", "phase2/best_step/2", same_machine=True) == (0, 0)
    assert ref.tolerance("smoke", "t1_2c_minimal_ratio", "phase2/best_step/2", same_machine=False) is None
    assert ref.tolerance("smoke", "t1_3c_interpolation", "cases/0/curvature/model1", same_machine=False) == (0.2, 0)
    assert ref.tolerance("quick", "t1_3c_interpolation", "cases/0/curvature/model1", False) == ref.ACROSS_MACHINES[
        "quick"]
    assert ref.tolerance("smoke", "t1_1a_simulate_function", "runs/sinc/0/train_loss", False) == ref.ACROSS_MACHINES[
        "smoke"]


def test_numbers_leave_out_times_and_the_environment():
    payload = {"seconds": 3.2, "peak_memory_mib": 10, "environment": {"matches_lock": True}, "device": "cpu",
               "runs": [{"loss": 0.1, "epoch_times": [1.0], "name": "a", "ok": True}], "params": {"epochs": 3}}
    assert ref.numbers(payload) == {"runs/0/loss": 0.1, "runs/0/ok": True, "params/epochs": 3}


def test_headlines_select_by_pattern():
    payload = {"runs": {"sinc": [{"x": [1, 2, 3]}, {"x": [4, 5]}]}, "best": {"w": 8}}
    assert ref.select(payload, ["runs/*/*/x/-1", "best/w"]) == {"runs/sinc/0/x/2": 3, "runs/sinc/1/x/1": 5,
                                                                 "best/w": 8}
    with pytest.raises(KeyError, match="runs/\\*/missing"):
        ref.select(payload, ["runs/*/missing"])
