"""The size every figure is drawn at, without matplotlib: hwlib.plots draws at it, and the build layer
(hwlib.pipeline.stitch), which imports no matplotlib, reads a PNG's width back in inches by it."""

WIDTH = 6.8  # inches: the printable width of A4 with the report's margins
DPI = 300  # 2,040 pixels across: two to each CSS pixel where the HTML shows a figure about 900 px wide
