"""User-facing errors: the CLI prints them as one line and exits with code 2."""


class InvToolkitError(Exception):
    """Bad input or configuration that the user can fix (never a bug)."""


class InputError(InvToolkitError):
    """A file or value given by the user is missing, malformed or out of range."""


class PluginError(InvToolkitError):
    """An unknown plugin name, or a plugin that failed to load."""
