"""A run the trainer would refuse is refused by start_run, before anything starts: both use the
one size limit, and the image shape known before the data loads is the one it loads with."""

import pytest
from PIL import Image

from vae_core.config import ConfigError, DataConfig, ModelConfig, RunConfig
from vae_core.data import load_dataset
from vae_core.data.loading import planned_image_shape
from vae_core.runs import start_run


@pytest.mark.parametrize("config", [
    DataConfig(name="mnist5k"), DataConfig(name="digits"), DataConfig(name="shapes", n_samples=20)])
def test_the_planned_image_shape_is_the_loaded_one(config):
    assert planned_image_shape(config) == load_dataset(config).image_shape


def test_the_planned_shape_of_an_image_folder_follows_its_settings(tmp_path):
    for i in range(12):
        Image.new("RGB", (20, 30), (20 * i, 0, 0)).save(tmp_path / f"{i}.png")
    config = DataConfig(name="images", path=str(tmp_path), image_size=12, grayscale=False)
    assert planned_image_shape(config) == load_dataset(config).image_shape == (3, 12, 12)


def test_a_model_over_the_size_limit_is_refused_before_a_run_starts(tmp_path):
    config = RunConfig(model=ModelConfig(arch="conv", hidden=(32, 64), latent_dim=512,
                                         dense=8192))
    with pytest.raises(ConfigError, match="64M parameters; the limit is 50M") as refused:
        start_run(config, tmp_path / "runs")
    assert refused.value.fields == ("hidden", "dense", "latent_dim")
    assert not (tmp_path / "runs").exists()
