"""theta_0: the base model, and its tokeniser.

Default: a small GPT-style causal LM (configs in ``sigma_lib/data/models/``) trained from scratch
on the real TECH contexts with the project's BPE, because no causal LM ships on PyPI. The trained
model is cached under a hash of everything that determines it. Any Hugging Face model id or local
path (``facebook/opt-125m`` for the paper) loads through ``AutoModelForCausalLM`` with its own
tokeniser, from local files only.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import torch

from ..corpus.assets import TECH_DIR, sha256_file
from .data import encode_blocks
from .seeds import derive_seed
from .training import params_hash, train_causal_lm

MODELS_DIR = Path(__file__).resolve().parent.parent / "data" / "models"
BUILTIN = {p.stem: p for p in MODELS_DIR.glob("*.json")}


def is_builtin(name: str) -> bool:
    return name in BUILTIN


def project_tokenizer():
    """The project's BPE (``data/tech/tokenizer.json``) as a ``PreTrainedTokenizerFast``."""
    from transformers import PreTrainedTokenizerFast

    from ..corpus.bpe import EOS

    return PreTrainedTokenizerFast(tokenizer_file=str(TECH_DIR / "tokenizer.json"), eos_token=EOS, pad_token=EOS,
                                   bos_token=EOS)


def quiet_transformers() -> None:
    """Silence ``transformers``' per-load progress bars and advisory warnings (they would drown
    the stage progress bars and make notebook outputs differ between a fresh and a resumed run)."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def load_pretrained(path_or_id: str, device: str = "cpu"):
    """``(model, tokenizer)`` of a Hugging Face model from local files only (never a download).

    Raises ``FileNotFoundError`` with instructions when the model is not available locally.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    try:
        tok = AutoTokenizer.from_pretrained(path_or_id, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path_or_id, local_files_only=True)
    except OSError as exc:
        raise FileNotFoundError(
            f"base model {path_or_id!r} is not available locally and nothing is downloaded at run time: "
            f"fetch it once where there is network (e.g. `huggingface-cli download {path_or_id}`) into the "
            f"Hugging Face cache, or pass a local folder ({exc.__class__.__name__}: {exc})") from None
    except (ValueError, KeyError) as exc:
        raise ValueError(f"base model {path_or_id!r} could not be loaded: {exc}") from None
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return model.to(device).eval(), tok


def _builtin_key(name: str, contexts_text_hash: str, cfg) -> str:
    spec = {
        "model_config": json.loads(BUILTIN[name].read_text()), "tokenizer": sha256_file(TECH_DIR / "tokenizer.json"),
        "contexts": contexts_text_hash, "epochs": cfg.base_epochs, "lr": cfg.base_lr, "batch_size": cfg.batch_size,
        "weight_decay": cfg.weight_decay, "seed": cfg.seed, "threads": cfg.threads, "torch": torch.__version__,
        "context_tokens": cfg.context_tokens,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def build_base_model(cfg, contexts: list[str], cache_dir: str | Path, progress: bool = False) -> tuple[Path, dict]:
    """Path of theta_0 (trained and cached if needed) and facts about it.

    For a built-in config: trains a GPT-2-architecture model from scratch on ``contexts`` for
    ``cfg.base_epochs`` epochs at ``cfg.base_lr`` and caches it in
    ``cache_dir/theta0-<name>-<hash>`` (written to a temporary folder, then renamed). For any
    other name: returns it unchanged (loaded later by :func:`load_pretrained`).
    """
    name = cfg.base_model
    if not is_builtin(name):
        return Path(name), {"base_model": name, "trained_here": False}
    text_hash = hashlib.sha256("\n".join(contexts).encode()).hexdigest()
    key = _builtin_key(name, text_hash, cfg)
    final = Path(cache_dir) / f"theta0-{name}-{key}"
    info_file = final / "theta0.json"
    if info_file.is_file():
        return final, json.loads(info_file.read_text())
    from transformers import GPT2Config, GPT2LMHeadModel

    quiet_transformers()
    tok = project_tokenizer()
    conf = GPT2Config(**json.loads(BUILTIN[name].read_text()), vocab_size=len(tok),
                      bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(derive_seed(cfg.seed, "theta0-init", name))
    model = GPT2LMHeadModel(conf)
    ids, mask = encode_blocks(tok, contexts, cfg.context_tokens)
    stats = train_causal_lm(model, ids, mask, cfg.base_epochs, cfg.batch_size, cfg.base_lr, cfg.weight_decay,
                            (cfg.seed, "theta0"), device=cfg.device, progress=progress, desc="train theta_0")
    tmp = final.with_name(final.name + f".partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.to("cpu").save_pretrained(tmp)
    tok.save_pretrained(tmp)
    info = {"base_model": name, "trained_here": True, "key": key, "params_hash": params_hash(model),
            "n_parameters": sum(p.numel() for p in model.parameters()), "train_tokens_per_second": stats.tokens_per_second,
            "train_seconds": stats.seconds, "final_loss": stats.final_loss}
    (tmp / "theta0.json").write_text(json.dumps(info, indent=1))
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():  # another process won the race; keep its copy
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, final)
    return final, json.loads(info_file.read_text())
