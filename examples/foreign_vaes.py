"""VAEs written the way popular repositories write them, not with vae_core: what a user brings.

Each class offers `encode(x)` and `decode(z)` as its repository does. The widths are smaller than
the originals so that tests run in seconds; the layer patterns are theirs:
- `PyTorchVAEStyle`: PyTorch-VAE's VanillaVAE (64x64 RGB, strided convs, BatchNorm, LeakyReLU,
  a Tanh output, inputs in [-1, 1]; encode returns [mu, log_var]).
- `PythaeStyle`: pythae's MNIST conv VAE (BatchNorm, ReLU, a sigmoid output; the encoder returns
  mean and log-variance as one tensor of 2D values here, to exercise that layout).
- `ResidualUpsampleVAE`: residual blocks (SiLU, Add) and nearest upsampling; decodes logits.
- `PlainAutoencoder`: an MLP autoencoder; one code per image, a sigmoid output.
- `SpatialLatentVAE`: a diffusers-style latent of 4 x 7 x 7 (the encoder gives its mean and
  log-variance stacked on the channel axis), far more dimensions than sliders.

`export_onnx` writes a model's encoder and decoder as two ONNX files, as a user would.
Each class is a FACTORY that `import-torch` accepts (untrained: the app shows noise), e.g.
`python -m vae_core import-torch examples/foreign_vaes.py:PythaeStyle --out /tmp/pythae
--input-range 0,1 --decoder-output probs --image-shape 1 28 28`.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


def _conv_bn(c_in: int, c_out: int, activation: nn.Module) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.BatchNorm2d(c_out),
                         activation)


class PyTorchVAEStyle(nn.Module):
    image_shape = (3, 64, 64)
    input_range = (-1.0, 1.0)
    decoder_output = "tanh"

    def __init__(self, latent_dim: int = 128, hidden: tuple[int, ...] = (8, 16, 32, 64, 128)):
        super().__init__()
        self.latent_dim, self.hidden = latent_dim, hidden
        layers, c_in = [], 3
        for width in hidden:
            layers.append(_conv_bn(c_in, width, nn.LeakyReLU()))
            c_in = width
        self.encoder = nn.Sequential(*layers)
        self.fc_mu = nn.Linear(hidden[-1] * 4, latent_dim)
        self.fc_var = nn.Linear(hidden[-1] * 4, latent_dim)
        self.decoder_input = nn.Linear(latent_dim, hidden[-1] * 4)
        up = list(reversed(hidden))
        self.decoder = nn.Sequential(*[
            nn.Sequential(nn.ConvTranspose2d(up[i], up[i + 1], 3, stride=2, padding=1,
                                             output_padding=1),
                          nn.BatchNorm2d(up[i + 1]), nn.LeakyReLU())
            for i in range(len(up) - 1)])
        self.final_layer = nn.Sequential(
            nn.ConvTranspose2d(up[-1], up[-1], 3, stride=2, padding=1, output_padding=1),
            nn.BatchNorm2d(up[-1]), nn.LeakyReLU(),
            nn.Conv2d(up[-1], 3, kernel_size=3, padding=1), nn.Tanh())

    def encode(self, x):
        result = torch.flatten(self.encoder(x), start_dim=1)
        return [self.fc_mu(result), self.fc_var(result)]

    def decode(self, z):
        result = self.decoder_input(z).view(-1, self.hidden[-1], 2, 2)
        return self.final_layer(self.decoder(result))


class PythaeStyle(nn.Module):
    image_shape = (1, 28, 28)
    input_range = (0.0, 1.0)
    decoder_output = "probs"

    def __init__(self, latent_dim: int = 16, width: int = 16):
        super().__init__()
        self.latent_dim, self.width = latent_dim, width
        w = width
        self.conv = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 4, 2, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.Conv2d(2 * w, 4 * w, 4, 2, padding=1), nn.BatchNorm2d(4 * w), nn.ReLU())
        self.embedding = nn.Linear(4 * w * 3 * 3, latent_dim)
        self.log_var = nn.Linear(4 * w * 3 * 3, latent_dim)
        self.fc = nn.Linear(latent_dim, 8 * w * 4 * 4)
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(8 * w, 4 * w, 3, 2, padding=1), nn.BatchNorm2d(4 * w), nn.ReLU(),
            nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, padding=1, output_padding=1),
            nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, 1, 3, 2, padding=1, output_padding=1), nn.Sigmoid())

    def encode(self, x):
        h = self.conv(x).reshape(x.shape[0], -1)
        return torch.cat([self.embedding(h), self.log_var(h)], dim=1)

    def decode(self, z):
        return self.deconv(self.fc(z).reshape(z.shape[0], 8 * self.width, 4, 4))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.SiLU(),
                                  nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class ResidualUpsampleVAE(nn.Module):
    image_shape = (1, 28, 28)
    input_range = (0.0, 1.0)
    decoder_output = "logits"

    def __init__(self, latent_dim: int = 8, width: int = 16):
        super().__init__()
        self.latent_dim, self.width = latent_dim, width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, width, 3, 2, padding=1), nn.ELU(),
            nn.Conv2d(width, width, 3, 2, padding=1), nn.ELU(), nn.Flatten())
        self.mu = nn.Linear(width * 49, latent_dim)
        self.log_var = nn.Linear(width * 49, latent_dim)
        self.fc = nn.Linear(latent_dim, width * 49)
        self.body = nn.Sequential(
            ResidualBlock(width), nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(width, width, 3, padding=1), nn.Softplus(), ResidualBlock(width),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(width, 1, 3, padding=1))

    def encode(self, x):
        h = self.encoder(x)
        return self.mu(h), self.log_var(h)

    def decode(self, z):
        return self.body(self.fc(z).view(-1, self.width, 7, 7))


class PlainAutoencoder(nn.Module):
    image_shape = (1, 28, 28)
    input_range = (0.0, 1.0)
    decoder_output = "mean"

    def __init__(self, latent_dim: int = 12, hidden: int = 64):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(),
                                     nn.Linear(hidden, latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 784), nn.Sigmoid(),
                                     nn.Unflatten(1, (1, 28, 28)))

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


class SpatialLatentVAE(nn.Module):
    image_shape = (1, 28, 28)
    input_range = (0.0, 1.0)
    decoder_output = "probs"
    latent_shape = (4, 7, 7)
    latent_dim = 4 * 7 * 7

    def __init__(self, width: int = 16):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, width, 3, 2, padding=1), nn.SiLU(),
            nn.Conv2d(width, width, 3, 2, padding=1), nn.SiLU(), nn.Conv2d(width, 8, 1))
        self.decoder = nn.Sequential(
            nn.Conv2d(4, width, 3, padding=1), nn.SiLU(),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(width, width, 3, padding=1),
            nn.SiLU(), nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(width, 1, 3, padding=1), nn.Sigmoid())

    def encode(self, x):
        return self.encoder(x)  # (B, 8, 7, 7): mean and log-variance, 4 channels each

    def decode(self, z):
        return self.decoder(z)


FOREIGN_VAES = {"pytorch_vae": PyTorchVAEStyle, "pythae": PythaeStyle,
                "residual": ResidualUpsampleVAE, "plain_ae": PlainAutoencoder,
                "spatial": SpatialLatentVAE}


def build(name: str, seed: int = 0) -> nn.Module:
    """An untrained model with non-trivial BatchNorm statistics, in eval mode."""
    torch.manual_seed(seed)
    model = FOREIGN_VAES[name]()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):  # so folding BatchNorm is really tested
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


class _Call(nn.Module):
    def __init__(self, model: nn.Module, method: str):
        super().__init__()
        self.model, self.method = model, method

    def forward(self, x):
        out = getattr(self.model, self.method)(x)
        return tuple(out) if isinstance(out, (list, tuple)) else out


def export_onnx(model: nn.Module, directory: Path) -> tuple[Path, Path]:
    """encoder.onnx and decoder.onnx in `directory`, with a dynamic batch axis."""
    directory.mkdir(parents=True, exist_ok=True)
    encoder, decoder = directory / "encoder.onnx", directory / "decoder.onnx"
    x = torch.zeros(2, *model.image_shape)
    z = torch.zeros(2, *getattr(model, "latent_shape", (model.latent_dim,)))
    with torch.no_grad():
        for path, method, example, name in ((encoder, "encode", x, "x"),
                                            (decoder, "decode", z, "z")):
            # eval(): export restores the wrapper's mode, and a fresh wrapper is in training mode
            torch.onnx.export(_Call(model, method).eval(), (example,), str(path), dynamo=False,
                              opset_version=17, input_names=[name],
                              dynamic_axes={name: {0: "batch"}})
    return encoder, decoder
