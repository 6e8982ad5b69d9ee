"""Refuse a training run from its config alone, before anything starts: start_run (and so the
Train form, next to its button) asks here what the trainer would refuse once the data is loaded.

Both use checkpoint_checks.expected_shapes, the one size limit; only the image shape differs:
here the one the data set will have, in the trainer the one it has.
"""

from __future__ import annotations

import dataclasses

from .checkpoint_checks import expected_shapes
from .config import RunConfig
from .data.loading import planned_image_shape


def check_run(config: RunConfig) -> None:
    """Raise ConfigError (with the fields at fault) for a run the trainer would refuse."""
    shape = planned_image_shape(config.data)
    if shape is not None:
        expected_shapes(dataclasses.replace(config.model, image_shape=shape))
