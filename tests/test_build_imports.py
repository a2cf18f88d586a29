"""The build steps (settings check, runner, stitch, pdf) are short processes that make starts once per
notebook or report: they load neither torch nor matplotlib nor seaborn, and read a task
module only when a setting is given."""

import subprocess
import sys
from pathlib import Path

from hwlib.pipeline import runner

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "matplotlib", "seaborn", "scipy", "pandas", "lark", "hwlib.tasks")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_build_steps_import_nothing_heavy():
    assert _loaded_after("import hwlib.pipeline.runner, hwlib.pipeline.stitch, hwlib.pipeline.pdf, papermill, "
                         "nbconvert") == []


def test_settings_check_without_settings_reads_no_task_module(tmp_path):
    assert _loaded_after(f"from hwlib.pipeline.runner import main\n"
                         f"assert main(['check', '--profile', 'quick', '--out-dir', {str(tmp_path)!r}]) == 0") == []


def test_settings_check_with_a_setting_reads_the_task_modules(tmp_path):
    loaded = _loaded_after(f"from hwlib.pipeline.runner import main\n"
                           f"assert main(['check', '--profile', 'quick', '-p', 'epochs', '3', '--out-dir', "
                           f"{str(tmp_path)!r}]) == 0")
    assert "hwlib.tasks" in loaded


def test_settings_check_names_an_output_folder_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    problems = runner.check("quick", {}, [], blocker / "report")
    assert len(problems) == 1 and problems[0].startswith("out_dir=") and "cannot be written" in problems[0]
    assert runner.check("quick", {}, [], tmp_path / "report") == []
