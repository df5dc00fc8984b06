"""Frame sinks, checked by decoding what they wrote (PyAV for MP4, Pillow for PNG)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from gpu_host.frame import Frame, frame_rate
from streamer.video import Mp4Writer, PngFolderWriter, open_sink

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0), (200, 120, 40), (30, 160, 220)]
TOLERANCE = 8  # per channel, after yuv420p and lossy H.264 on flat colours


def solid(width: int, height: int, rgb: tuple[int, int, int]) -> np.ndarray:
    return np.full((height, width, 3), rgb, np.uint8)


def rgb_frame(pixels: np.ndarray) -> Frame:
    return Frame(0, 0.0, pixels)


def decode(path: Path) -> tuple[av.video.stream.VideoStream, list[av.VideoFrame]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        return stream, frames


@pytest.mark.parametrize("fps", [30.0, 29.97, 24.0, 12.5])
def test_mp4_frames_codec_timestamps_and_colours(tmp_path: Path, fps: float) -> None:
    path = tmp_path / "out.mp4"
    with Mp4Writer(path, fps, (64, 48)) as writer:
        for rgb in COLOURS:
            writer.write(rgb_frame(solid(64, 48, rgb)))
    assert not writer.padded

    stream, frames = decode(path)
    rate = frame_rate(fps)
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.codec_context.width, stream.codec_context.height) == (64, 48)
    assert len(frames) == len(COLOURS)
    for index, (frame, rgb) in enumerate(zip(frames, COLOURS, strict=True)):
        assert frame.pts is not None and frame.time_base is not None
        assert frame.pts * frame.time_base == index / rate
        pixels = frame.to_ndarray(format="rgb24").astype(int)
        assert np.abs(pixels - np.array(rgb)).max() <= TOLERANCE, (index, rgb, pixels[0, 0])


@pytest.mark.parametrize(
    ("fps", "rate"),
    [
        (30, Fraction(30)),
        (1, Fraction(1)),
        (29.97, Fraction(30000, 1001)),
        (23.976, Fraction(24000, 1001)),
        (23.98, Fraction(24000, 1001)),
        (59.94, Fraction(60000, 1001)),
        (12.5, Fraction(25, 2)),
        (0.5, Fraction(1, 2)),
    ],
)
def test_frame_rate_is_exact(fps: float, rate: Fraction) -> None:
    assert frame_rate(fps) == rate


@pytest.mark.parametrize("fps", [0, -30, float("nan"), float("inf")])
def test_bad_frame_rate(tmp_path: Path, fps: float) -> None:
    with pytest.raises(ValueError, match="fps must be a positive number"):
        Mp4Writer(tmp_path / "bad.mp4", fps, (16, 16))
    assert not (tmp_path / "bad.mp4").exists()


def test_long_video_keeps_exact_timestamps(tmp_path: Path) -> None:
    """More frames than x264's lookahead, so packets are muxed while frames are still written."""
    path = tmp_path / "long.mp4"
    count = 120
    with Mp4Writer(path, 29.97, (64, 48)) as writer:
        for index in range(count):
            pixels = solid(64, 48, (0, 0, 0))
            pixels[:, index % 64 :] = (255, 255, 255)  # a moving edge gives x264 real work
            writer.write(rgb_frame(pixels))

    _, frames = decode(path)
    assert len(frames) == count
    rate = Fraction(30000, 1001)
    assert [frame.pts * frame.time_base for frame in frames if frame.pts is not None and frame.time_base] == [
        index / rate for index in range(count)
    ]


def test_odd_size_is_padded_by_repeating_the_edge(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    # Left half red, right half blue, bottom row green: the padding must repeat blue and green.
    pixels = solid(101, 75, (255, 0, 0))
    pixels[:, 51:] = (0, 0, 255)
    pixels[-8:, :] = (0, 255, 0)
    with Mp4Writer(path, 30, (101, 75)) as writer:
        writer.write(rgb_frame(pixels))
    assert writer.padded and writer.stream_size == (102, 76)

    _, frames = decode(path)
    assert len(frames) == 1
    pixels = frames[0].to_ndarray(format="rgb24").astype(int)
    assert pixels.shape == (76, 102, 3)
    assert np.abs(pixels[10, 10] - (255, 0, 0)).max() <= TOLERANCE  # content kept, not scaled
    assert np.abs(pixels[10, 90] - (0, 0, 255)).max() <= TOLERANCE
    assert np.abs(pixels[10, 101] - (0, 0, 255)).max() <= TOLERANCE  # padded column
    assert np.abs(pixels[75, 30] - (0, 255, 0)).max() <= TOLERANCE  # padded row


def test_frames_of_another_size_are_fitted_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "mixed.mp4"
    with Mp4Writer(path, 30, (64, 48)) as writer:
        writer.write(rgb_frame(solid(64, 48, (255, 255, 255))))
        writer.write(rgb_frame(solid(32, 16, (255, 255, 255))))  # smaller: black border
        writer.write(rgb_frame(solid(200, 100, (0, 0, 255))))  # larger: cropped
    assert writer.refitted_frames == 2

    _, frames = decode(path)
    assert len(frames) == 3
    smaller = frames[1].to_ndarray(format="rgb24").astype(int)
    assert smaller.shape == (48, 64, 3)
    assert np.abs(smaller[24, 32] - 255).max() <= TOLERANCE
    assert smaller[2, 2].max() <= TOLERANCE
    larger = frames[2].to_ndarray(format="rgb24").astype(int)
    assert np.abs(larger[24, 32] - (0, 0, 255)).max() <= TOLERANCE


def test_close_is_idempotent_and_final(tmp_path: Path) -> None:
    writer = Mp4Writer(tmp_path / "c.mp4", 30, (16, 16))
    writer.write(rgb_frame(solid(16, 16, (1, 2, 3))))
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write(rgb_frame(solid(16, 16, (1, 2, 3))))


def test_wrong_frame_layout_is_explained() -> None:
    with pytest.raises(ValueError, match=r"pixels\[\.\.\., :3\]"):
        rgb_frame(np.zeros((16, 16, 4), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        rgb_frame(np.zeros((16, 16, 3), np.float32))
    with pytest.raises(ValueError, match="I420"):
        Frame(0, 0.0, np.zeros((16, 16), np.uint8), "yuv420p")


def test_png_folder_names_and_pixels(tmp_path: Path) -> None:
    folder = tmp_path / "frames" / "run1"
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (9, 13, 3), np.uint8) for _ in range(3)]
    with PngFolderWriter(folder) as writer:
        for pixels in frames:
            writer.write(rgb_frame(pixels))
    assert sorted(p.name for p in folder.iterdir()) == ["000001.png", "000002.png", "000003.png"]
    for index, pixels in enumerate(frames, start=1):
        with Image.open(folder / f"{index:06d}.png") as image:
            assert image.mode == "RGB"
            assert np.array_equal(np.asarray(image), pixels)


def test_png_folder_refuses_stale_frames(tmp_path: Path) -> None:
    (tmp_path / "000001.png").write_bytes(b"")
    with pytest.raises(ValueError, match="delete them or choose another folder"):
        PngFolderWriter(tmp_path)


def test_open_sink_picks_by_suffix(tmp_path: Path) -> None:
    with open_sink(tmp_path / "a.MP4", 30, (16, 16)) as sink:
        assert isinstance(sink, Mp4Writer)
    with open_sink(tmp_path / "frames", 30, (16, 16)) as sink:
        assert isinstance(sink, PngFolderWriter)
    with pytest.raises(ValueError, match=r"only \.mp4"):
        open_sink(tmp_path / "a.webm", 30, (16, 16))
