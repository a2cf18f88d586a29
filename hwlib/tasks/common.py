"""What every sub-task's notebook does, one call per cell: settings, run and save, table, figures, comment.

A task module (``hwlib/tasks/t1_3c_interpolation.py``) provides ``NAME``, ``SECTION``, ``SPEC``, and
``run(P)``, ``table(R)``, ``figures(R)``, ``comment(R)`` (``checks(P)`` if some settings must agree).
Its notebook holds the question and method prose, the parameters cell and one call of each function
below, so a notebook reads the same whichever sub-task it is, and the logic lives where it is tested.
``table``, ``figures`` and ``comment`` read only R, the plain results the notebook saved as JSON
(``R["params"]`` holds the resolved settings): what the report shows is exactly what was saved.
"""

from __future__ import annotations

import os

from IPython.display import Markdown, display

from .. import data, inputs, results
from ..params import Param, resolve, same
from ..plots import show
from ..tables import settings_table

# The settings every image task has, written once: which dataset, where torchvision keeps it, and
# how many training images a smoke run keeps (the quick and full profiles use all of them).
DATASET = Param("str", smoke="digits", quick="digits", full="mnist", choices=data.IMAGE_DATASETS,
                doc="image dataset")
DATA_ROOT = same("str", "data", internal=True, doc="torchvision data folder (relative to the project)")


def train_limit(smoke: int) -> Param:
    """Keep the first n training images: n in the smoke profile, all of them (0) otherwise."""
    return Param("int", smoke=smoke, quick=0, full=0, low=0, off=0, doc="keep the first n training images (0: all)")


def load_data(P) -> data.Dataset:
    """The one way a task loads its image dataset: from its settings (dataset, data_root, train_limit)."""
    return data.load_dataset(P.dataset, P.device, root=P.data_root, train_limit=P.train_limit or None)


def settings(task, namespace: dict):
    """Resolve the task's settings from the notebook's parameters cell (``globals()``) and show them."""
    P = resolve(task.SPEC, namespace, getattr(task, "checks", None))
    display(Markdown(f"**Settings** (profile {P.profile}, device {P.device})\n\n" + settings_table(P.settings)))
    return P


def run(task, P) -> dict:
    """Compute the task's results and save them (report/results/<name>.json) before anything is drawn;
    or, where the saved results were computed from the same inputs (settings, versions and the code
    ``run`` reaches: hwlib.inputs), load them, so that a new caption, comment or plot style redraws in
    seconds instead of training again. ``HWLIB_RECOMPUTE=1`` computes in any case. ``R["redrawn"]``
    says which happened (the report's appendix lists the redrawn notebooks)."""
    key = inputs.digest(task, P.settings, P.profile, P.device)
    saved = results.load_results(task.NAME, P.out_dir)
    if saved is not None and saved.get("inputs") == key and os.environ.get("HWLIB_RECOMPUTE", "") in ("", "0"):
        print(f"{task.SECTION}: redrawn from {results.results_path(task.NAME, P.out_dir)}: computed before "
              f"({saved['seconds']:.1f} s) from the same settings and code (HWLIB_RECOMPUTE=1 computes afresh)",
              flush=True)
        if not saved.get("redrawn"):
            saved["redrawn"] = True
            results.save(task.NAME, saved, P.out_dir)
        return saved
    R = dict(task.run(P), inputs=key, redrawn=False)
    results.save(task.NAME, R, P.out_dir)
    return R


def show_table(task, R: dict) -> None:
    display(Markdown(task.table(R)))


def show_figures(task, R: dict) -> None:
    """Each figure with its number (the task's section and the figure's place) and caption."""
    for i, (fig, caption) in enumerate(task.figures(R), 1):
        show(fig, f"{task.SECTION}.{i}", caption)


def show_comment(task, R: dict) -> None:
    display(Markdown(task.comment(R)))
