"""Frames converted to I420 on the GPU match the RGB frames, in the layout the encoder takes, and
the CPU conversion of the frame layer (gpu_host/frame.py) computes the same planes."""

from __future__ import annotations

from collections.abc import Callable

import av
import numpy as np
import pytest

from gpu_host import GuestComponent, GuestOptions, Runtime
from gpu_host.frame import BT601, Colour, i420_to_rgb, rgb_to_i420


@pytest.mark.parametrize("size", [(64, 48), (95, 63), (130, 34)], ids=["even", "odd", "stride-padded"])
def test_gpu_i420_matches_the_rgb_frame(
    runtime: Runtime,
    load: Callable[[str], GuestComponent],
    options: Callable[..., GuestOptions],
    size: tuple[int, int],
) -> None:
    with runtime.run(load("triangle"), options("triangle", size=size)) as guest:
        rgb = guest.next_frame().rgb
    with runtime.run(load("triangle"), options("triangle", size=size, frame_format="yuv420p")) as guest:
        frame = guest.next_frame()
    width, height = size
    even = (width + width % 2, height + height % 2)
    assert frame.format == "yuv420p" and frame.size == size
    assert frame.pixels.shape == (even[1] * 3 // 2, even[0])
    assert frame.rgb.shape == rgb.shape
    # Flat areas convert back exactly up to rounding; edges differ where chroma is shared by 2x2.
    difference = np.abs(frame.rgb.astype(int) - rgb.astype(int)).max(axis=2)
    assert np.median(difference) <= 2 and np.mean(difference <= 4) > 0.9, np.mean(difference <= 4)
    assert np.abs(frame.rgb[height // 2, width // 2].astype(int) - (255, 102, 0)).max() <= 3
    # The CPU conversion of the RGB frame gives the GPU's planes, up to float rounding.
    assert np.abs(rgb_to_i420(rgb).astype(int) - frame.pixels.astype(int)).max() <= 1


@pytest.mark.parametrize("colour", [(255, 102, 0), (0, 153, 255), (13, 13, 38), (255, 255, 255), (0, 0, 0)])
def test_our_inverse_agrees_with_swscale(colour: tuple[int, int, int]) -> None:
    """Same matrix and range as PyAV's default yuv420p conversion (what the encoder used to do)."""
    rgb = np.full((16, 16, 3), colour, dtype=np.uint8)
    i420 = np.asarray(
        av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray(),
        dtype=np.uint8,
    )
    assert np.abs(i420_to_rgb(i420).astype(int) - rgb.astype(int)).max() <= 3


@pytest.mark.parametrize("colour", [BT601, Colour("bt709"), Colour("bt601", full_range=True)], ids=str)
def test_each_colour_round_trips_and_tags_what_it_computes(colour: Colour) -> None:
    rgb = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [128, 128, 128]]], dtype=np.uint8)
    for pixel in rgb.reshape(-1, 3):
        flat = np.tile(pixel, (4, 4, 1)).astype(np.uint8)
        back = i420_to_rgb(rgb_to_i420(flat, colour), colour)
        assert np.abs(back.astype(int) - pixel.astype(int)).max() <= 2, (colour, pixel, back[0, 0])
        r, g, b = (int(c) for c in pixel)
        assert tuple(rgb_to_i420(flat, colour)[[0, 4, 5], 0]) == colour.yuv((r, g, b))
    assert BT601.yuv((255, 255, 255)) == (235, 128, 128) and BT601.yuv((0, 0, 0)) == (16, 128, 128)
    assert "smpte170m" in BT601.x264_params and BT601.ffmpeg_code == 6 and BT601.ffmpeg_range == 1
