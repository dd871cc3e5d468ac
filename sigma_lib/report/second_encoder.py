"""Track II of the replicated study seen by a second encoder, theta_0's own hidden states.

:mod:`sigma_lib.recursion.hidden_state_track2` measures it once per committed folder (``make
hidden-track2``) into ``runs/real-rep-hidden/seed-N/<setting>/``; this module reads those tables,
checked against each folder's checksums, as one more signal of :mod:`.real_study`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from ..recursion.export import CHECKSUMS
from ..recursion.hidden_state_track2 import TABLE, read_hidden_state_track2
from .controls import merge_series
from .run_report import COMMITTED_ROOT

#: The signal's key in the study's rows, and its label.
HIDDEN = "drift_U_hidden"
HIDDEN_LABEL = r"Track II drift $\Delta U$, $\theta_0$'s hidden states (nats)"


def hidden_state_rows(folders: Sequence, *, root, replicate: str) -> list[dict]:
    """Track II drift measured with theta_0's hidden states (:mod:`sigma_lib.recursion.hidden_state_track2`)
    for one seed's committed folders, read from ``root/<seed>/<setting>/`` and checked against each
    folder's checksums, as rows of :func:`sigma_lib.report.controls.signal_series` (``signal`` =
    :data:`HIDDEN`, ``sd`` the index-set noise of the drift). A folder not measured yet is skipped."""
    per_folder = []
    for folder in map(Path, folders):
        table = Path(root) / folder.parent.name / folder.name
        if not (table / TABLE).is_file():
            continue
        _, rows = read_hidden_state_track2(table, json.loads((folder / CHECKSUMS).read_text()))
        per_folder.append([{"source": replicate, "replicate": replicate, "setting": r["setting"],
                            "generation": r["generation"], "signal": HIDDEN, "value": r["drift_U"],
                            "change": r["drift_U"], "sd": r["noise_U"]} for r in rows])
    return merge_series(*per_folder)


def hidden_state_root(replicated=None):
    """The folder of the second encoder's tables for the study in ``replicated`` (default
    ``runs/real-rep``): its sibling ``<name>-hidden`` (``make hidden-track2`` writes it)."""
    root = Path(replicated) if replicated is not None else COMMITTED_ROOT / "real-rep"
    return root.with_name(root.name + "-hidden")
