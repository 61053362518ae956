"""Typed errors of the hash lists, each with a message fit for the user who caused it."""

from __future__ import annotations

from dataclasses import dataclass

from opspoor.errors import OpspoorError


class ListError(OpspoorError):
    """Base of every hash-list error."""


class ListNotFound(ListError, LookupError):
    pass


class ListExists(ListError):
    pass


class EntryNotFound(ListError, LookupError):
    pass


class AmbiguousValue(ListError):
    """A value that is in the list under more than one signal type (sha256 and pdq are both 64 hex)."""


class InvalidEntry(ListError, ValueError):
    """One row that cannot become an entry (bad hash, unknown signal type or classification, ...)."""


class ConcurrentChange(ListError):
    """Another writer changed the same list at the same time; the caller may retry."""


@dataclass(frozen=True)
class RowProblem:
    line: int  # 1-based line (or record) number in the input
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRejected(ListError):
    """An import with bad rows. Nothing was written; `problems` lists them (up to a cap)."""

    def __init__(self, source: str, problems: list[RowProblem], capped: bool) -> None:
        self.source = source
        self.problems = problems
        self.capped = capped
        more = " (stopped reading at this many)" if capped else ""
        shown = "\n".join(f"  {p}" for p in problems[:20])
        rest = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{source}: {len(problems)} bad row(s){more}; nothing was imported.\n{shown}{rest}")
