"""A/B of a first list import: secondary indexes built after the load, or kept throughout.

``roster.imports.person_lists`` builds the person and list-entry indexes after the load when those
tables are empty (``dayao_sscard.bulk.indexes_built_after``). This runs the same 1M-row
import into a fresh database both ways, alternating, and prints each run's breakdown, so
the choice can be re-checked on another machine. The database (``dayao_bench_ab`` unless
``--database-url`` says otherwise) is dropped and recreated for every run.

Usage::

    .venv/bin/python bench/index_build_ab.py --rows 1000000 --rounds 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
from pathlib import Path

import import_benchmark as bench

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/dayao_bench_ab"
MODES = ("kept", "built_after")


def _child(mode: str, path: Path) -> None:
    bench._django()
    from roster.imports import person_lists

    if mode == "kept":
        person_lists.indexes_built_after = lambda *tables: contextlib.nullcontext([])
    bench._child_ours("unissued", path)


def _report(mode: str, output: str) -> None:
    line = next(line for line in output.splitlines() if line.startswith(bench.RESULT_MARK))
    data = json.loads(line[len(bench.RESULT_MARK) :])
    spent = {name: round(value, 1) for name, value in data["breakdown"].items() if value >= 0.05}
    # "other" holds the index build: it runs as the importer leaves indexes_built_after.
    print(json.dumps({"indexes": mode, "seconds": round(data["seconds"], 1), **spent}), flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        _child(argv[1], Path(argv[2]))
        return 0
    from generate import DEFAULT_OUT, DEFAULT_SEED, ensure_dataset

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs, alternating")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="generated-file cache")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args(argv)
    dataset = ensure_dataset(
        args.rows, args.out, DEFAULT_SEED, log=lambda m: print(m, file=sys.stderr)
    )
    env = bench._child_env(args.database_url, args.out)
    for _ in range(args.rounds):
        for mode in MODES:
            bench._recreate_database(args.database_url)
            bench._migrate(env)
            bench._settle(args.database_url)
            command = [sys.executable, __file__, "child", mode, str(dataset.unissued)]
            child = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
            _report(mode, child.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
