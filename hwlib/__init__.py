"""hwlib: models, training loops and analysis math behind the HW1 report.

- ``tasks/``: one module per sub-task, named after its notebook (``t1_3c_interpolation``): its
  settings (``SPEC``), its computation (``run``) and what the report shows of it (``table``,
  ``figures``, ``comment``), with ``tasks/common`` for what every notebook calls.
- Science, one idea per module: ``data``, ``models``, ``losses``, ``train``, ``ensemble`` (with
  ``batched_mlp``, its fast path for MLPs, and ``flat_optim``, its optimizers), ``flat``,
  ``curvature``, ``trajectory``, ``landscape``, ``labels``, ``interpolation``, ``sensitivity``,
  ``sharpness``.
- Support: ``params`` (profiles, validated settings), ``paths`` (relative paths resolve against the
  project), ``results`` (atomic JSON of plain host data), ``cache`` (trained models between
  notebooks), ``plots`` / ``tables`` / ``wording`` (how figures, tables and comments look and
  read), ``sources`` (which hwlib files a piece of code imports), ``device``, ``progress``.
- ``pipeline/``: the build layer (run the notebooks, stitch the HTML, print the PDF).
"""

__version__ = "0.1.0"
