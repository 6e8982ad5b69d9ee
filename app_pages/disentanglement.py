"""Disentanglement: how the active model's latent dimensions line up with known factors, and a
shipped beta sweep that shows what a larger KL weight does to that alignment."""

import streamlit as st

from ui.active_model import active_dataset, active_model
from ui.disentanglement_view import (
    factor_table,
    heat_map,
    model_report,
    sweep_members,
    sweep_table,
    training_length,
    traversal_dims,
)
from ui.render import traversal_png

TRAVERSAL_STEPS = 9

st.title("Disentanglement")
st.caption(
    "A code is disentangled when each known factor of the images (shapes: shape, scale, "
    "rotation, position; shapes3d: floor, wall and object hue, scale, shape, orientation) "
    "lives in one latent dimension and each dimension holds one factor. Scores are "
    "computed on the test images' posterior means: **MIG** (mutual information gap, 0 to 1: "
    "for each factor, the gap between the two dimensions that know most about it, over the "
    "factor's entropy), **DCI** (disentanglement, completeness, informativeness, from the "
    "feature importances of a gradient-boosting predictor per factor) and **active units** "
    "(dimensions whose posterior mean varies over the images by more than 0.01)."
)


def show_active_model() -> None:
    active = active_model()
    if active is None:
        return
    data = active_dataset(active)
    st.subheader(f"The active model: {active.entry.label}")
    if trained := training_length(active):
        st.caption(trained)
    if data is None:
        return
    name = active.checkpoint.data_config.name
    if not data.test_factors:
        st.info(f"The active model's data set ('{name}') has no known generative factors, so "
                "there is nothing to score its dimensions against. Pick a model trained on "
                "shapes or shapes3d in the sidebar, or compare the shipped beta sweep below.")
        return
    report = model_report(active, data)
    columns = st.columns(6)
    figures = [("MIG", f"{report.mig:.3f}"),
               ("DCI disentanglement", f"{report.dci_disentanglement:.3f}"),
               ("DCI completeness", f"{report.dci_completeness:.3f}"),
               ("DCI informativeness", f"{report.dci_informativeness:.3f}"),
               ("active units", f"{report.active_units} of {active.latent_dim}")]
    figures += [(f"linear probe: {k}", f"{v:.1%}") for k, v in report.probe_accuracy.items()]
    for column, (label, value) in zip(columns, figures, strict=False):
        column.metric(label, value)
    left, right = st.columns([1.4, 1], gap="medium")
    with left:
        st.markdown("**How much of each factor each dimension holds**: I(z_j; factor) / "
                    "H(factor), 20-bin histogram estimate")
        st.plotly_chart(heat_map(report), key="mi_heat_map", config={"displayModeBar": False})
    with right:
        st.markdown("**Per factor**")
        st.dataframe(factor_table(report), hide_index=True)
        st.caption(f"On {report.n_images} test images. The histogram estimate "
                   "is biased upwards on few images, and it is scale-free: even an inactive "
                   "dimension's tiny wobble shows some mutual information.")


def show_sweep() -> None:
    st.subheader("The shipped beta sweep on shapes")
    members, problems = sweep_members()
    for problem in problems:
        st.warning(f"A sweep model could not be used: {problem}")
    if not members:
        st.info("No sweep is shipped here (assets/shapes-sweep/beta-N); the README says how to "
                "train and export one.")
        return
    st.caption("The same architecture, data, seed and epochs, trained by the CLI with KL weight "
               "beta; each keeps the weights of its best epoch on validation. "
               "A larger beta pushes the posterior towards the prior: fewer active units and a "
               "worse -ELBO (nats/image), in exchange for dimensions that each hold less of "
               "the others' factors.")
    st.dataframe(sweep_table(members), hide_index=True)
    st.markdown(f"**Traversals**: each active dimension from -3 to 3 ({TRAVERSAL_STEPS} steps) "
                "with the others at 0, named by the factor it holds most of")
    for column, member in zip(st.columns(len(members)), members, strict=True):
        with column:
            st.markdown(f"**beta = {member.beta:g}**")
            zero = tuple([0.0] * member.active.latent_dim)
            dims = traversal_dims(member.report)
            if not dims:
                st.caption("No active dimension: every image gets the same code.")
            for dim, factor in dims:
                st.caption(f"z{dim}: {factor}")
                st.image(traversal_png(member.active.version, zero, dim, TRAVERSAL_STEPS,
                                       member.active.model), output_format="PNG")


show_active_model()
show_sweep()
