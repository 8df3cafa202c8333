"""The core of beicoder: plain Python over data. Never imports the TUI, the CLI, Textual or Rich."""


class BeicoderError(Exception):
    """A problem with the user's input that is reported as one line and a non-zero exit.

    The message names the file (or database) and the problem.
    """
