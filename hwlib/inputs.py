"""What a task's computation reads, as one digest: whether its saved results can be redrawn.

A notebook computes (``run``), then displays (``table``, ``figures``, ``comment``) from the results
it saved. Editing a caption, a comment or a plot helper changes nothing ``run`` computes, yet make
reruns the notebook (it imports the edited file), and training everything again for a new caption
costs minutes. So ``tasks.common.run`` loads the saved results instead of computing when their
digest equals the present one, and the notebook only redraws.

The digest covers everything that decides the numbers:
- the resolved settings, the profile and the device type, torch's and numpy's versions;
- the source text of the task module's statements that ``run`` reaches, by name, transitively (its
  helpers and constants; not ``table``/``figures``/``comment`` and what only they use);
- every hwlib file those statements reach through the names they use (e.g. ``rank_correlation``:
  hwlib/ranks.py and whatever it imports), following imports statically (hwlib.sources), except
  into the display modules below, which format and draw and compute nothing. A display module that
  reached code names directly is still in the digest.

Anything else a computation might read (the data files on disk) is not: ``HWLIB_RECOMPUTE=1``
forces a computation, and ``make clean`` drops the saved results.
"""

from __future__ import annotations

import ast
import hashlib
import json
import sys
from pathlib import Path

from . import sources

# formatting and drawing only: a task's run never needs their text to decide a number
DISPLAY_MODULES = ("hwlib.plots", "hwlib.wording", "hwlib.tables", "hwlib.batch_words")


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def _used_names(node: ast.AST) -> set[str]:
    """The global names a statement reads. In a function, a name it binds itself (an argument, an
    assignment, a loop variable) is local throughout it, so a local ``table`` does not reach the
    module's ``table``."""
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        local = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        local |= {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
        local |= {n.name for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and n is not node}
        names -= local
    return names


def _imports(tree: ast.Module, package: str) -> dict[str, str]:
    """Top-level name → the hwlib module it comes from (``from .. import ranks`` → hwlib.ranks;
    ``from ..ranks import rank_test`` → hwlib.ranks)."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for a in node.names:
                whole = f"{module}.{a.name}"
                out[a.asname or a.name] = whole if sources._module_file(whole) else module
        elif isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = a.name
    return {k: v for k, v in out.items() if v == sources.ROOT_NAME or v.startswith(sources.ROOT_NAME + ".")}


def reached(module_name: str, entry: str = "run") -> tuple[list[str], set[str]]:
    """The source text of the top-level statements of ``module_name`` that ``entry`` reaches by name
    (in file order), and the hwlib modules those statements use."""
    path = sources._module_file(module_name)
    text = path.read_text()
    tree = ast.parse(text)
    defs: dict[str, list[ast.stmt]] = {}
    for node in tree.body:
        for name in _bound_names(node):
            defs.setdefault(name, []).append(node)
    imported = _imports(tree, sources._package_of(path))
    seen, todo, modules = set(), [entry], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in imported:
            modules.add(imported[name])
        for node in defs.get(name, []):
            todo.extend(_used_names(node) - seen)
    statements = [node for node in tree.body if set(_bound_names(node)) & seen]
    return [ast.get_source_segment(text, node) for node in statements], modules


def _files(modules: set[str]) -> set[Path]:
    """hwlib files importing ``modules`` runs, not following imports into the display modules (a display
    module named in ``modules`` itself is kept)."""
    display = {sources._module_file(m) for m in DISPLAY_MODULES}
    files: set[Path] = set()
    todo = list(modules)
    while todo:
        dotted = todo.pop()
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            path = sources._module_file(".".join(parts[:i]))
            if path is None or path in files or (path in display and dotted not in modules):
                continue
            files.add(path)
            todo.extend(sources.imported_modules(ast.parse(path.read_text()), sources._package_of(path)))
    return files


def digest(task, settings: dict, profile: str, device: str) -> str:
    """The digest of what ``task.run`` computes from: settings, versions, and the code it reaches."""
    import numpy
    import torch

    statements, modules = reached(task.__name__)
    h = hashlib.sha256()
    h.update(json.dumps({"settings": settings, "profile": profile, "device": str(device).split(":")[0],
                         "torch": torch.__version__, "numpy": numpy.__version__,
                         "python": list(sys.version_info[:2])}, sort_keys=True, default=str).encode())
    for s in statements:
        h.update(s.encode())
    for file in sorted(_files(modules)):
        h.update(file.relative_to(sources.PACKAGE).as_posix().encode())
        h.update(file.read_bytes())
    return h.hexdigest()[:16]
