"""Notebook parameters: named profiles with overrides, checked before any work starts."""
from __future__ import annotations

from typing import Mapping


def resolve_profile(profiles: Mapping[str, Mapping], profile: str, overrides: Mapping, chapter: str) -> dict:
    """A profile's parameters with every non-``None`` override applied.

    Raises ``ValueError`` naming the chapter for an unknown profile or an unknown parameter name,
    so that a typo in ``papermill -p`` fails at once with the list of valid names.
    """
    if profile not in profiles:
        raise ValueError(f"{chapter}: unknown profile {profile!r}; choose from {sorted(profiles)}")
    params = dict(profiles[profile])
    for key, value in overrides.items():
        if key not in params:
            raise ValueError(f"{chapter}: unknown parameter {key!r}; it takes {sorted(params)}")
        if value is not None:
            params[key] = value
    return params


def require_int(params: Mapping, key: str, minimum: int) -> None:
    """Raise ``ValueError`` unless ``params[key]`` is an integer ``>= minimum``."""
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{key} must be an integer >= {minimum}, got {value!r}")


_IPYTHON_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}


def check_notebook_parameters(namespace: Mapping, declared, chapter: str) -> None:
    """Fail at once, naming it, on a parameter a chapter does not take (e.g. ``papermill -p settings S2``
    for a notebook whose parameter is ``setting``: papermill only warns and runs with the default).

    Call it first in the cell after the parameter cells, with ``globals()``: every variable
    defined by then must be one of ``declared``.
    """
    import types

    unknown = sorted(k for k, v in namespace.items()
                     if not k.startswith("_") and k not in declared and k not in _IPYTHON_NAMES
                     and not isinstance(v, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)))
    if unknown:
        raise ValueError(f"{chapter}: unknown parameter(s) {', '.join(map(repr, unknown))}; "
                         f"it takes {', '.join(sorted(declared))}")
