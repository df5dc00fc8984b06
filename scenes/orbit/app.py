"""Orbit: drag to turn the camera around a shape; keys change its colour and shape.

Input (wasi:surface):
- drag (pointer down, move): grab and turn; dragging right turns the shape's front to the right
  (camera yaw -= 0.006 rad per pixel, so about one turn across a 1280-pixel surface), dragging
  down tips its top towards you (pitch += 0.006 rad per pixel, kept within [-0.15, 1.45]);
- arrow keys nudge the camera (15 degrees left/right, 10 degrees up/down); `=`/`-` (or the keypad's
  `+`/`-`) zoom in and out; `R` resets the camera, colour and shape;
- digits 1-6 (or the keypad's) pick colour COLOURS[digit - 1]; space picks the next colour;
  `S` or Enter the next shape (cube, sphere, torus);
- a resize is followed at once (the depth texture is remade at the new size).
While no button is held the camera drifts slowly around the shape (yaw -= 0.15 rad per second of
the host's clock); a drag holds it and turns from wherever the drift has brought it.

Defined for tests: the camera starts at yaw 0 (on +z), pitch 0.35, distance 5.5, looking at the
origin, where the shape sits (the cube, turned 0.6 rad about y, in colour COLOURS[0]). The shape's
pixels are its colour times one grey lighting factor between 0.25 and 1 (no specular), so every
pixel of it has the colour's proportions. A small white moon stays at (-1.5, -0.6, 1.6), front
left of the shape at the start, over a grey checker floor at y = -1.35 that fades into a dark
gradient.
"""

import math
import time
from collections.abc import Callable

import wit_world
from gfxkit import (
    Scene,
    background_pipeline,
    begin_pass,
    bind_group,
    depth_texture,
    identity,
    look_at,
    mat_chain,
    normalize,
    pack_floats,
    perspective,
    render_pipeline,
    rotate_x,
    rotate_y,
    scale,
    shader,
    translate,
    vertex_layout,
    writable_buffer,
)
from wit_world.imports import webgpu

COLOURS = (
    (0.95, 0.45, 0.35),  # 1 coral
    (0.95, 0.75, 0.25),  # 2 gold
    (0.35, 0.85, 0.55),  # 3 mint
    (0.30, 0.60, 0.95),  # 4 sky
    (0.65, 0.45, 0.95),  # 5 violet
    (0.92, 0.92, 0.90),  # 6 pearl
)
MOON = (-1.5, -0.6, 1.6)
MOON_COLOUR = (0.97, 0.97, 0.93)
TOP = (0.11, 0.13, 0.22)
BOTTOM = (0.05, 0.06, 0.11)
FOG = (0.07, 0.08, 0.15)
LIGHT = normalize((-0.5, 0.8, 0.45))
YAW, PITCH, DISTANCE = 0.0, 0.35, 5.5
PITCH_RANGE = (-0.15, 1.45)
DRAG = 0.006  # radians per pixel
DRIFT = 0.15  # radians per second
UNIFORM_SIZE = 176
SHAPE_POSES = (rotate_y(0.6), identity(), rotate_x(1.0))  # cube, sphere, torus: turned to look 3-d

SHADER = """
struct Uniforms {
    view_proj: mat4x4<f32>,
    model: mat4x4<f32>,
    colour: vec4<f32>,
    eye: vec4<f32>,
    light: vec4<f32>,
}
@group(0) @binding(0) var<uniform> u: Uniforms;

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
}

@vertex
fn vs_shape(@location(0) pos: vec3<f32>, @location(1) normal: vec3<f32>) -> VsOut {
    let world = u.model * vec4<f32>(pos, 1.0);
    return VsOut(u.view_proj * world, world.xyz, (u.model * vec4<f32>(normal, 0.0)).xyz);
}

@fragment
fn fs_shape(in: VsOut) -> @location(0) vec4<f32> {
    let n = normalize(in.normal);
    let v = normalize(u.eye.xyz - in.world);
    let light = 0.25 + 0.5 * max(dot(n, u.light.xyz), 0.0) + 0.25 * max(dot(n, v), 0.0);
    return vec4<f32>(u.colour.rgb * light, 1.0);
}

@vertex
fn vs_floor(@builtin(vertex_index) i: u32) -> VsOut {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0));
    let c = corners[i] * 30.0;
    let world = vec3<f32>(c.x, -1.35, c.y);
    return VsOut(u.view_proj * vec4<f32>(world, 1.0), world, vec3<f32>(0.0, 1.0, 0.0));
}

@fragment
fn fs_floor(in: VsOut) -> @location(0) vec4<f32> {
    let cell = floor(in.world.xz);
    let checker = select(0.20, 0.27, (i32(cell.x) + i32(cell.y)) % 2 == 0);
    let r2 = dot(in.world.xz, in.world.xz);
    let shadow = 1.0 - 0.55 * exp(-r2 / 2.0);
    let fog = clamp(length(in.world - u.eye.xyz) / 22.0, 0.0, 1.0);
    let colour = mix(vec3<f32>(checker * shadow) * vec3<f32>(0.9, 0.95, 1.0), u.colour.rgb, fog * fog);
    return vec4<f32>(colour, 1.0);
}
"""


def cube_mesh() -> tuple[list[float], list[int]]:
    """Half-size 1: 24 vertices (position, normal), 36 indices."""
    faces = (
        ((0, 0, 1), (1, 0, 0), (0, 1, 0)), ((0, 0, -1), (-1, 0, 0), (0, 1, 0)),
        ((1, 0, 0), (0, 0, -1), (0, 1, 0)), ((-1, 0, 0), (0, 0, 1), (0, 1, 0)),
        ((0, 1, 0), (1, 0, 0), (0, 0, -1)), ((0, -1, 0), (1, 0, 0), (0, 0, 1)),
    )  # fmt: skip
    vertices: list[float] = []
    indices: list[int] = []
    for n, u, v in faces:
        base = len(vertices) // 6
        for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            vertices += [n[k] + a * u[k] + b * v[k] for k in range(3)] + list(n)
        indices += [base, base + 1, base + 2, base, base + 2, base + 3]
    return vertices, indices


Point = Callable[[float, float], tuple[tuple[float, float, float], tuple[float, float, float]]]


def grid_mesh(rings: int, segments: int, point: Point) -> tuple[list[float], list[int]]:
    """A (rings+1) x (segments+1) grid of point(i/rings, j/segments) -> (position, normal),
    wound counter-clockwise seen from outside."""
    vertices: list[float] = []
    for i in range(rings + 1):
        for j in range(segments + 1):
            pos, normal = point(i / rings, j / segments)
            vertices += [*pos, *normal]
    indices: list[int] = []
    row = segments + 1
    for i in range(rings):
        for j in range(segments):
            a, b = i * row + j, (i + 1) * row + j
            indices += [a, a + 1, b, a + 1, b + 1, b]
    return vertices, indices


def sphere_point(s: float, t: float) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    theta, phi = s * math.pi, t * 2 * math.pi
    n = (math.sin(theta) * math.cos(phi), math.cos(theta), math.sin(theta) * math.sin(phi))
    return (n[0] * 1.25, n[1] * 1.25, n[2] * 1.25), n


def torus_point(s: float, t: float) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    big, small = 0.95, 0.38
    a, b = s * 2 * math.pi, t * 2 * math.pi
    n = (math.cos(a) * math.cos(b), math.sin(b), math.sin(a) * math.cos(b))
    pos = (
        (big + small * math.cos(b)) * math.cos(a),
        small * math.sin(b),
        (big + small * math.cos(b)) * math.sin(a),
    )
    return pos, n


class Camera:
    """Orbit camera state: yaw, pitch, distance; what the input changes."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.yaw, self.pitch, self.distance = YAW, PITCH, DISTANCE

    def turn(self, dyaw: float, dpitch: float) -> None:
        self.yaw += dyaw
        self.pitch = min(max(self.pitch + dpitch, PITCH_RANGE[0]), PITCH_RANGE[1])

    def eye(self) -> tuple[float, float, float]:
        c = math.cos(self.pitch) * self.distance
        return (c * math.sin(self.yaw), math.sin(self.pitch) * self.distance, c * math.cos(self.yaw))


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        scene = Scene()
        device, queue = scene.device, scene.queue
        usage = webgpu.GpuBufferUsage

        # All shapes in one vertex buffer and one index buffer; each draw picks its range.
        meshes = [cube_mesh(), grid_mesh(24, 48, sphere_point), grid_mesh(48, 24, torus_point)]
        ranges: list[tuple[int, int, int]] = []  # (first index, index count, base vertex)
        all_vertices: list[float] = []
        all_indices: list[int] = []
        for vertices, indices in meshes:
            ranges.append((len(all_indices), len(indices), len(all_vertices) // 6))
            all_vertices += vertices
            all_indices += indices
        vertex_data = pack_floats(all_vertices)
        index_data = b"".join(i.to_bytes(2, "little") for i in all_indices)
        vertex_buffer = writable_buffer(
            device, len(vertex_data), usage.vertex(), "orbit vertices", vertex_data
        )
        index_buffer = writable_buffer(device, len(index_data), usage.index(), "orbit indices", index_data)

        module = shader(device, SHADER, "orbit")
        f32x3 = webgpu.GpuVertexFormat.FLOAT32X3
        shape_pipeline = render_pipeline(
            device, module, scene.format, vertex="vs_shape", fragment="fs_shape",
            buffers=[vertex_layout(24, (f32x3, 0), (f32x3, 12))], depth=True,
            cull=webgpu.GpuCullMode.BACK, label="orbit shape",
        )  # fmt: skip
        floor_pipeline = render_pipeline(
            device,
            module,
            scene.format,
            vertex="vs_floor",
            fragment="fs_floor",
            depth=True,
            label="orbit floor",
        )
        background = background_pipeline(device, scene.format, TOP, BOTTOM, depth=True)
        # One uniform buffer and bind group per draw: the shape, the moon, the floor.
        uniforms = [
            writable_buffer(device, UNIFORM_SIZE, usage.uniform(), name)
            for name in ("shape", "moon", "floor")
        ]
        groups = [
            bind_group(device, pipeline.get_bind_group_layout(0), [uniform], "orbit")
            for pipeline, uniform in zip(
                (shape_pipeline, shape_pipeline, floor_pipeline), uniforms, strict=True
            )
        ]

        camera = Camera()
        colour, shape = 0, 0
        dragging: tuple[float, float] | None = None
        depth: webgpu.GpuTexture | None = None
        last: float | None = None
        for frame in scene.frames("pointer-down", "pointer-move", "pointer-up", "key-down", "resize"):
            now = time.monotonic()
            if last is not None and dragging is None:
                camera.turn(-DRIFT * (now - last), 0.0)
            last = now
            for event in frame.events:
                kind, data = event.kind, event.data
                if kind == "pointer-down":
                    dragging = (data.x, data.y)
                elif kind == "pointer-move" and dragging is not None:
                    camera.turn(-DRAG * (data.x - dragging[0]), DRAG * (data.y - dragging[1]))
                    dragging = (data.x, data.y)
                elif kind == "pointer-up":
                    dragging = None
                elif kind == "key-down" and data.key is not None:
                    key = data.key.name.lower()
                    if key.startswith(("digit", "numpad")) and key[-1] in "123456":
                        colour = int(key[-1]) - 1
                    elif key == "space":
                        colour = (colour + 1) % len(COLOURS)
                    elif key in ("key_s", "enter", "numpad_enter"):
                        shape = (shape + 1) % len(meshes)
                    elif key == "key_r":
                        camera.reset()
                        colour, shape = 0, 0
                    elif key == "arrow_left":
                        camera.turn(math.radians(15), 0.0)
                    elif key == "arrow_right":
                        camera.turn(-math.radians(15), 0.0)
                    elif key == "arrow_up":
                        camera.turn(0.0, math.radians(10))
                    elif key == "arrow_down":
                        camera.turn(0.0, -math.radians(10))
                    elif key in ("equal", "numpad_add"):
                        camera.distance = max(3.0, camera.distance / 1.15)
                    elif key in ("minus", "numpad_subtract"):
                        camera.distance = min(14.0, camera.distance * 1.15)

            if depth is None or (depth.width(), depth.height()) != (frame.width, frame.height):
                depth = depth_texture(device, frame.width, frame.height)
            eye = camera.eye()
            view_proj = mat_chain(
                perspective(math.radians(45), frame.width / frame.height, 0.1, 100.0),
                look_at(eye, (0.0, 0.0, 0.0)),
            )
            moon_model = mat_chain(translate(*MOON), scale(0.22))
            for uniform, model, rgb in (
                (uniforms[0], SHAPE_POSES[shape], COLOURS[colour]),
                (uniforms[1], moon_model, MOON_COLOUR),
                (uniforms[2], identity(), FOG),
            ):
                data = pack_floats(view_proj, model, *rgb, 1.0, *eye, 1.0, *LIGHT, 0.0)
                queue.write_buffer_with_copy(uniform, 0, data, None, None)

            encoder = device.create_command_encoder(None)
            rpass = begin_pass(encoder, frame.view(), BOTTOM, depth.create_view(None))
            rpass.set_pipeline(background)
            rpass.draw(3, None, None, None)
            rpass.set_pipeline(floor_pipeline)
            rpass.set_bind_group(0, groups[2], None, None, None)
            rpass.draw(6, None, None, None)
            rpass.set_pipeline(shape_pipeline)
            rpass.set_vertex_buffer(0, vertex_buffer, None, None)
            rpass.set_index_buffer(index_buffer, webgpu.GpuIndexFormat.UINT16, None, None)
            first, count, base = ranges[shape]
            rpass.set_bind_group(0, groups[0], None, None, None)
            rpass.draw_indexed(count, None, first, base, None)
            first, count, base = ranges[1]
            rpass.set_bind_group(0, groups[1], None, None, None)
            rpass.draw_indexed(count, None, first, base, None)
            rpass.end()
            scene.submit(encoder)
            scene.present()
