"""How far an image is from the data a model knows: its -ELBO against the test set's."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.data import ImageDataset
from vae_core.evaluation import per_image_neg_elbo

from .active_model import ActiveModel

# Above this share of the test images' -ELBO, say the input is unusual (1 test image in 20 is).
# A likelihood flags noise and textures, not every odd photo: the preprocessing shrinks a
# landscape to a blob the model explains well (76th percentile for the earlier default model).
FAR_PERCENTILE = 95.0


@st.cache_data(max_entries=8, show_spinner="Scoring the test set...")
def test_neg_elbos(version: str, _active: ActiveModel, _data: ImageDataset) -> np.ndarray:
    """-ELBO of each test image (at most 1,000), nats, cached per model version."""
    return per_image_neg_elbo(_active.model, _data.test_x[:1000]).numpy()


def familiarity_note(neg_elbo: float, test_values: np.ndarray) -> tuple[bool, str]:
    """(far, text): where this image's -ELBO falls among the test images'."""
    share = 100.0 * float(np.mean(test_values < neg_elbo))
    median = float(np.median(test_values))
    if share > FAR_PERCENTILE:
        return True, (f"This image is far from the data the model knows: its -ELBO "
                      f"({neg_elbo:.0f} nats) is higher than {share:.1f}% of the test images' "
                      f"(median {median:.0f}). The reconstruction is the nearest thing the model "
                      "can draw, not a copy.")
    return False, (f"Its -ELBO is higher than {share:.0f}% of the test images' "
                   f"(median {median:.0f} nats): data of the kind the model knows.")
