"""Errors a user can act on. The CLI prints them as one line (no traceback) and exits non-zero."""


class PaperboyError(Exception):
    """An expected failure with a message that says what went wrong and what to do next."""

    exit_code = 2


class SourceUnavailable(PaperboyError):
    """A remote source (arXiv, Hugging Face) could not be reached or kept failing."""

    exit_code = 4


class SourceUnreachable(SourceUnavailable):
    """A connection to a source could not even be opened (name not resolved, refused): no
    network or a wrong URL, so it is not retried for long."""


class NotFound(PaperboyError):
    """A paper, user or file the user named does not exist."""

    exit_code = 1
