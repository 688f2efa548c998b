"""What a process leaves behind when it dies, however it dies (issue 30).

A child process we start (a parse-pool worker, the scheduler under gunicorn's master) calls
`die_with_parent` first: it exits when its parent is gone, so a `kill -9` of an ingest (an
OOM killer, a systemd timeout) leaves no orphan holding memory until reboot. A temporary
directory is made with `owned_dir`, which writes its owner's pid into its name, and
`sweep_stale_dirs` (run by the next ingest or server) removes those whose owner is dead.
"""

import ctypes
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POLL_SECONDS = 0.5  # how often the portable watch asks who the parent is


def die_with_parent(parent: int) -> None:
    """Exit this process when `parent` stops being its parent. On Linux the kernel sends
    SIGKILL at once (PR_SET_PDEATHSIG); that signal comes when the parent's *thread* that
    started us ends, and exists on Linux alone, so a daemon thread also polls `os.getppid()`
    (an orphan is re-parented to init or a subreaper) and exits within `POLL_SECONDS`."""
    _death_signal()
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)
    watch = threading.Thread(target=_watch, args=(parent,), name="feeds-parent-watch", daemon=True)
    watch.start()


def _death_signal() -> None:
    if not sys.platform.startswith("linux"):
        return
    # The running program's symbols include libc's: no library search (which may start
    # ldconfig, a child of its own).
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG): %s", os.strerror(ctypes.get_errno()))


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(1)  # no clean-up: the kernel and the database release what this process held


@contextmanager
def owned_dir(prefix: str) -> Iterator[Path]:
    """A new temporary directory whose name says which process owns it, removed when the
    block ends in that process (a fork, such as gunicorn's worker, unwinds it too)."""
    owner = os.getpid()
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}{owner}-"))
    try:
        yield path
    finally:
        if os.getpid() == owner:
            shutil.rmtree(path, ignore_errors=True)


def alive(pid: int) -> bool:
    """Whether a process of that pid exists (another user's counts: it is not ours to
    judge). A zombie is dead: it holds nothing any more."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not Path("/proc").is_dir():  # not Linux: kill(0) is all there is to ask
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):  # it ended just now
        return False
    return state != "Z"


def sweep_stale_dirs(prefix: str, root: str | Path | None = None) -> list[Path]:
    """Remove the directories `owned_dir(prefix)` made whose owner is dead, and those an
    older version made without a pid (`prefix` and random letters) once none of the pids
    that name the files in them (prometheus_client's `counter_<pid>.db`) is alive.
    Returns what was removed."""
    root = Path(root or tempfile.gettempdir())
    owned = re.compile(rf"^{re.escape(prefix)}(\d+)-")
    removed = []
    for path in root.glob(f"{prefix}*"):
        match = owned.match(path.name)
        pids = [int(match[1])] if match else _pids_named_in(path)
        if not path.is_dir() or any(alive(pid) for pid in pids):
            continue
        if not match and not pids:
            continue  # an older version's directory with nothing to say whose: left alone
        shutil.rmtree(path, ignore_errors=True)
        log.info("removed %s: its owner (pid %s) is dead", path, ", ".join(map(str, pids)))
        removed.append(path)
    return removed


def _pids_named_in(directory: Path) -> list[int]:
    try:
        names = [entry.name for entry in directory.iterdir()]
    except OSError:
        return []
    return [int(found) for name in names for found in re.findall(r"_(\d+)\.db$", name)]
