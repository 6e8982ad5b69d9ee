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
                      f"({neg_elbo:.0f} nats) is {_standing(neg_elbo, test_values)} "
                      f"(median {median:.0f}). The reconstruction is the nearest thing the model "
                      "can draw, not a copy.")
    # A likelihood says how well the model can draw an image, not what it shows: a digit given
    # to a shapes model shrinks to a blob it draws well. So no claim about the kind of image.
    return False, (f"Its -ELBO is {_standing(neg_elbo, test_values)} "
                   f"(median {median:.0f} nats): the model explains it about as well as its "
                   "own test images. That says how well it can draw it, not that it is the "
                   "same kind of picture.")


def _standing(neg_elbo: float, test_values: np.ndarray) -> str:
    """'higher than 62% of the test images'', from the nearer tail: 'higher than 0%' read as
    the image being unusual when it is better explained than any test image."""
    above = 100.0 * float(np.mean(test_values > neg_elbo))
    below = 100.0 * float(np.mean(test_values < neg_elbo))
    if below == 100.0:
        return "higher than every test image's"
    if above == 100.0:
        return "lower than every test image's"
    if below >= above:
        return f"higher than {_percent(below)} of the test images'"
    return f"lower than {_percent(above)} of the test images'"


def _percent(share: float) -> str:
    """A share below 100 never rounds up to '100%', nor one above 0 down to '0%'."""
    return f"{min(max(share, 0.1), 99.9):.1f}%" if share < 1 or share > 99 else f"{share:.0f}%"
