"""Before the notebooks run under nbval, the test harness (not a chapter) makes the recursion run
that the report chapters read: chapters only read, and nbval runs notebooks in alphabetical
order (appendix and metrics before recursion)."""
import os
from pathlib import Path

# The Makefile's environment, for a pytest run outside make and the kernels nbval starts (they
# inherit it): one BLAS/OpenMP thread, waiting threads that sleep, no hub. Beside a running study,
# nbval of three chapters without it took 17 minutes of CPU; the real-LM chapter with it, 41 s.
for _name, _value in {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                      "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}.items():
    os.environ.setdefault(_name, _value)

READERS = {"appendix.ipynb", "collapse.ipynb", "forecast.ipynb", "metrics.ipynb", "results.ipynb"}


def pytest_collection_finish(session):
    if not any(Path(str(item.fspath)).name in READERS for item in session.items):
        return
    from sigma_lib.recursion.config import run_config
    from sigma_lib.recursion.engine import run_experiment
    from sigma_lib.report.run_report import run_dir_for

    run_dir = run_dir_for("test")
    run_experiment(run_config("test"), run_dir, run_dir.parent / "cache", progress=False, log=lambda s: None)
