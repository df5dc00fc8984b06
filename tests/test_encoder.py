"""The live encoder: decodable H.264 and VP8, keyframes when asked and at the interval, any size."""

from __future__ import annotations

import av
import numpy as np
import pytest

from gpu_host.frame import Frame, rgb_to_i420
from streamer.av_frame import wrap
from streamer.encoder import VBV_SECONDS, EncodedPacket, EncoderSettings, VideoEncoder
from streamer.marker import read_marker, stamp_marker
from streamer.rate_control import StreamTarget

ORANGE = (255, 102, 0)


def decode(codec: str, packets: list[EncodedPacket]) -> list[np.ndarray]:
    decoder = av.CodecContext.create("h264" if codec == "h264" else "vp8", "r")
    frames = []
    for packet in packets:
        for frame in decoder.decode(av.Packet(packet.data)):
            assert isinstance(frame, av.VideoFrame)
            frames.append(frame.to_ndarray(format="rgb24"))
    return frames


def rgb(width: int, height: int, index: int = 0) -> np.ndarray:
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:] = ORANGE
    pixels[:, (index * 4) % width] = 255  # a moving line, so frames differ
    return pixels


def picture(width: int, height: int, index: int = 0) -> Frame:
    return Frame(index, 0.0, rgb(width, height, index), size=(width, height))


@pytest.mark.parametrize("codec", ["h264", "vp8"])
def test_each_frame_comes_out_at_once_and_decodes(codec: str) -> None:
    encoder = VideoEncoder(EncoderSettings(codec=codec))  # type: ignore[arg-type]
    packets = []
    for index in range(10):
        out = encoder.encode(picture(96, 64, index), timestamp=index * 3000)
        assert len(out) == 1, "no look-ahead: one packet per frame, from the same call"
        assert out[0].timestamp == index * 3000
        packets += out
    assert packets[0].keyframe and not any(p.keyframe for p in packets[1:])
    frames = decode(codec, packets)
    assert len(frames) == 10
    assert np.all(np.abs(frames[-1][32, 80].astype(int) - ORANGE) <= 6), frames[-1][32, 80]


def test_keyframes_on_request_and_at_the_interval() -> None:
    encoder = VideoEncoder(EncoderSettings(fps=10, keyframe_interval=1.0))
    keys = [encoder.encode(picture(64, 48, i), i)[0].keyframe for i in range(25)]
    assert [i for i, key in enumerate(keys) if key] == [0, 10, 20]
    encoder.request_keyframe()
    assert encoder.encode(picture(64, 48), 26)[0].keyframe
    assert not encoder.encode(picture(64, 48), 27)[0].keyframe


def test_odd_and_changing_sizes() -> None:
    encoder = VideoEncoder(EncoderSettings())
    first = encoder.encode(picture(95, 63), 0)[0]
    assert first.size == (96, 64)
    second = encoder.encode(picture(95, 63, 1), 1)[0]
    resized = encoder.encode(picture(160, 120), 2)[0]
    assert resized.keyframe and resized.size == (160, 120)  # a new size restarts the stream
    assert not second.keyframe


@pytest.mark.parametrize("codec", ["h264", "vp8"])
def test_the_marker_survives_encoding(codec: str) -> None:
    encoder = VideoEncoder(EncoderSettings(codec=codec, bitrate=300_000))  # type: ignore[arg-type]
    values = [0, 1, 0xBEEF, 65535, 12345]
    packets = []
    rng = np.random.default_rng(1)
    for index, value in enumerate(values):
        noise = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)  # the worst case for a codec
        frame = Frame(index, 0.0, noise)
        assert stamp_marker(frame, value)
        packets += encoder.encode(frame, index)
    assert [read_marker(frame) for frame in decode(codec, packets)] == values


def test_no_marker_reads_as_none_and_small_frames_are_left_alone() -> None:
    assert read_marker(rgb(160, 120)) is None
    small = picture(100, 20)
    assert not stamp_marker(small, 5) and np.array_equal(small.pixels, rgb(100, 20))


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown codec"):
        EncoderSettings(codec="h265")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bitrate"):
        EncoderSettings(bitrate=5)


def test_i420_frames_encode_without_conversion_and_carry_the_marker() -> None:
    i420 = Frame(0, 0.0, rgb_to_i420(rgb(160, 120)), "yuv420p", (160, 120))
    assert stamp_marker(i420, 0xA5A5)
    encoder = VideoEncoder(EncoderSettings())
    (packet,) = encoder.encode(i420, 0)
    assert packet.size == (160, 120)
    (frame,) = decode("h264", [packet])
    assert read_marker(frame) == 0xA5A5
    assert np.all(np.abs(frame[60, 80].astype(int) - ORANGE) <= 6)


def textured(width: int, height: int, index: int) -> Frame:
    """A picture that takes every bit it is given: noise, scrolling."""
    noise = np.random.default_rng(7).integers(0, 256, (height, width + 64, 3), dtype=np.uint8)
    pixels = np.ascontiguousarray(noise[:, index % 64 : index % 64 + width])
    return Frame(index, 0.0, pixels, size=(width, height))


def bits_per_second(packets: list[EncodedPacket], fps: float) -> float:
    return sum(len(p.data) for p in packets) * 8 * fps / len(packets)


def test_h264_follows_a_new_bitrate_without_a_keyframe() -> None:
    """libx264 takes a new bitrate between frames (docs/performance.md): within the VBV it was
    opened with, the stream's rate drops to the new target within a second, and no keyframe is
    spent on it."""
    encoder = VideoEncoder(EncoderSettings(bitrate=2_000_000, fps=30, keyframe_interval=10))
    before = [p for i in range(45) for p in encoder.encode(textured(320, 240, i), i)]
    encoder.retarget(StreamTarget(1_500_000, 30, 1.0))
    after = [p for i in range(45, 120) for p in encoder.encode(textured(320, 240, i), i)]
    assert bits_per_second(before[15:], 30) > 1_600_000
    assert bits_per_second(after[30:], 30) < 1_600_000
    assert not any(p.keyframe for p in after)


def test_h264_steps_far_down_with_one_keyframe_that_fits_the_new_rate() -> None:
    """Far below the rate it was opened with, the codec reopens: one keyframe, no bigger than
    the new rate's VBV buffer (a quarter second of it), which a slow link's queue can take."""
    encoder = VideoEncoder(EncoderSettings(bitrate=2_000_000, fps=30, keyframe_interval=10))
    for i in range(30):
        encoder.encode(textured(320, 240, i), i)
    encoder.retarget(StreamTarget(500_000, 30, 1.0))
    after = [p for i in range(30, 90) for p in encoder.encode(textured(320, 240, i), i)]
    assert after[0].keyframe and not any(p.keyframe for p in after[1:])
    assert len(after[0].data) <= 500_000 / 8 * VBV_SECONDS * 1.1
    assert bits_per_second(after[15:], 30) < 650_000


def test_vp8_reopens_for_a_new_bitrate_with_a_keyframe() -> None:
    encoder = VideoEncoder(EncoderSettings(codec="vp8", bitrate=2_000_000, fps=30, keyframe_interval=10))
    before = [p for i in range(30) for p in encoder.encode(textured(320, 240, i), i)]
    encoder.retarget(StreamTarget(500_000, 30, 1.0))
    after = [p for i in range(30, 90) for p in encoder.encode(textured(320, 240, i), i)]
    assert after[0].keyframe and not any(p.keyframe for p in after[1:])
    assert bits_per_second(after[15:], 30) < 0.5 * bits_per_second(before[10:], 30)


@pytest.mark.parametrize("codec", ["h264", "vp8"])
def test_a_scaled_target_encodes_a_smaller_picture(codec: str) -> None:
    """The encoded picture shrinks (even sides), not the frame: it decodes at the scaled size."""
    encoder = VideoEncoder(EncoderSettings(codec=codec))  # type: ignore[arg-type]
    encoder.encode(picture(100, 60), 0)
    encoder.retarget(StreamTarget(1_000_000, 15, 0.75))
    packets = [p for i in range(1, 4) for p in encoder.encode(picture(100, 60, i), i)]
    assert packets[0].keyframe and {p.size for p in packets} == {(76, 44)}
    frames = decode(codec, packets)
    assert frames[-1].shape == (44, 76, 3)
    assert np.all(np.abs(frames[-1][22, 60].astype(int) - ORANGE) <= 8), frames[-1][22, 60]
    assert encoder.target == StreamTarget(1_000_000, 15, 0.75)


def test_packed_i420_is_encoded_from_its_own_memory_which_is_free_once_encode_returns() -> None:
    """A frame's planes are wrapped, not copied, where PyAV lays them out the same (a readback
    buffer's memory goes straight to the encoder); the encoder has its own copy when encode
    returns, so overwriting the memory then changes nothing already encoded."""
    planes = rgb_to_i420(rgb(160, 120, 3))
    picture = wrap(planes)
    assert picture is not None and picture.planes[0].buffer_ptr == planes.ctypes.data
    assert wrap(rgb_to_i420(rgb(160, 122))) is None  # a height PyAV pads differently: copied

    wrapped, copied = VideoEncoder(EncoderSettings()), VideoEncoder(EncoderSettings())
    packets: dict[str, list[EncodedPacket]] = {"wrapped": [], "copied": []}
    memory = np.empty_like(planes)
    for index in range(6):
        memory[:] = rgb_to_i420(rgb(160, 120, index))
        packets["wrapped"] += wrapped.encode(Frame(index, 0.0, memory, "yuv420p", (160, 120)), index)
        strided = np.asfortranarray(memory)  # not C-contiguous: copied into the reused picture
        packets["copied"] += copied.encode(Frame(index, 0.0, strided, "yuv420p", (160, 120)), index)
        memory[:] = 0  # the memory is reused at once, as a given-back readback buffer is
    assert [p.data for p in packets["wrapped"]] == [p.data for p in packets["copied"]]
    frames = decode("h264", packets["wrapped"])
    assert np.all(np.abs(frames[-1][60, 100].astype(int) - ORANGE) <= 6), frames[-1][60, 100]
