"""RGBA frame texture to YUV 4:2:0 (I420) on the GPU, so a streamed frame reads back 1.5 bytes a pixel.

Converting on the host costs more than rendering at 1080p (FIELD-NOTES: swscale 12.6 ms on the
H100 machine) and the readback moves 4 bytes a pixel; a compute pass writes the three planes into
one storage buffer instead, and the host gets an array that the encoder takes as it is.

Colour: BT.601, limited range (what browsers assume for a stream that does not say), chroma the
mean of each 2x2 block. Odd sizes are padded to even by repeating the last row and column.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import wgpu

if TYPE_CHECKING:
    from .gpu_wait import GpuWaits

__all__ = ["I420Layout", "YuvConverter"]

SHADER = """
struct Params {
    width: u32, height: u32,            // the texture's size
    y_stride: u32, y_rows: u32,         // bytes per Y row (a multiple of 4), Y rows (even height)
    uv_stride: u32, uv_rows: u32,       // the same for U and V
    u_offset: u32, v_offset: u32,       // byte offsets of the U and V planes
}
@group(0) @binding(0) var frame: texture_2d<f32>;
@group(0) @binding(1) var<storage, read_write> planes: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

fn rgb(x: u32, y: u32) -> vec3<f32> {
    return textureLoad(frame, vec2<i32>(i32(min(x, p.width - 1u)), i32(min(y, p.height - 1u))), 0).rgb;
}

fn byte(v: f32) -> u32 {
    return u32(clamp(round(v), 0.0, 255.0));
}

@compute @workgroup_size(16, 8)
fn luma(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x * 4u >= p.y_stride || id.y >= p.y_rows) { return; }
    var word = 0u;
    for (var k = 0u; k < 4u; k++) {
        let c = rgb(id.x * 4u + k, id.y);
        word |= byte(16.0 + dot(c, vec3<f32>(65.481, 128.553, 24.966))) << (8u * k);
    }
    planes[(id.y * p.y_stride) / 4u + id.x] = word;
}

@compute @workgroup_size(16, 8)
fn chroma(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x * 4u >= p.uv_stride || id.y >= p.uv_rows) { return; }
    var u = 0u;
    var v = 0u;
    for (var k = 0u; k < 4u; k++) {
        let x = (id.x * 4u + k) * 2u;
        let y = id.y * 2u;
        let c = (rgb(x, y) + rgb(x + 1u, y) + rgb(x, y + 1u) + rgb(x + 1u, y + 1u)) * 0.25;
        u |= byte(128.0 + dot(c, vec3<f32>(-37.797, -74.203, 112.0))) << (8u * k);
        v |= byte(128.0 + dot(c, vec3<f32>(112.0, -93.786, -18.214))) << (8u * k);
    }
    let row = id.y * p.uv_stride;
    planes[(p.u_offset + row) / 4u + id.x] = u;
    planes[(p.v_offset + row) / 4u + id.x] = v;
}
"""


def _align4(n: int) -> int:
    return -(-n // 4) * 4


class I420Layout:
    """Where the planes of a frame of `size` lie in the buffer the shader writes."""

    def __init__(self, width: int, height: int) -> None:
        self.size = (width, height)
        self.even = (width + width % 2, height + height % 2)
        even_w, even_h = self.even
        self.y_stride, self.y_rows = _align4(even_w), even_h
        self.uv_stride, self.uv_rows = _align4(even_w // 2), even_h // 2
        self.u_offset = self.y_stride * self.y_rows
        self.v_offset = self.u_offset + self.uv_stride * self.uv_rows
        self.nbytes = self.v_offset + self.uv_stride * self.uv_rows

    def params(self) -> bytes:
        return struct.pack(
            "<8I",
            *self.size,
            self.y_stride,
            self.y_rows,
            self.uv_stride,
            self.uv_rows,
            self.u_offset,
            self.v_offset,
        )

    def i420(self, data: memoryview) -> npt.NDArray[np.uint8]:
        """The planes as one (3/2 height, width) array, the layout PyAV's yuv420p `from_ndarray` takes."""
        flat = np.frombuffer(data, dtype=np.uint8)
        even_w, even_h = self.even
        if self.y_stride == even_w and self.uv_stride == even_w // 2:
            return flat.reshape(even_h * 3 // 2, even_w).copy()
        y = flat[: self.u_offset].reshape(self.y_rows, self.y_stride)[:, :even_w]
        u = flat[self.u_offset : self.v_offset].reshape(self.uv_rows, self.uv_stride)[:, : even_w // 2]
        v = flat[self.v_offset :].reshape(self.uv_rows, self.uv_stride)[:, : even_w // 2]
        return np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(even_h * 3 // 2, even_w)


class YuvConverter:
    """One device's conversion: the pipelines once, the buffers again only when the size changes."""

    def __init__(self, device: wgpu.GPUDevice, waits: GpuWaits) -> None:
        self._device = device
        self._waits = waits  # bounds the submit and the mapping (Limits.gpu_wait_seconds)
        module = device.create_shader_module(label="frame to I420", code=SHADER)
        self._layout = device.create_bind_group_layout(
            label="frame to I420",
            entries=[
                {"binding": 0, "visibility": wgpu.ShaderStage.COMPUTE, "texture": {"sample_type": "float"}},
                {"binding": 1, "visibility": wgpu.ShaderStage.COMPUTE, "buffer": {"type": "storage"}},
                {"binding": 2, "visibility": wgpu.ShaderStage.COMPUTE, "buffer": {"type": "uniform"}},
            ],
        )
        pipeline_layout = device.create_pipeline_layout(
            label="frame to I420", bind_group_layouts=[self._layout]
        )
        self._luma = device.create_compute_pipeline(
            label="frame to I420: luma",
            layout=pipeline_layout,
            compute={"module": module, "entry_point": "luma"},
        )
        self._chroma = device.create_compute_pipeline(
            label="frame to I420: chroma",
            layout=pipeline_layout,
            compute={"module": module, "entry_point": "chroma"},
        )
        self._plan: I420Layout | None = None
        self._buffers: list[wgpu.GPUBuffer] = []
        # The frame texture is reused while its size holds, and so is its bind group.
        self._bound: tuple[wgpu.GPUTexture, wgpu.GPUBindGroup] | None = None

    def read(self, texture: wgpu.GPUTexture) -> npt.NDArray[np.uint8]:
        """Convert `texture` (rgba8unorm) and read the I420 planes back."""
        device = self._device
        plan = self._plan
        if plan is None or plan.size != (texture.width, texture.height):
            self.release()
            plan = self._plan = I420Layout(texture.width, texture.height)
            usage = wgpu.BufferUsage
            self._buffers = [
                device.create_buffer(
                    label="I420 planes", size=plan.nbytes, usage=usage.STORAGE | usage.COPY_SRC
                ),
                device.create_buffer(
                    label="I420 readback", size=plan.nbytes, usage=usage.MAP_READ | usage.COPY_DST
                ),
                device.create_buffer(label="I420 params", size=32, usage=usage.UNIFORM | usage.COPY_DST),
            ]
            device.queue.write_buffer(self._buffers[2], 0, plan.params())
        planes, staging, params = self._buffers
        if self._bound is None or self._bound[0] is not texture:
            bind_group = device.create_bind_group(
                layout=self._layout,
                entries=[
                    {"binding": 0, "resource": texture.create_view()},
                    {"binding": 1, "resource": {"buffer": planes}},
                    {"binding": 2, "resource": {"buffer": params}},
                ],
            )
            self._bound = (texture, bind_group)
        bind_group = self._bound[1]
        encoder = device.create_command_encoder(label="frame to I420")
        compute = encoder.begin_compute_pass(label="frame to I420")
        compute.set_bind_group(0, bind_group)
        compute.set_pipeline(self._luma)
        compute.dispatch_workgroups(-(-plan.y_stride // 4 // 16), -(-plan.y_rows // 8))
        compute.set_pipeline(self._chroma)
        compute.dispatch_workgroups(-(-plan.uv_stride // 4 // 16), -(-plan.uv_rows // 8))
        compute.end()
        encoder.copy_buffer_to_buffer(planes, 0, staging, 0, plan.nbytes)
        call = "[method]context.present"
        self._waits.submit(device.queue, [encoder.finish()], call)
        self._waits.map(staging, wgpu.MapMode.READ, call=call)
        try:
            return plan.i420(staging.read_mapped(copy=False))
        finally:
            staging.unmap()

    def release(self) -> None:
        for buffer in self._buffers:
            buffer.destroy()
        self._buffers = []
        self._plan = None
        self._bound = None
