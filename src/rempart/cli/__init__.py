"""The ``rempart`` command line (Typer)."""
