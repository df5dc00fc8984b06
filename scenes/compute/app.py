"""Compute: Conway's Game of Life stepped by a compute shader on storage buffers, one generation a frame.

The grid is CELL x CELL pixel cells, CELL = max(4, min(width, height) // 90) (8 at 1280x720, a
160x90 grid), gw = width // CELL columns and gh = height // CELL rows, centred: cell (cx, cy)
covers x in [ox + cx*CELL, ox + (cx+1)*CELL) with ox = (width - gw*CELL) // 2, and likewise in y.
The grid wraps at its edges (a torus). The seed comes from wasi:random (the host's seed makes
renders reproducible): each cell alive with probability 0.32. Frame n shows generation n (frame 0
the seed): every frame draws the current generation, then a compute pass (8x8 workgroups) writes
the next one into the other storage buffer.

Pixels, defined for tests: a live cell's centre pixel has a channel >= 0.95 (its colour runs from
ice blue to magenta with age); a dead cell glows dim blue for 24 generations after it dies, every
channel below 0.45; the gaps between cells are dark.

Input: a click or drag sows live cells around the pointer (a disc of radius 3 cells); `R` or
space sows a new random grid; a resize starts a new grid at the new size.
"""

import os
import random
import struct

import wit_world
from gfxkit import (
    Scene,
    begin_pass,
    bind_group,
    compute_pass,
    compute_pipeline,
    render_pipeline,
    shader,
    writable_buffer,
    write_buffer,
)
from wit_world.imports import surface, webgpu

DENSITY = 0.32
SOW_RADIUS = 3

# Params: 32 bytes as packed below (size at 0, cell at 8, offset at 16: vec2 aligns to 8).
COMMON = """
struct Params { size: vec2<u32>, cell: u32, offset: vec2<u32> }
const FADE: i32 = 24;
"""

STEP_SHADER = (
    COMMON
    + """
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<i32>;
@group(0) @binding(2) var<storage, read_write> dst: array<i32>;

fn alive(x: i32, y: i32) -> i32 {
    let w = i32(params.size.x);
    let h = i32(params.size.y);
    return select(0, 1, src[((y + h) % h) * w + (x + w) % w] > 0);
}

// A cell's state: > 0 alive for that many generations; < 0 dead for -state generations (faded
// out at -FADE, then 0); 0 empty.
@compute @workgroup_size(8, 8)
fn step(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.size.x || id.y >= params.size.y) {
        return;
    }
    let x = i32(id.x);
    let y = i32(id.y);
    let n = alive(x - 1, y - 1) + alive(x, y - 1) + alive(x + 1, y - 1)
          + alive(x - 1, y) + alive(x + 1, y)
          + alive(x - 1, y + 1) + alive(x, y + 1) + alive(x + 1, y + 1);
    let i = y * i32(params.size.x) + x;
    let s = src[i];
    var next = 0;
    if (s > 0) {
        next = select(-1, min(s + 1, 1000), n == 2 || n == 3);
    } else if (n == 3) {
        next = 1;
    } else if (s < 0 && s > -FADE) {
        next = s - 1;
    }
    dst[i] = next;
}
"""
)

DRAW_SHADER = (
    COMMON
    + """
@group(0) @binding(0) var<uniform> view: Params;
@group(0) @binding(1) var<storage, read> cells: array<i32>;

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    let xy = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u)) * 2.0 - 1.0;
    return vec4<f32>(xy, 0.0, 1.0);
}

@fragment
fn fs_main(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let cell = f32(view.cell);
    let p = pos.xy - vec2<f32>(view.offset);
    let c = floor(p / cell);
    let back = vec3<f32>(0.015, 0.018, 0.04);
    if (p.x < 0.0 || p.y < 0.0 || c.x >= f32(view.size.x) || c.y >= f32(view.size.y)) {
        return vec4<f32>(back, 1.0);
    }
    let s = cells[u32(c.y) * view.size.x + u32(c.x)];
    let d = length(p - (c + 0.5) * cell) / cell;  // 0 at the cell's centre
    var colour = back;
    if (s > 0) {
        let age = clamp(f32(s - 1) / 40.0, 0.0, 1.0);
        colour = mix(vec3<f32>(0.55, 0.95, 1.0), vec3<f32>(1.0, 0.35, 0.75), age);
    } else if (s < 0) {
        let k = 1.0 - f32(-s) / f32(FADE);
        colour = back + vec3<f32>(0.08, 0.18, 0.42) * k * k;
    }
    let inside = 1.0 - smoothstep(0.42, 0.56, d);
    return vec4<f32>(mix(back, colour, inside), 1.0);
}
"""
)


def seed_cells(rng: random.Random, count: int) -> bytes:
    """`count` i32 cells, each alive (1) with probability DENSITY."""
    return struct.pack(f"<{count}i", *(1 if rng.random() < DENSITY else 0 for _ in range(count)))


class Grid:
    """The two generations' storage buffers and the bind groups that step and draw them."""

    def __init__(self, scene: Scene, step: webgpu.GpuComputePipeline, draw: webgpu.GpuRenderPipeline,
                 width: int, height: int) -> None:  # fmt: skip
        device = scene.device
        self.cell = max(4, min(width, height) // 90)
        self.cols, self.rows = max(1, width // self.cell), max(1, height // self.cell)
        offset = ((width - self.cols * self.cell) // 2, (height - self.rows * self.cell) // 2)
        usage = webgpu.GpuBufferUsage
        params = struct.pack(
            "<4I2I2I", self.cols, self.rows, self.cell, 0, max(0, offset[0]), max(0, offset[1]), 0, 0
        )
        uniform = writable_buffer(device, len(params), usage.uniform(), "life params", params)
        size = 4 * self.cols * self.rows
        self.buffers = [writable_buffer(device, size, usage.storage(), f"life cells {i}") for i in range(2)]
        step_layout, draw_layout = step.get_bind_group_layout(0), draw.get_bind_group_layout(0)
        self.steps = [bind_group(device, step_layout, [uniform, self.buffers[i], self.buffers[1 - i]], "step")
                      for i in range(2)]  # fmt: skip
        self.draws = [bind_group(device, draw_layout, [uniform, self.buffers[i]], "draw") for i in range(2)]
        self.current = 0
        self.offset = offset
        self.size = (width, height)

    def sow_random(self, queue: webgpu.GpuQueue, rng: random.Random) -> None:
        write_buffer(queue, self.buffers[self.current], seed_cells(rng, self.cols * self.rows))

    def sow_at(self, queue: webgpu.GpuQueue, rng: random.Random, x: float, y: float) -> None:
        """Live cells, most of a disc around pixel (x, y) (rows written one call each)."""
        cx, cy = int((x - self.offset[0]) // self.cell), int((y - self.offset[1]) // self.cell)
        for dy in range(-SOW_RADIUS, SOW_RADIUS + 1):
            row = (cy + dy) % self.rows
            for dx in range(-SOW_RADIUS, SOW_RADIUS + 1):
                if dx * dx + dy * dy <= SOW_RADIUS * SOW_RADIUS and rng.random() < 0.6:
                    col = (cx + dx) % self.cols
                    queue.write_buffer_with_copy(
                        self.buffers[self.current],
                        4 * (row * self.cols + col),
                        struct.pack("<i", 1),
                        None,
                        None,
                    )


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        scene = Scene()
        device, queue = scene.device, scene.queue
        step = compute_pipeline(device, shader(device, STEP_SHADER, "life step"), "step", label="step")
        draw = render_pipeline(device, shader(device, DRAW_SHADER, "life draw"), scene.format, label="life")
        rng = random.Random(os.urandom(16))
        grid: Grid | None = None
        drawing = False
        for frame in scene.frames("pointer-down", "pointer-move", "pointer-up", "key-down", "resize"):
            if grid is None or (frame.width, frame.height) != grid.size:
                grid = Grid(scene, step, draw, frame.width, frame.height)
                grid.sow_random(queue, rng)
            for event in frame.events:
                if event.kind == "pointer-down":
                    drawing = True
                elif event.kind == "pointer-up":
                    drawing = False
                elif event.kind == "key-down" and event.data.key in (surface.Key.KEY_R, surface.Key.SPACE):
                    grid.sow_random(queue, rng)
                if drawing and event.kind in ("pointer-down", "pointer-move"):
                    grid.sow_at(queue, rng, event.data.x, event.data.y)

            encoder = device.create_command_encoder(None)
            rpass = begin_pass(encoder, frame.view(), (0.0, 0.0, 0.0))
            rpass.set_pipeline(draw)
            rpass.set_bind_group(0, grid.draws[grid.current], None, None, None)
            rpass.draw(3, None, None, None)
            rpass.end()
            compute_pass(encoder, step, grid.steps[grid.current], (grid.cols + 7) // 8, (grid.rows + 7) // 8)
            scene.submit(encoder)
            scene.present()
            grid.current ^= 1
