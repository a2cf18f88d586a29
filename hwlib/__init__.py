"""hwlib: models, training loops and analysis math behind the HW1 report.

One idea per module: ``data`` (datasets as device tensors), ``models`` (nets built from a
parameter budget), ``train`` (the device-resident minibatch loop), ``params`` (profiles and
validated notebook parameters), ``paths`` (the project's folders: relative paths resolve
against the project), ``results`` (atomic JSON results of plain host data), ``plots`` /
``tables`` (what the report shows), ``runner`` / ``kernels`` (running a notebook headlessly),
``report`` / ``pdf`` (stitching the executed notebooks).
"""

__version__ = "0.1.0"
