"""Errors a user can act on: the CLI prints their message on one line, never a traceback."""


class FondsError(Exception):
    """An error caused by input or environment, with a message fit for the user."""

    exit_code = 1


class SettingsError(FondsError):
    """A setting is unknown or has a value of the wrong type."""


class NotAvailableError(FondsError):
    """A command whose stage has not landed yet."""

    exit_code = 2
