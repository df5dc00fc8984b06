"""The built-in scenes render what they define, and react to input as they define."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from gpu_host import GuestComponent, GuestOptions, Limits, Runtime
from gpu_host.events import KeyDown, KeyUp, PointerDown, PointerMove, PointerUp, Resize
from streamer.scenes import DEFAULT_SCENE

BACKGROUND = (13, 13, 38)  # triangle's clear colour (0.05, 0.05, 0.15) in 8 bits
ORANGE = (255, 102, 0)  # (1.0, 0.4, 0.0)
CYAN = (0, 153, 255)  # (0.0, 0.6, 1.0)


def near(pixel: np.ndarray, colour: tuple[int, int, int], tol: int = 2) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(colour)) <= tol))


def test_triangle_draws_orange_on_dark_blue(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    with runtime.run(load("triangle"), options("triangle", size=(64, 48))) as guest:
        frame = guest.next_frame()
    assert frame.rgb.shape == (48, 64, 3)
    # Centre is inside the triangle, corners outside. Orange is R >> B: a BGRA/RGBA mix-up reads blue.
    assert near(frame.rgb[24, 32], ORANGE), frame.rgb[24, 32]
    assert near(frame.rgb[2, 2], BACKGROUND), frame.rgb[2, 2]
    assert near(frame.rgb[45, 60], BACKGROUND)


def test_triangle_toggles_colour_on_pointer_up(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    with runtime.run(load("triangle"), options("triangle")) as guest:
        before = guest.next_frame()
        after = guest.next_frame(events=[PointerUp(x=10, y=10)])
        still = guest.next_frame()
        back = guest.next_frame(events=[PointerUp(x=10, y=10)])
    assert near(before.rgb[24, 32], ORANGE)
    assert near(after.rgb[24, 32], CYAN), after.rgb[24, 32]
    assert near(still.rgb[24, 32], CYAN)
    assert near(back.rgb[24, 32], ORANGE)
    assert near(after.rgb[2, 2], BACKGROUND)


def test_triangle_follows_a_resize(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    with runtime.run(load("triangle"), options("triangle")) as guest:
        first = guest.next_frame()
        resized = guest.next_frame(events=[Resize(width=40, height=30)])
    assert first.rgb.shape == (48, 64, 3)
    assert resized.rgb.shape == (30, 40, 3)
    assert near(resized.rgb[15, 20], ORANGE)


BARS = [
    (192, 192, 192),
    (192, 192, 0),
    (0, 192, 192),
    (0, 192, 0),
    (192, 0, 192),
    (192, 0, 0),
    (0, 0, 192),
    (0, 0, 0),
]


def expected_frame(n: int, w: int, h: int) -> np.ndarray:
    """What scenes/framebuffer/app.py documents for its n-th frame."""
    image = np.zeros((h, w, 3), np.uint8)
    for i, colour in enumerate(BARS):
        image[:, i * w // 8 : (i + 1) * w // 8] = colour
    x0 = (4 * n) % w
    y0 = max(0, (h - 40) // 2)
    image[y0 : min(y0 + 40, h), x0 : min(x0 + 40, w)] = 255
    return image


def test_framebuffer_scene_pixels(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    with runtime.run(load("framebuffer"), options("framebuffer", size=(160, 90))) as guest:
        frames = [guest.next_frame() for _ in range(3)]
    for frame in frames:
        expected = expected_frame(frame.index, 160, 90)
        assert np.array_equal(frame.rgb, expected), f"frame {frame.index} differs"
    assert not np.array_equal(frames[0].rgb, frames[2].rgb), "the square should move"


def test_framebuffer_scene_does_not_lose_memory_per_frame(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    """componentize-py 0.25.1 never frees the copy of a `list<u8>` a guest passes to an import;
    scenes/free_lists.py frees it at build. Without it, 32 MiB of guest memory held about 87 frames
    of 320x180 (230,400 bytes each) before the guest trapped: here are 300, the last one right."""
    limits = Limits(memory_bytes=32 << 20)
    with runtime.run(load("framebuffer"), options("framebuffer", size=(320, 180), limits=limits)) as guest:
        for _ in range(299):
            guest.next_frame()
        last = guest.next_frame()
    assert np.array_equal(last.rgb, expected_frame(last.index, 320, 180))


def test_framebuffer_scene_pixels_at_720p_and_after_a_resize_to_1080p(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    """Past 2,796,202 bytes a frame's `buffer.set` used to trap (wasmtime's hostcall fuel); the
    frame-buffer adapter (gpu_host/frame_buffer_adapter.py) carries whole frames of any size."""
    component = load("framebuffer")
    assert component.adapted
    with runtime.run(component, options("framebuffer", size=(1280, 720))) as guest:
        frames = [guest.next_frame()]
        frames.append(guest.next_frame(events=[Resize(width=1920, height=1080)]))
    (small, large) = frames
    assert small.rgb.shape == (720, 1280, 3)
    assert np.array_equal(small.rgb, expected_frame(small.index, 1280, 720))
    assert large.rgb.shape == (1080, 1920, 3)
    assert np.array_equal(large.rgb, expected_frame(large.index, 1920, 1080))


# --- cube (scenes/cube/app.py documents these) -------------------------------------------------

CUBE_TOP = (41, 46, 71)  # the background gradient's top row, (0.16, 0.18, 0.28)
CUBE_BOTTOM = (8, 8, 18)  # its bottom row, (0.03, 0.03, 0.07)


def test_cube_is_lit_against_the_background_and_turns(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    with runtime.run(load("cube"), options("cube", size=(160, 120))) as guest:
        frames = [guest.next_frame() for _ in range(3)]
    first = frames[0].rgb.astype(int)
    assert first.shape == (120, 160, 3)
    assert near(frames[0].rgb[0, 0], CUBE_TOP, tol=3), frames[0].rgb[0, 0]
    assert near(frames[0].rgb[0, 159], CUBE_TOP, tol=3)
    assert near(frames[0].rgb[119, 0], CUBE_BOTTOM, tol=3), frames[0].rgb[119, 0]
    assert near(frames[0].rgb[119, 159], CUBE_BOTTOM, tol=3)
    # The centre is the cube's lit front face: reddish, far from the background beside it, and
    # textured (the checker's light and dark squares both show).
    block = first[50:71, 70:91].reshape(-1, 3)
    assert block[:, 0].min() > 2.5 * first[60, 2, 0], (block[:, 0].min(), first[60, 2])
    assert block[:, 0].max() - block[:, 0].min() > 40, "no checker texture in the face"
    # It turns every frame (the host's clock advances per presented frame).
    for a, b in itertools.pairwise(frames):
        assert np.abs(a.rgb.astype(int) - b.rgb.astype(int)).sum() > 1000, f"frame {b.index} did not move"


def test_cube_depth_buffer_hides_the_back_face(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    """At t = 0 the centre ray enters the reddish +z face and leaves by the bluish -z face, which is
    drawn last with culling off: only the depth test keeps it hidden."""
    with runtime.run(load("cube"), options("cube", size=(160, 120))) as guest:
        frame = guest.next_frame().rgb.astype(int)
    centre = frame[55:66, 75:86].reshape(-1, 3)
    assert np.all(centre[:, 0] > centre[:, 2] + 30), centre  # red over blue: the front face's tint
    assert np.all(centre[:, 0] >= centre[:, 1]), centre


def test_cube_follows_a_resize(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    """The depth texture is remade at the new size (a mismatch would fail the render pass)."""
    with runtime.run(load("cube"), options("cube", size=(160, 120))) as guest:
        guest.next_frame()
        resized = guest.next_frame(events=[Resize(width=96, height=128)])
    assert resized.rgb.shape == (128, 96, 3)
    centre, corner = resized.rgb[64, 48].astype(int), resized.rgb[2, 2].astype(int)
    assert centre[0] > 2.5 * corner[0] and centre[0] > centre[2] + 30, (centre, corner)  # the front face


# --- orbit (scenes/orbit/app.py documents these) -----------------------------------------------

ORBIT_COLOURS = [(0.95, 0.45, 0.35), (0.95, 0.75, 0.25), (0.35, 0.85, 0.55), (0.30, 0.60, 0.95)]


def shows_colour(pixel: np.ndarray, colour: tuple[float, float, float]) -> bool:
    """True when pixel = colour * k for one lighting factor k in [0.25, 1] (within rounding)."""
    c = np.array(colour) * 255
    k = float(pixel.astype(float) @ c / (c @ c))
    return 0.23 <= k <= 1.02 and bool(np.all(np.abs(pixel - k * c) <= 4))


def moon_x(rgb: np.ndarray) -> float:
    """Mean column of the white moon's pixels (all channels bright; nothing else in the scene is)."""
    _, xs = np.nonzero(rgb.min(axis=2) > 150)
    assert len(xs) > 5, "the moon is not in view"
    return float(xs.mean())


def test_orbit_is_the_default_scene() -> None:
    assert DEFAULT_SCENE == "orbit"


def test_orbit_keys_pick_the_colours_the_scene_defines(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    with runtime.run(load("orbit"), options("orbit", size=(160, 120))) as guest:
        start = guest.next_frame().rgb[60, 80]
        digit3 = guest.next_frame(events=[KeyDown(key="digit3", text="3")]).rgb[60, 80]
        space = guest.next_frame(events=[KeyDown(key="space", text=" ")]).rgb[60, 80]
        released = guest.next_frame(events=[KeyUp(key="space")]).rgb[60, 80]
        reset = guest.next_frame(events=[KeyDown(key="key-r", text="r")]).rgb[60, 80]
    assert shows_colour(start, ORBIT_COLOURS[0]), start
    assert not shows_colour(start, ORBIT_COLOURS[2])
    assert shows_colour(digit3, ORBIT_COLOURS[2]), digit3
    assert not shows_colour(digit3, ORBIT_COLOURS[0])
    assert shows_colour(space, ORBIT_COLOURS[3]), space  # space: the next colour
    assert shows_colour(released, ORBIT_COLOURS[3]), released  # key-up changes nothing
    assert shows_colour(reset, ORBIT_COLOURS[0]), reset


def test_orbit_drag_turns_the_view_the_way_the_pointer_goes(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    """Same frame with and without a drag: dragging right brings the moon, front left of the shape,
    to the right; dragging left takes it further left."""

    def last_frame(moves: list[float]) -> np.ndarray:
        with runtime.run(load("orbit"), options("orbit", size=(200, 100))) as guest:
            guest.next_frame()
            guest.next_frame(events=[PointerDown(x=80, y=60)] if moves else [])
            for x in moves:
                guest.next_frame(events=[PointerMove(x=x, y=60)])
            frame = guest.next_frame(events=[PointerUp(x=moves[-1], y=60)] if moves else [])
            while frame.index < 2 + 2:  # the same frame index in every run
                frame = guest.next_frame()
        return frame.rgb

    right, left, still = last_frame([110, 140]), last_frame([50, 20]), last_frame([])
    assert moon_x(right) > moon_x(still) + 6, (moon_x(right), moon_x(still))
    assert moon_x(left) < moon_x(still) - 6, (moon_x(left), moon_x(still))
    # a move without a press before it does not turn anything
    with runtime.run(load("orbit"), options("orbit", size=(200, 100))) as guest:
        guest.next_frame()
        hover = guest.next_frame(events=[PointerMove(x=10, y=60), PointerMove(x=150, y=60)])
        while hover.index < 4:
            hover = guest.next_frame()
    assert np.array_equal(hover.rgb, still)


def test_orbit_follows_a_resize(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    with runtime.run(load("orbit"), options("orbit", size=(160, 120))) as guest:
        guest.next_frame()
        resized = guest.next_frame(events=[Resize(width=200, height=100)])
    assert resized.rgb.shape == (100, 200, 3)
    assert shows_colour(resized.rgb[50, 100], ORBIT_COLOURS[0]), resized.rgb[50, 100]


# --- compute (scenes/compute/app.py documents these) -------------------------------------------


def life_cells(rgb: np.ndarray) -> np.ndarray:
    """The grid a frame shows: True where the cell's centre pixel is a live cell's colour."""
    height, width, _ = rgb.shape
    cell = max(4, min(width, height) // 90)
    cols, rows = width // cell, height // cell
    ox, oy = (width - cols * cell) // 2, (height - rows * cell) // 2
    centres = rgb[oy + cell // 2 : oy + rows * cell : cell, ox + cell // 2 : ox + cols * cell : cell]
    brightest = centres.max(axis=2)
    assert np.all((brightest >= 240) | (brightest <= 120)), "a cell is neither clearly alive nor dead"
    return np.asarray(brightest >= 240)


def life_step(alive: np.ndarray) -> np.ndarray:
    """One generation of Conway's Life on a torus, on the CPU."""
    grid = alive.astype(int)
    neighbours = sum(
        np.roll(np.roll(grid, dy, axis=0), dx, axis=1)
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if (dx, dy) != (0, 0)
    )
    return np.asarray((neighbours == 3) | (alive & (neighbours == 2)))


def test_compute_steps_the_game_of_life_like_the_cpu(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    with runtime.run(load("compute"), options("compute", size=(160, 120), seed=7)) as guest:
        grids = [life_cells(guest.next_frame().rgb) for _ in range(4)]
    assert grids[0].shape == (30, 40)
    assert 0.2 < grids[0].mean() < 0.45, grids[0].mean()  # seeded at a density of 0.32
    for n in range(3):
        expected = life_step(grids[n])
        wrong = np.argwhere(expected != grids[n + 1])
        assert len(wrong) == 0, f"generation {n + 1} differs from the CPU at (row, col) {wrong[:5].tolist()}"
        assert not np.array_equal(grids[n], grids[n + 1])


def test_compute_seed_comes_from_wasi_random(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    def first(seed: int) -> np.ndarray:
        with runtime.run(load("compute"), options("compute", size=(96, 64), seed=seed)) as guest:
            return guest.next_frame().rgb

    assert np.array_equal(first(3), first(3))
    assert not np.array_equal(first(3), first(4))


def test_orbit_and_compute_resizes_free_what_they_replace(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    """A browser window being resized sends many resizes: the depth texture (orbit) and the grid's
    buffers (compute) made for an old size must go with it, so the guest's handles stay flat."""
    for name in ("orbit", "compute"):
        with runtime.run(load(name), options(name, size=(64, 48))) as guest:
            sizes = [(64 + 8 * (i % 2), 48) for i in range(12)]
            counts = []
            for width, height in sizes:
                frame = guest.next_frame(events=[Resize(width=width, height=height)])
                assert frame.rgb.shape == (height, width, 3)
                counts.append(len(guest.ctx.table))
        assert counts[-1] == counts[3], (name, counts)
