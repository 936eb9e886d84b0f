"""Bounded capture of what a submission produces while it runs: its logs (head and tail kept, the middle counted and
dropped, never held whole) and its output folder (a size-limited tmpfs when the harness may mount one, else a
watchdog that kills the run when the folder grows past the cap)."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path


class HeadTail:
    """Keeps the first ``cap // 2`` and the last ``cap - cap // 2`` bytes written to it; memory stays under ~2x cap
    however much is written. ``text()`` joins them with a note of how much was dropped."""

    def __init__(self, cap: int):
        self.head_cap, self.tail_cap = cap // 2, cap - cap // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.sealed = False
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            if self.sealed:  # a late write from a follower that was given up on: the end is already known
                return
            self.total += len(data)
            room = self.head_cap - len(self.head)
            if room > 0:
                self.head += data[:room]
                data = data[room:]
            if data:
                self.tail += data[-self.tail_cap:] if len(data) > self.tail_cap else data
                if len(self.tail) > 2 * self.tail_cap:
                    del self.tail[:len(self.tail) - self.tail_cap]

    def end_with(self, data: bytes) -> None:
        """Make ``data`` (the last bytes the process wrote, read again after it ended) the end of the log: a follower
        that fell behind or lost a rotated file must not leave the log without its real last lines. Nothing changes
        while everything written still fits in the head, or when the tail already ends with ``data``. Later writes
        are ignored."""
        with self._lock:
            self.sealed = True
            if not data or self.total <= self.head_cap or bytes(self.tail).endswith(data[-self.tail_cap:]):
                return
            self.tail = bytearray(data[-self.tail_cap:])
            self.total = max(self.total, len(self.head) + len(self.tail))

    @property
    def dropped(self) -> int:
        return max(0, self.total - len(self.head) - min(len(self.tail), self.tail_cap))

    def text(self) -> str:
        with self._lock:
            tail = bytes(self.tail[-self.tail_cap:]) if self.tail else b""
            dropped = self.total - len(self.head) - len(tail)
            middle = (f"\n[... reconbench: {dropped} bytes of output dropped here (the log keeps the first and "
                      f"the last {self.tail_cap} bytes) ...]\n").encode() if dropped > 0 else b""
            return (bytes(self.head) + middle + tail).decode("utf-8", "replace")


def pump(stream, sink: HeadTail, chunk: int = 1 << 16) -> threading.Thread:
    """Copy a binary file object (a pipe) into ``sink`` on a daemon thread until end of file; returns the thread."""

    def run():
        try:
            while True:
                data = stream.read1(chunk) if hasattr(stream, "read1") else stream.read(chunk)
                if not data:
                    break
                sink.write(data)
        except (OSError, ValueError):
            pass

    t = threading.Thread(target=run, daemon=True, name="reconbench-log-pump")
    t.start()
    return t


def folder_bytes(folder: Path, limit_entries: int = 10000) -> int:
    """Bytes allocated under ``folder`` (not following links; at most ``limit_entries`` entries looked at)."""
    total, seen = 0, 0
    stack = [str(folder)]
    while stack and seen < limit_entries:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    seen += 1
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += max(st.st_size, st.st_blocks * 512)
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
        except OSError:
            continue
    return total


class OutputQuota:
    """Keeps the output folder under ``limit`` bytes while the submission runs.

    As root (on Linux) the folder becomes a tmpfs mount of that size (``mode = "tmpfs"``): a write past it fails
    with ENOSPC inside the submission and nothing ever reaches the host's disk. Otherwise ``mode = "watchdog"``: a
    thread measures the folder every ``interval`` s and calls ``on_exceed`` (which kills the run) once it is over.
    Use as a context manager around the run; ``exceeded`` tells whether the cap was hit."""

    def __init__(self, folder: Path, limit: int, *, uid: int | None = None, interval: float = 0.2):
        self.folder, self.limit, self.uid, self.interval = Path(folder), limit, uid, interval
        self.mode = "watchdog"
        self.exceeded = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_exceed = None

    def mount(self) -> OutputQuota:
        """Mount the tmpfs when possible (call before the run starts)."""
        if os.geteuid() == 0 and os.environ.get("RECONBENCH_NO_TMPFS") != "1":
            opts = f"size={self.limit + 65536},nr_inodes=1024,mode=0700,nosuid,nodev"
            if self.uid is not None:
                opts += f",uid={self.uid},gid={self.uid}"
            proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "reconbench-output", str(self.folder)],
                                  capture_output=True, text=True)
            if proc.returncode == 0:
                self.mode = "tmpfs"
        return self

    def watch(self, on_exceed) -> None:
        """Start the watchdog (both modes: under tmpfs it only notices a full folder)."""
        self._on_exceed = on_exceed
        self._thread = threading.Thread(target=self._run, daemon=True, name="reconbench-output-watchdog")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.check():
                if self.mode == "watchdog" and self._on_exceed is not None:
                    self._on_exceed()
                return

    def check(self) -> bool:
        """Whether the folder holds more than ``limit`` bytes (the tmpfs is ``limit`` + 64 KiB, so a submission
        that hits its end is over ``limit``)."""
        if folder_bytes(self.folder) > self.limit:
            self.exceeded = True
        return self.exceeded

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.check()

    def unmount(self) -> None:
        if self.mode == "tmpfs":
            if subprocess.run(["umount", str(self.folder)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(self.folder)], capture_output=True)
            self.mode = "tmpfs (unmounted)"
