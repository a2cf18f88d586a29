"""The build layer: executing the notebooks (runner, on kernels it starts safely), stitching them into one
HTML report (stitch, with template/) and printing it to PDF (pdf). Nothing here computes a result:
editing it reruns no notebook."""
