"""requirements.lock: made from pyproject.toml's current dependencies, pinning versions that satisfy them; the
environment's description names the lock and every installed package that differs from it."""

import os
from importlib import metadata

import pytest
from packaging.requirements import Requirement

from hwlib import environment

tomllib = pytest.importorskip("tomllib")  # Python 3.11+, which the lock is for

ROOT = environment.paths.project_root()
LOCK = ROOT / environment.LOCK_NAME


def _requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + [r for v in project["optional-dependencies"].values()
                                                                 for r in v]]


def test_the_lock_was_made_from_pyproject_as_it_is():
    # fails when a dependency of pyproject.toml was added, removed or re-bounded without `make lock`
    assert environment.stamped_digest(LOCK.read_text()) == environment.dependencies_digest(ROOT / "pyproject.toml"), (
        "requirements.lock was made from other dependencies than pyproject.toml lists: run make lock")


def test_every_direct_dependency_is_pinned_within_its_range_with_hashes():
    text = LOCK.read_text()
    pins = environment.pins(text)
    for req in _requirements():
        name = environment.normalize(req.name)
        assert name in pins, f"{req.name} is not in requirements.lock: run make lock"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} is outside {req.specifier}"
    blocks = [b for b in text.split("\n") if "==" in b and not b.startswith("#")]
    assert blocks and all(b.rstrip().endswith("\\") for b in blocks)  # each pin is followed by its --hash lines
    assert text.count("--hash=sha256:") >= len(pins)


def test_pins_and_names_are_read_as_pip_compares_them():
    text = "Typing_Extensions==4.16.0 \\\n    --hash=sha256:ab\n# via x\ntorch==2.14.1 ; sys_platform == 'linux'\n"
    assert environment.pins(text) == {"typing-extensions": "4.16.0", "torch": "2.14.1"}
    assert environment.normalize("ruamel.yaml") == "ruamel-yaml"


def test_stamp_replaces_its_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["b>1", "a"]\n')
    lock = tmp_path / "requirements.lock"
    lock.write_text("a==1\n" + environment.STAMP + "old\n")
    environment.stamp(lock, tmp_path / "pyproject.toml")
    digest = environment.stamped_digest(lock.read_text())
    assert lock.read_text().count(environment.STAMP) == 1 and digest != "old"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n# a comment\ndependencies = ["a", "b>1"]\n')
    assert environment.dependencies_digest(tmp_path / "pyproject.toml") == digest  # order and comments: same input
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["a", "b>2"]\n')
    assert environment.dependencies_digest(tmp_path / "pyproject.toml") != digest


def test_differences_name_each_package_that_is_not_the_locked_one():
    numpy = metadata.version("numpy")
    assert environment.differences({"numpy": numpy}) == []
    assert environment.differences({"numpy": "0.0.1", "no-such-package": "1.0"}) == [
        "no-such-package missing (lock: 1.0)", f"numpy {numpy} (lock: 0.0.1)"]


def test_in_words():
    lock = "requirements.lock sha256 0123456789ab"
    assert environment.in_words({"lock": lock, "matches_lock": True, "differs": [], "n_differ": 0}) == (
        f"{lock} (the installed packages match it)")
    shown = [f"p{i} 2 (lock: 1)" for i in range(5)]
    assert environment.in_words({"lock": lock, "matches_lock": False, "differs": shown, "n_differ": 7}) == (
        f"{lock}, but 7 installed packages differ from it: " + "; ".join(shown) + "; …")
    assert environment.in_words({"lock": lock, "matches_lock": False, "differs": shown[:1], "n_differ": 1}) == (
        f"{lock}, but 1 installed package differs from it: p0 2 (lock: 1)")
    assert environment.in_words({"lock": None}).startswith("no requirements.lock")


@pytest.mark.skipif(not os.environ.get("CI"), reason="a developer's .venv may hold other versions on purpose")
def test_ci_installed_exactly_the_lock():
    # .ci/run installs as a new user does (make venv): from the lock, so every locked version is the installed one
    described = environment.describe_environment()
    assert described["matches_lock"], environment.in_words(described)
