import pytest

from hwlib import params
from hwlib.params import Param, ParamError, resolve, same

SPEC = {
    "dataset": same("str", "digits", choices=("digits", "mnist")),
    "epochs": Param("int", smoke=2, quick=20, full=200, low=1),
    "lr": same("float", 1e-3, positive=True),
    "widths": Param("int_list", smoke=[2, 4], quick=[4, 8], full=[8, 16], low=1, min_len=2),
    "alphas": same("float_list", [-1.0, 2.0], min_len=2),
}


def _resolve(tmp_path, **given):
    return resolve(SPEC, {"out_dir": tmp_path, **given})


def test_profile_defaults_and_overrides(tmp_path):
    P = _resolve(tmp_path, profile="smoke", epochs=None, lr="0.01", widths="[3, 5]")
    assert (P.profile, P.epochs, P.lr, P.widths) == ("smoke", 2, 0.01, [3, 5])
    assert P.settings["widths"] == [3, 5] and P.device.type in ("cpu", "cuda")
    assert _resolve(tmp_path, profile="full").epochs == 200
    assert _resolve(tmp_path, profile="quick", widths="3, 5").widths == [3, 5]


@pytest.mark.parametrize("given,message", [
    (dict(profile="nonsense"), "profile='nonsense' is not allowed: profile must be one of smoke, quick, full or auto"),
    (dict(dataset="imagenet"), "dataset='imagenet' is not allowed: dataset must be a string one of digits, mnist"),
    (dict(epochs=0), "epochs=0 is not allowed: epochs must be an integer ≥ 1"),
    (dict(epochs="-5"), "epochs='-5' is not allowed: epochs must be an integer ≥ 1"),
    (dict(epochs=2.5), "epochs=2.5 is not allowed: epochs must be an integer"),
    (dict(lr=0), "lr=0 is not allowed: lr must be a number > 0"),
    (dict(lr="fast"), "lr='fast' is not allowed: lr must be a number > 0"),
    (dict(widths="[]"), "widths='[]' is not allowed: widths must be a list of integers with at least 2 elements"),
    (dict(widths="[4, 'x']"), "widths=\"[4, 'x']\" is not allowed: widths must be a list of integers"),
    (dict(widths=[4]), "widths=[4] is not allowed: widths must be a list of integers with at least 2 elements"),
    (dict(alphas="[2.0]"), "alphas='[2.0]' is not allowed: alphas must be a list of numbers with at least 2"),
    (dict(device="tpu"), "device='tpu' is not a torch device"),
])
def test_bad_values_one_line_naming_parameter(tmp_path, given, message):
    with pytest.raises(ParamError) as err:
        _resolve(tmp_path, **given)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(message), text


def test_message_suggests_a_valid_value(tmp_path):
    with pytest.raises(ParamError, match=r"\(e\.g\. -p epochs 20\)"):
        _resolve(tmp_path, epochs=0)


def test_unwritable_out_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ParamError, match=r"out_dir='.*file/report' cannot be written"):
        resolve(SPEC, {"out_dir": blocker / "report"})


def test_relation_checks_run_last(tmp_path):
    def checks(P):
        if P.widths != sorted(P.widths):
            raise ParamError(f"widths={P.widths!r} must increase")

    with pytest.raises(ParamError, match="must increase"):
        resolve(SPEC, {"out_dir": tmp_path, "widths": [8, 4]}, checks)


def test_auto_profile_follows_device(tmp_path, monkeypatch):
    monkeypatch.setattr(params, "default_profile", lambda: "full")
    assert _resolve(tmp_path, profile="auto").profile == "full"


def test_internal_and_off_settings_are_hidden_from_the_table_but_kept(tmp_path):
    from hwlib.tables import settings_table

    spec = {**SPEC, "train_limit": same("int", 0, low=0, off=0), "chunk": same("int", 64, low=1, internal=True)}
    P = resolve(spec, {"out_dir": tmp_path, "profile": "quick"})
    assert P.settings["train_limit"] == 0 and P.settings["chunk"] == 64  # the results file keeps them
    assert P.settings.hidden == {"train_limit", "chunk"}
    table = settings_table(P.settings)
    assert "train_limit" not in table and "chunk" not in table and "epochs" in table
    P = resolve(spec, {"out_dir": tmp_path, "profile": "quick", "train_limit": 300})
    assert P.settings.hidden == {"chunk"}  # not at its off value: it changes the run, so it is shown
    assert "train_limit" in settings_table(P.settings)


def test_profile_values_are_given_by_name():
    import pytest as _pytest

    with _pytest.raises(TypeError):
        Param("int", 1, 2, 3)  # unnamed columns would let smoke and full swap unnoticed
    assert Param("int", smoke=1, quick=2, full=3).full == 3
