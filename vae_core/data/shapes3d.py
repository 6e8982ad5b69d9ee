"""A colour set in the spirit of DeepMind's 3D Shapes: one object in the corner of a room.

Six known factors, each drawn from a small grid as in 3D Shapes (10 x 10 x 10 x 8 x 4 x 15 =
480,000 scenes): floor hue, wall hue, object hue, object scale, object shape (cube, cylinder,
sphere, capsule) and orientation (the camera's turn around the object, which moves the room's
corner and turns the cube and the capsule). Each pixel is a ray cast by numpy, an image chunk
at a time: an orthographic camera looking down at the floor, Lambert shading and a soft shadow,
so the scene reads as 3-D. Everything is drawn from one seed, so a config repeats exactly.
"""

from __future__ import annotations

import math

import numpy as np

SIZE = 64  # image side in pixels
SHAPE_NAMES = ("cube", "cylinder", "sphere", "capsule")
HUES = tuple(float(h) for h in np.linspace(0.0, 0.9, 10))  # fractions of the colour wheel
SCALES = tuple(float(s) for s in np.linspace(0.75, 1.25, 8))
ORIENTATIONS = tuple(float(a) for a in np.linspace(-30.0, 30.0, 15))  # degrees
# Named in words: the names are what the Disentanglement page and the attribute sliders show.
FACTOR_NAMES = ("floor hue", "wall hue", "object hue", "scale", "shape", "orientation")
DEFAULT_N = 10_000
VERSION = 1  # bump when the pictures change: the disk cache is keyed by it

_ELEVATION = math.radians(25.0)  # the camera looks this far down
_VIEW_HALF = 2.3  # half the view's side, in the units where a scale-1 sphere has radius 0.8
_VIEW_CENTRE_UP = 1.1  # the view's centre, this far up the screen from the object's base
_CORNER_DISTANCE = 4.5  # from the object to the room's corner, along the floor
_OBJECT_SIZE = 0.8  # a scale-1 object's half width
_LIGHT = np.array([-0.45, 0.8, 0.55]) / np.linalg.norm([-0.45, 0.8, 0.55])
_AMBIENT = 0.35
_CHUNK = 512  # scenes per ray-casting or painting pass: ~100 MB of float32 temporaries
FLOOR, WALL, OBJECT = 0, 1, 2  # surfaces, in the order of their hues:
_SURFACE_HUES = ("floor hue", "wall hue", "object hue")


def sample_factors(n: int, seed: int) -> dict[str, np.ndarray]:
    """n independent draws, each factor uniform over its grid: hues in [0, 0.9], scale in
    [0.75, 1.25], shape an index into SHAPE_NAMES, orientation in degrees in [-30, 30]."""
    rng = np.random.default_rng(seed)

    def pick(grid: tuple[float, ...]) -> np.ndarray:
        return np.asarray(grid)[rng.integers(0, len(grid), n)]

    return {"floor hue": pick(HUES), "wall hue": pick(HUES), "object hue": pick(HUES),
            "scale": pick(SCALES), "shape": rng.integers(0, len(SHAPE_NAMES), n),
            "orientation": pick(ORIENTATIONS)}


def render_shapes3d(factors: dict[str, np.ndarray]) -> np.ndarray:
    """One image per factor row -> (N, 3, 64, 64) uint8 RGB.

    The scene's geometry depends on shape, scale and orientation only (480 combinations on the
    grids), so it is ray-cast once per combination present; each image then paints its three
    hues onto its combination's surfaces and shading.
    """
    geometry = np.stack([factors["shape"], factors["scale"], factors["orientation"]], axis=1)
    combinations, which = np.unique(geometry, axis=0, return_inverse=True)
    surface, shade = _cast_all(combinations)  # (K, P): FLOOR / WALL / OBJECT, and brightness
    palette = np.stack([_hue_rgb(factors[name]) for name in _SURFACE_HUES], axis=1)  # (N, 3, 3)
    n = len(which)
    out = np.empty((n, 3, SIZE * SIZE), dtype=np.uint8)
    for start in range(0, n, _CHUNK):
        rows = slice(start, start + _CHUNK)
        ids = which[rows]
        # Row r's surface k has colour palette[r, k]: one flat gather per channel.
        flat = surface[ids] + 3 * np.arange(len(ids))[:, None]
        shading = shade[ids] * 255.0
        for channel in range(3):
            values = palette[rows, :, channel].ravel()[flat] * shading
            out[rows, channel] = np.round(values)
    return out.reshape(n, 3, SIZE, SIZE)


def _rays() -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's ray in the camera's frame: origins (H*W, 3) and the one direction (3,)."""
    centres = (np.arange(SIZE) + 0.5) / SIZE * 2.0 - 1.0  # pixel centres in [-1, 1]
    across, down = np.meshgrid(centres * _VIEW_HALF, centres * _VIEW_HALF)
    up = _VIEW_CENTRE_UP - down
    e = _ELEVATION
    screen_up = np.array([0.0, math.cos(e), -math.sin(e)])
    forward = np.array([0.0, -math.sin(e), -math.cos(e)])
    origins = (across.reshape(-1, 1) * np.array([1.0, 0.0, 0.0])
               + up.reshape(-1, 1) * screen_up - 20.0 * forward)
    return origins.astype(np.float32), forward.astype(np.float32)


_ORIGINS, _FORWARD = _rays()


def _cast_all(combinations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K, 3) rows of shape, scale, orientation -> surface ids (K, P) and shading (K, P)."""
    parts = [_cast(combinations[start:start + _CHUNK])
             for start in range(0, len(combinations), _CHUNK)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _cast(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ray-cast scenes given as (n, 3) rows of shape, scale, orientation.

    Rays are turned into the object's frame (the camera turns by `orientation` around the
    vertical axis through the object); the room and the object are hit there. float32
    throughout: float64 is twice as slow and no pixel needs it.
    """
    shapes = rows[:, 0].astype(np.int64)
    size = (rows[:, 1].astype(np.float32) * _OBJECT_SIZE)[:, None]  # (n, 1)
    angle = np.radians(rows[:, 2].astype(np.float32))[:, None]
    c, s = np.cos(angle), np.sin(angle)
    ox, oy, oz = _ORIGINS[:, 0], _ORIGINS[:, 1], _ORIGINS[:, 2]
    dx, dy, dz = (float(v) for v in _FORWARD)
    # Turn x and z by the angle: (n, P) origins, (n, 1) directions.
    origin = (ox * c + oz * s, np.broadcast_to(oy, (len(rows), oy.size)), -ox * s + oz * c)
    direction = (dx * c + dz * s, np.full_like(c, dy), -dx * s + dz * c)

    room_t, on_floor, room_shade = _room(origin, direction, size)
    obj_t, normal = _object(origin, direction, shapes, size)
    light = _LIGHT.astype(np.float32)
    lambert = np.clip(normal[0] * light[0] + normal[1] * light[1] + normal[2] * light[2], 0, None)
    hit = obj_t < room_t
    surface = np.where(hit, OBJECT, np.where(on_floor, FLOOR, WALL)).astype(np.int8)
    shade = np.where(hit, _AMBIENT + (1 - _AMBIENT) * lambert, room_shade)
    return surface, shade.astype(np.float32)


def _room(origin, direction, size) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each ray meets the floor (y = 0) or one of two walls meeting in a corner behind
    the object: (n, P) distances, whether it is the floor, and the surface's brightness."""
    ox, oy, oz = origin
    dx, dy, dz = direction
    floor_t = -oy / dy
    # Walls: planes through the corner (0, 0, -D) at 45 degrees, facing the object.
    walls = []
    for side in (-1.0, 1.0):
        nx, nz = -side / math.sqrt(2), 1 / math.sqrt(2)  # the wall's normal, into the room
        towards = dx * nx + dz * nz  # (n, 1), negative: the ray moves towards the wall
        walls.append(-(ox * nx + (oz + _CORNER_DISTANCE) * nz) / towards)
    wall_t = np.minimum(*walls)
    on_floor = floor_t < wall_t
    t = np.where(on_floor, floor_t, wall_t)
    # The left and right walls take different light; the floor brightens towards the camera
    # and darkens in a soft shadow under the object.
    wall_shade = np.where(walls[0] < walls[1], np.float32(0.75), np.float32(0.95))
    hx, hz = ox + t * dx, oz + t * dz
    shadow = 1.0 - 0.45 * np.exp(-((hx + 0.35) ** 2 + (hz + 0.35) ** 2) / (1.6 * size ** 2))
    near = np.clip((hz + _CORNER_DISTANCE) / (2 * _CORNER_DISTANCE), 0, 1)
    floor_shade = (0.6 + 0.4 * near) * shadow
    return t, on_floor, np.where(on_floor, floor_shade, wall_shade)


def _object(origin, direction, shapes: np.ndarray, size: np.ndarray):
    """Distance to the object along each ray (inf where missed) and the unit normal there.
    Every scene's rays are cast at its own shape; the others' results are dropped."""
    t = np.full(origin[0].shape, np.inf, dtype=np.float32)
    normal = [np.zeros_like(t) for _ in range(3)]
    for index, cast in enumerate((_cube, _cylinder, _sphere, _capsule)):
        rows = shapes == index
        if not rows.any():
            continue
        hit_t, hit_normal = cast(tuple(v[rows] for v in origin),
                                 tuple(v[rows] for v in direction), size[rows])
        t[rows] = hit_t
        for axis in range(3):
            normal[axis][rows] = hit_normal[axis]
    return t, normal


def _sphere_hit(o, d, centre, r):
    """Entry distance into a sphere (inf where missed) and the normal there."""
    px, py, pz = o[0] - centre[0], o[1] - centre[1], o[2] - centre[2]
    b = px * d[0] + py * d[1] + pz * d[2]  # |d| = 1
    disc = b * b - (px * px + py * py + pz * pz - r * r)
    t = np.where(disc >= 0, -b - np.sqrt(np.clip(disc, 0, None)), np.inf)
    at = _finite(t)
    normal = tuple((p + at * dd) / r for p, dd in zip((px, py, pz), d, strict=True))
    return t, normal


def _finite(t: np.ndarray) -> np.ndarray:
    """Distances with misses at 0: a miss's normal is never used, and inf * 0 would warn."""
    return np.where(np.isfinite(t), t, 0.0)


def _sphere(o, d, size):
    return _sphere_hit(o, d, (0.0, size, 0.0), size)


def _slab(p, dd, low, high):
    """Entry and exit distances through low <= p + t dd <= high; ignores rays parallel to it."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b = (low - p) / dd, (high - p) / dd
    return np.minimum(a, b), np.maximum(a, b)


def _cube(o, d, size):
    """An axis-aligned cube standing on the floor (the rays already carry the turn)."""
    a = size * 0.85
    bounds = ((-a, a), (np.zeros_like(a), 2 * a), (-a, a))
    spans = [_slab(p, dd, lo, hi) for p, dd, (lo, hi) in zip(o, d, bounds, strict=True)]
    entries = np.stack([np.broadcast_to(span[0], o[0].shape) for span in spans])
    enter, leave = entries.max(0), np.minimum.reduce([span[1] for span in spans])
    axis = entries.argmax(0)
    sign = [-np.sign(np.broadcast_to(dd, o[0].shape)) for dd in d]
    normal = tuple(np.where(axis == k, sign[k], 0.0) for k in range(3))
    return np.where(enter < leave, enter, np.inf), normal


def _cylinder(o, d, size):
    """A cylinder around the vertical axis: radius = size, height = 2 size."""
    r, height = size, 2 * size
    qa = d[0] ** 2 + d[2] ** 2
    qb = o[0] * d[0] + o[2] * d[2]
    disc = qb * qb - qa * (o[0] ** 2 + o[2] ** 2 - r * r)
    root = np.sqrt(np.clip(disc, 0, None))
    side_in, side_out = (-qb - root) / qa, (-qb + root) / qa
    cap_in, cap_out = _slab(o[1], d[1], np.zeros_like(size), height)
    enter = np.maximum(side_in, cap_in)
    hit = (disc >= 0) & (enter < np.minimum(side_out, cap_out))
    t = np.where(hit, enter, np.inf)
    on_side = side_in >= cap_in
    at = _finite(t)
    side_normal = ((o[0] + at * d[0]) / r, 0.0, (o[2] + at * d[2]) / r)
    top = -np.sign(d[1])  # rays from above enter through the top
    normal = tuple(np.where(on_side, side, cap)
                   for side, cap in zip(side_normal, (0.0, top, 0.0), strict=True))
    return t, normal


def _capsule(o, d, size):
    """A capsule lying along the object's x axis: a cylinder closed by two half spheres."""
    r, half = size * 0.65, size * 0.75
    # The body: radius r around the line y = r, z = 0, for |x| <= half.
    py = o[1] - r
    qa = d[1] ** 2 + d[2] ** 2
    qb = py * d[1] + o[2] * d[2]
    disc = qb * qb - qa * (py * py + o[2] ** 2 - r * r)
    root = np.sqrt(np.clip(disc, 0, None))
    body_in, body_out = (-qb - root) / qa, (-qb + root) / qa
    x_in, x_out = _slab(o[0], d[0], -half, half)
    enter = np.maximum(body_in, x_in)
    body_t = np.where((disc >= 0) & (enter < np.minimum(body_out, x_out)), enter, np.inf)
    at = _finite(body_t)
    body_normal = (np.zeros_like(body_t), (py + at * d[1]) / r, (o[2] + at * d[2]) / r)
    t, normal = body_t, body_normal
    for end in (-half, half):  # the end caps: whichever surface a ray meets first
        end_t, end_normal = _sphere_hit(o, d, (end, r, 0.0), r)
        nearer = end_t < t
        t = np.where(nearer, end_t, t)
        normal = tuple(np.where(nearer, e, b) for e, b in zip(end_normal, normal, strict=True))
    return t, normal


def _hue_rgb(hue: np.ndarray) -> np.ndarray:
    """Fully saturated, full-value colours for hues in [0, 1): (n,) -> (n, 3) float32."""
    k = (np.asarray(hue, dtype=np.float32)[:, None] * 6.0 + np.array([0, 4, 2])) % 6.0
    return np.clip(np.abs(k - 3.0) - 1.0, 0.0, 1.0).astype(np.float32)
