"""Errors that describe bad review input in one line a reviewer can act on."""

from __future__ import annotations


class ReviewInputError(Exception):
    """Bad input in the review folder or config.

    The message names the file, the record or field, what is wrong and what to do, so that the
    workflow can print it as one line without a traceback.
    """

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 hint: str | None = None):
        self.message = message
        self.file = None if file is None else str(file)
        self.field = field
        self.hint = hint
        super().__init__(self.format())

    def format(self) -> str:
        where = ": ".join(part for part in (self.file, self.field) if part)
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text = f"{text.rstrip('.')}. {self.hint}"
        return text


class ReviewInputErrors(ReviewInputError):
    """Several independent problems found in one pass (e.g. every bad field of one study file)."""

    def __init__(self, errors: list[ReviewInputError]):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, file=first.file, field=first.field, hint=first.hint)

    def format(self) -> str:  # one line per problem
        return "\n".join(e.format() for e in getattr(self, "errors", [])) or super().format()
