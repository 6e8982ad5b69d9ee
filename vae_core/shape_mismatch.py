"""Why a checkpoint's tensors do not fit its config, said in config.json's terms.

A tensor shape like (4,) means nothing to the person who wrote config.json; "config.json says
8 latent dimensions, the weights have 2" does. A size setting's value is read back from the
weights by building the model at two values of that setting (on the meta device, no memory):
every tensor axis that grows with it grows linearly, so one axis of the file gives the value.
"""

from __future__ import annotations

import dataclasses

from .checkpoint_checks import Shapes, expected_shapes
from .config import ConfigError, ModelConfig

# The single-number size settings a file can disagree on, and how each is said.
SIZE_SETTINGS = {
    "latent_dim": lambda n: f"{n} latent dimension{'s' if n != 1 else ''}",
    "dense": lambda n: f"a dense layer {n} wide",
}


def setting_mismatch(config: ModelConfig, found: Shapes) -> str | None:
    """'config.json says 8 latent dimensions, the weights have 2' when one size setting,
    changed alone, makes the config's model match `found` exactly; else None."""
    for setting, said in SIZE_SETTINGS.items():
        value = _value_in_weights(config, setting, found)
        if value is not None:
            return (f"config.json says {said(getattr(config, setting))}, the weights have "
                    f"{said(value)}")
    return None


def shape_problem(key: str, found: tuple[int, ...], needed: tuple[int, ...]) -> str:
    """'layer encoder.head.1's weight is 16 x 392 in the file; config.json makes it 32 x 392'."""
    layer, part = key.rsplit(".", 1) if "." in key else (key, "tensor")
    return (f"layer {layer}'s {part} is {_size(found)} in the weights; config.json makes it "
            f"{_size(needed)}")


def _size(shape: tuple[int, ...]) -> str:
    """'16 x 392', '16 long' or 'a single number'."""
    if len(shape) == 1:
        return f"{shape[0]} long"
    return " x ".join(map(str, shape)) if shape else "a single number"


def _value_in_weights(config: ModelConfig, setting: str, found: Shapes) -> int | None:
    """The value of `setting` the weights were made with, when only it differs."""
    current = getattr(config, setting)
    other = 1 if current != 1 else 2
    at_current, at_other = _shapes(config, setting, current), _shapes(config, setting, other)
    if at_current is None or at_other is None:
        return None
    for key, shape in at_current.items():
        for axis, (size, size_other) in enumerate(zip(shape, at_other[key], strict=True)):
            if size == size_other or key not in found or len(found[key]) != len(shape):
                continue
            per_unit = (size - size_other) // (current - other)  # the axis is linear in it
            if per_unit <= 0:
                return None
            value, rest = divmod(found[key][axis] - size + per_unit * current, per_unit)
            matches = rest == 0 and value != current and _shapes(config, setting, value) == found
            return value if matches else None
    return None


def _shapes(config: ModelConfig, setting: str, value: int) -> Shapes | None:
    """The tensors' shapes with `setting` = value; None for a value no config may have."""
    if value < 1:
        return None
    try:
        return expected_shapes(dataclasses.replace(config, **{setting: value}))
    except ConfigError:
        return None
