"""A command group that imports a command's module only when that command runs.

Every ``cdp`` process is one command: importing every command group's module (and what each
imports) at start-up cost every command the start-up of all of them. ``cdp --help`` lists a lazy
command from the name and help text it is registered with, without importing it
(tests/unit/test_cli_lazy.py checks that text against the command's own).
"""

import importlib
from dataclasses import dataclass

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives: ``module:attribute``, a ``typer.Typer`` (a group, or, with ``merged``,
    one whose commands sit at the top level) or a command function; and its help for ``--help``."""

    target: str
    help: str
    merged: bool = False

    def load(self, name: str) -> TyperCommand | TyperGroup:
        """The command as ``app.add_typer`` / ``app.command`` on the top-level app would build it."""
        module, _, attribute = self.target.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        holder = typer.Typer(add_completion=False)
        if isinstance(found, typer.Typer):
            holder.add_typer(found, name=None if self.merged else name)
        else:
            holder.command(name)(found)
        built = typer.main.get_command(holder)
        return built.commands[name] if isinstance(built, TyperGroup) else built


class LazyGroup(TyperGroup):
    """A ``TyperGroup`` whose ``lazy`` commands (name → :class:`LazyCommand`) follow its own in
    listings and are imported when resolved to run (or to show their own help)."""

    lazy: dict[str, LazyCommand] = {}

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [*super().list_commands(ctx), *(name for name in self.lazy if name not in self.commands)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> TyperCommand | TyperGroup | None:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        return TyperCommand(cmd_name, help=self.lazy[cmd_name].help)  # listed, not imported

    def resolve_command(self, ctx: typer.Context, args: list[str]):
        name = args[0] if args else None
        if name in self.lazy and name not in self.commands:
            self.add_command(self.lazy[name].load(name), name)
        return super().resolve_command(ctx, args)
