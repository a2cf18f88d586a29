"""Helpers shared by the tests: datasets written in their real on-disk formats, the reference numbers,
the PDF's layout, and simple forms of measures that only the tests call."""
