"""Profiles and notebook parameters: one place that merges, checks and explains.

Every notebook's first code cell (tagged ``parameters``) sets ``profile``, ``device``,
``out_dir`` and one name per setting, ``None`` meaning "the profile's value". papermill may
override any of them (``-p epochs 50``). ``resolve(SPEC, globals())`` merges the profile's
defaults with those overrides, converts papermill's strings ("[4, 8]" for a list), checks
types and ranges, and raises ``ParamError`` with one line that names the parameter, the bad
value and what is allowed, before any training starts.
"""

from __future__ import annotations

import ast
import os
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

from . import paths

PROFILES = ("smoke", "quick", "full")


def default_profile() -> str:
    """device.default_profile, imported on first use: the device module imports torch (2-3 s), which
    the build steps that only name a profile (make's settings check, the runner) do without."""
    from .device import default_profile as by_device

    return by_device()


def resolve_device(name: Any):
    """device.resolve_device, imported on first use (see default_profile)."""
    from .device import resolve_device as by_name

    return by_name(name)


class ParamError(ValueError):
    """A bad parameter: the message is one line, names the parameter and says what is allowed."""


_KINDS = {"int", "float", "str", "bool", "int_list", "float_list", "str_list"}


@dataclass(frozen=True)
class Param:
    """One setting: its kind, its value per profile, and what values are allowed.

    kind: int | float | str | bool | int_list | float_list | str_list.
    low/high: inclusive bounds (for lists, of every element); positive=True means > 0.
    choices: allowed values (for lists, of every element); min_len: shortest list.
    internal: a knob of how the work is done, not of what is computed (a data folder, a chunk
    size): the settings table leaves it out. off: the value that turns the setting off (e.g.
    train_limit 0 = all images): the table leaves the setting out at that value, since it then
    changes nothing. Both stay in P.settings and the results file.
    """

    kind: str
    _: KW_ONLY  # profile values by name (smoke=…, quick=…, full=…), never as unnamed columns
    smoke: Any
    quick: Any
    full: Any
    doc: str = ""
    low: float | None = None
    high: float | None = None
    positive: bool = False
    choices: tuple | None = None
    min_len: int = 1
    internal: bool = False
    off: Any = None  # None: no "off" value (no setting here takes None as a value)

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise TypeError(f"Param kind {self.kind!r} is not one of {sorted(_KINDS)}")

    def default(self, profile: str) -> Any:
        return getattr(self, profile)

    def allowed(self) -> str:
        """Human wording of what is allowed, used in every error message."""
        what = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false",
                "int_list": "a list of integers", "float_list": "a list of numbers",
                "str_list": "a list of strings"}[self.kind]
        if self.kind.endswith("_list"):
            what += f" with at least {self.min_len} element{'s' if self.min_len > 1 else ''}"
            each = " each"
        else:
            each = ""
        if self.choices is not None:
            what += f"{each} one of {', '.join(map(str, self.choices))}"
        if self.positive:
            what += f"{each} > 0"
        if self.low is not None and self.high is not None:
            what += f"{each} between {self.low} and {self.high}"
        elif self.low is not None:
            what += f"{each} ≥ {self.low}"
        elif self.high is not None:
            what += f"{each} ≤ {self.high}"
        return what


def same(kind: str, value: Any, **kw) -> Param:
    """A setting whose value does not depend on the profile."""
    return Param(kind, smoke=value, quick=value, full=value, **kw)


def _fail(name: str, value: Any, param: Param) -> ParamError:
    return ParamError(f"{name}={value!r} is not allowed: {name} must be {param.allowed()} (e.g. -p {name} "
                      f"{_example(param)})")


def _example(param: Param) -> str:
    value = param.quick
    if isinstance(value, (list, tuple)):
        return "'" + repr(list(value)) + "'"
    return str(value)


def _scalar(name: str, value: Any, kind: str, param: Param) -> Any:
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise _fail(name, value, param)
    if kind == "int":
        if isinstance(value, bool):
            raise _fail(name, value, param)
        if isinstance(value, str):
            try:
                value = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                raise _fail(name, value, param) from None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(name, value, param)
        return value
    if kind == "float":
        if isinstance(value, bool):
            raise _fail(name, value, param)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise _fail(name, value, param) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise _fail(name, value, param)
        return value
    if not isinstance(value, str):
        raise _fail(name, value, param)
    return value


def convert(name: str, value: Any, param: Param) -> Any:
    """Convert a raw value (papermill passes lists as strings) and check it against ``param``."""
    kind = param.kind
    if kind.endswith("_list"):
        raw = value
        if isinstance(value, str):
            text = value.strip()
            try:
                value = ast.literal_eval(text) if text.startswith(("[", "(")) else [v for v in text.split(",") if v.strip()]
            except (ValueError, SyntaxError):
                raise _fail(name, raw, param) from None
            if kind == "str_list":
                value = [str(v).strip() for v in value]
        if not isinstance(value, (list, tuple)) or len(value) < param.min_len:
            raise _fail(name, raw, param)
        try:
            items = [_scalar(name, v, kind[:-5], param) for v in value]
        except ParamError:
            raise _fail(name, raw, param) from None
        for item in items:
            _check_range(name, raw, item, param)
        return items
    item = _scalar(name, value, kind, param)
    _check_range(name, value, item, param)
    return item


def _check_range(name: str, raw: Any, item: Any, param: Param) -> None:
    if param.choices is not None and item not in param.choices:
        raise _fail(name, raw, param)
    if param.positive and not item > 0:
        raise _fail(name, raw, param)
    if param.low is not None and item < param.low:
        raise _fail(name, raw, param)
    if param.high is not None and item > param.high:
        raise _fail(name, raw, param)


class Settings(dict):
    """The resolved settings (a plain dict to every reader) and, in ``hidden``, the names the
    settings table leaves out (internal knobs, knobs at their "off" value)."""

    hidden: frozenset = frozenset()


def _settings(spec: dict[str, Param], values: dict[str, Any]) -> Settings:
    settings = Settings(values)
    settings.hidden = frozenset(name for name, p in spec.items()
                                if p.internal or (p.off is not None and values[name] == p.off))
    return settings


def resolve_profile(profile: Any) -> str:
    if profile in (None, "", "auto"):
        return default_profile()
    if profile not in PROFILES:
        raise ParamError(f"profile={profile!r} is not allowed: profile must be one of "
                         f"{', '.join(PROFILES)} or auto (e.g. make report PROFILE=quick)")
    return profile


def check_writable(name: str, folder: Path) -> Path:
    """Create ``folder`` if needed and prove it can be written, before any work is done."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ParamError(f"{name}={str(folder)!r} cannot be written ({exc.strerror}): pass -p {name} "
                         f"with a writable folder") from None
    return folder


def resolve(spec: dict[str, Param], namespace: dict[str, Any] | None = None,
            checks: Callable[[SimpleNamespace], None] | None = None, **overrides) -> SimpleNamespace:
    """Merge the profile's defaults with the values set in ``namespace`` (a notebook's globals)
    and ``overrides``; check each; return them as attributes.

    Also resolves ``profile`` (auto → full with CUDA, else quick), ``device`` (a torch.device)
    and ``out_dir`` (a writable folder, default report/, relative to the project: hwlib.paths).
    ``checks(P)`` may test relations between settings and raise ParamError.
    """
    given = dict(namespace or {})
    given.update(overrides)
    unknown = [k for k in overrides if k not in spec and k not in ("profile", "device", "out_dir")]
    if unknown:
        raise ParamError(f"{unknown[0]} is not a setting of this notebook: use one of {', '.join(spec)}")
    profile = resolve_profile(given.get("profile", "auto"))
    values: dict[str, Any] = {}
    for name, param in spec.items():
        raw = given.get(name)
        values[name] = convert(name, param.default(profile) if raw is None else raw, param)
    try:
        device = resolve_device(given.get("device", "auto"))
    except ValueError as exc:
        raise ParamError(str(exc)) from None
    out_dir = check_writable("out_dir", paths.out_dir(given.get("out_dir")))
    P = SimpleNamespace(profile=profile, device=device, out_dir=out_dir, **values)
    P.settings = _settings(spec, values)  # what the results JSON records as "params"
    if checks is not None:
        checks(P)
    return P


def resolve_task(task, **given) -> SimpleNamespace:
    """``resolve`` for a task module (hwlib.tasks.t*): its SPEC and its cross-setting checks."""
    return resolve(task.SPEC, given, getattr(task, "checks", None))
