"""What every `fonds` command shares: settings and the archive from the context, output
without control characters, one-line errors."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from typing import Any

import click

from fonds.app.archive import Archive
from fonds.errors import FondsError, storage_error
from fonds.settings import Settings
from fonds.text import printable

# Bounds of what a user can ask: beyond them an answer would mean nothing (a page past
# every result, a year no document has) or cost memory the request does not deserve.
MAX_PAGE = 1000
YEARS = click.IntRange(1000, 2999)
PORTS = click.IntRange(1, 65535)


def echo(message: str, err: bool = False) -> None:
    """click.echo without the control characters a document's text may carry."""
    click.echo(printable(message), err=err)


def say(message: str) -> None:
    echo(message, err=True)


class UserError(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares a class default

    def show(self, file: Any = None) -> None:
        echo(f"fonds : {self.format_message()}", err=True)


class FondsGroup(click.Group):
    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """Bad options are one line too (click prints usage, a hint and the error)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "fonds"
            echo(f"fonds : {exc.format_message()} (voir « {where} --help »)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            echo("fonds : interrompu", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FondsError as exc:
            raise UserError(str(exc), exc.exit_code) from None
        except (OSError, sqlite3.Error) as exc:
            storage = storage_error(exc)
            if storage is None:
                raise
            raise UserError(str(storage), storage.exit_code) from None


def settings_of(ctx: click.Context) -> Settings:
    settings: Settings = ctx.ensure_object(dict)["settings"]
    return settings


def archive_of(ctx: click.Context) -> Archive:
    return Archive(settings_of(ctx))
