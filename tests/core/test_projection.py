"""2-D views of latent codes: PCA, chosen axes, t-SNE, projected covariances and their ellipses."""

import numpy as np
import pytest

from vae_core.latent import dimension_order
from vae_core.projection import (
    axes_view,
    ellipse,
    line_grid,
    line_view,
    pca,
    plane_grid,
    project_covariance,
    subset_indices,
    tsne,
    umap,
)


def _stretched_cloud(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points with std 5, 2, 0.1, 0.1 along a random orthonormal basis; returns (points, basis)."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    points = rng.standard_normal((n, 4)) * np.array([5.0, 2.0, 0.1, 0.1]) @ basis.T + 3.0
    return points, basis


def test_pca_recovers_the_top_variance_directions():
    points, basis = _stretched_cloud()
    view = pca(points)
    assert view.coords.shape == (2000, 2) and view.components.shape == (2, 4)
    for k in range(2):  # up to sign, each component is the matching basis vector
        assert abs(view.components[k] @ basis[:, k]) == pytest.approx(1.0, abs=1e-3)
    assert view.center == pytest.approx(np.full(4, 3.0), abs=0.2)
    assert view.coords.std(axis=0) == pytest.approx([5.0, 2.0], rel=0.05)
    assert view.explained == pytest.approx(np.array([25, 4]) / 29.02, abs=0.01)


def test_pca_signs_are_stable_and_bad_shapes_are_refused():
    points, _ = _stretched_cloud()
    assert np.allclose(pca(points).components, pca(points[::-1]).components)
    with pytest.raises(ValueError, match="PCA needs"):
        pca(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="PCA needs"):
        pca(np.zeros((10, 1)))


def test_axes_view_reads_two_dimensions_unchanged():
    points, _ = _stretched_cloud(100)
    view = axes_view(points, (3, 1))
    assert np.array_equal(view.coords, points[:, [3, 1]])
    assert np.array_equal(view.components, np.eye(4)[[3, 1]])


def test_tsne_is_deterministic_for_a_seed_and_keeps_clusters_apart():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0, 0.1, (30, 5)), rng.normal(5, 0.1, (30, 5))])
    first, again = tsne(points, seed=3, max_iter=250), tsne(points, seed=3, max_iter=250)
    assert first.shape == (60, 2)
    assert np.array_equal(first, again)
    spread = max(first[:30].std(), first[30:].std())
    assert np.linalg.norm(first[:30].mean(0) - first[30:].mean(0)) > 3 * spread
    with pytest.raises(ValueError, match="at least 5"):
        tsne(points[:4])


def test_umap_is_deterministic_for_a_seed_and_keeps_clusters_apart():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0, 0.1, (30, 5)), rng.normal(5, 0.1, (30, 5))])
    first, again = umap(points, seed=3), umap(points, seed=3)
    assert first.shape == (60, 2) and first.dtype == np.float64
    assert np.array_equal(first, again)
    centres = np.stack([first[:30].mean(0), first[30:].mean(0)])
    nearer = np.linalg.norm(first[:, None] - centres[None], axis=2).argmin(1)
    assert np.array_equal(nearer, np.repeat([0, 1], 30))  # each point nearer its own cluster
    with pytest.raises(ValueError, match="at least 5"):
        umap(points[:4])


def test_subset_indices_are_sorted_unique_and_repeatable():
    chosen = subset_indices(5000, 1000, seed=1)
    assert len(np.unique(chosen)) == 1000 and np.all(np.diff(chosen) > 0)
    assert np.array_equal(chosen, subset_indices(5000, 1000, seed=1))
    assert np.array_equal(subset_indices(10, 1000), np.arange(10))


def test_projected_covariance_is_p_diag_p_transposed():
    rng = np.random.default_rng(0)
    components, std = rng.standard_normal((2, 5)), rng.uniform(0.1, 2, (3, 5))
    got = project_covariance(components, std)
    assert got.shape == (3, 2, 2)
    for n in range(3):
        assert np.allclose(got[n], components @ np.diag(std[n] ** 2) @ components.T)


def test_axis_aligned_ellipse_has_the_sigmas_as_semi_axes():
    outline = ellipse(np.array([1.0, -2.0]), np.diag([4.0, 0.25]), n=401)
    assert np.allclose(outline[0], outline[-1])
    offsets = outline - [1.0, -2.0]
    assert np.abs(offsets[:, 0]).max() == pytest.approx(2.0, abs=1e-3)
    assert np.abs(offsets[:, 1]).max() == pytest.approx(0.5, abs=1e-3)
    # every point lies on the 1-sigma contour: Mahalanobis distance 1
    assert np.allclose((offsets[:, 0] / 2.0) ** 2 + (offsets[:, 1] / 0.5) ** 2, 1.0)


def test_rotated_ellipse_lies_on_the_mahalanobis_contour():
    angle = 0.6
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    cov = rotation @ np.diag([9.0, 1.0]) @ rotation.T
    offsets = ellipse(np.zeros(2), cov, n_sigma=2.0)
    distances = np.einsum("ni,ij,nj->n", offsets, np.linalg.inv(cov), offsets)
    assert np.allclose(distances, 4.0)
    longest = offsets[np.argmax(np.linalg.norm(offsets, axis=1))]
    assert abs(longest @ rotation[:, 0]) / np.linalg.norm(longest) > 0.99  # along the major axis


def test_plane_grid_rows_run_top_down_and_columns_left_right():
    grid = plane_grid(latent_dim=4, dims=(2, 0), n=3, limit=1.0)
    assert grid.shape == (9, 4)
    assert np.array_equal(grid[:, 2], [-1, 0, 1] * 3)  # horizontal axis
    assert np.array_equal(grid[:, 0], [1, 1, 1, 0, 0, 0, -1, -1, -1])  # vertical, top first
    assert not grid[:, [1, 3]].any()


def test_top_dimensions_are_the_largest_kl_first():
    assert dimension_order(np.array([0.1, 3.0, 0.0, 2.0]), 4)[:2] == [1, 3]


def test_a_line_view_puts_the_mean_across_and_the_std_up():
    mean, std = np.array([[0.5], [-1.0], [2.0]]), np.array([[0.1], [0.3], [1.0]])
    view = line_view(mean, std)
    np.testing.assert_array_equal(view.coords, [[0.5, 0.1], [-1.0, 0.3], [2.0, 1.0]])
    cov = project_covariance(view.components, std)
    np.testing.assert_allclose(cov[1], [[0.09, 0.0], [0.0, 0.0]])  # variance across only
    with pytest.raises(ValueError, match="line view"):
        line_view(np.zeros((3, 2)), np.ones((3, 2)))


def test_line_grid_runs_left_to_right_in_one_dimension():
    grid = line_grid(3, 1, n=5, limit=2.0)
    np.testing.assert_allclose(grid[:, 1], [-2, -1, 0, 1, 2])
    assert grid.shape == (5, 3) and not grid[:, [0, 2]].any()
