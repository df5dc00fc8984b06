"""RGBA frame texture to YUV 4:2:0 (I420) on the GPU, so a streamed frame reads back 1.5 bytes a pixel.

Converting on the host costs more than rendering at 1080p (docs/performance.md: swscale took
11.7 ms a 1080p frame on the H200 machine) and the readback would move 4 bytes a pixel; a compute
pass writes the three planes into one storage buffer instead, laid out as `I420Layout` says, and
the host gets an array that the encoder takes as it is.

The matrix and range come from the frame's `Colour` (gpu_host/frame.py), chroma is the mean of
each 2x2 block, and odd sizes are padded to even by repeating the last row and column: the same
arithmetic as `gpu_host.frame.rgb_to_i420` on the CPU.
"""

from __future__ import annotations

import struct

import numpy as np
import wgpu

from .frame import Colour, I420Layout

__all__ = ["YuvConverter"]

SHADER = """
struct Params {
    width: u32, height: u32,            // the texture's size
    y_stride: u32, y_rows: u32,         // bytes per Y row (a multiple of 4), Y rows (even height)
    uv_stride: u32, uv_rows: u32,       // the same for U and V
    u_offset: u32, v_offset: u32,       // byte offsets of the U and V planes
    to_y: vec4<f32>, to_u: vec4<f32>, to_v: vec4<f32>,  // Colour.rgb_to_yuv(): R, G, B, offset
}
@group(0) @binding(0) var frame: texture_2d<f32>;
@group(0) @binding(1) var<storage, read_write> planes: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

fn rgb(x: u32, y: u32) -> vec3<f32> {
    return textureLoad(frame, vec2<i32>(i32(min(x, p.width - 1u)), i32(min(y, p.height - 1u))), 0).rgb;
}

fn byte(c: vec3<f32>, row: vec4<f32>) -> u32 {
    return u32(clamp(round(row.w + dot(c, row.xyz)), 0.0, 255.0));
}

@compute @workgroup_size(16, 8)
fn luma(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x * 4u >= p.y_stride || id.y >= p.y_rows) { return; }
    var word = 0u;
    for (var k = 0u; k < 4u; k++) {
        word |= byte(rgb(id.x * 4u + k, id.y), p.to_y) << (8u * k);
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
        u |= byte(c, p.to_u) << (8u * k);
        v |= byte(c, p.to_v) << (8u * k);
    }
    let row = id.y * p.uv_stride;
    planes[(p.u_offset + row) / 4u + id.x] = u;
    planes[(p.v_offset + row) / 4u + id.x] = v;
}
"""


class YuvConverter:
    """One device's conversion: the pipelines once, the planes buffer again only when the size changes."""

    def __init__(self, device: wgpu.GPUDevice, colour: Colour) -> None:
        self._device = device
        self._colour = colour
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
        self._planes: wgpu.GPUBuffer | None = None
        self._params: wgpu.GPUBuffer | None = None
        # The frame texture is reused while its size holds, and so is its bind group.
        self._bound: tuple[wgpu.GPUTexture, wgpu.GPUBindGroup] | None = None

    def encode(
        self, encoder: wgpu.GPUCommandEncoder, texture: wgpu.GPUTexture, staging: wgpu.GPUBuffer
    ) -> None:
        """Record the conversion of `texture` (rgba8unorm) and the copy of its planes into
        `staging` (`I420Layout(width, height).nbytes` long, COPY_DST)."""
        device = self._device
        plan = self._plan
        if plan is None or plan.size != (texture.width, texture.height):
            self.release()
            plan = self._plan = I420Layout(texture.width, texture.height)
            usage = wgpu.BufferUsage
            self._planes = device.create_buffer(
                label="I420 planes", size=plan.nbytes, usage=usage.STORAGE | usage.COPY_SRC
            )
            self._params = device.create_buffer(
                label="I420 params", size=80, usage=usage.UNIFORM | usage.COPY_DST
            )
            device.queue.write_buffer(self._params, 0, _params(plan, self._colour))
        assert self._planes is not None and self._params is not None
        if self._bound is None or self._bound[0] is not texture:
            bind_group = device.create_bind_group(
                layout=self._layout,
                entries=[
                    {"binding": 0, "resource": texture.create_view()},
                    {"binding": 1, "resource": {"buffer": self._planes}},
                    {"binding": 2, "resource": {"buffer": self._params}},
                ],
            )
            self._bound = (texture, bind_group)
        compute = encoder.begin_compute_pass(label="frame to I420")
        compute.set_bind_group(0, self._bound[1])
        compute.set_pipeline(self._luma)
        compute.dispatch_workgroups(-(-plan.y_stride // 4 // 16), -(-plan.y_rows // 8))
        compute.set_pipeline(self._chroma)
        compute.dispatch_workgroups(-(-plan.uv_stride // 4 // 16), -(-plan.uv_rows // 8))
        compute.end()
        encoder.copy_buffer_to_buffer(self._planes, 0, staging, 0, plan.nbytes)

    def release(self) -> None:
        for buffer in (self._planes, self._params):
            if buffer is not None:
                buffer.destroy()
        self._planes = self._params = None
        self._plan = None
        self._bound = None


def _params(plan: I420Layout, colour: Colour) -> bytes:
    """The shader's `Params`: the layout, then the three rows of the colour matrix."""
    header = struct.pack(
        "<8I",
        *plan.size,
        plan.y_stride,
        plan.y_rows,
        plan.uv_stride,
        plan.uv_rows,
        plan.u_offset,
        plan.v_offset,
    )
    matrix = colour.rgb_to_yuv().astype(np.float32)  # offsets stay in 0..255, coefficients per 0..1
    return header + b"".join(struct.pack("<4f", *(float(x) for x in row)) for row in matrix)
