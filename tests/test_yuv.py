"""Frames converted to I420 on the GPU match the RGB frames, in the layout the encoder takes."""

from __future__ import annotations

from collections.abc import Callable

import av
import numpy as np
import pytest

from gpu_host import GuestComponent, GuestOptions, Runtime
from gpu_host.frame_clock import i420_to_rgb


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


@pytest.mark.parametrize("colour", [(255, 102, 0), (0, 153, 255), (13, 13, 38), (255, 255, 255), (0, 0, 0)])
def test_our_inverse_agrees_with_swscale(colour: tuple[int, int, int]) -> None:
    """Same matrix and range as PyAV's default yuv420p conversion (what the encoder used to do)."""
    rgb = np.full((16, 16, 3), colour, dtype=np.uint8)
    i420 = np.asarray(
        av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray(),
        dtype=np.uint8,
    )
    assert np.abs(i420_to_rgb(i420).astype(int) - rgb.astype(int)).max() <= 3
