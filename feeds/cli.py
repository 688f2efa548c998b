"""The `feeds` command line (SPEC section 6).

The store, the ingest and the follower are imported where a command uses them, not here:
the ingest's parsing workers are spawned, and a spawned child of the console script imports
this module again as its `__main__`; with them here, every worker would load SQLAlchemy and
the store (about 180 modules more; 0.15 -> 0.7 s of CPU a worker, measured) only to parse text."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from tqdm import tqdm

from feeds.dumps.sources import expand, read_file
from feeds.errors import FeedsError
from feeds.lifeline import die_with_parent, owned_dir, sweep_stale_dirs
from feeds.settings import Settings, load_settings

if TYPE_CHECKING:
    from feeds.ingest import SourceReport
    from feeds.store import FeedCount, Store

log = logging.getLogger(__name__)
METRICS_DIR = "feeds-metrics-"  # the prefix of `feeds serve`'s PROMETHEUS_MULTIPROC_DIR


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(dict)["settings"]


def _open_store(url: str, migrate: bool = True) -> Store:
    from feeds.store import Store

    return Store(url, migrate=migrate)


def _store(ctx: click.Context) -> Store:
    obj = ctx.ensure_object(dict)
    if "store" not in obj:
        obj["store"] = _open_store(_settings(ctx).database_url)
        ctx.call_on_close(obj["store"].close)
    return obj["store"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Atom, RSS and JSON feeds of Kazakhstan's government news, from scraper dumps."""
    try:
        settings = load_settings()
    except FeedsError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.ensure_object(dict)["settings"] = settings
    # One-shot commands print their own report; the service commands log at LOG_LEVEL.
    service = ctx.invoked_subcommand in {"serve", "schedule"}
    logging.basicConfig(
        level=settings.log_level.upper() if service else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING if service else logging.ERROR)


def _sweep_leftovers(store: Store) -> None:
    """What killed runs left (of this version or an older one): the metrics directories of
    dead servers, a leader lock file that no process holds. Never a reason not to ingest."""
    try:
        sweep_stale_dirs(METRICS_DIR)
        store.sweep_leader_lock()
    except OSError as exc:
        log.warning("could not remove what an earlier run left: %s", exc)


def _progress_bar(name: str, total: int) -> Callable[[int], None]:
    # tqdm's delay shows the bar only when the ingest takes more than a moment,
    # and disable=None hides it when stderr is not a terminal. A dump is read as a stream,
    # so its items are not counted before the end: the bar counts its bytes.
    bar = tqdm(
        total=total, desc=name, unit="B", unit_scale=True, delay=0.5, disable=None, leave=False
    )

    def advance(count: int) -> None:
        bar.update(count)
        if bar.n >= total:
            bar.close()

    return advance


def _print_report(report: SourceReport) -> None:
    if report.error:
        click.echo(f"{report.source}: NOT READ: {report.error}", err=True)
        return
    if report.skipped:
        click.echo(f"{report.source}: unchanged since the last ingest, skipped (--force reads it)")
        return
    c = report.counts
    click.echo(
        f"{report.source}: {c.found} items found, {c.new} new, {c.updated} updated, "
        f"{c.unchanged} unchanged, {len(report.problems)} problems, "
        f"in {report.seconds:.1f} s ({report.items_per_second:,.0f} items/s)"
    )
    for problem in report.problems:
        click.echo(f"  {problem}")


@main.command()
@click.argument("sources", nargs=-1)
@click.option(
    "--force", is_flag=True, help="Read every source again, even one unchanged since last time."
)
@click.pass_context
def ingest(ctx: click.Context, sources: tuple[str, ...], force: bool) -> None:
    """Ingest dumps: paths, globs or http(s) URLs (default: the configured DUMPS).

    A file whose bytes did not change since its last ingest, or a URL answering 304, is
    skipped (--force reads it anyway)."""
    from feeds.ingest import Ingester

    settings = _settings(ctx)
    try:
        _sweep_leftovers(_store(ctx))
        ingester = Ingester(_store(ctx), settings, progress=_progress_bar)
        reports = ingester.run(list(sources) or list(settings.dumps), skip_unchanged=not force)
    except FeedsError as exc:
        raise click.ClickException(str(exc)) from None
    for report in reports:
        _print_report(report)
    unread = sum(1 for r in reports if r.error)
    new = sum(r.counts.new for r in reports)
    updated = sum(r.counts.updated for r in reports)
    click.echo(f"total: {len(reports)} sources ({unread} not read), {new} new, {updated} updated")
    if unread:
        ctx.exit(1)


@main.command()
@click.argument("dumps", nargs=-1, required=True)
@click.pass_context
def check(ctx: click.Context, dumps: tuple[str, ...]) -> None:
    """Report the items a dump holds and every problem with its line; exit 1 on problems."""
    from feeds.ingest import parse_bytes

    settings = _settings(ctx)
    found, errors = expand(list(dumps))
    failed = bool(errors)
    for error in errors:
        click.echo(f"ERROR {error}", err=True)
    for source in found:
        try:
            parsed = parse_bytes(read_file(source.name, settings.max_dump_bytes), source.name)
        except FeedsError as exc:
            click.echo(f"ERROR {exc}", err=True)
            failed = True
            continue
        click.echo(
            f"{source.name}: section {parsed.section or '(none)'}, {len(parsed.records)} items"
        )
        for record in parsed.records:
            where = f"{record.agency}/{record.govkz_id}" if record.link else "(no gov.kz link)"
            day = record.day.isoformat()
            click.echo(f"  line {record.line}: {day} [{record.lang}] {where} {record.title}")
        for problem in parsed.problems:
            click.echo(f"  PROBLEM {problem}")
        failed = failed or bool(parsed.problems)
    if line := _follow_pause_line(settings):
        click.echo(line, err=True)
    ctx.exit(1 if failed else 0)


def _follow_pause_line(settings: Settings) -> str:
    """What `check` says of following: gov.kz paused, until when and why (the portal
    refusing us is found here, not only in the scheduler's log); nothing for a store
    that is not there yet or cannot be read."""
    url = settings.database_url
    if url.startswith("sqlite:///") and not os.path.exists(url.removeprefix("sqlite:///")):
        return ""  # no store yet: a check makes none
    try:
        store = _open_store(settings.database_url, migrate=False)
    except FeedsError:
        return ""
    try:
        pause = store.follow_pause(datetime.now(UTC))
    except FeedsError:
        return ""
    finally:
        store.close()
    return f"gov.kz paused until {pause.until.isoformat()}: {pause.reason}" if pause else ""


@main.group()
def db() -> None:
    """The store's schema."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Create or migrate the store's schema to the newest revision (also done on first use)."""
    store = _open_store(_settings(ctx).database_url, migrate=False)
    try:
        before, after = store.revision(), None
        store.migrate()
        after = store.revision()
    except FeedsError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    if before == after:
        click.echo(f"schema at revision {after}, already current")
    else:
        click.echo(f"schema at revision {after} (was {before or 'empty'})")


@main.command(name="list")
@click.pass_context
def list_feeds(ctx: click.Context) -> None:
    """Every feed: items stored per agency, section and topic, with the last update."""
    from feeds.publish.catalog import load_agencies
    from feeds.text.classify import load_topics

    settings = _settings(ctx)
    store = _store(ctx)
    agencies = load_agencies(settings.agencies_file)
    topics = {t.slug: t.name for t in load_topics(settings.topics_file).topics}
    click.echo(f"{store.count_items()} items")
    click.echo("agencies:")
    for row in store.agency_counts():
        agency = agencies.get(row.name)
        flag = "" if agency.known else f"  [unnamed: not in {settings.agencies_file}]"
        click.echo(f"{_count_line(row)}  {agency.name}{flag}")
    click.echo("sections:")
    for row in store.section_counts():
        click.echo(_count_line(row))
    click.echo("topics:")
    for row in store.topic_counts():
        if row.name in topics:
            click.echo(f"{_count_line(row)}  {topics[row.name]}")


def _count_line(row: FeedCount) -> str:
    last = row.last_updated.isoformat() if row.last_updated else "-"
    return f"  {row.name:40} {row.items:6}  last update {last}"


@main.command()
@click.option("--limit", default=100, show_default=True, type=int, help="Most items to follow.")
@click.pass_context
def follow(ctx: click.Context, limit: int) -> None:
    """Follow due gov.kz links now (full text, exact time, image)."""
    from feeds.following.follow import Follower
    from feeds.ingest import Ingester

    settings = _settings(ctx)
    store = _store(ctx)
    report = Follower(store, settings, Ingester(store, settings).rules).run(limit=limit)
    for line in report.lines():
        click.echo(line)


@main.command()
@click.pass_context
def rss(ctx: click.Context) -> None:
    """Read the portal's official RSS now (the agencies of RSS, each at most every
    RSS_INTERVAL): new releases and exact times."""
    from feeds.following.rssread import RssReader
    from feeds.ingest import Ingester

    settings = _settings(ctx)
    store = _store(ctx)
    report = RssReader(store, settings, Ingester(store, settings).rules).run()
    click.echo(report.line())
    for error in report.errors:
        click.echo(f"  {error}")


@main.command()
@click.option("--parent", type=int, hidden=True, help="Exit when this process is gone.")
@click.pass_context
def schedule(ctx: click.Context, parent: int | None) -> None:
    """Run the scheduler alone: ingest and follow every INGEST_INTERVAL (one leader)."""
    from feeds.scheduler import Leadership

    if parent is not None:  # started by `feeds serve`: gone with gunicorn's master
        die_with_parent(parent)
    _sweep_leftovers(_store(ctx))
    leadership = Leadership(_store(ctx), _settings(ctx))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        leadership.run_blocking()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        leadership.stop()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers", default=2, show_default=True, type=int, help="gunicorn worker processes."
)
@click.option("--no-scheduler", is_flag=True, help="Do not ingest and follow in this process.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, no_scheduler: bool) -> None:
    """Serve the feeds over HTTP (gunicorn), with the scheduler beside it."""
    settings = _settings(ctx)
    sweep_stale_dirs(METRICS_DIR)
    with _metrics_dir():
        _serve(settings, host, port, workers, no_scheduler)


@contextmanager
def _metrics_dir() -> Iterator[None]:
    """/metrics sums every worker's counters through files in this directory (unless one is
    given): named after this process, removed when it stops, swept by a later start or
    ingest when it was killed."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        yield
        return
    with owned_dir(METRICS_DIR) as path:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
        yield


def _serve(settings: Settings, host: str, port: int, workers: int, no_scheduler: bool) -> None:
    from feeds.web.server import serve as run_server

    # The schema is made once, here, before workers and scheduler open the store; then the
    # master lets go of it: gunicorn forks every worker from this process.
    try:
        _open_store(settings.database_url).close()
    except FeedsError as exc:
        raise click.ClickException(str(exc)) from None
    scheduler = None if no_scheduler else SchedulerProcess()
    click.echo(f"serving on http://{host}:{port}/")
    try:
        # Started once gunicorn's master listens; it leads only if no other scheduler does.
        run_server(settings, host, port, workers, scheduler.start if scheduler else None)
    finally:
        if scheduler:
            scheduler.stop()


class SchedulerProcess:
    """`feeds schedule` as a child of gunicorn's master, not a thread in it. A fork copies
    the forking process's SQLite lock state and PostgreSQL sessions: a worker forked while
    a scheduler thread was writing waited forever on a write lock that nobody held.

    A scheduler that dies (killed, out of memory) is started again after `restart_delay`
    seconds, as gunicorn does for its workers; it takes over the leader lock, which died
    with it. The watching thread only waits and spawns: it holds no lock a fork could copy."""

    def __init__(self, restart_delay: float = 5.0) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.restart_delay = restart_delay
        self.stopping = threading.Event()
        self.owner = os.getpid()

    def start(self) -> None:
        self.process = self._spawn()
        threading.Thread(target=self._watch, name="feeds-scheduler-watch", daemon=True).start()

    @staticmethod
    def _spawn() -> subprocess.Popen[bytes]:
        parent = str(os.getpid())
        return subprocess.Popen([sys.executable, "-m", "feeds", "schedule", "--parent", parent])

    def _watch(self) -> None:
        while self.process is not None:
            died = self.process
            died.wait()  # gunicorn may reap it first (its status is then lost, read as 0)
            if self.stopping.wait(self.restart_delay):
                return
            status = died.returncode
            log.warning("scheduler process %d exited (%s); starting another", died.pid, status)
            self.process = self._spawn()

    def stop(self) -> None:
        # gunicorn's workers are forks of this process: a worker that exits unwinds the same
        # `finally` as the master and must not stop the master's scheduler.
        if os.getpid() != self.owner:
            return
        self.stopping.set()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # `feeds schedule` stops its scheduler on SIGTERM
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
