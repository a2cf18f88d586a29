"""Run one notebook headlessly (papermill), or check settings for all of them before any run.

  python -m hwlib.pipeline.runner check --profile quick [-p NAME VALUE ...] [--stamp FILE]
  python -m hwlib.pipeline.runner run notebooks/1_2a_x.ipynb report/executed/1_2a_x.ipynb --profile quick [--threads N]
      [-p NAME VALUE ...]
  python -m hwlib.pipeline.runner product notebooks/1_3d_sensitivity.ipynb --profile quick [--threads N]

``check`` validates the profile and every ``-p`` value against the settings of every notebook
(a name known to none of them is an error), prints one line per problem and exits non-zero,
so ``make report`` stops before any training. With ``--stamp`` it rewrites FILE only when the
resolved settings changed, which is what makes make rerun every notebook then, and only then.

``product`` trains what a notebook's task trains for others too (1-3d's models, which 1-3e measures), as a
make rule of its own, so the notebooks that need it wait in make instead of in a job slot (see ``product``).

``run`` passes each notebook only the settings it knows, executes it to a temporary file and
renames it into place on success, so ``report/executed/`` only ever holds complete notebooks
(a failed one is kept under ``report/failed/`` for inspection). It prints which notebook runs,
then the notebook's own progress lines, each tagged with its section (``1-3d | …``) because make
runs several notebooks side by side; ``--threads`` sets the kernel's CPU thread count.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import io
import os
import signal
import sys
import time
from pathlib import Path

from .. import paths, results
from ..params import ParamError, check_writable, resolve_profile, resolve_task
from . import timings


def task_module(notebook: Path):
    """notebooks/1_3c_interpolation.ipynb → hwlib.tasks.t1_3c_interpolation (None if it has none)."""
    try:
        return importlib.import_module(f"hwlib.tasks.t{notebook.stem}")
    except ImportError:
        return None


def notebook_sources(notebook: Path) -> set[Path]:
    """The hwlib files a notebook's code imports, directly or through other modules (hwlib.sources):
    what its results and figures depend on. The build layer (runner, stitching, PDF) is not among
    them, so editing it reruns no notebook."""
    import nbformat

    from .. import sources

    nb = nbformat.read(notebook, as_version=4)
    return sources.of_code([c.source for c in nb.cells if c.cell_type == "code"])


def write_deps(notebook: Path, output: Path, out_dir: Path, target: str | None = None) -> None:
    """report/.deps/<name>.d for make: rerun the notebook (or build ``target``, a product such as
    ``report/.products/1_3d_models``, from the notebook's task) when any hwlib file it imports changes."""
    root = paths.project_root()
    files = sorted(str(p.resolve().relative_to(root)) if p.resolve().is_relative_to(root) else str(p)
                   for p in notebook_sources(notebook))
    deps = out_dir / ".deps" / f"{output.stem}.d"
    deps.parent.mkdir(parents=True, exist_ok=True)
    deps.write_text(f"{target or f'report/executed/{output.name}'}: {' '.join(files)}\n")


def all_notebooks(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.ipynb"))


def parse_pairs(pairs: list[list[str]]) -> dict[str, str]:
    return {name: value for name, value in pairs or []}


def _settings_for(task, profile: str, given: dict[str, str], out_dir: Path):
    """Resolve one notebook's settings from the profile and the given values it knows."""
    mine = {k: v for k, v in given.items() if k in task.SPEC}
    device = given.get("device", "auto")
    return resolve_task(task, profile=profile, device=device, out_dir=out_dir, **mine)


def check(profile: str, given: dict[str, str], notebooks: list[Path], out_dir: Path) -> list[str]:
    """One line per problem with the profile and the given settings (none: all is well).

    Only given settings are checked against the task modules: importing them all (torch, matplotlib,
    scipy) is most of a check's time, and a profile's own values are code, which the tests resolve
    for every task and every profile (tests/test_notebook_parameters.py). Without any, the profile's
    name and the output folder are all a user chose."""
    problems = []
    try:
        resolve_profile(profile)
    except ParamError as exc:
        return [str(exc)]
    if not given:
        try:
            check_writable("out_dir", out_dir)
        except ParamError as exc:
            return [str(exc)]
        return []
    known = {"device"}
    for nb in notebooks:
        task = task_module(nb)
        if task is None:
            continue
        known |= set(task.SPEC)
        try:
            _settings_for(task, profile, given, out_dir)
        except ParamError as exc:
            problems.append(f"{nb.stem}: {exc}")
    for name in given:
        if name not in known:
            problems.append(f"{name} is not a setting of any notebook: see the settings tables, or "
                            f"`python -m hwlib.pipeline.runner settings` for the list")
    return problems


# What the full profile cost on a 2-core CPU, notebook by notebook, when it was last measured there (at an
# earlier revision, MNIST and CIFAR-10): said before a full build on a CPU that has no timings of its own.
FULL_ON_CPU_ESTIMATE = ("several hours: measured on a 2-core CPU, 1-1a took 82 s, 1-2c 41 s, "
                        "1-3c over 11 min, and each of 1-3d's 15 models 5 to 8 min")


def cost_note(profile: str, given: dict[str, str], out_dir: Path, jobs: int) -> str | None:
    """One line before a full build that will run on a CPU: that it will, what it will cost (from this
    machine's last full build, else the stated estimate) and how to stop or choose quick instead. None for
    every other build. Only a full profile asked for by name can land on a CPU: auto picks full only with
    CUDA."""
    if profile != "full":
        return None
    device = given.get("device", "auto")
    if device == "auto":
        import torch  # seconds, paid only by a full build, which takes hours on a CPU

        on_cpu = not torch.cuda.is_available()
    else:
        on_cpu = device.startswith("cpu")
    if not on_cpu:
        return None
    seconds = timings.load_timings(out_dir, "full")
    names = [nb.stem for nb in all_notebooks(paths.project_root() / "notebooks")]
    work = timings.work(names, seconds)
    if work is not None:
        cost = (f"about {timings.in_words(timings.expected_wall(work, jobs))} with {jobs} side by side, by this "
                f"machine's last full build")
    else:
        cost = FULL_ON_CPU_ESTIMATE
    return (f"note: the full profile (MNIST, CIFAR-10, the homework's settings) is running on the CPU, without "
            f"CUDA: expect {cost}. Ctrl-C stops it (finished notebooks are kept); make report PROFILE=quick "
            f"runs the embedded dataset in minutes.")


def _print_filter(tag: str):
    """papermill's --log-output, without its cell banners and object reprs: our own lines instead,
    each tagged with its notebook's section, since notebooks may run side by side (make's JOBS)."""
    import logging

    class Quiet(logging.Filter):
        def filter(self, record):
            record.msg, record.args = record.getMessage().rstrip("\n"), None
            msg = record.msg
            return not (msg.startswith(("Executing Cell", "Ending Cell", "Executing notebook", "Input Notebook",
                                        "Output Notebook", "Working directory", "Executing:",
                                        # said once, our way, by kernels.execute_with_one_retry
                                        "Error occurred while starting new kernel client"))
                        or msg.startswith("<IPython.core.display") or msg.strip() == "")

    log = logging.getLogger("papermill")
    log.addFilter(Quiet())
    logging.basicConfig(level=logging.INFO, format=f"    {tag} | %(message)s", stream=sys.stdout)


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def _keep_failed(tmp: Path, out_dir: Path, output: Path) -> Path:
    """Move a failed run's partial notebook to <out_dir>/failed/ for inspection."""
    failed = out_dir / "failed" / output.name
    failed.parent.mkdir(parents=True, exist_ok=True)
    if tmp.exists():
        os.replace(tmp, failed)
    return failed


def run(notebook: Path, output: Path, profile: str, given: dict[str, str], out_dir: Path) -> int:
    import papermill as pm
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from .kernels import KernelStartError, execute_with_one_retry

    # "auto" goes to the kernel as it is, which resolves it in the settings cell (full with CUDA, else quick)
    # and records the outcome in the results: resolving it here meant importing and unloading torch, ~4 s
    # of every notebook's build step on a 2-core CPU, to look for a GPU the kernel looks for anyway
    auto = profile in (None, "", "auto")
    params: dict = {"profile": "auto" if auto else resolve_profile(profile), "out_dir": str(out_dir)}
    if "device" in given:
        params["device"] = given["device"]
    # the task module (torch, matplotlib: seconds to import) only to check and convert given settings; the
    # kernel resolves the profile's own values when it runs the notebook's settings cell
    task = task_module(notebook) if given else None
    if task is not None:
        P = _settings_for(task, profile, given, out_dir)
        params.update({k: getattr(P, k) for k in given if k in task.SPEC})
    siblings = all_notebooks(notebook.parent)
    index = siblings.index(notebook) + 1 if notebook in siblings else 0
    shown = "auto: full with CUDA, else quick" if auto else params["profile"]
    print(f"[{index}/{len(siblings)}] {notebook.name}  (profile {shown})", flush=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    # executed to a side folder, renamed into place when complete: report/executed/ never holds a partial notebook
    tmp = output.parent / ".running" / output.name
    tmp.parent.mkdir(exist_ok=True)
    signal.signal(signal.SIGTERM, _terminate)  # make's interrupt: run the cleanup below, then exit
    tag = "-".join(notebook.stem.split("_")[:2])  # 1_3d_sensitivity -> 1-3d
    _print_filter(tag)
    start = time.perf_counter()
    execute = functools.partial(pm.execute_notebook, str(notebook), str(tmp), parameters=params, log_output=True,
                                progress_bar=False, cwd=str(notebook.parent), kernel_name="python3",
                                # start-up chatter of the kernel is noise in the build log
                                extra_arguments=["--IPKernelApp.log_level=ERROR"],
                                # the kernel is stopped once every cell has run and its outputs are in:
                                # a polite shutdown waits for its Python to tear down torch and the rest
                                # (2-3 s per notebook), which leaves nothing behind that the build reads
                                shutdown_kernel="immediate")
    try:
        execute_with_one_retry(execute, lambda line: print(f"    {tag} | {line}", flush=True))
    except KernelStartError as exc:
        tmp.unlink(missing_ok=True)
        print(f"error: {notebook.name}: {exc}: run it again; if it persists, `jupyter kernelspec list` should "
              f"show python3 in {sys.prefix}", file=sys.stderr)
        return 1
    except DeadKernelError as exc:  # died mid-run: out of memory, a crash in native code
        failed = _keep_failed(tmp, out_dir, output)
        print(f"error: {notebook.name}: the kernel died while running ({exc}); out of memory? The partial "
              f"notebook: {failed}", file=sys.stderr)
        return 1
    except PapermillExecutionError as exc:
        failed = _keep_failed(tmp, out_dir, output)
        if exc.ename in ("ParamError", "DataError"):
            print(f"error: {notebook.name}: {exc.evalue}", file=sys.stderr)
        else:
            print(f"error: {notebook.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}\n"
                  f"       the executed notebook with the full traceback: {failed}", file=sys.stderr)
        return 1
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, output)
    write_deps(notebook, output, out_dir)
    seconds = time.perf_counter() - start
    saved = results.load_results(output.stem, out_dir) or {}
    ran = saved.get("profile")  # "auto" as the kernel resolved it
    if ran and not saved.get("redrawn"):  # a redraw's seconds say nothing of what a computation costs
        timings.record(out_dir, ran, output.stem, seconds)
    print(f"[{index}/{len(siblings)}] {notebook.name} done in {seconds:.1f} s", flush=True)
    return 0


class _Tagged(io.TextIOBase):
    """stdout with every line tagged, as the notebooks' lines are (``1-3d models | …``)."""

    def __init__(self, tag: str, stream):
        self.tag, self.stream, self.pending = tag, stream, ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            print(f"    {self.tag} | {line}", file=self.stream, flush=True)
        return len(text)


def product(notebook: Path, profile: str, given: dict[str, str], out_dir: Path,
            threads: int | None = None) -> int:
    """Train the models a notebook's task shares with others (its ``train_models``, cached under ``MODELS``
    by hwlib.cache), for make's rule that builds them before the notebooks that measure them. Writes
    ``<out_dir>/.products/<MODELS>`` holding the models' cache key, rewritten only when the key changed: make
    then reruns those notebooks, and only then. Models already in the cache are not trained again."""
    from ..tasks import common

    task = task_module(notebook)
    if task is None or not hasattr(task, "train_models"):
        print(f"error: {notebook.name} trains no models for other notebooks (its task has no train_models)",
              file=sys.stderr)
        return 2
    P = _settings_for(task, profile, given, out_dir)
    if threads:
        import torch

        torch.set_num_threads(threads)
    tag = "-".join(notebook.stem.split("_")[:2]) + " models"
    print(f"[models] {task.MODELS}  (profile {P.profile}, for {notebook.name} and the notebooks that measure "
          f"them)", flush=True)
    start = time.perf_counter()
    # a missing dataset raises DataError, a ParamError: main says it in one line, as for a bad setting
    tagged = _Tagged(tag, sys.stdout)
    with contextlib.redirect_stdout(tagged):
        _, loaded = task.train_models(P, common.load_data(P))
        print(end="\n" if tagged.pending else "")  # a last line without its newline still comes out
    seconds = time.perf_counter() - start
    if not loaded:  # the cost of training them, which make's order adds to the notebooks that need them
        timings.record(out_dir, P.profile, task.MODELS, seconds)
    stamp = out_dir / ".products" / task.MODELS
    key = f"{task.cache_key(P)}\n"
    if not stamp.exists() or stamp.read_text() != key:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(key)
    # the files the models depend on are the ones the notebook imports: make's dry run (-n) then lists 1-3d and
    # 1-3e exactly when they would rerun anyway
    write_deps(notebook, stamp, out_dir, target=f"report/.products/{task.MODELS}")
    print(f"[models] {task.MODELS} {'loaded' if loaded else 'trained'} in {seconds:.1f} s", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    root = paths.project_root()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("check", "run", "product"):
        p = sub.add_parser(name)
        if name in ("run", "product"):
            p.add_argument("notebook", type=Path)
        if name == "run":
            p.add_argument("output", type=Path)
        if name in ("run", "product"):
            p.add_argument("--threads", type=int, default=None,
                           help="CPU threads of the notebook's kernel (default: torch's own, one per core)")
        p.add_argument("--profile", default="auto")
        p.add_argument("-p", nargs=2, action="append", metavar=("NAME", "VALUE"), dest="pairs")
        p.add_argument("--out-dir", type=paths.in_project, default=paths.out_dir())
        p.add_argument("--notebooks", type=Path, default=root / "notebooks")
        if name == "check":
            p.add_argument("--stamp", type=Path)
            p.add_argument("--jobs", type=int, default=1, help="notebooks make runs side by side (for the cost line)")
    sub.add_parser("settings", help="list every notebook's settings and their per-profile values")
    args = ap.parse_args(argv)

    if args.command == "settings":
        for nb in all_notebooks(root / "notebooks"):
            task = task_module(nb)
            if task is not None:
                print(nb.stem)
                for k, prm in task.SPEC.items():
                    print(f"  {k:<16} smoke={prm.smoke!r} quick={prm.quick!r} full={prm.full!r}  {prm.doc}")
        return 0

    given = parse_pairs(args.pairs)
    if args.command == "check":
        problems = check(args.profile, given, all_notebooks(args.notebooks), args.out_dir)
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        if problems:
            return 2
        note = cost_note(args.profile, given, args.out_dir, args.jobs)  # only a full profile named as such
        if note:
            print(note, flush=True)
        if args.stamp:
            text = f"profile={resolve_profile(args.profile)}\n" + "".join(f"{k}={v}\n" for k, v in sorted(given.items()))
            if not args.stamp.exists() or args.stamp.read_text() != text:
                args.stamp.parent.mkdir(parents=True, exist_ok=True)
                args.stamp.write_text(text)
        return 0
    try:
        if args.threads is not None:
            if args.threads < 1:
                print(f"error: threads={args.threads} is not allowed: use a whole number ≥ 1 (e.g. THREADS=1)",
                      file=sys.stderr)
                return 2
            # the kernel inherits this environment; torch takes its thread count from it at import
            os.environ["OMP_NUM_THREADS"] = str(args.threads)
        if args.command == "product":
            return product(args.notebook, args.profile, given, args.out_dir, args.threads)
        return run(args.notebook, args.output, args.profile, given, args.out_dir)
    except ParamError as exc:
        print(f"error: {args.notebook.name}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
