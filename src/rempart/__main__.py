"""``python -m rempart``: the same as the ``rempart`` command."""

from rempart.cli.main import app

app()
