"""How the app is deployed: "local" (one person on their machine, the default) or "shared".

`LATENT_LAB_MODE=shared` is for a server a class or a team shares (Streamlit has no login):
visitors explore, reconstruct and upload images, but cannot start, resume, cancel or delete
training runs, nor upload checkpoints, unless the admin allows it with `LATENT_LAB_ALLOW`, a
comma-separated list of PERMISSIONS, e.g. `LATENT_LAB_ALLOW=training,checkpoint-upload`.
A misspelt setting stops the app with a message rather than serving with the wrong rights.
"""

from __future__ import annotations

import os

MODE_VARIABLE = "LATENT_LAB_MODE"
ALLOW_VARIABLE = "LATENT_LAB_ALLOW"
MODES = ("local", "shared")
TRAINING = "training"  # start, resume, cancel and delete runs (and upload training zips)
CHECKPOINT_UPLOAD = "checkpoint-upload"
PERMISSIONS = (TRAINING, CHECKPOINT_UPLOAD)


class DeploymentError(ValueError):
    """A deployment setting the app does not understand."""


def mode() -> str:
    value = os.environ.get(MODE_VARIABLE, "local").strip().lower() or "local"
    if value not in MODES:
        raise DeploymentError(f"{MODE_VARIABLE}={value!r} is not one of {', '.join(MODES)}.")
    return value


def allowed_actions() -> set[str]:
    """What visitors may do beyond exploring: everything locally, LATENT_LAB_ALLOW when shared."""
    if mode() == "local":
        return set(PERMISSIONS)
    listed = {a.strip().lower() for a in os.environ.get(ALLOW_VARIABLE, "").split(",")} - {""}
    unknown = listed - set(PERMISSIONS)
    if unknown:
        raise DeploymentError(f"{ALLOW_VARIABLE} names {', '.join(sorted(unknown))}; "
                              f"it can list {', '.join(PERMISSIONS)}.")
    return listed


def allowed(action: str) -> bool:
    return action in allowed_actions()


def check_settings() -> None:
    """Raise DeploymentError with a message when a setting is not understood."""
    allowed_actions()
