"""The built-in scenes render what they define, and react to input as they define."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gpu_host import GuestComponent, GuestOptions, Runtime
from gpu_host.events import PointerUp, Resize

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
