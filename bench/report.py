"""Markdown of a benchmark run for BENCHMARKS.md: `python -m bench.report [results.json]`
(default bench/results/latest.json) prints the run's machine line, its table and its JSON."""

import json
import sys
from pathlib import Path

from bench.run import RESULTS, format_table


def markdown(report: dict) -> str:
    machine = report["machine"]
    code = report.get("code", {})
    lines = [
        f"Run of {report['started']} ({report['took_seconds']:.0f} s"
        + (", BENCH_QUICK" if report.get("quick") else "")
        + (", INCOMPLETE" if not report.get("complete", True) else "")
        + f"); code digest {code.get('sha256', '?')} (newest file: {code.get('newest', '?')}).",
        "",
        f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory']}, "
        f"{machine['os']}; Python {machine['python']}, SQLite {machine['sqlite']}, "
        f"gunicorn {machine['gunicorn']} ({machine['workers']} {machine['worker_class']} "
        f"workers), Flask {machine['flask']}, SQLAlchemy {machine['sqlalchemy']}; "
        f"load generator: {machine['load_generator'].split(' Copyright')[0]}; "
        f"{machine['network']}."
        + (
            " Load average (1, 5, 15 min) at the start {} and the end {}.".format(
                "/".join(f"{v:.1f}" for v in report["load_average"]["start"]),
                "/".join(f"{v:.1f}" for v in report["load_average"]["end"]),
            )
            if "load_average" in report
            else ""
        ),
        "",
        format_table(report["table"]),
        "",
        "<details><summary>The JSON of this run (without its table, given above)</summary>",
        "",
        "```json",
        json.dumps({k: v for k, v in report.items() if k != "table"}, indent=1),
        "```",
        "",
        "</details>",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else RESULTS / "latest.json"
    print(markdown(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
