"""What the optimiser benches share: their command line, the best-known table, and the tally
that ends each run with `mean gap: X.XX% over N instances, infeasible: K`.

An instance with no answer or a violated constraint counts as infeasible and stays out of the mean."""

import argparse
import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def arguments(description: str, *, data: str, seconds: float) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchdata" / data)
    parser.add_argument("--time", type=float, default=seconds, help=f"seconds per instance (default {seconds:g})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("instances", nargs="*", help="instance names (default: all in DATA/instances)")
    return parser.parse_args()


def best_known(data: Path, column: str) -> dict[str, float]:
    with (data / "bks.csv").open() as handle:
        return {row["instance"]: float(row[column]) for row in csv.DictReader(handle)}


def instance_names(args: argparse.Namespace) -> list[str]:
    return args.instances or sorted(p.name.removesuffix(".txt") for p in (args.data / "instances").glob("*.txt"))


class GapTally:
    def __init__(self):
        self.gaps: list[float] = []
        self.infeasible = 0

    def no_answer(self) -> None:
        self.infeasible += 1

    def record(self, value: float, best: float | None, problems: list[str]) -> tuple[float, str]:
        """The gap to the best known and the verdict to print for one answered instance."""
        gap = 100 * (value / best - 1) if best else float("nan")
        if problems:
            self.infeasible += 1
        elif best:
            self.gaps.append(gap)
        return gap, "ok" if not problems else "INFEASIBLE: " + "; ".join(problems[:3])

    def summary(self) -> str:
        mean = sum(self.gaps) / len(self.gaps) if self.gaps else float("nan")
        return f"mean gap: {mean:.2f}% over {len(self.gaps)} instances, infeasible: {self.infeasible}"
