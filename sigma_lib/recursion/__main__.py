"""Run (or resume) a recursion experiment from the command line, and commit what is worth keeping.

    python -m sigma_lib.recursion --profile real-cpu --run-dir outputs/real-cpu/run --export runs/real-cpu

A killed run resumes where it stopped when the same command is given again.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from .config import run_config
from .engine import run_experiment
from .export import export_run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sigma_lib.recursion", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="default", help="smoke, default, real-cpu or paper")
    ap.add_argument("--run-dir", required=True, help="working directory of the run (model weights, resumable)")
    ap.add_argument("--cache-dir", default=None, help="where theta_0 is cached (default: next to the run directory)")
    ap.add_argument("--export", default=None,
                    help="commit the run's tables, responses and embeddings here (no weights)")
    ap.add_argument("--export-without-pools", action="store_true",
                    help="leave the synthetic pools out of the export (a run that would exceed 25 MiB)")
    ap.add_argument("--export-settings", default=None,
                    help="export only these settings (comma-separated), e.g. one committed folder per setting")
    ap.add_argument("--report-to", default="none", help="also log each generation's metrics: none or tensorboard")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a profile parameter (JSON value), e.g. --set generations=3 --set settings=S1,S2")
    args = ap.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            ap.error(f"--set takes KEY=VALUE, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    try:
        cfg = run_config(args.profile, **overrides)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    t = time.perf_counter()
    run_experiment(cfg, args.run_dir, args.cache_dir, report_to=args.report_to)
    print(f"run finished in {time.perf_counter() - t:.0f} s: {args.run_dir}")
    if args.export:
        settings = args.export_settings.split(",") if args.export_settings else None
        dest = export_run(args.run_dir, args.export, pools=not args.export_without_pools, settings=settings)
        print(f"committed run written to {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
