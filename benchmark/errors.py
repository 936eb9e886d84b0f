"""Errors a user can act on. Each names the file, the record and the field where that is known."""

from __future__ import annotations


class ReconBenchError(Exception):
    """Base class: the CLI prints these as one clear line instead of a traceback."""


class DataError(ReconBenchError):
    """Bad input data: names the file, the record (id or line) and the field."""

    def __init__(self, message: str, *, file: object = None, record: object = None, field: str | None = None):
        self.file, self.record, self.field, self.message = file, record, field, message
        where = []
        if file is not None:
            where.append(f"file {file}")
        if record is not None:
            where.append(f"record {record}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class PackIntegrityError(ReconBenchError):
    """A built pack does not match its lock (changed, missing or extra file)."""


class ModelNotAvailable(ReconBenchError):
    """A named model is not installed or converted yet."""
