"""The environment a run used, named by the lock file it was installed from.

``requirements.lock`` (made by ``make lock`` with pip-tools from pyproject.toml) pins every package
with its hashes. A report names it by the first 12 hex digits of its SHA-256, and says whether the
packages actually installed are the locked ones: an environment installed from pyproject.toml's
ranges (another platform, ``make venv LOCK=``) is named as such, with the packages that differ.

The lock also records a digest of the dependency lists it was made from (``stamp``), so a test can
tell when pyproject.toml changed and the lock was not refreshed.

Standard library only: the build steps (stitch) import this, and they load neither torch nor numpy.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from . import paths

LOCK_NAME = "requirements.lock"
STAMP = "# made from pyproject.toml's dependencies with sha256 "  # the line `make lock` appends
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def lock_path() -> Path:
    return paths.project_root() / LOCK_NAME


def pins(text: str) -> dict[str, str]:
    """{normalized name: version} of every `name==version` line of a lock file."""
    return {normalize(name): version for name, version in PIN.findall(text)}


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them (Typing_Extensions, typing.extensions → typing-extensions)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def dependencies_digest(pyproject: Path) -> str:
    """SHA-256 of pyproject.toml's dependency lists (direct and optional), in a canonical form: what the lock
    is made from. Comments, formatting and every other table of pyproject.toml do not change it."""
    import tomllib  # Python 3.11+: the platform the lock covers

    project = tomllib.loads(pyproject.read_text())["project"]
    inputs = {"dependencies": sorted(project.get("dependencies", [])),
              "optional-dependencies": {k: sorted(v) for k, v in sorted(project.get("optional-dependencies", {}).items())}}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def stamped_digest(lock_text: str) -> str | None:
    """The dependencies digest `make lock` recorded in the lock, or None when it has none."""
    for line in lock_text.splitlines():
        if line.startswith(STAMP):
            return line[len(STAMP):].strip()
    return None


def stamp(lock: Path, pyproject: Path) -> None:
    """Record in the lock which dependency lists it was made from (run by `make lock` after pip-compile)."""
    lines = [line for line in lock.read_text().splitlines() if not line.startswith(STAMP)]
    lines.append(STAMP + dependencies_digest(pyproject))
    lock.write_text("\n".join(lines) + "\n")


def differences(locked: dict[str, str]) -> list[str]:
    """The packages whose installed version is not the locked one, as 'name installed (lock: version)'."""
    found = []
    for name, version in sorted(locked.items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "missing"
        if installed != version:
            found.append(f"{name} {installed} (lock: {version})")
    return found


@lru_cache(maxsize=1)
def describe_environment() -> dict:
    """What every results file and the title page say of the environment: the lock's digest, and whether
    the installed packages match it (with up to five that do not)."""
    path = lock_path()
    if not path.is_file():
        return {"lock": None, "matches_lock": None, "differs": []}
    differs = differences(pins(path.read_text()))
    return {"lock": f"{LOCK_NAME} sha256 {digest(path)}", "matches_lock": not differs, "differs": differs[:5],
            "n_differ": len(differs)}


def in_words(env: dict | None = None) -> str:
    """One line for the report: 'requirements.lock sha256 1a2b3c4d5e6f (the installed packages match it)'."""
    env = describe_environment() if env is None else env
    if not env or not env.get("lock"):
        return f"no {LOCK_NAME} beside the package: versions as listed"
    if env.get("matches_lock"):
        return f"{env['lock']} (the installed packages match it)"
    n = env.get("n_differ", len(env.get("differs", [])))
    shown = "; ".join(env.get("differs", []))
    return f"{env['lock']}, but {n} installed package{'s' if n != 1 else ''} differ{'' if n != 1 else 's'} from it: " \
           f"{shown}{'; …' if n > len(env.get('differs', [])) else ''}"


def main(argv: list[str]) -> int:
    if argv[:1] == ["stamp"] and len(argv) == 2:
        lock = Path(argv[1])
        stamp(lock, lock.with_name("pyproject.toml"))
        return 0
    if not argv:
        print(in_words())
        return 0
    print("usage: python -m hwlib.environment [stamp requirements.lock]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
