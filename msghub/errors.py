"""One family of errors for everything msghub reports to a person.

A HubError's message is shown as is: one clear line that says what is wrong
and, where it helps, what to do. The CLI prints it without a traceback.
"""


class HubError(Exception):
    """Base of every error msghub raises on purpose."""


class ConfigError(HubError):
    """A setting, option or argument is wrong."""


class CodecError(HubError):
    """Bytes or text could not be encoded or decoded."""
