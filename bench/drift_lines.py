"""How long splitting a drift report into lines one can resolve on their own takes
(repair.Drift.differences), on synthetic catalogs: every table dropped from the target, and
every column retyped, at 100 to 3,000 tables of 20 columns. No database. Prints times, never
asserts them.

    .venv/bin/python bench/drift_lines.py [--sizes 100,1000,3000]
"""

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from designer.database.repair import Drift  # noqa: E402

COLUMNS = 20


def catalog(tables):
    names = [f"t{i}" for i in range(tables)]
    return {
        "tables": [(t, None) for t in names],
        "columns": [
            (t, f"c{j}", "integer", False, None, "", None) for t in names for j in range(COLUMNS)
        ],  # fmt: skip
        "constraints": [(t, f"{t}_pkey", "p", "PRIMARY KEY (c0)", True, None) for t in names],
        "indexes": [
            (t, f"{t}_pkey", f"CREATE UNIQUE INDEX {t}_pkey ON {t} USING btree (c0)", None)
            for t in names
        ],  # fmt: skip
        "sequences": [(f"{t}_c0_seq", t) for t in names],
    }


def timed(expected, actual):
    start = time.perf_counter()
    found = Drift(expected, actual).differences()
    return len(found), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,3000")
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]
    for size in sizes:
        expected = catalog(size)
        dropped = {part: [] for part in expected}
        bigger = [row[:2] + ("bigint",) + row[3:] for row in expected["columns"]]
        retyped = {**expected, "columns": bigger}
        for label, actual in (("every table dropped", dropped), ("every column retyped", retyped)):
            count, seconds = timed(expected, actual)
            print(f"{size:>5} tables, {label}: {count:,} lines in {seconds:.2f} s")


if __name__ == "__main__":
    main()
