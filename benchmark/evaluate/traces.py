"""Reading a method's traces file and checking it against the training split it claims to cover."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..io import dumps_canonical, iter_jsonl, sha256_text
from ..schema import validate

Traces = dict[str, str]  # training record id -> trace


def load_traces(path: Path | str, pack: str, user: str, train: list[dict], *,
                needed: list[str] | None = None) -> Traces:
    """The traces of ``path`` as ``{id: trace}``: every line valid, no id twice, no id outside ``train``, and
    every training id present (or every id of ``needed``: see ``check_traces``).

    A traces file for another pack or user, a missing, duplicate or unknown id each raise a DataError naming the
    file, the record and the field."""
    path = Path(path)
    traces: Traces = {}
    for lineno, doc in enumerate(iter_jsonl(path), 1):
        where = doc.get("id", f"line {lineno}") if isinstance(doc, dict) else f"line {lineno}"
        validate("traces", doc, file=path, record=where)
        if doc["id"] in traces:
            raise DataError("duplicate trace id", file=path, record=doc["id"], field="id")
        traces[doc["id"]] = doc["trace"]
    return check_traces(traces, pack, user, train, source=path, needed=needed)


def check_traces(traces: Traces, pack: str, user: str, train: list[dict], *, source: object = "traces",
                 needed: list[str] | None = None) -> Traces:
    """Check that ``traces`` cover the training split of ``pack``/``user`` and nothing else; returns them unchanged.

    ``needed``: the training ids that must have a trace (default: all of ``train``). An evaluation passes the
    records its retrieval shows as demonstrations for the evaluated test slice: a trace never shown cannot change a
    number, so a synthesizer run on just those records (``demonstrated``) gives the same result as one run on the
    whole split, at a fraction of the cost on a CPU."""
    prefix = f"{pack}/{user}/"
    foreign = [i for i in traces if not i.startswith(prefix)]
    if foreign:
        raise DataError(f"{len(foreign)} trace ids do not start with {prefix!r}: traces for a different pack or "
                        f"user?", file=source, record=foreign[0], field="id")
    train_ids = {r["id"] for r in train}
    unknown = [i for i in traces if i not in train_ids]
    if unknown:
        raise DataError(f"{len(unknown)} trace ids are not in the training split of {pack}/{user}",
                        file=source, record=unknown[0], field="id")
    required = [r["id"] for r in train] if needed is None else needed
    missing = [i for i in required if i not in traces]
    if missing:
        what = "training records" if needed is None else "training records shown as demonstrations"
        raise DataError(f"{len(missing)} of {len(required)} {what} have no trace (first missing: "
                        f"{missing[0]})", file=source, record=missing[0], field="id")
    for rid, trace in traces.items():
        if not isinstance(trace, str):
            raise DataError("trace is not a string", file=source, record=rid, field="trace")
    return traces


def traces_sha256(traces: Traces, train: list[dict]) -> str:
    """sha256 of the canonical traces: one canonical ``{"id", "trace"}`` per line, in training order, for the
    training records that have one (``meta`` is not part of it: it does not change what the action model sees)."""
    return sha256_text("".join(dumps_canonical({"id": r["id"], "trace": traces[r["id"]]}) + "\n"
                               for r in train if r["id"] in traces))


def records_sha256(records: list[dict]) -> str:
    """sha256 of records as canonical JSON Lines (equals the split file's sha256 for a canonical split file)."""
    return sha256_text("".join(dumps_canonical(r) + "\n" for r in records))
