"""One module per notebook: its parameter SPEC (per-profile defaults) and run(P) -> results."""
