"""The build layer: executing the notebooks (runner, on kernels it starts safely), stitching them into one
HTML report (stitch, with template/) and printing it to PDF (pdf). Nothing here computes a result:
editing it reruns no notebook.

Every build step is a short process of its own (make runs one per notebook, then stitch, then pdf), so
what a step imports is paid on every build: the build layer imports neither torch nor matplotlib, and
reads what it needs from the task modules only when a setting is given (runner).
"""

import sys

# jsonschema (under nbformat, which papermill and nbconvert read notebooks with) imports rfc3987_syntax
# when it is installed, only to check the "iri" string format, and that module builds some 40 Lark
# parsers as it loads: 2.7 s of every build step on a 2-core CPU. Notebook validation never checks
# string formats, so the build layer marks the module as absent: its import then raises ImportError,
# which jsonschema expects (it is an optional dependency) and answers by leaving "iri" unchecked.
sys.modules.setdefault("rfc3987_syntax", None)
