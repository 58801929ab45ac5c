"""The one error type for bad input: it names the file, the column, the rows and what was expected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


#: Characters of an offending value quoted in a message (a 5 MB cell is not echoed back).
_MAX_QUOTED = 60


def _quoted(value: str) -> str:
    if len(value) <= _MAX_QUOTED:
        return repr(value)
    return f"{value[:_MAX_QUOTED]!r}… ({len(value)} characters)"


@dataclass(frozen=True, slots=True)
class BadRow:
    """One offending row: its line in the file (1 = header), the customer id and the value."""

    line: int | None
    id: str | None
    value: str


@dataclass(slots=True)
class DataError(Exception):
    """Invalid input data.

    Parameters
    ----------
    file : str
        The file name (e.g. ``market_file.csv``).
    problem : str
        What is wrong, in a few words.
    expected : str
        What was expected instead.
    column : str or None
        The raw column name, when one column is at fault.
    rows : sequence of BadRow
        The first offending rows.
    n_rows : int
        How many rows are at fault in total.
    """

    file: str
    problem: str
    expected: str
    column: str | None = None
    rows: Sequence[BadRow] = field(default_factory=tuple)
    n_rows: int = 0

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)

    def __reduce__(self) -> tuple[type[DataError], tuple[str, str, str, str | None, tuple[BadRow, ...], int]]:
        # picklable with its fields (a worker process that finds invalid input hands the error over)
        return (DataError, (self.file, self.problem, self.expected, self.column, tuple(self.rows), self.n_rows))

    @property
    def message(self) -> str:
        """The human-readable message."""
        where = self.file if self.column is None else f"{self.file}, column «{self.column}»"
        text = f"{where}: {self.problem}; expected {self.expected}."
        if self.rows:
            shown = "; ".join(
                " ".join(
                    part
                    for part in (
                        f"line {r.line}" if r.line is not None else "",
                        f"(id {r.id})" if r.id is not None else "",
                        f"value {_quoted(r.value)}" if r.value != "" else "",
                    )
                    if part
                )
                for r in self.rows
            )
            total = max(self.n_rows, len(self.rows))
            more = f" (and {total - len(self.rows)} more)" if total > len(self.rows) else ""
            text += f" Offending rows ({total}): {shown}{more}."
        return text

    def __str__(self) -> str:
        return self.message
