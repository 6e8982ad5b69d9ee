"""The decoder's layers as one explicit, ordered list of ops: torch runs it, the page exports it.

A decoder's `ops()` returns its list; `forward` is `run_ops(self.ops(), z)`. The modules in the
list are the decoder's own registered submodules (so state_dict keys do not change); the two
parameterless ops here carry what a bare module does not: a reshape's target shape, and the
output size a transposed convolution must produce (odd sizes such as 7x7 are ambiguous otherwise).
vae_core.decoder_export turns the same list into data for the page, and refuses an op it does
not know by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

Op = Callable[[torch.Tensor], torch.Tensor]
RELU = nn.ReLU()


@dataclass(frozen=True)
class Reshape:
    """(B, ...) -> (B, *shape)."""

    shape: tuple[int, ...]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(-1, *self.shape)


@dataclass(frozen=True, eq=False)
class SizedConvTranspose2d:
    """A transposed convolution that produces exactly `output_size` (H, W)."""

    layer: nn.ConvTranspose2d
    output_size: tuple[int, int]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x, output_size=list(self.output_size))


def run_ops(ops: Sequence[Op], x: torch.Tensor) -> torch.Tensor:
    for op in ops:
        x = op(x)
    return x
