"""Benchmark harness: time and peak memory of a piece of work, printed as one JSON line of figures."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class Measurement:
    seconds: float = 0.0
    peak_python_mb: float = 0.0


@contextmanager
def measure(trace_memory: bool = True) -> Iterator[Measurement]:
    """Wall time of the block and the peak memory Python allocated inside it."""
    result = Measurement()
    if trace_memory:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - started
        if trace_memory:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            result.peak_python_mb = peak / 2**20


def max_rss_mb() -> float:
    """The process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, **figures: Any) -> dict[str, Any]:
    """Print one JSON line: the benchmark's name, its figures and where it ran."""
    line = {
        "bench": name,
        **{k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()},
        "max_rss_mb": round(max_rss_mb(), 1),
        "python": platform.python_version(),
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return line


def run_main(main: Callable[[list[str]], Any]) -> None:
    main(sys.argv[1:])


PG_ADMIN_URL = os.environ.get("BRANCHBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_postgres(prefix: str = "branchbot_bench") -> Iterator[str]:
    """A throw-away PostgreSQL database on the test server, dropped afterwards; raises when unreachable."""
    from sqlalchemy import text

    from storage.db import make_engine

    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin.url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
