"""The one exception type users see."""


class AishockError(Exception):
    """A problem with the user's input or data, worded as one line saying what is wrong and
    how to fix it. The CLI prints it without a traceback and exits with status 2."""
