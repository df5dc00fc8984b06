"""Cube: a lit, textured cube turning in time, drawn with a depth buffer and an indexed draw.

What it exercises: a vertex buffer with four attributes (position, normal, uv, face tint), a
16-bit index buffer, a uniform buffer (matrices, light, eye), a checker texture made in the guest
and uploaded with the queue's write-texture, a sampler, a depth texture (remade on resize) and
back faces left unculled, so only the depth test hides them.

Defined for tests (colours linear, as written to the rgba8unorm target):
- background: a vertical gradient from TOP (0.16, 0.18, 0.28) at the top row to BOTTOM
  (0.03, 0.03, 0.07) at the bottom row;
- the cube (half-size 1) turns with time t in seconds (t = 0 on the first frame): yaw
  0.5 + 0.8 t about y, then pitch 0.35 + 0.25 sin(0.9 t) about x, seen from (0, 0, 5.2); at t = 0
  the ray through the centre of the image enters the +z face (tint FRONT, reddish) and leaves by
  the -z face (tint BACK, bluish), which is drawn last: without the depth test it would show;
- a face's colour is texture * tint * (0.3 + 0.75 diffuse) + specular, the texture a checker of
  8x8 squares of 1.0 and 0.62 with dark edges.
"""

import math
import time

import wit_world
from gfxkit import (
    Scene,
    background_pipeline,
    begin_pass,
    bind_group,
    depth_texture,
    look_at,
    mat_chain,
    pack_floats,
    perspective,
    render_pipeline,
    rotate_x,
    rotate_y,
    sampler,
    shader,
    texture,
    vertex_layout,
    writable_buffer,
    write_texture,
)
from wit_world.imports import webgpu

TOP = (0.16, 0.18, 0.28)
BOTTOM = (0.03, 0.03, 0.07)
EYE = (0.0, 0.0, 5.2)
LIGHT = (0.55, 0.75, 0.7)  # towards the light, world space
TEXTURE_SIZE = 256

# (normal, u axis, v axis, tint); u x v = normal, so every face is counter-clockwise from outside.
# +z first and -z last: the back face is drawn after the front one.
FACES = (
    ((0, 0, 1), (1, 0, 0), (0, 1, 0), (1.0, 0.42, 0.32)),  # FRONT
    ((1, 0, 0), (0, 0, -1), (0, 1, 0), (1.0, 0.78, 0.3)),
    ((-1, 0, 0), (0, 0, 1), (0, 1, 0), (0.45, 0.9, 0.5)),
    ((0, 1, 0), (1, 0, 0), (0, 0, -1), (0.95, 0.95, 0.95)),
    ((0, -1, 0), (1, 0, 0), (0, 0, 1), (0.8, 0.5, 0.95)),
    ((0, 0, -1), (-1, 0, 0), (0, 1, 0), (0.3, 0.55, 1.0)),  # BACK
)

SHADER = """
struct Uniforms {
    mvp: mat4x4<f32>,
    model: mat4x4<f32>,
    light: vec4<f32>,
    eye: vec4<f32>,
}
@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var checker: texture_2d<f32>;
@group(0) @binding(2) var smp: sampler;

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) uv: vec2<f32>,
    @location(3) tint: vec3<f32>,
}

@vertex
fn vs_main(
    @location(0) pos: vec3<f32>, @location(1) normal: vec3<f32>,
    @location(2) uv: vec2<f32>, @location(3) tint: vec3<f32>,
) -> VsOut {
    var out: VsOut;
    out.pos = u.mvp * vec4<f32>(pos, 1.0);
    out.world = (u.model * vec4<f32>(pos, 1.0)).xyz;
    out.normal = (u.model * vec4<f32>(normal, 0.0)).xyz;
    out.uv = uv;
    out.tint = tint;
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    let n = normalize(in.normal);
    let l = normalize(u.light.xyz);
    let v = normalize(u.eye.xyz - in.world);
    let diffuse = max(dot(n, l), 0.0);
    let spec = pow(max(dot(n, normalize(l + v)), 0.0), 40.0) * 0.35;
    let base = textureSample(checker, smp, in.uv).rgb * in.tint;
    return vec4<f32>(base * (0.3 + 0.75 * diffuse) + vec3<f32>(spec), 1.0);
}
"""


def cube_mesh() -> tuple[bytes, bytes, int]:
    """Vertex bytes (position, normal, uv, tint: 11 f32), u16 index bytes, index count."""
    vertices: list[float] = []
    indices: list[int] = []
    for normal, u, v, tint in FACES:
        base = len(vertices) // 11
        for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            pos = [normal[k] + a * u[k] + b * v[k] for k in range(3)]
            vertices += [*pos, *normal, (a + 1) / 2, (1 - b) / 2, *tint]
        indices += [base, base + 1, base + 2, base, base + 2, base + 3]
    return pack_floats(vertices), b"".join(i.to_bytes(2, "little") for i in indices), 36


def checker_pixels(size: int) -> bytes:
    """RGBA8 checker of 8x8 squares (255 and 158) with a darker frame at the face's edges."""
    square = size // 8
    edge = max(2, size // 64)
    rows: list[bytes] = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            value = 255 if ((x // square) + (y // square)) % 2 == 0 else 158
            if x < edge or y < edge or x >= size - edge or y >= size - edge:
                value = 60
            row += bytes((value, value, value, 255))
        rows.append(bytes(row))
    return b"".join(rows)


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        scene = Scene()
        device, queue = scene.device, scene.queue
        usage = webgpu.GpuBufferUsage
        vertex_data, index_data, index_count = cube_mesh()
        vertices = writable_buffer(device, len(vertex_data), usage.vertex(), "cube vertices", vertex_data)
        indices = writable_buffer(device, len(index_data), usage.index(), "cube indices", index_data)
        uniforms = writable_buffer(device, 160, usage.uniform(), "cube uniforms")

        tex_usage = webgpu.GpuTextureUsage.texture_binding() | webgpu.GpuTextureUsage.copy_dst()
        checker = texture(
            device, TEXTURE_SIZE, TEXTURE_SIZE, tex_usage, webgpu.GpuTextureFormat.RGBA8UNORM, label="checker"
        )
        write_texture(queue, checker, checker_pixels(TEXTURE_SIZE), TEXTURE_SIZE, TEXTURE_SIZE)

        f32x3, f32x2 = webgpu.GpuVertexFormat.FLOAT32X3, webgpu.GpuVertexFormat.FLOAT32X2
        layout = vertex_layout(44, (f32x3, 0), (f32x3, 12), (f32x2, 24), (f32x3, 32))
        module = shader(device, SHADER, "cube")
        pipeline = render_pipeline(
            device, module, scene.format, buffers=[layout], depth=True,
            cull=webgpu.GpuCullMode.NONE, label="cube",
        )  # fmt: skip
        background = background_pipeline(device, scene.format, TOP, BOTTOM, depth=True)
        group = bind_group(
            device,
            pipeline.get_bind_group_layout(0),
            [uniforms, checker.create_view(None), sampler(device)],
            "cube",
        )

        depth: webgpu.GpuTexture | None = None
        start: float | None = None
        for frame in scene.frames("resize"):
            now = time.monotonic()
            start = now if start is None else start
            t = now - start
            if depth is None or (depth.width(), depth.height()) != (frame.width, frame.height):
                depth = depth_texture(device, frame.width, frame.height)
            model = mat_chain(rotate_x(0.35 + 0.25 * math.sin(0.9 * t)), rotate_y(0.5 + 0.8 * t))
            view = look_at(EYE, (0.0, 0.0, 0.0))
            proj = perspective(math.radians(45), frame.width / frame.height, 0.1, 50.0)
            queue.write_buffer_with_copy(
                uniforms,
                0,
                pack_floats(mat_chain(proj, view, model), model, *LIGHT, 0.0, *EYE, 1.0),
                None,
                None,
            )
            encoder = device.create_command_encoder(None)
            rpass = begin_pass(encoder, frame.view(), BOTTOM, depth.create_view(None))
            rpass.set_pipeline(background)
            rpass.draw(3, None, None, None)
            rpass.set_pipeline(pipeline)
            rpass.set_bind_group(0, group, None, None, None)
            rpass.set_vertex_buffer(0, vertices, None, None)
            rpass.set_index_buffer(indices, webgpu.GpuIndexFormat.UINT16, None, None)
            rpass.draw_indexed(index_count, None, None, None, None)
            rpass.end()
            scene.submit(encoder)
            scene.present()
