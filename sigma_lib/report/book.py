"""The book's report layer: what every chapter does besides telling its story.

A chapter notebook creates one :class:`Chapter` and from then on only computes and shows:

* :meth:`Chapter.table` writes a table as CSV into the chapter's ``output_dir`` (every column, full
  precision: the single source of truth) and shows a narrow, readable view of it with a download
  link to that CSV;
* :meth:`Chapter.rerun_note` shows the one "Re-run this chapter" note of the page, with the
  parameters the page was computed with;
* :meth:`Chapter.say` shows Markdown whose numbers come from the run, so prose about results is
  computed, never typed.

Numbers are shown in one notation, positional (never ``1e-04``): computed values with four
significant digits (:func:`fmt_sig`), the paper's printed values exactly as printed
(:func:`fmt_exact`, so its HHI ``0.000102`` is never rounded away).

Outputs are Markdown (rendered as MyST by the book, ``nb_render_markdown_format: myst``), so tables
can hold roles (``{eq}``, ``{ref}``) and the download links are Sphinx ``{download}`` roles that copy
the CSV into the built book.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..common.io import write_csv

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Where ``make book`` puts the executed notebooks that the book renders; download links are
#: relative to it.
RENDERED_FROM = REPO_ROOT / "book" / "generated"


# -- numbers ---------------------------------------------------------------------------------------
def is_missing(x) -> bool:
    """``None`` or a floating NaN."""
    if x is None:
        return True
    try:
        return isinstance(x, Real) and not isinstance(x, Integral) and math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def fmt_sig(x, digits: int = 4) -> str:
    """``x`` with ``digits`` significant digits, positional notation, the minus sign U+2212.

    ``None``/NaN give an en dash, booleans ``yes``/``no``, integers print whole, strings as they are.
    """
    if isinstance(x, str):
        return x
    if is_missing(x):
        return "–"
    if isinstance(x, bool) or type(x).__name__ == "bool_":
        return "yes" if x else "no"
    if isinstance(x, Integral):
        return str(int(x)).replace("-", "−")
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if x == int(x) and abs(x) < 10 ** digits:
        return str(int(x)).replace("-", "−")
    import numpy as np

    text = np.format_float_positional(x, precision=digits, unique=False, fractional=False, trim="-")
    return text.replace("-", "−")


def fmt_exact(x) -> str:
    """A printed number exactly as stored (the shortest positional form that reads back the same)."""
    if isinstance(x, str):
        return x
    if is_missing(x):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, Integral):
        return str(int(x))
    import numpy as np

    return np.format_float_positional(float(x), trim="-").replace("-", "−")


def fmt_fixed(x, decimals: int) -> str:
    """``x`` with a fixed number of decimals, e.g. the paper's numbers as printed (``0.000100``, ``2.350``);
    integers and booleans print as such."""
    if isinstance(x, str):
        return x
    if is_missing(x):
        return "–"
    if isinstance(x, bool) or isinstance(x, Integral):
        return fmt_sig(x)
    return f"{float(x):.{decimals}f}".replace("-", "−")


#: Decimals the paper prints, per quantity of its tables (Table 1, Table 11, App. C.4).
PAPER_DECIMALS = {"hhi_g0": 6, "hhi_gmax": 6, "c4": 6}


def paper_printed(key: str, value) -> str:
    """One of the paper's numbers as the paper prints it: 6 decimals for HHI and the C.4 series,
    3 for everything else in Tables 1 and 11."""
    return fmt_fixed(value, PAPER_DECIMALS.get(key, 3))


def fmt_value_noise(value, noise, digits: int = 3) -> str:
    """``value ± 2 noise`` as ``−3.21 ± 0.82``: the band of two standard deviations (no line break)."""
    if is_missing(value):
        return "–"
    if is_missing(noise):
        return fmt_sig(value, digits)
    return f"{fmt_sig(value, digits)}\u00a0±\u00a0{fmt_sig(2 * float(noise), 2)}"


def and_join(items) -> str:
    """``["a", "b", "c"]`` as ``"a, b and c"`` (one item as it is, none as ``""``)."""
    items = list(items)
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + (items[-1] if items else "")


def md_escape(text: str) -> str:
    """Text that Markdown/MyST shows literally inside a table cell."""
    out = str(text).replace("\\", "\\\\")
    for ch in "|*_`[]{}<>$#":
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.split())


# -- tables ----------------------------------------------------------------------------------------
@dataclass
class Col:
    """One displayed column: its key in the rows, its header (Markdown allowed: ``$\\Delta U$``,
    units), how its numbers print (``"sig"``, ``"exact"``, ``"text"``, ``"md"`` for Markdown kept
    as it is, or ``"pm"`` for preformatted numbers such as ``value ± band``, aligned as numbers),
    and the significant digits for ``"sig"``."""

    key: str
    header: str | None = None
    kind: str = "sig"
    digits: int = 4

    def cell(self, value) -> str:
        if self.kind == "md":
            return "–" if is_missing(value) else " ".join(str(value).split()).replace("|", "\\|")
        if self.kind == "pm":
            return "–" if is_missing(value) else str(value)
        if self.kind == "text" or isinstance(value, str):
            return "–" if is_missing(value) else md_escape(value)
        if self.kind == "exact":
            return fmt_exact(value)
        return fmt_sig(value, self.digits)


def _as_records(rows) -> list[dict]:
    if hasattr(rows, "to_dict"):
        return rows.to_dict("records")
    return [dict(r) for r in rows]


def markdown_table(rows, columns: Sequence[Col | str | tuple]) -> str:
    """A Markdown (GFM) table of ``rows`` (dicts or a DataFrame) with the given columns.

    A column is a :class:`Col`, a key, or a tuple of :class:`Col`'s arguments. Numeric columns are
    right-aligned.
    """
    cols = [c if isinstance(c, Col) else Col(c) if isinstance(c, str) else Col(*c) for c in columns]
    records = _as_records(rows)
    numeric = []
    for c in cols:
        values = [r.get(c.key) for r in records if not is_missing(r.get(c.key))]
        numeric.append(c.kind == "pm" or (c.kind in ("sig", "exact") and bool(values) and
                       all(isinstance(v, Real) and not isinstance(v, bool) for v in values)))
    lines = ["| " + " | ".join(c.header if c.header is not None else md_escape(c.key) for c in cols) + " |",
             "|" + "|".join("---:" if n else ":---" for n in numeric) + "|"]
    for r in records:
        lines.append("| " + " | ".join(c.cell(r.get(c.key)) for c in cols) + " |")
    return "\n".join(lines)


def _display_markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


class Chapter:
    """A chapter's output folder, parameters and re-run note; see the module docstring.

    ``name`` is the notebook's stem (``notebooks/<name>.ipynb``), ``parameters`` the values the page
    is computed with (shown in the re-run note), ``example`` the ``-p`` options of the re-run example.
    """

    def __init__(self, name: str, output_dir: str | os.PathLike, parameters: Mapping[str, Any] | None = None,
                 example: str = "-p profile default -p seed 1"):
        self.name = name
        self.out = Path(output_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.parameters = dict(parameters or {})
        self.example = example

    # -- the re-run note -----------------------------------------------------------------------
    def rerun_text(self) -> str:
        shown = ", ".join(f"`{k}={v!r}`" for k, v in self.parameters.items())
        return "\n".join([
            ":::{admonition} Re-run this chapter with your own parameters",
            ":class: tip dropdown",
            f"This page was computed with {shown}. Every table on it is also written as CSV to "
            "`output_dir` (the link under each table downloads it). Re-run the chapter with papermill; "
            "always pass at least one `-p`, since the notebook is stored with the outputs of its small "
            "`test` profile:",
            "",
            "```",
            f"papermill notebooks/{self.name}.ipynb out.ipynb \\",
            f"    {self.example} \\",
            "    -p output_dir my_tables",
            "```",
            "",
            "A parameter the chapter does not take fails at once, with the list of those it does.",
            ":::",
        ])

    def rerun_note(self) -> None:
        """Show the page's one "Re-run this chapter" note (a collapsed tip)."""
        _display_markdown(self.rerun_text())

    # -- tables --------------------------------------------------------------------------------
    def csv_path(self, name: str) -> Path:
        return self.out / f"{name}.csv"

    def download(self, name: str, label: str | None = None) -> str:
        """A ``{download}`` role for the CSV ``name``, relative to where the book renders the chapter."""
        rel = os.path.relpath(self.csv_path(name).resolve(), RENDERED_FROM)
        return f"{{download}}`{label or name + '.csv'} <{Path(rel).as_posix()}>`"

    def table(self, rows, name: str, columns: Sequence[Col | str | tuple] | None = None, caption: str = "",
              show: bool = True):
        """Write ``rows`` to ``output_dir/<name>.csv`` and show ``columns`` of them with a download link.

        Returns the rows as a DataFrame (every column), for the computations that follow.
        """
        import pandas as pd

        records = _as_records(rows)
        write_csv(records, self.csv_path(name))
        frame = pd.DataFrame(records)
        if show:
            self.show(records, name, columns, caption)
        return frame

    def show(self, rows, name: str, columns: Sequence[Col | str | tuple] | None = None, caption: str = "") -> None:
        """Show a table already written as ``<name>.csv`` (e.g. a view of it) with its download link."""
        records = _as_records(rows)
        columns = columns or list(records[0])
        parts = [markdown_table(records, columns), ""]
        note = f"CSV: {self.download(name)} (every column, full precision)."
        parts.append(f"{caption} {note}".strip() if caption else note)
        _display_markdown("\n".join(parts))

    def say(self, text: str) -> None:
        """Show Markdown prose whose numbers were computed (the book renders it as MyST)."""
        _display_markdown(text)


# -- the recursion run the metric chapters read ----------------------------------------------------
@dataclass
class RunView:
    """The recursion run a chapter reads: its folder, generations table, and the paper's numbers."""

    run_dir: Path
    rows: list[dict]
    paper: dict
    manifest: dict

    @property
    def gen(self):
        import pandas as pd

        return pd.DataFrame(self.rows)

    @property
    def settings(self) -> list[str]:
        return sorted({r["setting"] for r in self.rows})

    @property
    def config(self) -> dict:
        return self.manifest["config"]

    def model_sentence(self) -> str:
        """What was trained, in one sentence, from the run's manifest (model, size, precision, lengths)."""
        return model_sentence(self.manifest)

    def summary(self, profile: str) -> str:
        r0 = self.rows[0]
        gmax = max(r["generation"] for r in self.rows)
        return (f"Run read: profile `{profile}`, settings {', '.join(self.settings)}, generations 0–{gmax}, "
                f"$N = {r0['N']}$ responses per checkpoint, observed block $m = {r0['m']}$, $d = {r0['d']}$.")


def recursion_run(profile: str, recursion_dir: str | os.PathLike | None = None) -> RunView:
    """Verify the finished recursion run of ``profile`` (:func:`sigma_lib.report.run_report.require_run`;
    a chapter never starts the engine) and read its generations table; the shared setup of the
    metric, appendix and results chapters."""
    import json

    from . import run_report as rr

    run_dir = rr.require_run(rr.run_dir_for(profile, recursion_dir))
    return RunView(run_dir=run_dir, rows=rr.load_table(run_dir, "generations"), paper=rr.paper_reported(),
                   manifest=json.loads((run_dir / "manifest.json").read_text()))


def model_sentence(manifest: Mapping) -> str:
    """One sentence on a run's model and budget, from its manifest, beside the paper's protocol."""
    cfg, base = manifest["config"], manifest.get("base_model", {})
    n = base.get("n_parameters")
    size = f"{n / 1e6:.3g} M-parameter " if n and n >= 1e5 else f"{n:,}-parameter " if n else ""
    origin = ("trained from scratch on the TECH contexts with the project's tokeniser"
              if base.get("base_model", cfg["base_model"]).startswith("gpt-") else "pretrained")
    device = "a GPU" if cfg.get("device") == "cuda" else "a CPU"
    return (f"$\\theta_0$ is a {size}`{cfg['base_model']}` model, {origin}; each generation fine-tunes it for "
            f"{cfg['epochs']} epoch{'s' if cfg['epochs'] != 1 else ''} at batch {cfg['batch_size']} "
            f"in {cfg['precision']} on {device}, over "
            f"{cfg['generations']} generations, and the evaluation responses are {cfg['response_tokens']} tokens long "
            "(the paper: OPT-125m, FP16 on a GPU, 50 generations, responses of up to 256 tokens).")


# -- the protocol beside the paper's ----------------------------------------------------------------
#: App. C.3's protocol as the paper prints it (values lost in its text extraction are said so).
PAPER_PROTOCOL = {
    "base_model": "facebook/opt-125m (125 M parameters, pretrained)",
    "generations": "50 (51 checkpoints)",
    "n_contexts": "1,000–1,200 contexts of 64 tokens",
    "alpha": "0 (pure synthetic)",
    "continuation_tokens": "64",
    "response_tokens": "up to 256",
    "responses_per_prompt": "several (so that N > d)",
    "n_prompts": "163–200 prompts",
    "epochs": "5",
    "batch_size": "16",
    "lr": "constant (value lost in extraction)",
    "weight_decay": "AdamW with weight decay",
    "precision": "FP16 mixed precision on a GPU",
    "top_p": "0.95",
    "temperature": "1.0",
    "eps": "small, fixed (value lost in extraction)",
    "m": "fixed within a run (value lost in extraction)",
}


def protocol_rows(config: Mapping[str, Any], n_responses: int | None = None, n_prompts: int | None = None,
                  base_model_note: str = "") -> list[dict]:
    """Each protocol parameter of App. C.3: the paper's value and this run's (from its config)."""
    rows = []
    for key, paper in PAPER_PROTOCOL.items():
        value = config.get(key)
        if key == "n_prompts" and value is None:
            value = f"{n_prompts} (the whole frozen bank)" if n_prompts else "the whole frozen bank"
        if key == "n_contexts" and value is None:
            value = "1,200 (the whole TECH set)"
        if key == "base_model" and base_model_note:
            value = f"{value}: {base_model_note}"
        if key == "responses_per_prompt" and n_responses:
            value = f"{value} (N = {n_responses})"
        rows.append({"parameter": key, "the paper (App. C.3)": paper, "this run": str(value)})
    return rows


# -- glue for pages that quote a chapter's numbers (reproduce page, introduction) -----------------
class _Plain(str):
    """A string glued without quotes (``{glue:text}`` shows its text/plain form)."""

    def __repr__(self) -> str:  # what IPython's plain-text formatter prints
        return str(self)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


_TEX_GREEK = {r"\Delta": "Δ", r"\Gamma": "Γ", r"\theta": "θ", r"\sigma": "σ", r"\rho": "ρ", r"\alpha": "α",
              r"\kappa": "κ"}
_SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def plain_math(text: str) -> str:
    """Inline math ``$...$`` of ``text`` as plain Unicode, for glued text (which the book shows as
    it is, without rendering math): ``$g$`` becomes ``g``, ``$\\Delta\\Gamma_{KF}$`` ``ΔΓ_KF``,
    ``$\\theta_0$`` ``θ₀`` (digit subscripts as Unicode subscripts)."""
    def one(match: re.Match) -> str:
        s = match.group(1)
        for tex, letter in _TEX_GREEK.items():
            s = s.replace(tex + " ", letter).replace(tex, letter)
        s = re.sub(r"_\{([^}]*)\}", r"_\1", s)
        return re.sub(r"_([0-9]+)", lambda d: d.group(1).translate(_SUBSCRIPT_DIGITS), s).strip()

    return re.sub(r"\$([^$]+)\$", one, text)


def glue(name: str, value) -> None:
    """``myst_nb.glue`` without displaying; strings are glued without quotes, their inline math as
    plain text (:func:`plain_math`)."""
    from myst_nb import glue as _glue

    _glue(name, _Plain(plain_math(value)) if isinstance(value, str) else value, display=False)


def mean_stage_seconds(timings: Iterable[Mapping]) -> dict:
    """Mean seconds per stage of one generation (g >= 1, over settings), from a run's timing table.

    Generations shared by several settings (the baseline, and S1/S2's common first generation when
    the run shares it) are counted once.
    """
    seen, per_stage = set(), {}
    for r in timings:
        if r["generation"] < 1:
            continue
        key = (r["generation"], r["stage"], r["seconds"])
        if key in seen:
            continue
        seen.add(key)
        per_stage.setdefault(r["stage"], []).append(float(r["seconds"]))
    return {s: sum(v) / len(v) for s, v in per_stage.items()}


def stage_seconds_note(timings: Iterable[Mapping]) -> str:
    """What :func:`mean_stage_seconds` averages over, in words: the run's settings (their count and
    names, from the timing table), how many distinct generations ``g >= 1`` enter each stage's mean
    (a generation shared by several settings counted once), and the settings that have no such stage
    (e.g. a control that samples no pool)."""
    rows = [r for r in timings if r["generation"] >= 1]
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    seen, count, has = set(), {}, {}
    for r in rows:
        has.setdefault(r["stage"], set()).add(r["setting"])
        key = (r["generation"], r["stage"], r["seconds"])
        if key not in seen:
            seen.add(key)
            count[r["stage"]] = count.get(r["stage"], 0) + 1
    if not settings:
        return "The run has no generation $g \\ge 1$ yet: no stage time to average."
    names = and_join(settings)
    by_count: dict[int, list[str]] = {}
    for stage, n in count.items():
        by_count.setdefault(n, []).append(stage)
    counts = "; ".join(f"{', '.join(st)}: {n} generation{'s' if n != 1 else ''}" for n, st in by_count.items())
    missing = [f"{', '.join(s for s in settings if s not in has[stage])} has no {stage} stage"
               for stage in count if set(settings) - has[stage]]
    return (f"Averaged over the generations $g \\ge 1$ of the run's {len(settings)} setting"
            f"{'s' if len(settings) != 1 else ''} ({names}), a generation shared by several settings counted once "
            f"({counts})" + (f"; {'; '.join(missing)}" if missing else "") + ".")


def workers_note(config: Mapping, hardware: Mapping) -> str | None:
    """How the run's processes shared the machine, in words, when its settings ran in worker processes
    (``config["workers"] > 1``): a stage's seconds are then those of a process that had part of a core.
    ``None`` for a run in one process."""
    workers = int(config.get("workers", 1))
    if workers <= 1:
        return None
    cores = hardware.get("cpu_count")
    on = f" on {cores} cores" if cores else ""
    return (f"After generation 0 the settings ran in up to {workers} worker processes of {config['threads']} torch "
            f"thread{'s' if config['threads'] != 1 else ''} each{on}, beside whatever else the machine ran (in "
            "`make book`, the other chapters): a stage's seconds are those of a process that shared the cores, "
            "longer than the same stage alone.")


def total_compute_seconds(timings: Iterable[Mapping]) -> float:
    """Seconds of every stage of a run, each shared generation counted once."""
    seen, total = set(), 0.0
    for r in timings:
        key = (r["generation"], r["stage"], r["seconds"])
        if key not in seen:
            seen.add(key)
            total += float(r["seconds"])
    return total
