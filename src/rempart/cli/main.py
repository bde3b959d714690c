"""``rempart``: serve the portal, manage its database and journal, run its jobs, and more.

Other installed packages add commands through the ``rempart.commands`` entry-point group (the
bench contributes ``seed``, ``demo-logins`` and ``bench``). They are loaded only when one of
them is run or the help lists them, so ``rempart serve`` never imports them.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import typer
from typer.core import TyperCommand, TyperGroup

from rempart.cli import serve
from rempart.db import cli as db
from rempart.governance import cli as jobs
from rempart.incident import cli as incident_cli
from rempart.intake import cli as intake_cli
from rempart.journal import cli as journal_cli
from rempart.journal import witness_cli
from rempart.messages import cli as messages_cli
from rempart.people import cli as canary_cli
from rempart.retention import cli as retention_cli
from rempart.siem import cli as siem

COMMANDS_GROUP = "rempart.commands"

# What Typer builds from an app or a function. Typer's Click layer is private (it vendors
# Click): these two public classes are the only command types named here.
Command = TyperCommand | TyperGroup


def contributed_commands() -> dict[str, EntryPoint]:
    """The commands other installed packages declare, by name (not loaded)."""
    return {ep.name: ep for ep in entry_points(group=COMMANDS_GROUP)}


def as_command(name: str, contributed: object) -> Command:
    """A contributed Typer app or Typer command function, as a command of ``rempart``."""
    if isinstance(contributed, typer.Typer):
        built = typer.main.get_command(contributed)
    elif callable(contributed):
        single = typer.Typer()
        single.command(name)(contributed)
        built = typer.main.get_command(single)
    else:
        built = None
    if not isinstance(built, Command):
        raise TypeError(f"{COMMANDS_GROUP} entry point {name!r} is not a command: {contributed!r}")
    return built


class PluggableGroup(TyperGroup):
    """The runtime's own commands, then the contributed ones, each loaded on first use."""

    def list_commands(self, ctx: object) -> list[str]:
        """Own commands in their order, then contributed ones by name."""
        own = list(self.commands)
        return own + sorted(set(contributed_commands()) - set(own))

    def get_command(self, ctx: object, cmd_name: str) -> Command | None:
        """An own command, else the contributed command of that name, loaded now."""
        command = self.commands.get(cmd_name)
        if isinstance(command, Command):  # every command Typer builds is one
            return command
        ep = contributed_commands().get(cmd_name)
        if ep is None:
            return None
        loaded = as_command(cmd_name, ep.load())
        self.add_command(loaded, cmd_name)  # loaded once per process
        return loaded


app = typer.Typer(
    name="rempart",
    cls=PluggableGroup,
    help="Rempart: a partner portal that opens personal data to partners without leaking it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # a traceback could print secrets from locals
)
app.add_typer(db.app, name="db")
# The SIEM capability adds the journal's ECS export beside the journal's own commands.
journal_cli.app.command("export")(siem.export)
app.add_typer(journal_cli.app, name="journal")
app.add_typer(witness_cli.app, name="witness")
app.add_typer(siem.rules_app, name="rules")
app.add_typer(jobs.app, name="jobs")
app.add_typer(incident_cli.app, name="incident")
app.add_typer(messages_cli.app, name="messages")
app.add_typer(jobs.admin_app, name="admin")
app.add_typer(retention_cli.app, name="retention")
app.add_typer(canary_cli.app, name="canary")
app.command("serve")(serve.serve)
app.command("import")(intake_cli.import_files)
