"""Before the notebooks run under nbval, the test harness (not a chapter) makes the recursion run
that the report chapters read: chapters only read, and nbval runs notebooks in alphabetical
order (appendix and metrics before recursion)."""
from pathlib import Path

READERS = {"appendix.ipynb", "collapse.ipynb", "forecast.ipynb", "metrics.ipynb", "results.ipynb"}


def pytest_collection_finish(session):
    if not any(Path(str(item.fspath)).name in READERS for item in session.items):
        return
    from sigma_lib.recursion.config import run_config
    from sigma_lib.recursion.engine import run_experiment
    from sigma_lib.report.run_report import run_dir_for

    run_dir = run_dir_for("test")
    run_experiment(run_config("test"), run_dir, run_dir.parent / "cache", progress=False, log=lambda s: None)
