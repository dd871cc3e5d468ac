"""Parameters of a recursion run, the three profiles, and their validation.

Profiles (App. C.3 for ``paper``):

* ``smoke``: tests, seconds; a tiny GPT, few contexts, short responses.
* ``default``: the book on a 2-core CPU; the small GPT of ``data/gpt_small.json`` trained from
  scratch on TECH, S1 and S2 over a few generations.
* ``paper``: facebook/opt-125m, 50 generations, the whole prompt bank, responses up to 256 tokens, on a GPU.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..params import resolve_profile

SETTINGS = ("S1", "S2")


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run's results (all of it goes into the run manifest).

    Sizes are counts; lengths are tokens; ``alpha`` is the real-data fraction of the mixture.
    """

    profile: str = "default"
    settings: tuple[str, ...] = SETTINGS
    generations: int = 4
    base_model: str = "gpt-small"          # "gpt-small", "gpt-tiny", or a Hugging Face id / local path
    device: str = "cpu"
    alpha: float = 0.0
    seed: int = 0
    n_contexts: int | None = None          # None: the whole frozen corpus
    n_heldout: int | None = None
    n_prompts: int | None = None           # None: the whole prompt bank
    responses_per_prompt: int = 4
    context_tokens: int = 64
    continuation_tokens: int = 64
    response_tokens: int = 64
    top_p: float = 0.95
    temperature: float = 1.0
    epochs: int = 5
    batch_size: int = 16
    lr: float = 5e-5
    weight_decay: float = 0.01
    base_epochs: int = 10                  # theta_0 training (from-scratch models only)
    base_lr: float = 1e-3
    m: int = 512
    eps: float = 1e-3
    n_draws: int = 50
    reseed_baseline: bool = True           # evaluate theta_0 a second time: the evaluation's own noise
    sample_batch_size: int = 64
    embed_batch_size: int = 64
    keep_checkpoints: str = "all"          # "all" or "last"
    threads: int = 2

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["settings"] = list(self.settings)
        return d


PROFILES: dict[str, dict] = {
    "smoke": dict(profile="smoke", generations=2, base_model="gpt-tiny", n_contexts=32, n_heldout=16,
                  responses_per_prompt=3, continuation_tokens=16, response_tokens=8, epochs=1, base_epochs=2,
                  lr=1e-3, m=400, n_draws=10, reseed_baseline=True, threads=1),
    "default": dict(profile="default", generations=4, base_model="gpt-small", responses_per_prompt=4,
                    continuation_tokens=64, response_tokens=64, epochs=5, base_epochs=10, lr=5e-5, m=512,
                    sample_batch_size=256, embed_batch_size=128),
    "paper": dict(profile="paper", generations=50, base_model="facebook/opt-125m", device="cuda",
                  responses_per_prompt=4, continuation_tokens=64, response_tokens=256, epochs=5, lr=5e-5,
                  m=512, keep_checkpoints="last", sample_batch_size=128),
}


PROFILES["test"] = PROFILES["smoke"]  # every chapter's small profile is called "test" too (make notebooks-test)


def run_config(profile: str = "default", **overrides) -> RunConfig:
    """A profile's :class:`RunConfig` with non-``None`` overrides, validated before any work starts.

    Raises ``ValueError`` (naming the parameter) for an unknown profile or name, a setting other
    than S1/S2, a fraction outside [0, 1], a non-positive size, ``top_p`` outside (0, 1], etc.
    """
    base = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    profiles = {name: {**base, **p} for name, p in PROFILES.items()}
    if isinstance(overrides.get("settings"), str):
        overrides["settings"] = {"both": SETTINGS}.get(overrides["settings"], (overrides["settings"],))
    params = resolve_profile(profiles, profile, overrides, "recursion")
    params["settings"] = tuple(params["settings"])
    cfg = RunConfig(**params)
    validate(cfg)
    return cfg


def validate(cfg: RunConfig) -> None:
    bad = [s for s in cfg.settings if s not in SETTINGS]
    if bad or not cfg.settings:
        raise ValueError(f"settings must be among {SETTINGS} (or 'both'), got {list(cfg.settings)}")
    ints = dict(generations=1, responses_per_prompt=1, context_tokens=1, continuation_tokens=1, response_tokens=1,
                epochs=1, batch_size=1, base_epochs=0, m=2, n_draws=0, sample_batch_size=1, embed_batch_size=1,
                threads=1, seed=0)
    for key, minimum in ints.items():
        value = getattr(cfg, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{key} must be an integer >= {minimum}, got {value!r}")
    for key in ("n_contexts", "n_heldout", "n_prompts"):
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
    if cfg.keep_checkpoints not in ("all", "last"):
        raise ValueError(f"keep_checkpoints must be 'all' or 'last', got {cfg.keep_checkpoints!r}")
    if not (cfg.device == "cpu" or cfg.device.startswith("cuda")):
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got {cfg.device!r}")
