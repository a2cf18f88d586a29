"""What make starts first: the notebooks that cost most in the last build of the same profile, with the product
built for them; never-timed ones first, in the written order. And the line a full build on a CPU starts with."""

import pytest

from hwlib.pipeline import runner, timings


def test_records_are_per_profile_and_survive_a_damaged_file(tmp_path):
    timings.record(tmp_path, "quick", "1_1a", 12.34)
    timings.record(tmp_path, "full", "1_1a", 400)
    (timings.folder(tmp_path, "quick") / "1_2a").write_text("half-writ")
    assert timings.load_timings(tmp_path, "quick") == {"1_1a": 12.3}
    assert timings.load_timings(tmp_path, "full") == {"1_1a": 400.0}
    assert timings.load_timings(tmp_path, "smoke") == {}


def test_order_puts_untimed_first_in_written_order_then_most_expensive():
    seconds = {"a": 5.0, "b": 50.0, "c": 20.0}
    assert timings.order(["x", "a", "b", "y", "c"], seconds) == ["x", "y", "b", "c", "a"]
    assert timings.order(["a", "b"], {}) == ["a", "b"]  # nothing timed: the written order


def test_a_notebook_costs_its_product_too():
    seconds = {"1_3d_sensitivity": 10.0, "1_3d_models": 600.0, "1_3e_sharpness": 30.0, "1_1a": 100.0}
    assert timings.cost("1_3d_sensitivity", seconds) == 610.0
    assert timings.order(["1_1a", "1_3e_sharpness", "1_3d_sensitivity"], seconds) == [
        "1_3e_sharpness", "1_3d_sensitivity", "1_1a"]  # 630 and 610 s, before 1-1a's 100 s
    assert timings.cost("1_2a", seconds) is None
    assert timings.work(["1_1a", "1_3d_sensitivity", "1_3e_sharpness"], seconds) == [100.0, 10.0, 30.0, 600.0]
    assert timings.work(["1_1a", "1_2a"], seconds) is None


@pytest.mark.parametrize("costs, jobs, wall", [([10, 10, 10, 10], 2, 20), ([30, 10, 10, 10], 2, 30),
                                                ([5, 4, 3], 1, 12), ([], 2, 0)])
def test_expected_wall_longest_first_on_free_slots(costs, jobs, wall):
    assert timings.expected_wall(costs, jobs) == wall


def test_cost_note_only_for_full_on_a_cpu(tmp_path):
    assert runner.cost_note("quick", {"device": "cpu"}, tmp_path, 2) is None
    assert runner.cost_note("full", {"device": "cuda:0"}, tmp_path, 2) is None
    note = runner.cost_note("full", {"device": "cpu"}, tmp_path, 2)
    assert note.startswith("note: the full profile") and "on the CPU" in note
    assert runner.FULL_ON_CPU_ESTIMATE in note and "make report PROFILE=quick" in note and "Ctrl-C" in note
    names = [nb.stem for nb in runner.all_notebooks(runner.paths.project_root() / "notebooks")]
    for name in names:
        timings.record(tmp_path, "full", name, 600.0)
    timings.record(tmp_path, "full", "1_3d_models", 3000.0)
    note = runner.cost_note("full", {"device": "cpu"}, tmp_path, 2)
    # the models once (3,000 s) and eleven notebooks of 600 s: 9,600 s of work, 4,800 on each slot
    assert sorted(timings.work(names, timings.load_timings(tmp_path, "full"))) == [600.0] * len(names) + [3000.0]
    assert timings.expected_wall(timings.work(names, timings.load_timings(tmp_path, "full")), 2) == 4800
    assert "expect about 80 min with 2 side by side" in note
    assert runner.FULL_ON_CPU_ESTIMATE not in note


@pytest.mark.slow
def test_make_starts_notebooks_by_the_same_profiles_recorded_cost(tmp_path):
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy2(root / name, tmp_path / name)  # copy2 keeps mtimes: the environment stays up to date
    (tmp_path / "hwlib").symlink_to(root / "hwlib")
    shutil.copytree(root / "notebooks", tmp_path / "notebooks")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}

    def started(profile):
        done = subprocess.run(["make", "-C", str(tmp_path), f"VENV={Path(sys.executable).parent.parent}",
                               f"PROFILE={profile}", "-n", "notebooks"], capture_output=True, text=True, env=env,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return [line.split("run notebooks/")[1].split(".ipynb")[0] for line in done.stdout.splitlines()
                if "runner run " in line]

    written = started("smoke")
    assert written[:2] == ["1_1a_simulate_function", "1_3b_parameters_vs_generalization"]  # nothing timed: the written order
    timings.record(tmp_path / "report", "smoke", "1_2a_optimization_process", 100)
    timings.record(tmp_path / "report", "smoke", "1_1b_actual_task", 50)
    timings.record(tmp_path / "report", "quick", "1_2d_error_surface", 900)  # another profile's: not used
    untimed = [n for n in written if n not in ("1_2a_optimization_process", "1_1b_actual_task")]
    assert started("smoke") == untimed + ["1_2a_optimization_process", "1_1b_actual_task"]
    assert started("quick")[-1] == "1_2d_error_surface"  # the only one timed in quick: after the untimed ones
