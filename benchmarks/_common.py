"""Helpers shared by the benchmarks: wall time and peak resident memory of a fresh process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time


def peak_rss_mib() -> float:
    """This process's peak resident set size (VmHWM), MiB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> float:
    """Reset this process's VmHWM to its current RSS (Linux >= 4.0) and return that RSS, MiB.

    Lets a benchmark measure the peak of one step alone, excluding the inputs' set-up.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_isolated(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it must print one JSON object as its last line.

    A fresh process per measurement makes the peak-memory figures independent of each other.
    """
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=True, capture_output=True, text=True, env=os.environ.copy(),
        cwd=os.path.dirname(os.path.abspath(__file__)),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0


def threads() -> str:
    return os.environ.get("OMP_NUM_THREADS", "unset")
