"""Nothing is left behind when a process dies (issue 30): a `feeds ingest`, a `feeds schedule`
or a `feeds serve` killed with SIGKILL mid-parse (as an OOM killer or a systemd timeout
does) leaves no process of its own alive, and the next ingest removes the temporary files
and the lock a killed run left.

Every process of a run is found by a mark in its environment, which children inherit: an
orphan re-parented to init is still found. A zombie counts as dead (PID 1 here may not reap
orphans): it holds no memory and no file."""

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.synthetic import write_synthetic
from feeds import lifeline
from feeds.store import Store
from feeds.store.locks import FileLeaderLock
from tests.conftest import SAMPLE_DUMPS, wait_for
from tests.reliability import children
from tests.runs.test_gunicorn import free_port

DEAD_WITHIN = 5  # seconds: what the issue asks
MARK = "FEEDS_TEST_LIFELINE"


@pytest.fixture(scope="module")
def big_dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dump whose parse takes its two workers several seconds (10,000 new items)."""
    return write_synthetic(10_000, tmp_path_factory.mktemp("dump") / "big.txt")


def run_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    return {
        **os.environ,
        "FEEDS_DATABASE_URL": f"sqlite:///{tmp_path / 'feeds.sqlite3'}",
        "FEEDS_INGEST_WORKERS": "2",
        "FEEDS_FOLLOW": "off",
        "FEEDS_RSS": "off",
        "TMPDIR": str(tmp),
        MARK: uuid.uuid4().hex,
        **extra,
    }


def marked(mark: str) -> list[int]:
    """Live processes (zombies excluded) whose environment carries the mark."""
    found = []
    needle = f"{MARK}={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # ended meanwhile, or a kernel thread
            continue
        if needle in environ.split(b"\0") and lifeline.alive(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for child in children(pid):
            found += [child, *descendants(child)]
    except FileNotFoundError:
        pass
    return found


def parse_workers(pid: int) -> list[int]:
    """The parse pool's workers among a process's children (not its resource tracker)."""
    found = []
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in cmdline:
            found.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parsing(pid: int) -> bool:
    """Two workers exist and both have parsed for a moment."""
    workers = parse_workers(pid)
    return len(workers) == 2 and all(cpu_seconds(worker) > 0.3 for worker in workers)


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen]]:
    """Processes a test started, killed and reaped at the end whatever happened."""
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def kill_mid_parse(process: subprocess.Popen, parent_of_workers: int, mark: str) -> None:
    """SIGKILL `process` once its parse workers are busy; then nothing of it lives."""
    assert wait_for(lambda: parsing(parent_of_workers), 120), "no parse workers started"
    family = descendants(process.pid)
    assert set(parse_workers(parent_of_workers)) <= set(family)
    assert set(family) < set(marked(mark))  # found by their mark too
    semaphores = shared_memory(parent_of_workers)
    assert semaphores, "the pool's queues use no named semaphore?"
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL

    def left() -> list[int]:
        return sorted({*marked(mark), *(pid for pid in family if lifeline.alive(pid))})

    assert wait_for(lambda: left() == [], DEAD_WITHIN), (
        f"alive {DEAD_WITHIN} s after the kill: {states(left())} of {family}"
    )
    # The resource tracker, the last of them to go, unlinked the pool's semaphores.
    assert [path for path in semaphores if path.exists()] == []


def shared_memory(pid: int) -> set[Path]:
    """The POSIX semaphores (/dev/shm/sem.*) a process has mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {Path(line.split()[-1]) for line in maps if "/dev/shm/sem." in line}


def states(pids: list[int]) -> dict[int, str]:
    """Each process's state and command line, for a failure's message."""
    found = {}
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError):
            state, cmdline = "gone", b""
        found[pid] = f"{state} {cmdline.decode(errors='replace')[:120]}"
    return found


def test_a_killed_ingest_leaves_no_process_and_no_temporary_file(
    big_dump: Path, tmp_path: Path, started: list[subprocess.Popen]
) -> None:
    env = run_env(tmp_path)
    ingest = subprocess.Popen(
        [sys.executable, "-m", "feeds", "ingest", str(big_dump)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started.append(ingest)
    kill_mid_parse(ingest, ingest.pid, env[MARK])
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_killed_scheduler_leaves_no_process(
    big_dump: Path, tmp_path: Path, started: list[subprocess.Popen]
) -> None:
    env = run_env(tmp_path, FEEDS_DUMPS=str(big_dump))
    schedule = subprocess.Popen(
        [sys.executable, "-m", "feeds", "schedule"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started.append(schedule)
    kill_mid_parse(schedule, schedule.pid, env[MARK])
    lock = tmp_path / "feeds.sqlite3.scheduler.lock"
    assert lock.exists()  # left by the killed leader; nobody holds it now
    ingest = subprocess.run(
        [sys.executable, "-m", "feeds", "ingest", str(tmp_path / "no such dump")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert "no such dump" in ingest.stderr
    assert not lock.exists()  # the next ingest removed it


def test_a_killed_server_leaves_no_process_and_the_next_ingest_removes_its_files(
    big_dump: Path, tmp_path: Path, started: list[subprocess.Popen]
) -> None:
    """`feeds serve` killed while its scheduler's ingest parses: gunicorn's workers, the
    scheduler and its parse workers all go; the metrics directory it made in TMPDIR stays
    (a SIGKILL runs no clean-up) until the next ingest, which removes it."""
    env = run_env(tmp_path, FEEDS_DUMPS=str(big_dump))
    port = str(free_port())
    serve = subprocess.Popen(
        [sys.executable, "-m", "feeds", "serve", "--port", port, "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started.append(serve)

    def scheduler() -> int | None:
        for child in children(serve.pid):
            try:
                if b"schedule" in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0"):
                    return child
            except FileNotFoundError:
                continue
        return None

    assert wait_for(lambda: scheduler() is not None, 60), "no scheduler process"
    (metrics,) = (tmp_path / "tmp").iterdir()
    assert metrics.name.startswith(f"feeds-metrics-{serve.pid}-")
    scheduler_pid = scheduler()
    assert scheduler_pid is not None
    kill_mid_parse(serve, scheduler_pid, env[MARK])
    assert metrics.exists()
    subprocess.run(
        [sys.executable, "-m", "feeds", "ingest", str(tmp_path / "no such dump")],
        env=env,
        capture_output=True,
    )
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "feeds.sqlite3.scheduler.lock").exists()


def test_a_child_whose_parent_is_gone_exits(tmp_path: Path) -> None:
    """The portable watch alone (no PR_SET_PDEATHSIG): a grandchild told to die with its
    parent exits when that parent exits normally, which no signal would tell it."""
    script = (
        "import os, sys, time\n"
        "from feeds import lifeline\n"
        "lifeline._death_signal = lambda: None\n"
        "if os.fork() == 0:\n"
        "    lifeline.die_with_parent(os.getppid())\n"
        "    print(os.getpid(), flush=True)\n"
        "    time.sleep(60)\n"
        "    sys.exit(0)\n"
        "time.sleep(1)\n"
    )
    parent = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    (grandchild,) = map(int, parent.stdout.split())
    assert wait_for(lambda: not lifeline.alive(grandchild), DEAD_WITHIN)


def test_a_child_started_after_its_parent_died_exits_at_once() -> None:
    watched = subprocess.run(
        [sys.executable, "-c", "from feeds import lifeline; lifeline.die_with_parent(1)"],
        timeout=30,
    )
    assert watched.returncode == 1


def test_stale_directories_of_dead_owners_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **TEXT)
    dead_pid = int(dead.stdout)
    ours = tmp_path / f"feeds-metrics-{os.getpid()}-abc"
    stale = tmp_path / f"feeds-metrics-{dead_pid}-def"
    old_version = tmp_path / "feeds-metrics-x1y2z3"  # no pid in the name: its files say
    old_alive = tmp_path / "feeds-metrics-q9w8e7"
    unknown = tmp_path / "feeds-metrics-empty"  # nothing says whose: left
    for path in (ours, stale, old_version, old_alive, unknown):
        path.mkdir()
    (old_version / f"counter_{dead_pid}.db").write_bytes(b"")
    (old_alive / f"counter_{os.getpid()}.db").write_bytes(b"")
    (tmp_path / f"feeds-metrics-{dead_pid}-file").write_text("a file, not ours to judge")
    removed = lifeline.sweep_stale_dirs("feeds-metrics-", tmp_path)
    assert sorted(removed) == sorted([stale, old_version])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [ours.name, old_alive.name, unknown.name, f"feeds-metrics-{dead_pid}-file"]
    )


def test_an_owned_directory_goes_with_its_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with lifeline.owned_dir("feeds-metrics-") as path:
        assert path.parent == tmp_path and path.name.startswith(f"feeds-metrics-{os.getpid()}-")
    assert not path.exists()


TEXT: dict = {"capture_output": True, "text": True, "timeout": 30}


def test_a_leader_lock_nobody_holds_is_swept_and_a_held_one_stays(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'feeds.sqlite3'}")
    path = tmp_path / "feeds.sqlite3.scheduler.lock"
    holder = store.leader_lock()
    assert holder.try_acquire() and path.exists()
    store.sweep_leader_lock()
    assert path.exists()  # held: left
    other = FileLeaderLock(path)
    assert not other.try_acquire()  # waiting on the file the holder has
    holder.release()
    assert not path.exists()  # the holder removed it as it let go
    assert other.try_acquire()  # on the file now at the path, not the removed one
    assert path.exists() and not FileLeaderLock(path).try_acquire()
    other.handle.close()  # dies without releasing: the kernel drops the flock
    other.handle = None
    assert path.exists()
    store.sweep_leader_lock()
    assert not path.exists()
    store.close()


def test_what_cannot_be_swept_is_named_and_the_ingest_goes_on(tmp_path: Path) -> None:
    lock = tmp_path / "feeds.sqlite3.scheduler.lock"
    lock.mkdir()  # not a file that can be locked
    env = run_env(tmp_path)
    ingest = subprocess.run(
        [sys.executable, "-m", "feeds", "ingest", str(SAMPLE_DUMPS[0])], env=env, **TEXT
    )
    assert ingest.returncode == 0, ingest.stderr
    assert f"could not remove what an earlier run left: [Errno 21] Is a directory: '{lock}'" in (
        ingest.stderr
    )
    assert "0 not read" in ingest.stdout
