"""Score per module from `mutmut results --all true` on stdin (scripts/mutation.sh).

A mutant counts as detected when a test failed (killed) or ran past mutmut's time limit
(timeout: the mutant loops); the score is detected / mutants tested."""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict

LINE = re.compile(r"\s*([\w.]+?)\.x[_ǁ]\S+__mutmut_\d+: (.+)$")  # x_func or xǁClassǁmethod
DETECTED = ("killed", "timeout", "segfault", "suspicious")


def row(name: str, c: Counter) -> str:
    tested = sum(c.values()) - c["not checked"]
    detected = sum(c[k] for k in DETECTED)
    score = f"{detected / tested:.1%}" if tested else "-"
    return (f"{name:22} {detected:>5}/{tested:<5} {c['killed']:>7} {c['timeout']:>7} "
            f"{c['survived']:>8} {c['no tests']:>8} {c['not checked']:>7} {score:>7}")


def main() -> None:
    rows: dict[str, Counter] = defaultdict(Counter)
    for line in sys.stdin:
        m = LINE.match(line)
        if m:
            rows[m.group(1)][m.group(2).strip()] += 1
    print(f"{'module':22} {'detected':>11} {'killed':>7} {'timeout':>7} {'survived':>8} "
          f"{'no tests':>8} {'untested':>7} {'score':>7}")
    total: Counter = Counter()
    for name, c in sorted(rows.items()):
        total.update(c)
        print(row(name, c))
    print(row("total", total))


if __name__ == "__main__":
    main()
