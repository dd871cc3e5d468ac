"""Numeric precision of training and sampling: float32, or mixed precision (bf16 / fp16 autocast).

One code path for the CPU and the GPU: ``torch.autocast`` runs the matrix products in the low
precision while the weights and the optimizer state stay float32. On a CPU with AMX (bf16 tiles)
bf16 matrix products run about 3 times faster than float32 here; on an H100 bf16 is the fast
path. fp16 needs a gradient scaler (its range is too small for raw gradients); bf16 does not.
"""
from __future__ import annotations

import contextlib
import copy

import torch

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def device_type(device: str) -> str:
    """``"cuda"`` for ``cuda`` / ``cuda:N``, else ``"cpu"``."""
    return "cuda" if str(device).startswith("cuda") else "cpu"


def check_precision(precision: str) -> torch.dtype:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(PRECISIONS)}, got {precision!r}")
    return PRECISIONS[precision]


def autocast(device: str, precision: str):
    """The autocast context of ``precision`` on ``device`` (a no-op for fp32)."""
    dtype = check_precision(precision)
    if dtype is torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device_type(device), dtype=dtype)


def grad_scaler(device: str, precision: str) -> torch.amp.GradScaler:
    """Loss scaling for fp16 (enabled only there; for fp32 and bf16 it passes gradients through)."""
    return torch.amp.GradScaler(device_type(device), enabled=check_precision(precision) is torch.float16)


def inference_copy(model, precision: str):
    """The model itself for fp32; for bf16/fp16 an eval-mode copy with weights cast once.

    Sampling under autocast would re-cast every weight at every decoding step (a third of the
    time on a CPU); a cast copy avoids it. The float32 original is left untouched for training.
    """
    dtype = check_precision(precision)
    if dtype is torch.float32:
        return model.eval()
    return copy.deepcopy(model).to(dtype).eval()


@torch.no_grad()
def squared_norm(state: dict[str, torch.Tensor]) -> float:
    """Squared Frobenius norm of all tensors of a state dict together (float64)."""
    return sum(float(v.to(torch.float64).pow(2).sum()) for v in state.values())


@torch.no_grad()
def relative_distance(model, reference: dict[str, torch.Tensor], scale_sq: float | None = None) -> float:
    """``||theta - theta_ref|| / sqrt(scale_sq)`` over every parameter (Frobenius norms, float64);
    ``scale_sq`` defaults to ``||theta_ref||^2`` (pass theta_0's, computed once, to measure any step
    in units of theta_0).

    ``reference`` is a state dict (e.g. theta_0's), on the CPU. How far fine-tuning has moved the
    weights: a run whose weights barely move cannot show collapse.
    """
    num = 0.0
    for name, p in model.state_dict().items():
        num += float((p.detach().to("cpu", torch.float64) - reference[name].to(torch.float64)).pow(2).sum())
    den = squared_norm(reference) if scale_sq is None else scale_sq
    return (num / den) ** 0.5 if den > 0 else float("nan")
