"""A flood of distinct requests against a running server (issue 20), shared by tests/ and
soak/: made-up hosts, every ?limit=, made-up cursors, languages and unknown queries, sent
from a process of its own (so that the poller's clock in the test process is not slowed by
the flooders' threads), while a poller of /all.atom measures what a feed reader gets."""

import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from feeds.publish.feedservice import encode_cursor
from tests.reliability import percentile, raw_get

FEEDS = ["/all", "/agencies/mfa", "/agencies/kgd", "/topics/news", "/topics/world"]


def flood_requests(count: int, port: int, seed: int = 20) -> list[tuple[str, str]]:
    """(path, Host) of `count` requests, nearly all distinct."""
    rng = random.Random(seed)
    requests = []
    for i in range(count):
        feed, fmt = rng.choice(FEEDS), rng.choice(["atom", "rss", "json"])
        host = f"127.0.0.1:{port}"
        shape = i % 6
        if shape == 0:
            path, host = f"{feed}.{fmt}", f"flood-{i}.example"  # a foreign host: 400
        elif shape == 1:
            path = f"{feed}.{fmt}?limit={rng.randint(1, 120)}"
        elif shape == 2:
            cursor = encode_cursor((rng.randint(10**15, 2 * 10**15), rng.randint(1, 10**6)))
            path = f"{feed}.{fmt}?{rng.choice(['after', 'before'])}={cursor}"
        elif shape == 3:
            path = f"{feed}.{fmt}?lang={rng.choice(['en', 'ru', 'kk'])}&limit={rng.randint(1, 99)}"
        elif shape == 4:
            path = f"{feed}.{fmt}?q=word{i}"  # a new search each time (issue 17): a variant
        else:
            path, host = f"{feed}.{fmt}", f"localhost:{rng.randint(1024, 65535)}"  # another port
        requests.append((path, host))
    return requests


def _send(base: str, jobs: list[tuple[str, str]], statuses: Counter[str]) -> None:
    for path, host in jobs:
        try:
            statuses[str(raw_get(base, path, {"Host": host}, timeout=60).status)] += 1
        except OSError as exc:
            statuses[f"error {exc.__class__.__name__}"] += 1


def _flood_main() -> None:
    """In a process of its own: the job from stdin, the statuses as JSON on stdout."""
    job = json.loads(sys.stdin.readline())
    requests = [tuple(r) for r in job["requests"]]
    statuses: Counter[str] = Counter()
    threads = [
        threading.Thread(target=_send, args=(job["base"], requests[k :: job["threads"]], statuses))
        for k in range(job["threads"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(dict(statuses)))


def start_flood(base: str, requests: list[tuple[str, str]], threads: int) -> subprocess.Popen:
    from tests.reliability import python_child

    code = "from tests.flood import _flood_main; _flood_main()"
    flood = python_child(code, {"base": base, "requests": requests, "threads": threads})
    assert flood.stdin is not None
    flood.stdin.close()
    return flood


def flood_result(flood: subprocess.Popen) -> Counter[str]:
    assert flood.stdout is not None
    out = flood.stdout.read()
    assert flood.wait(timeout=600) == 0, out[-2000:]
    return Counter(json.loads(out.strip().splitlines()[-1]))


@dataclass
class Poll:
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def figures(self) -> str:
        p50, p99 = percentile(self.latencies, 0.5), percentile(self.latencies, 0.99)
        return f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms over {len(self.latencies)}"


def poll_all_atom(base: str, until: threading.Event | int) -> Poll:
    """A feed reader polling /all.atom, half of the time with its ETag (304), until `until`
    is set or for that many requests."""
    poll, etag = Poll(), ""
    while (len(poll.latencies) < until) if isinstance(until, int) else not until.is_set():
        headers = {"Accept-Encoding": "gzip", **({"If-None-Match": etag} if etag else {})}
        started = time.perf_counter()
        answer = raw_get(base, "/all.atom", headers)
        poll.latencies.append(time.perf_counter() - started)
        poll.statuses[answer.status] += 1
        etag = "" if etag else answer.headers.get("etag", "")
    return poll
