"""Random translations of training batches: more digits from few, for small data sets.

4,000 MNIST digits are few for a VAE: the test -ELBO stops improving long before the train
-ELBO does. Shifting each training image by a random whole number of pixels (at most
`max_shift` each way, zeros filling in) shows the model new images of the same digits.
Evaluation never augments.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """x (B, C, H, W) with each image moved by (dy, dx), each uniform in [-max_shift, max_shift]."""
    if max_shift <= 0:
        return x
    batch, _, height, width = x.shape
    offsets = torch.randint(-max_shift, max_shift + 1, (2, batch, 1, 1), generator=generator,
                            device=generator.device).to(x.device)
    padded = F.pad(x, (max_shift,) * 4)
    rows = torch.arange(height, device=x.device).view(1, height, 1) + max_shift - offsets[0]
    cols = torch.arange(width, device=x.device).view(1, 1, width) + max_shift - offsets[1]
    index = torch.arange(batch, device=x.device).view(batch, 1, 1)
    return padded.permute(0, 2, 3, 1)[index, rows, cols].permute(0, 3, 1, 2)
