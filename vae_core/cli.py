"""python -m vae_core train | eval | sample | reconstruct | export | disentanglement |
import-onnx | import-torch | download."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import torch

from .checkpoint import CheckpointError, load_checkpoint
from .config import (
    BUILTIN_DATASETS,
    DATASETS,
    DEVICES,
    DOWNLOADED_DATASETS,
    LIKELIHOODS,
    MODEL_KINDS,
    OBJECTIVES,
    PRECISIONS,
    ConfigError,
    DataConfig,
    RunConfig,
    parse_hidden,
    require,
    shown,
)
from .data import DatasetError, download, load_dataset
from .devices import select_device
from .evaluation import evaluate
from .images import make_grid
from .model_kinds import DECODER_OUTPUTS, NOT_FOR_AE, kind_name

# Flags that override a field of one of the three configs: flag -> (section, field, type).
_OVERRIDES = {
    "dataset": ("data", "name", str), "data_path": ("data", "path", str),
    "image_size": ("data", "image_size", int), "n_samples": ("data", "n_samples", int),
    "model": ("model", "kind", str), "arch": ("model", "arch", str),
    "latent_dim": ("model", "latent_dim", int),
    "likelihood": ("model", "likelihood", str), "epochs": ("train", "epochs", int),
    "batch_size": ("train", "batch_size", int), "lr": ("train", "lr", float),
    "beta": ("train", "beta", float), "objective": ("train", "objective", str),
    "warmup_epochs": ("train", "warmup_epochs", int),
    "free_bits": ("train", "free_bits", float), "seed": ("train", "seed", int),
    "device": ("train", "device", str), "threads": ("train", "num_threads", int),
    "iw_samples": ("train", "iw_samples", int), "patience": ("train", "patience", int),
    "augment_shift": ("train", "augment_shift", int),
    "val_fraction": ("data", "val_fraction", float),
    "loader_workers": ("data", "loader_workers", int), "precision": ("train", "precision", str),
    "log_every": ("train", "log_every", int),
}
# On/off flags (store_true): flag -> (section, field, help).
_SWITCHES = {
    "stream": ("data", "stream", "images: decode from disk in DataLoader workers, batch by "
               "batch, instead of loading the whole set into memory"),
    "compile": ("train", "compile", "torch.compile the model (GPU speed path)"),
    "channels_last": ("train", "channels_last", "conv: channels-last memory format (GPU)"),
    "pin_memory": ("train", "pin_memory", "pinned batches, non-blocking copies (GPU)"),
    "deterministic": ("train", "deterministic", "deterministic kernels (reproducible GPU runs)"),
    "tensorboard": ("train", "tensorboard", "also write TensorBoard event files into --out"),
    "fused_adam": ("train", "fused_adam", "Adam's fused kernel (CPU, CUDA): faster steps"),
}


def _add_train_parser(commands) -> None:
    parser = commands.add_parser("train", help="train a VAE (or a plain AE) into a run directory")
    parser.add_argument("--out", required=True, type=Path, help="run directory")
    parser.add_argument("--config", type=Path, help="JSON run config; flags override it")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--dataset", choices=DATASETS)
    parser.add_argument("--data-path", help="folder/zip of images, or IDX directory")
    parser.add_argument("--model", choices=MODEL_KINDS,
                        help="vae (default) or ae: a plain autoencoder, reconstruction loss only")
    parser.add_argument("--arch", choices=("mlp", "conv"))
    parser.add_argument("--hidden", help="comma-separated widths (mlp) or channels (conv)")
    parser.add_argument("--likelihood", choices=LIKELIHOODS)
    parser.add_argument("--device", choices=DEVICES)
    parser.add_argument("--objective", choices=OBJECTIVES,
                        help="elbo (default): beta weighs the KL; beta_tcvae: beta weighs only "
                        "the KL's total-correlation part")
    parser.add_argument("--precision", choices=PRECISIONS,
                        help="autocast: bf16, or fp16 with a gradient scaler (default fp32)")
    for flag, (_, _, kind) in _OVERRIDES.items():
        name = "--" + flag.replace("_", "-")
        if flag not in ("dataset", "data_path", "model", "arch", "likelihood", "device",
                        "precision", "objective"):
            parser.add_argument(name, type=kind)
    for flag, (_, _, text) in _SWITCHES.items():
        parser.add_argument("--" + flag.replace("_", "-"), action="store_true", default=None,
                            help=text)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vae_core", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _add_train_parser(commands)
    evaluate_parser = commands.add_parser("eval", help="test-set -ELBO and log p(x), nats/image")
    evaluate_parser.add_argument("checkpoint", type=Path, help="run or checkpoint directory")
    evaluate_parser.add_argument("--iw-samples", type=int, default=1000)
    evaluate_parser.add_argument("--device", choices=DEVICES, default="auto")
    evaluate_parser.add_argument("--json", action="store_true", help="print JSON")
    for name, text in (("sample", "a grid of samples x ~ p(x|z), z ~ N(0, I)"),
                       ("reconstruct", "test images above their reconstructions")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("checkpoint", type=Path)
        sub.add_argument("--n", type=int, default=64)
        sub.add_argument("--out", type=Path, required=True, help="PNG file to write")
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--mean", action="store_true", help="show means, not samples")
        sub.add_argument("--scale", type=int, default=3, help="nearest-neighbour upscale")
    export_parser = commands.add_parser("export", help="a run's model as a shippable asset")
    export_parser.add_argument("run", type=Path, help="run directory")
    export_parser.add_argument("out", type=Path, help="asset directory to (over)write")
    scores_parser = commands.add_parser(
        "disentanglement", help="MIG, DCI and active units on the data set's known factors")
    scores_parser.add_argument("checkpoint", type=Path, help="run or checkpoint directory")
    scores_parser.add_argument("--seed", type=int, default=0, help="DCI's and the probe's split")
    scores_parser.add_argument("--json", action="store_true", help="print JSON")
    download_parser = commands.add_parser(
        "download", help="put the full MNIST / Fashion-MNIST files in the cache, checked")
    download_parser.add_argument("names", nargs="*", metavar="NAME",
                                 help=f"{', '.join(DOWNLOADED_DATASETS)} (default: both)")
    _add_import_parsers(commands)
    return parser


def _add_import_parsers(commands) -> None:
    onnx_parser = commands.add_parser("import-onnx", help="a VAE from two ONNX graphs")
    onnx_parser.add_argument("encoder", type=Path, help="ENCODER.onnx: x -> (mean, log-var) or z")
    onnx_parser.add_argument("decoder", type=Path, help="DECODER.onnx: z -> image")
    torch_parser = commands.add_parser(
        "import-torch", help="a VAE from FILE.py:FACTORY (a module with encode and decode)")
    torch_parser.add_argument("factory", help="FILE.py:FACTORY, FACTORY() returns the model")
    for sub in (onnx_parser, torch_parser):
        sub.add_argument("--out", type=Path, required=True, help="model folder to (over)write")
        sub.add_argument("--input-range", help="pixel range the encoder expects: 0,1 or -1,1")
        sub.add_argument("--decoder-output", choices=sorted(DECODER_OUTPUTS), help="; ".join(
            f"{k}: {v}" for k, v in DECODER_OUTPUTS.items()))
        sub.add_argument("--image-shape", type=int, nargs=3, metavar=("C", "H", "W"),
                         help="the encoder's input, when the graph does not fix it")
        sub.add_argument("--name", help="the name the app lists (default: the folder's)")
        sub.add_argument("--dataset", help=f"data for the maps and figures: "
                         f"{', '.join(BUILTIN_DATASETS)}, or a folder or zip of images")


def run_config_from_args(args: argparse.Namespace) -> RunConfig:
    """The JSON config (if any) with the command-line flags laid over it."""
    values = json.loads(args.config.read_text()) if args.config else {}
    config = RunConfig.from_dict(values)
    sections = {"data": {}, "model": {}, "train": {}}
    for flag, (section, field, _) in {**_OVERRIDES, **_SWITCHES}.items():
        value = getattr(args, flag, None)
        if value is not None:
            sections[section][field] = value
    if args.hidden:
        sections["model"]["hidden"] = parse_hidden(args.hidden)
    return RunConfig(
        data=dataclasses.replace(config.data, **sections["data"]),
        model=dataclasses.replace(config.model, **sections["model"]),
        train=dataclasses.replace(config.train, **sections["train"]),
    )


def _command_train(args: argparse.Namespace) -> int:
    from .runs import RunState, read_run_config
    from .training import train

    config = read_run_config(args.out) if args.resume else run_config_from_args(args)
    result = train(config, args.out, resume=args.resume, progress=not args.quiet)
    if os.environ.get("RANK", "0") == "0":  # under torchrun: once, from rank 0
        print(f"{result.state}: {result.message} -> {args.out}")
    return {RunState.FINISHED: 0, RunState.FAILED: 1}.get(result.state, 130)


def _command_eval(args: argparse.Namespace) -> int:
    checkpoint = load_checkpoint(args.checkpoint, select_device(args.device))
    data = load_dataset(checkpoint.data_config)
    result = evaluate(checkpoint.model, data.test_x, iw_samples=args.iw_samples)
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    print(f"test set: {result.n_images} {result.data} images of "
          f"{checkpoint.data_config.name}; nats per image (bits/dim); "
          f"{kind_name(checkpoint.model_config)}")
    if result.neg_elbo is None:  # a plain autoencoder
        print(f"  reconstruction {result.recon:9.2f} ({result.recon_bits_per_dim:.3f})")
        for figure in ("neg_elbo", "kl", "log_px"):
            print(f"  {NOT_FOR_AE[figure]}")
        return 0
    print(f"  -ELBO            {result.neg_elbo:9.2f} ({result.neg_elbo_bits_per_dim:.3f})")
    print(f"    KL             {result.kl:9.2f}")
    print(f"    reconstruction {result.recon:9.2f}")
    print(f"  -log p(x) (IWAE, k={args.iw_samples}) {-result.log_px:9.2f} "
          f"+- {result.log_px_stderr:.2f} ({result.neg_log_px_bits_per_dim:.3f})")
    return 0


@torch.no_grad()
def _command_images(args: argparse.Namespace) -> int:
    checkpoint = load_checkpoint(args.checkpoint)
    model, generator = checkpoint.model, torch.Generator().manual_seed(args.seed)
    if args.command == "sample":
        if not model.is_variational:
            print(f"note: {NOT_FOR_AE['prior']}.")
        likelihood = model.decode(model.sample_prior(args.n, generator))
        images = likelihood.mean if args.mean else likelihood.sample(generator)
        ncols = None
    else:
        ncols = min(8, args.n)
        x = load_dataset(checkpoint.data_config).test_x[: max(ncols, args.n // ncols * ncols)]
        likelihood = model.decode(model.encode(x).mode())
        recon = likelihood.mean if args.mean else likelihood.sample(generator)
        images = _pairs_in_rows(x, recon, ncols)
    make_grid(images, ncols=ncols, scale=args.scale).save(args.out)
    print(f"wrote {args.out}")
    return 0


def _pairs_in_rows(x: torch.Tensor, recon: torch.Tensor, per_row: int) -> torch.Tensor:
    """Rows of originals each followed by a row of their reconstructions."""
    rows = []
    for start in range(0, len(x), per_row):
        rows += [x[start : start + per_row], recon[start : start + per_row]]
    return torch.cat(rows)


def _command_export(args: argparse.Namespace) -> int:
    from .export import export_run

    print(f"wrote {export_run(args.run, args.out)}")
    return 0


def _command_disentanglement(args: argparse.Namespace) -> int:
    from .disentanglement_report import MissingFactorsError, disentanglement_report, report_text

    checkpoint = load_checkpoint(args.checkpoint)
    try:
        report = disentanglement_report(checkpoint.model, load_dataset(checkpoint.data_config),
                                        seed=args.seed)
    except MissingFactorsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_dict()) if args.json else report_text(report))
    return 0


def _command_import(args: argparse.Namespace) -> int:
    # Imported here: onnx and onnxruntime take ~0.6 s to load, which no other command needs.
    from .imported import ModelImportError
    from .model_import import import_onnx, import_torch
    from .onnx_files import OnnxFileError

    options = {"input_range": args.input_range, "decoder_output": args.decoder_output,
               "name": args.name, "dataset": args.dataset}
    shape = tuple(args.image_shape) if args.image_shape else None
    try:
        if args.command == "import-onnx":
            out = import_onnx(args.encoder, args.decoder, args.out, image_shape=shape, **options)
        elif shape is None:
            raise ModelImportError("--image-shape C H W is needed: a PyTorch module does not "
                                   "say what size of image its encoder takes")
        else:
            out = import_torch(args.factory, args.out, image_shape=shape, **options)
    except (ModelImportError, OnnxFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


def _command_download(args) -> int:
    for name in args.names or DOWNLOADED_DATASETS:
        require(name in DOWNLOADED_DATASETS,
                f"unknown set {shown(name)}: one of {', '.join(DOWNLOADED_DATASETS)}")
        folder = download.ensure_files(name, download.cache_folder(DataConfig(name=name)))
        print(f"{name}: the four files are in {folder}, checked")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"train": _command_train, "eval": _command_eval, "sample": _command_images,
                "reconstruct": _command_images, "export": _command_export,
                "disentanglement": _command_disentanglement, "import-onnx": _command_import,
                "import-torch": _command_import, "download": _command_download}
    try:
        return handlers[args.command](args)
    except (ConfigError, CheckpointError, DatasetError, OSError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
