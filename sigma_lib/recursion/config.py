"""Parameters of a recursion run, its settings, the profiles, and their validation.

Settings (Sec. 4): ``S1`` restarts every generation from theta_0 (4.1); ``S2`` carries the weights
forward (4.2); both train on the real-data fraction ``alpha`` of real contexts and the rest on the
previous model's synthetic pool. Controls (not in the paper), both carrying the weights forward
like S2 on real text only (alpha = 1):

* ``repeat-real`` trains on the *same* real contexts every generation: continued fine-tuning that
  memorises them (its training loss falls toward zero and its held-out NLL rises);
* ``new-real`` trains on *new* real contexts every generation, block ``g - 1`` of the frozen asset
  of unused TECH windows (:mod:`sigma_lib.corpus.new_real`): ordinary fine-tuning on fresh data.
  A signal that moves as much here as in S2 measures fine-tuning, not collapse.

Seeds: ``seed`` drives training order, the pool's and the evaluation's sampling; ``index_seed``
fixes the observed index sets of Algorithm 1 and ``base_seed`` the from-scratch theta_0 (each
``None``: ``seed``, as in runs made before they existed), so that replicates can share both.

Profiles (App. C.3 for ``paper``):

* ``smoke``: tests, seconds; a tiny GPT, few contexts, short responses.
* ``default``: the book on a 2-core CPU; the small GPT of ``data/models/gpt-small.json`` trained
  from scratch on TECH, S1, S2 and two controls over a few generations.
* ``real-cpu``: the pretrained SmolLM2-135M on a 2-core CPU (bf16 autocast), S1, S2 and the
  ``repeat-real`` control over 5 generations, with the budget cuts listed in :data:`REAL_CPU_CUTS`.
* ``real-rep``: the replicated real-LM study: real-cpu's workload in float32 with the fused AdamW,
  S1, S2 and ``new-real``, one run folder per seed (the prompt bank and index sets shared).
* ``paper``: the paper's protocol (50 generations, 5 epochs, the whole prompt bank, responses up to
  256 tokens, mixed precision) on SmolLM2-135M, on a GPU.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from ..common import profiles
from ..common.params import resolve_profile
from ..maths.tracks import DEFAULT_EPS

SETTINGS = ("S1", "S2", "repeat-real", "new-real")
PAPER_SETTINGS = ("S1", "S2")
#: The settings that share generation 1: both train theta_0 on theta_0's pool at the same alpha, so a
#: run computes it once and copies it (engine), and a worker process runs them together (parallel).
SHARED_FIRST_GENERATION = ("S1", "S2")
# How each setting starts training, which real-data fraction it uses (None: the run's alpha) and
# what it trains on: "replace" (the constant-budget mixture of real contexts and the newest
# synthetic pool), "accumulate" (every real context plus every synthetic pool 1..g; Gerstgrasser
# et al. 2024) or "accumulate-subsample" (that union subsampled to the constant budget).
SETTING_SPECS = {
    "S1": {"start": "theta0", "alpha": None, "data": "replace"},
    "S2": {"start": "previous", "alpha": None, "data": "replace"},
    "repeat-real": {"start": "previous", "alpha": 1.0, "data": "replace"},
    "new-real": {"start": "previous", "alpha": 1.0, "data": "new-real"},
    "accumulate": {"start": "previous", "alpha": None, "data": "accumulate"},
    "accumulate-subsample": {"start": "previous", "alpha": None, "data": "accumulate-subsample"},
}
ALPHA_SWEEP = re.compile(r"^S2-a(0(?:\.\d+)?|1(?:\.0+)?)$")  # "S2-a0.25": S2 at alpha = 0.25


def setting_spec(name: str) -> dict:
    """How setting ``name`` trains (see :data:`SETTING_SPECS`); ``S2-a<alpha>`` is S2 at a fixed
    real-data fraction (the alpha sweep). Raises ``ValueError`` for an unknown name."""
    if name in SETTING_SPECS:
        return SETTING_SPECS[name]
    m = ALPHA_SWEEP.match(name)
    if m:
        return {"start": "previous", "alpha": float(m.group(1)), "data": "replace"}
    raise ValueError(f"unknown setting {name!r}: choose among {sorted(SETTING_SPECS)} or S2-a<alpha> (e.g. S2-a0.25)")


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run's results (all of it goes into the run manifest).

    Sizes are counts; lengths are tokens; ``alpha`` is the real-data fraction of the mixture.
    """

    profile: str = "default"
    settings: tuple[str, ...] = PAPER_SETTINGS
    generations: int = 4
    base_model: str = "gpt-small"          # "smollm2-135m", "gpt-small", "gpt-tiny", or a Hugging Face id / local path
    device: str = "cpu"
    precision: str = "fp32"                # "fp32", or mixed precision "bf16" / "fp16" (autocast)
    alpha: float = 0.0
    seed: int = 0
    index_seed: int | None = None          # the observed index sets; None: seed
    base_seed: int | None = None           # theta_0 trained from scratch; None: seed
    fused_adamw: bool = False              # torch's fused AdamW kernel (13x faster a step on SmolLM2, CPU)
    n_contexts: int | None = None          # None: the whole frozen corpus
    base_contexts: int | None = None       # contexts theta_0 is trained on (from-scratch models); None: the n_contexts
    n_heldout: int | None = None
    n_prompts: int | None = None           # None: the whole prompt bank
    responses_per_prompt: int = 4
    context_tokens: int = 64
    continuation_tokens: int = 64
    response_tokens: int = 64
    suppress_special_tokens: bool = False  # never sample EOS / special tokens: every text has its full length
    top_p: float = 0.95
    temperature: float = 1.0
    epochs: int = 5
    batch_size: int = 16
    lr: float = 5e-5
    weight_decay: float = 0.01
    base_epochs: int = 10                  # theta_0 training (from-scratch models only)
    base_lr: float = 1e-3
    m: int = 512
    eps: float = DEFAULT_EPS                # the ridge of (B.1), the library default
    n_draws: int = 50
    reseed_baseline: bool = True           # evaluate theta_0 a second time: the evaluation's own noise
    sample_batch_size: int = 64
    embed_batch_size: int = 64
    keep_checkpoints: str = "all"          # "all" or "last"
    threads: int = 2                       # torch threads per process
    workers: int = 1                       # processes running settings side by side (.parallel)

    def setting_alpha(self, setting: str) -> float:
        """The real-data fraction of ``setting`` (the run's ``alpha`` unless the setting fixes it)."""
        fixed = setting_spec(setting)["alpha"]
        return self.alpha if fixed is None else fixed

    @property
    def index_seed_value(self) -> int:
        return self.seed if self.index_seed is None else self.index_seed

    @property
    def base_seed_value(self) -> int:
        return self.seed if self.base_seed is None else self.base_seed

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["settings"] = list(self.settings)
        return d


def with_defaults(config: dict) -> dict:
    """A manifest's ``config`` with every :class:`RunConfig` key it lacks at its default: how a
    manifest written before a key existed is read (the run was made with that default)."""
    return {**{f.name: f.default for f in dataclasses.fields(RunConfig)}, **config}


def index_seed_of(config: dict) -> int:
    """The seed of the observed and re-drawn index sets a manifest's ``config`` records
    (``index_seed``, else ``seed``: :attr:`RunConfig.index_seed_value`)."""
    return RunConfig(seed=config["seed"], index_seed=config.get("index_seed")).index_seed_value


#: The run profiles (:data:`sigma_lib.common.profiles.RECURSION`).
PROFILES: dict[str, dict] = profiles.RECURSION

# Where the real-cpu profile departs from the paper's protocol (App. C.3): the parameter, the
# paper's value (as printed), and why; the book shows each beside the run's own value (its manifest).
REAL_CPU_CUTS = [
    ("base_model", "OPT-125m", "the pretrained causal LM that installs offline from PyPI: SmolLM2-135M-Instruct, "
                               "4-bit GGUF (Q4_1) dequantised to float32"),
    ("generations", "50", "an hour of a 2-core CPU"),
    ("n_contexts", "1,200 (the whole TECH set)", "sampling and training cost scale with it"),
    ("epochs", "5", "training cost"),
    ("lr", "5e-5", "fewer steps per generation; a larger step keeps the weights moving"),
    ("response_tokens", "up to 256", "evaluation cost (N x length tokens per checkpoint)"),
    ("responses_per_prompt", "4", "evaluation cost; N = 540 > d = 384 still holds"),
    ("m", "512", "m < N leaves room for re-drawn index sets (the noise band)"),
    ("n_heldout", "200", "held-out NLL cost"),
    ("precision", "mixed precision on a GPU",
     "bf16 autocast runs the matrix products on the CPU's AMX units, faster than fp32 (benchmarks/bench_recursion.py)"),
    ("suppress_special_tokens", "responses of up to 256 tokens (may end early)",
     "the instruction-tuned model ends many responses to raw prompts at once with <|im_end|>: in a first run, "
     "theta_0's empty responses made its diversity look low and every later drift positive; here special "
     "tokens are never sampled and every text has its full length"),
]



def run_config(profile: str = "default", **overrides) -> RunConfig:
    """A profile's :class:`RunConfig` with non-``None`` overrides, validated before any work starts.

    Raises ``ValueError`` (naming the parameter) for an unknown profile or name, a setting other
    than S1/S2, a fraction outside [0, 1], a non-positive size, ``top_p`` outside (0, 1], etc.
    """
    base = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    tables = {name: {**base, **p} for name, p in PROFILES.items()}
    if isinstance(overrides.get("settings"), str):
        overrides["settings"] = {"both": PAPER_SETTINGS, "all": SETTINGS}.get(
            overrides["settings"], tuple(x.strip() for x in overrides["settings"].split(",")))
    params = resolve_profile(tables, profile, overrides, "recursion")
    params["settings"] = tuple(params["settings"])
    cfg = RunConfig(**params)
    validate(cfg)
    return cfg


def validate(cfg: RunConfig) -> None:
    bad = [s for s in cfg.settings if s not in SETTING_SPECS and not ALPHA_SWEEP.match(s)]
    if bad or not cfg.settings or len(set(cfg.settings)) != len(cfg.settings):
        raise ValueError(f"settings must be distinct names among {sorted(SETTING_SPECS)} or S2-a<alpha> "
                         f"(or 'both' for S1 and S2, 'all' for {', '.join(SETTINGS)}), got {list(cfg.settings)}")
    ints = dict(generations=1, responses_per_prompt=1, context_tokens=1, continuation_tokens=1, response_tokens=1,
                epochs=1, batch_size=1, base_epochs=0, m=2, n_draws=0, sample_batch_size=1, embed_batch_size=1,
                threads=1, workers=1, seed=0)
    for key in ("index_seed", "base_seed"):
        value = getattr(cfg, key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"{key} must be None or an integer >= 0, got {value!r}")
    for key, minimum in ints.items():
        value = getattr(cfg, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{key} must be an integer >= {minimum}, got {value!r}")
    for key in ("n_contexts", "base_contexts", "n_heldout", "n_prompts"):
        value = getattr(cfg, key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{key} must be None or a positive integer, got {value!r}")
    if not 0.0 <= cfg.alpha <= 1.0:
        raise ValueError(f"alpha (the real-data fraction) must lie in [0, 1], got {cfg.alpha!r}")
    if not 0.0 < cfg.top_p <= 1.0:
        raise ValueError(f"top_p must lie in (0, 1], got {cfg.top_p!r}")
    if not cfg.temperature > 0:
        raise ValueError(f"temperature must be positive, got {cfg.temperature!r}")
    for key in ("lr", "base_lr", "eps"):
        if not getattr(cfg, key) > 0:
            raise ValueError(f"{key} must be positive, got {getattr(cfg, key)!r}")
    if cfg.weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {cfg.weight_decay!r}")
    if not isinstance(cfg.fused_adamw, bool):
        raise ValueError(f"fused_adamw must be true or false, got {cfg.fused_adamw!r}")
    if cfg.keep_checkpoints not in ("all", "last"):
        raise ValueError(f"keep_checkpoints must be 'all' or 'last', got {cfg.keep_checkpoints!r}")
    if cfg.precision not in ("fp32", "bf16", "fp16"):
        raise ValueError(f"precision must be 'fp32', 'bf16' or 'fp16', got {cfg.precision!r}")
    if not (cfg.device == "cpu" or cfg.device.startswith("cuda")):
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got {cfg.device!r}")
