"""Benchmark of the drawing of lots for every State party to the TIP Protocol.

Run: python benchmarks/draw_lots.py [--runs N]

Draws the reviewers of every party (about 177 of the 193 UN Member States) with max_reviews=3,
once per seed, and prints the median and 95th percentile time of one draw. To make the number
comparable across machines it also prints the ratio to a trivial baseline measured in the same
run: sorting and shuffling the 193 codes.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewmech.reviews.lots import DrawInputs, draw_lots, verify  # noqa: E402

STATES_CSV = ROOT / "reviewmech" / "accounts" / "data" / "un_member_states.csv"


def load_states() -> tuple[dict[str, str], frozenset[str]]:
    """Return code -> regional group for the 193 States, and the parties to the TIP Protocol."""
    with STATES_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    groups = {row["code"]: row["regional_group"] for row in rows}
    parties = frozenset(row["code"] for row in rows if row["tip_protocol_party"] == "1")
    return groups, parties


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def time_baseline(codes: list[str], repeats: int) -> float:
    """Return the median time in seconds of sorting and shuffling the codes once."""
    rng = random.Random(0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        shuffled = sorted(codes)
        rng.shuffle(shuffled)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print its results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="draws to time, one per seed (default 50)")
    arguments = parser.parse_args()

    groups, parties = load_states()
    inputs = DrawInputs(under_review=tuple(sorted(parties)), groups=groups, parties=parties, max_reviews=3)
    draw_lots(inputs, 0)  # warm up

    times = []
    for seed in range(1, arguments.runs + 1):
        start = time.perf_counter()
        result = draw_lots(inputs, seed)
        times.append(time.perf_counter() - start)
        assert len(result.assignments) == len(parties)
    assert verify(result.as_json())

    baseline = time_baseline(list(groups), repeats=max(1000, 20 * arguments.runs))
    median, p95 = statistics.median(times), percentile(times, 0.95)
    print(f"{len(groups)} States, {len(parties)} parties, max_reviews=3, {arguments.runs} draws with different seeds")
    print(f"baseline (sort + shuffle {len(groups)} codes): median {baseline * 1e6:.1f} µs")
    print(
        f"draw for {len(parties)} States: median {median * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms "
        f"(ratio to baseline: {median / baseline:.0f}x)"
    )


if __name__ == "__main__":
    main()
