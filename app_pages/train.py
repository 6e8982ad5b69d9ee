"""Train: start a VAE (or plain autoencoder) training run in the background and follow every
run's progress (ui/run_list.py).

Runs are processes writing into run directories (vae_core.runs); this page only starts them and
polls those directories, so a refresh, another tab or a restarted app sees the same runs.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from ui.deployment import ALLOW_VARIABLE, TRAINING, allowed
from ui.model_registry import runs_dir
from ui.run_list import SELECTED_KEY, STARTED_KEY, render_runs
from ui.train_datasets import UPLOAD, first_use_note, offered
from ui.train_estimate import estimate_text
from ui.train_presets import chosen_preset, preset_field
from vae_core import devices
from vae_core.config import (
    ARCHITECTURES,
    ConfigError,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    parse_hidden,
)
from vae_core.data import DatasetError
from vae_core.data.loading import planned_image_shape
from vae_core.devices import available_devices
from vae_core.run_uploads import save_uploaded_dataset, uploads_dir
from vae_core.runs import RunError, start_run

KINDS = {"vae": "VAE", "ae": "plain autoencoder (no KL, no prior)"}
OBJECTIVES = {"elbo": "-ELBO (beta weighs the KL)",
              "beta_tcvae": "beta-TCVAE (beta weighs only the total correlation)"}
LIKELIHOODS = {
    "bernoulli": "Bernoulli",
    "gaussian": "Gaussian (learned σ)",
    "gaussian_fixed": "Gaussian (fixed σ)",
}
# The settings' labels by config field, so a refusal names the field as the form shows it. The
# inputs have no bounds of their own: the config's checks are the one validation (the trainer's
# too), and they say why; a bound in the browser refused 0 or 100000 without a word.
LABELS = {"image_size": "Image size (pixels, square)", "hidden": "Hidden sizes",
          "dense": "Dense width", "latent_dim": "Latent size", "beta": "beta (KL weight)",
          "objective": "Objective",
          "warmup_epochs": "KL warm-up epochs", "free_bits": "Free bits (nats/dim)",
          "epochs": "Epochs", "batch_size": "Batch size", "lr": "Learning rate",
          "patience": "Early stopping patience (epochs)", "augment_shift": "Random shift (pixels)"}


def _data_config(dataset: str, fields: dict) -> DataConfig:
    """The DataConfig for the form (the preset's split); an upload is validated and stored
    first."""
    preset = chosen_preset().config.data
    if fields["patience"] and not preset.val_fraction:  # early stopping needs held-out images
        preset = dataclasses.replace(preset, val_fraction=DataConfig().val_fraction)
    if dataset != UPLOAD:
        return dataclasses.replace(preset, name=dataset)
    upload = fields["upload"]
    if upload is None:
        raise DatasetError("Choose a .zip of images to train on, or pick a built-in dataset.")
    path = save_uploaded_dataset(upload.getvalue(), upload.name, uploads_dir(runs_dir()))
    return dataclasses.replace(preset, name="images", path=str(path),
                               image_size=fields["image_size"], grayscale=fields["grayscale"])


def _model_config(fields: dict) -> ModelConfig:
    return dataclasses.replace(
        chosen_preset().config.model, arch=fields["arch"], hidden=parse_hidden(fields["hidden"]),
        dense=fields["dense"], latent_dim=fields["latent_dim"],
        likelihood=fields["likelihood"], kind=fields["kind"])


def _train_config(fields: dict) -> TrainConfig:
    """The form's settings over the preset's (which also holds what the form does not show,
    such as Adam's fused kernel)."""
    return dataclasses.replace(
        chosen_preset().config.train, epochs=fields["epochs"],
        batch_size=fields["batch_size"], lr=fields["lr"], beta=fields["beta"],
        objective=fields["objective"], warmup_epochs=fields["warmup_epochs"],
        free_bits=fields["free_bits"],
        patience=fields["patience"], augment_shift=fields["augment_shift"],
        device=fields["device"])


def _run_config(dataset: str, fields: dict) -> RunConfig:
    return RunConfig(data=_data_config(dataset, fields), model=_model_config(fields),
                     train=_train_config(fields))


def _estimate(dataset: str, fields: dict) -> str:
    """The time the form's recipe would take (an upload's zip is not read for it)."""
    data = None if dataset == UPLOAD else dataclasses.replace(chosen_preset().config.data,
                                                              name=dataset)
    try:
        shape = planned_image_shape(data) if data else (
            1 if fields["grayscale"] else 3, fields["image_size"], fields["image_size"])
        model = dataclasses.replace(_model_config(fields), image_shape=shape)
        return estimate_text(model, _train_config(fields), data)
    except ConfigError as error:
        return f"No estimate: {_named(error)}"


def _upload_fields(dataset: str) -> dict:
    if dataset != UPLOAD:
        return {}
    return {
        "upload": st.file_uploader("Zip of images (PNG/JPEG; one sub-folder per class optional)",
                                   type=["zip"], key="train_upload"),
        "image_size": st.number_input(LABELS["image_size"], value=28, key="train_image_size"),
    }


def _colour_field(dataset: str) -> dict:
    """Outside the form, so the likelihood hint follows the choice as it is made."""
    if dataset != UPLOAD:
        return {}
    grayscale = st.radio("Colour", ["grayscale", "RGB"], horizontal=True,
                         key="train_colour") == "grayscale"
    likelihood = st.session_state.get("train_likelihood",
                                      chosen_preset().config.model.likelihood)
    if not grayscale and likelihood == "bernoulli":
        st.info("Colour images: choose a Gaussian likelihood below. Bernoulli binarizes each "
                "pixel of each channel, which throws the colours away.",
                icon=":material/palette:")
    return {"grayscale": grayscale}


def _model_fields() -> dict:
    left, right = st.columns(2)
    model = chosen_preset().config.model
    return {
        "kind": st.radio("Model", list(KINDS), format_func=KINDS.get, horizontal=True,
                         key="train_kind",
                         help="A plain autoencoder has the same networks, but one code per "
                              "image and a reconstruction loss only: beta, warm-up and free "
                              "bits do not apply to it. Compare both on the AE vs VAE page."),
        "arch": left.selectbox("Architecture", ARCHITECTURES, key="train_arch",
                               index=ARCHITECTURES.index(model.arch)),
        "hidden": right.text_input(LABELS["hidden"], ",".join(map(str, model.hidden)),
                                   key="train_hidden",
                                   help="Comma-separated: layer widths (mlp) or channels "
                                        "per stride-2 layer (conv)."),
        "dense": left.number_input(LABELS["dense"], value=model.dense,
                                   key="train_dense",
                                   help="Conv only: the fully connected layer between the "
                                        "convolutions and the latent. The MLP ignores it."),
        "latent_dim": left.number_input(LABELS["latent_dim"], value=model.latent_dim,
                                        key="train_latent"),
        "likelihood": right.selectbox("Likelihood p(x|z)", list(LIKELIHOODS),
                                      format_func=LIKELIHOODS.get, key="train_likelihood",
                                      help="Bernoulli models binary pixels (each batch is "
                                           "binarized afresh; digits, shapes); a Gaussian "
                                           "models 8-bit grey levels with a mean and a std "
                                           "per pixel."),
    }


def _train_fields() -> dict:
    train = chosen_preset().config.train
    devices = ["auto", *available_devices()]
    objective = st.radio(
        LABELS["objective"], list(OBJECTIVES), format_func=OBJECTIVES.get, horizontal=True,
        key="train_objective", index=list(OBJECTIVES).index(train.objective),
        help="beta-TCVAE (Chen et al. 2018) adds (beta - 1) x the total correlation of q(z) to "
             "the -ELBO: it pushes the latent dimensions apart without weighing the rest of the "
             "KL. See docs/disentanglement.md for what it bought on shapes3d.")
    left, right = st.columns(2)
    return {
        "objective": objective,
        "beta": left.number_input(LABELS["beta"], value=train.beta, key="train_beta"),
        "warmup_epochs": right.number_input(LABELS["warmup_epochs"],
                                            value=train.warmup_epochs, key="train_warmup"),
        "free_bits": left.number_input(LABELS["free_bits"], value=train.free_bits,
                                       key="train_free_bits"),
        "epochs": right.number_input(LABELS["epochs"], value=train.epochs,
                                     key="train_epochs"),
        "batch_size": left.number_input(LABELS["batch_size"], value=train.batch_size,
                                        key="train_batch"),
        "lr": right.number_input(LABELS["lr"], value=train.lr, step=1e-4,
                                 format="%.1e", key="train_lr"),
        "patience": left.number_input(
            LABELS["patience"], value=train.patience,
            key="train_patience", help="Stop when the validation -ELBO (10% of the training "
                                       "images, held out) has not improved for this many "
                                       "epochs; 0 trains every epoch. The best epoch is kept "
                                       "either way."),
        "augment_shift": right.number_input(
            LABELS["augment_shift"], value=train.augment_shift, key="train_shift",
            help="Each training image moves by up to this many pixels each way, drawn afresh "
                 "per batch: fewer images overfit less."),
        "device": left.selectbox("Device", devices, key="train_device",
                                 help="auto = CUDA when present, else MPS, else the CPU."),
        **_processes_field(right),
    }


def _processes_field(column) -> dict:
    """With several GPUs, a run may use one process per GPU (torchrun + DDP)."""
    gpus = devices.gpu_count()
    if gpus < 2:
        return {}
    return {"processes": column.number_input(
        f"Processes (one per GPU; {gpus} here)", 1, gpus, 1, key="train_processes",
        help="More than 1 trains with torchrun and DistributedDataParallel. The batch size is "
             "the global batch, split evenly between the processes.")}


def render_new_run_form() -> None:
    st.subheader("New run")
    if not allowed(TRAINING):
        st.info("Training is turned off on this shared server: you can follow the runs and use "
                f"their models. (The admin can allow it with {ALLOW_VARIABLE}={TRAINING}.)")
        return
    preset_field()
    datasets = offered()
    dataset = st.selectbox("Dataset", list(datasets), format_func=datasets.get,
                           key="train_dataset")
    first_use_note(dataset)
    colour = _colour_field(dataset)
    refusal = st.container()  # above the form, where the button is
    with st.form("train_form"):
        # The action first, so it is on screen at 1280x800; the settings below it are the
        # chosen preset's until changed.
        name_column, button_column = st.columns(2, vertical_alignment="bottom")
        name = name_column.text_input("Run name", key="train_name", placeholder="optional",
                                      help="Letters, digits, '-' and '_'.")
        submitted = button_column.form_submit_button("Start training", type="primary",
                                                     width="stretch")
        estimate = st.container()  # filled once the fields below are read
        st.form_submit_button("Estimate the time for these settings", type="tertiary")
        fields = {**colour, **_upload_fields(dataset), **_model_fields(), **_train_fields()}
    estimate.caption(_estimate(dataset, fields))
    if not submitted:
        return
    try:
        config = _run_config(dataset, fields)
        run_dir = start_run(config, runs_dir(), name.strip() or None,
                            processes=int(fields.get("processes", 1)))
    except ConfigError as error:
        refusal.error(f"Nothing was started: {_named(error)}")
        return
    except (DatasetError, RunError) as error:
        refusal.error(f"Nothing was started: {error}")
        return
    st.session_state[SELECTED_KEY] = st.session_state[STARTED_KEY] = run_dir.name


def _named(error: ConfigError) -> str:
    """The refusal with the form's fields at fault in front: 'Epochs: epochs must be ...'."""
    labels = [LABELS[field] for field in error.fields if field in LABELS]
    return f"{', '.join(labels)}: {error}" if labels else str(error)


st.title("Train")
st.caption("Train a new VAE (or a plain autoencoder) in the background; the rest of the app "
           "stays usable. Finished epochs are checkpointed, so a cancelled or crashed run can be "
           "resumed.")
form_column, runs_column = st.columns([5, 7], gap="large")
with form_column:
    render_new_run_form()
with runs_column:
    render_runs()
