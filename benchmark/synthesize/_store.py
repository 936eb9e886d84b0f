"""``traces.jsonl`` of one run, resumable: traces already on disk are kept, new ones are added batch by batch with an
atomic rewrite, so an interrupted run loses at most the batch in progress and never a written trace."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..io import iter_jsonl, write_jsonl
from ..schema import validate


class TraceStore:
    """The traces of one training split, in training order."""

    def __init__(self, path: Path | str, records: list[dict]):
        self.path = Path(path)
        self.order = [r["id"] for r in records]
        self.traces: dict[str, dict] = {}
        if self.path.exists():
            known = set(self.order)
            for i, doc in enumerate(iter_jsonl(self.path), 1):
                validate("traces", doc, file=self.path, record=f"line {i}")
                if doc["id"] not in known:
                    raise DataError("trace for an id that is not in this training split (a traces file of another "
                                    "split? remove it or pick another output folder)", file=self.path,
                                    record=doc["id"], field="id")
                self.traces[doc["id"]] = doc

    def pending(self, records: list[dict]) -> list[dict]:
        """The records that have no trace yet."""
        return [r for r in records if r["id"] not in self.traces]

    def add(self, docs: list[dict]) -> None:
        """Validate and save ``docs`` (``{"id", "trace", "meta"?}``) together with everything already saved."""
        for doc in docs:
            validate("traces", doc, file=self.path)
            self.traces[doc["id"]] = doc
        write_jsonl(self.path, [self.traces[i] for i in self.order if i in self.traces])

    @property
    def complete(self) -> bool:
        return len(self.traces) == len(self.order)
