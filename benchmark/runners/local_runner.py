"""Run a submission as a plain subprocess, under the same contract as the Docker runner: the same environment
variables, input folder and output folder, run from (a copy of) the submission folder. For machines without a Docker
engine and for debugging. Results it produces are marked ``unisolated``: there is no network cut, no memory limit
and no read-only root.

What it does enforce:

- the wall-clock timeout; when the command ends (or is stopped), its whole process group is killed, and so is every
  process that still carries this run's token in its environment (children that left the group with ``setsid``);
- the output folder's size: a tmpfs of the policy's ``output_bytes`` when the harness runs as root, else a watchdog
  that kills the run once the folder is over it; and ``RLIMIT_FSIZE`` (no single file the command writes may exceed
  it), ``RLIMIT_CORE`` = 0;
- logs: stdout and stderr go through a pipe into a head-and-tail buffer of the policy's ``log_bytes``;
- privileges: invoked as root, the command runs as the policy's ``local_user`` (``nobody`` by default) in a private
  scratch folder holding copies of the input and of the submission folder, with ``HOME``/``TMPDIR`` there.

A command starting with ``python``/``python3`` runs with the harness's own interpreter, so the reference methods work
from a checkout.
"""

from __future__ import annotations

import os
import pwd
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._capture import HeadTail, OutputQuota, pump
from ._contract import ENV_INPUT, ENV_LM_URL, ENV_MODELS, ENV_OUTPUT, RunResult, Submission
from .failures import InfrastructureFailure, SubmissionFailure
from .policy import Policy, default_policy

_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "PYTHONPATH", "HF_HOME", "RECONBENCH_HOME",
               "RECONBENCH_LM_CACHE")
TOKEN_ENV = "RECONBENCH_RUN_TOKEN"


def _drop_user(policy: Policy) -> pwd.struct_passwd | None:
    if os.geteuid() != 0 or not policy.local_user:
        return None
    try:
        return pwd.getpwnam(policy.local_user)
    except KeyError:
        raise InfrastructureFailure("harness_error", f"the policy's local_user {policy.local_user!r} does not exist "
                                    "on this host") from None


def _usable_by(path: str, user: pwd.struct_passwd) -> bool:
    """Whether ``user`` can execute ``path`` (every folder on the way searchable, the file executable)."""
    try:
        p = Path(path).resolve()
        for folder in [*reversed(p.parents), p]:
            st = folder.stat()
            bit = 0o001 if st.st_uid != user.pw_uid and st.st_gid != user.pw_gid else \
                (0o100 if st.st_uid == user.pw_uid else 0o010)
            if not st.st_mode & bit:
                return False
        return True
    except OSError:
        return False


def _interpreter(user: pwd.struct_passwd | None, notes: list[str]) -> str:
    """The interpreter for a ``python``/``python3`` command: the harness's own, unless the unprivileged user cannot
    reach it (a pyenv under /root): then the system's ``python3``, with a note in the logs."""
    if user is None or _usable_by(sys.executable, user):
        return sys.executable
    for candidate in ("/usr/local/bin/python3", "/usr/bin/python3"):
        if os.path.exists(candidate) and _usable_by(candidate, user):
            notes.append(f"the harness's interpreter {sys.executable} is not reachable by {user.pw_name}: "
                         f"ran {candidate} instead (set local_user = \"\" in the policy to run as root)")
            return candidate
    return sys.executable


def _processes_with_token(token: str) -> list[int]:
    """Pids whose environment carries ``TOKEN_ENV=token`` (those we may read)."""
    needle = f"{TOKEN_ENV}={token}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def _kill_all(pgid: int, token: str) -> int:
    """Kill the process group and every straggler carrying the token; returns how many stragglers were found."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    stragglers = 0
    for _ in range(5):  # a straggler may fork while we look: look again until none is left
        pids = _processes_with_token(token) if os.path.isdir("/proc") else []
        if not pids:
            break
        for pid in pids:
            stragglers += 1
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.05)
    return stragglers


def _copy_tree_readable(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` (links copied as links), readable by everyone, writable by nobody else."""
    shutil.copytree(src, dest, symlinks=True)
    for root, _dirs, files in os.walk(dest):
        os.chmod(root, 0o755)
        for f in files:
            p = os.path.join(root, f)
            if not os.path.islink(p):
                os.chmod(p, 0o755 if os.stat(p).st_mode & 0o111 else 0o644)


def run(sub: Submission, input_dir: Path, output_dir: Path, *, models_dir: Path | None = None,
        lm_socket: Path | None = None, build_args: dict[str, str] | None = None, resources: dict | None = None,
        policy: Policy | None = None) -> RunResult:
    """Run ``sub``'s command with the contract's environment; see the module docstring."""
    policy = policy or default_policy()
    res = resources or sub.resources
    notes: list[str] = []
    user = _drop_user(policy)
    argv = list(sub.manifest["command"])
    if argv[0] in ("python", "python3"):
        argv[0] = _interpreter(user, notes)
    token = secrets.token_hex(16)
    env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
    cwd, in_dir, out_dir = sub.folder, Path(input_dir).resolve(), Path(output_dir).resolve()
    scratch = None
    if user is not None:
        # the unprivileged user cannot reach the harness's folders (often under /root): a private scratch folder
        scratch = Path(tempfile.mkdtemp(prefix="reconbench-local-"))
        os.chmod(scratch, 0o711)
        _copy_tree_readable(in_dir, scratch / "input")
        _copy_tree_readable(sub.folder, scratch / "submission")
        cwd, in_dir, out_dir = scratch / "submission", scratch / "input", scratch / "output"
        for d in (out_dir, scratch / "tmp"):
            d.mkdir(mode=0o700)
            os.chown(d, user.pw_uid, user.pw_gid)
        env.update(HOME=str(scratch / "tmp"), TMPDIR=str(scratch / "tmp"))
        notes.append(f"ran as {user.pw_name} (uid {user.pw_uid}), not as root")
    env.update({ENV_INPUT: str(in_dir), ENV_OUTPUT: str(out_dir), TOKEN_ENV: token})
    if models_dir is not None:
        env[ENV_MODELS] = str(Path(models_dir).resolve())
    if sub.manifest.get("needs_lm_endpoint"):
        if lm_socket is None:
            raise InfrastructureFailure("engine_down", "the manifest needs an LM endpoint and none was given")
        env[ENV_LM_URL] = f"unix://{Path(lm_socket).resolve()}"

    quota = OutputQuota(out_dir, policy.output_bytes, uid=user.pw_uid if user else None).mount()
    if quota.mode == "tmpfs" and user is None:
        os.chmod(out_dir, 0o700)

    def cleanup():
        quota.unmount()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    fsize = policy.output_bytes + 65536

    def limits():
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    logs = HeadTail(policy.log_bytes)
    timed_out = False
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=limits,
                                user=user.pw_uid if user else None, group=user.pw_gid if user else None,
                                extra_groups=[] if user else None)
    except (OSError, subprocess.SubprocessError) as e:
        cleanup()
        # the command cannot even start: the submission's own doing
        raise SubmissionFailure("bad_command", f"cannot run {argv[0]!r}: "
                                f"{getattr(e, 'strerror', None) or e}") from None
    reader = pump(proc.stdout, logs)
    quota.watch(lambda: _kill_all(proc.pid, token))
    try:
        exit_code = proc.wait(timeout=res["timeout_s"])
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_all(proc.pid, token)
        exit_code = proc.wait()
    duration = time.monotonic() - t0
    stragglers = _kill_all(proc.pid, token)  # whatever it left running dies with the run
    if stragglers:
        notes.append(f"killed {stragglers} process(es) left running after the command ended")
    quota.stop()
    reader.join(timeout=5)
    proc.stdout.close()
    if exit_code == -signal.SIGXFSZ:
        quota.exceeded = True
    text = logs.text()
    if notes:
        text += "".join(f"\n[reconbench: {n}]" for n in notes) + "\n"
    return RunResult(exit_code=exit_code, timed_out=timed_out, oom_killed=False, duration_s=round(duration, 3),
                     logs=text, output_exceeded=quota.exceeded, output_quota=quota.mode, output_dir=out_dir,
                     cleanup=cleanup, notes=notes)
