"""Random call scripts for the `gpu_fuzz` guest: `generate(seed, episode, calls)`.

The same seed, episode and length give the same script whatever the host answers: the generator
keeps its own model of what each slot holds (its kind and device), never the host's replies, so a
replay is a replay. Arguments are mostly of the right kind and device; now and then of another
device, an empty, dropped or consumed slot, duplicated in a list, or at an extreme value.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .script import U32_MAX, U64_MAX, Op, data, enum, rec, rec_in, ref

__all__ = ["generate"]

COMPUTE_WGSL = (
    "@group(0) @binding(0) var<storage, read_write> data: array<u32>;\n"
    "@compute @workgroup_size(1) fn main() { data[0] = data[0] + 1u; }\n"
)
RENDER_WGSL = (
    "@vertex fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4f {\n"
    "  let x = f32(i & 1u) * 2.0 - 1.0; let y = f32(i >> 1u) * 2.0 - 1.0;\n"
    "  return vec4f(x, y, 0.0, 1.0); }\n"
    "@fragment fn fs() -> @location(0) vec4f { return vec4f(1.0, 0.5, 0.0, 1.0); }\n"
)
BAD_WGSL = "fn broken( {"
SHADERS = (COMPUTE_WGSL, RENDER_WGSL, BAD_WGSL)

BUFFER_USAGES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)  # MAP_READ ... QUERY_RESOLVE
VERTEX_USAGE = 32
TEXTURE_USAGES = (1, 2, 4, 8, 16)
FORMATS = ("RGBA8UNORM", "R32FLOAT", "DEPTH32FLOAT", "DEPTH24PLUS_STENCIL8", "BGRA8UNORM", "RGBA32FLOAT")
SMALL = (0, 1, 4, 16, 64, 256)
EXTREME_U32 = (3, 255, 257, 65535, 65536, 1 << 31, U32_MAX)
EXTREME_U64 = (3, 1 << 32, 1 << 40, 1 << 53, 1 << 63, U64_MAX)

# What the generator believes each slot holds.
DEVICE, QUEUE, BUFFER, TEXTURE = "GpuDevice", "GpuQueue", "GpuBuffer", "GpuTexture"
VIEW, SAMPLER, SHADER = "GpuTextureView", "GpuSampler", "GpuShaderModule"
CPIPE, RPIPE = "GpuComputePipeline", "GpuRenderPipeline"
BGL, BG, ENCODER = "GpuBindGroupLayout", "GpuBindGroup", "GpuCommandEncoder"
RPASS, CPASS, CBUF = "GpuRenderPassEncoder", "GpuComputePassEncoder", "GpuCommandBuffer"
BENC, BUNDLE, QSET = "GpuRenderBundleEncoder", "GpuRenderBundle", "GpuQuerySet"
CONTEXT, ABUF, ADAPTER, ERROR = "Context", "AbstractBuffer", "GpuAdapter", "GpuError"
FBDEV, FBBUF, SURFACE, PLAYOUT = "Device", "Buffer", "Surface", "GpuPipelineLayout"
LIMITS, INFO, RECORD = "GpuSupportedLimits", "GpuCompilationInfo", "RecordOptionGpuSize64"
CONSTANTS = "RecordGpuPipelineConstantValue"
LABELS = ("", "a", "é😀", "x" * 5000, "nul\x00inside")
LIMIT_NAMES = ("max-bind-groups", "max-buffer-size", "max-texture-dimension2-d", "no-such-limit")
FEATURES = ("TIMESTAMP_QUERY", "DEPTH32FLOAT_STENCIL8", "SHADER_F16", "SUBGROUPS")


@dataclass
class _Model:
    kinds: dict[int, str] = field(default_factory=dict)
    devices: dict[int, int] = field(default_factory=dict)  # slot -> the device slot it was made on
    dropped: list[int] = field(default_factory=list)
    scopes: dict[int, int] = field(default_factory=dict)  # device slot -> error scopes pushed


class _Generator:
    """One episode's random calls. Arguments are mostly of the right kind and device, sometimes of
    another device, an empty, dropped or consumed slot, duplicated in lists, or at extreme values."""

    SLOTS = 48

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.model = _Model()
        self.ops: list[Op] = []

    # --- slots -----------------------------------------------------------------------------------

    def new_slot(self) -> int:
        free = [i for i in range(self.SLOTS) if i not in self.model.kinds]
        if free and self.rng.random() < 0.9:
            return self.rng.choice(free)
        return self.rng.randrange(self.SLOTS)  # overwriting drops the old object

    def of(self, kind: str, device: int | None = None) -> int | None:
        """A slot believed to hold `kind`, preferring `device`'s; now and then any slot at all."""
        rng, model = self.rng, self.model
        if rng.random() < 0.004:
            return rng.randrange(self.SLOTS)  # the wrong kind (the guest traps), or empty
        found = [s for s, k in model.kinds.items() if k == kind]
        if device is not None and rng.random() < 0.85:
            same = [s for s in found if model.devices.get(s) == device]
            found = same or found
        return rng.choice(found) if found else None

    def emit(
        self,
        target: Any,
        method: str | None,
        args: list[Any],
        kind: str | None = None,
        device: int | None = None,
    ) -> int | None:
        op: Op = {"t": ref(target) if isinstance(target, int) else target, "c": method, "a": args}
        slot = None
        if kind is not None:
            slot = op["o"] = self.new_slot()
            self.model.kinds[slot] = kind
            if device is not None:
                self.model.devices[slot] = device
            else:
                self.model.devices.pop(slot, None)
        self.ops.append(op)
        return slot

    def u32(self, small: tuple[int, ...] = SMALL) -> int:
        return self.rng.choice(EXTREME_U32) if self.rng.random() < 0.08 else self.rng.choice(small)

    def u64(self, small: tuple[int, ...] = SMALL) -> int:
        return self.rng.choice(EXTREME_U64) if self.rng.random() < 0.08 else self.rng.choice(small)

    def opt(self, value: Any, p: float = 0.5) -> Any:
        return value if self.rng.random() < p else None

    def flags(self, bits: tuple[int, ...]) -> int:
        value = 0
        for _ in range(self.rng.randint(1, 3)):
            value |= self.rng.choice(bits)
        return value

    def listed(self, kind: str, device: int | None, most: int = 3) -> list[Any]:
        """Slots of `kind` for a list argument, with duplicates on purpose now and then."""
        items = [self.of(kind, device) for _ in range(self.rng.randint(0, most))]
        refs = [ref(s) for s in items if s is not None]
        if refs and self.rng.random() < 0.15:
            refs.append(self.rng.choice(refs))
        return refs

    # --- setup -----------------------------------------------------------------------------------

    def setup(self) -> None:
        gpu = self.emit({"m": "webgpu"}, "get_gpu", [], "Gpu")
        adapter = self.emit(gpu, "request_adapter", [None], ADAPTER)
        for _ in range(self.rng.choice((1, 1, 2))):
            self.request_device(adapter)

    def request_device(self, adapter: int | None = None) -> None:
        adapter = adapter if adapter is not None else self.of(ADAPTER)
        if adapter is None:
            return
        device = self.emit(adapter, "request_device", [None], DEVICE)
        assert device is not None
        self.model.devices[device] = device
        self.emit(device, "queue", [], QUEUE, device)

    # --- one random call -------------------------------------------------------------------------

    def step(self) -> None:
        rng = self.rng
        actions = self.ACTIONS
        for _ in range(8):
            name, _weight = rng.choices(actions, weights=[w for _, w in actions])[0]
            before = len(self.ops)
            getattr(self, name)()
            if len(self.ops) > before:
                return

    def device(self) -> int | None:
        return self.of(DEVICE)

    def create_buffer(self) -> None:
        dev = self.device()
        if dev is None:
            return
        size = self.u64((0, 4, 16, 64, 256, 1024, 4096))
        usage = self.flags(BUFFER_USAGES) if self.rng.random() < 0.9 else self.u32()
        mapped = self.rng.random() < 0.2
        desc = rec("GpuBufferDescriptor", size=size, usage=usage, mapped_at_creation=mapped)
        self.emit(dev, "create_buffer", [desc], BUFFER, dev)

    def create_texture(self) -> None:
        dev = self.device()
        if dev is None:
            return
        rng = self.rng
        extent = rec(
            "GpuExtent3D",
            width=self.u32((1, 4, 16, 32)),
            height=self.opt(self.u32((1, 4, 16))),
            depth_or_array_layers=self.opt(self.u32((1, 2, 6))),
        )
        desc = rec(
            "GpuTextureDescriptor",
            size=extent,
            format=enum("GpuTextureFormat", rng.choice(FORMATS)),
            usage=self.flags(TEXTURE_USAGES),
            mip_level_count=self.opt(self.u32((1, 2, 3))),
            sample_count=self.opt(rng.choice((1, 4, 3, 0))),
            dimension=self.opt(enum("GpuTextureDimension", rng.choice(("D1", "D2", "D3")))),
        )
        self.emit(dev, "create_texture", [desc], TEXTURE, dev)

    def create_view(self) -> None:
        texture = self.of(TEXTURE)
        if texture is None:
            return
        desc = None
        if self.rng.random() < 0.3:
            desc = rec(
                "GpuTextureViewDescriptor",
                base_mip_level=self.opt(self.u32((0, 1))),
                mip_level_count=self.opt(self.u32((1, 2))),
                base_array_layer=self.opt(self.u32((0, 1))),
                array_layer_count=self.opt(self.u32((1, 2))),
            )
        self.emit(texture, "create_view", [desc], VIEW, self.model.devices.get(texture))

    def create_sampler(self) -> None:
        dev = self.device()
        if dev is not None:
            self.emit(dev, "create_sampler", [None], SAMPLER, dev)

    def create_shader(self) -> None:
        dev = self.device()
        if dev is not None:
            code = self.rng.choice(SHADERS)
            self.emit(dev, "create_shader_module", [rec("GpuShaderModuleDescriptor", code=code)], SHADER, dev)

    def create_compute_pipeline(self) -> None:
        dev = self.device()
        module = self.of(SHADER, dev)
        if dev is None or module is None:
            return
        constants = self.opt(ref(c), 0.3) if (c := self.of(CONSTANTS)) is not None else None
        stage = rec(
            "GpuProgrammableStage", module=ref(module), entry_point=self.opt("main", 0.9), constants=constants
        )
        layout = rec("GpuLayoutMode_Auto")
        if self.rng.random() < 0.3 and (explicit := self.of(PLAYOUT, dev)) is not None:
            layout = rec("GpuLayoutMode_Specific", value=ref(explicit))
        desc = rec("GpuComputePipelineDescriptor", compute=stage, layout=layout)
        method = self.rng.choice(("create_compute_pipeline", "create_compute_pipeline_async"))
        self.emit(dev, method, [desc], CPIPE, dev)

    def create_render_pipeline(self) -> None:
        dev = self.device()
        module = self.of(SHADER, dev)
        if dev is None or module is None:
            return
        fmt = "RGBA8UNORM" if self.rng.random() < 0.8 else self.rng.choice(FORMATS)
        desc = self.render_pipeline(module, enum("GpuTextureFormat", fmt))
        desc["f"]["multisample"] = self.opt(rec("GpuMultisampleState", count=self.rng.choice((1, 4))), 0.2)
        self.emit(dev, "create_render_pipeline", [desc], RPIPE, dev)

    def render_pipeline(self, module: int, fmt: dict[str, str]) -> dict[str, Any]:
        """A render pipeline descriptor: `module`'s `vs` and `fs`, one target of `fmt`."""
        target = rec("GpuColorTargetState", format=fmt)
        return rec(
            "GpuRenderPipelineDescriptor",
            vertex=rec("GpuVertexState", module=ref(module), entry_point="vs"),
            fragment=rec("GpuFragmentState", module=ref(module), entry_point="fs", targets=[target]),
            layout=rec("GpuLayoutMode_Auto"),
        )

    def get_bind_group_layout(self) -> None:
        pipeline = self.of(self.rng.choice((CPIPE, RPIPE)))
        if pipeline is not None:
            index = self.u32((0, 0, 1))
            self.emit(pipeline, "get_bind_group_layout", [index], BGL, self.model.devices.get(pipeline))

    def create_bind_group(self) -> None:
        dev = self.device()
        layout = self.of(BGL, dev)
        if dev is None or layout is None:
            return
        entries = []
        for binding in range(self.rng.choice((0, 1, 1, 2))):
            resource = self.binding_resource(dev)
            if resource is not None:
                entries.append(rec("GpuBindGroupEntry", binding=binding, resource=resource))
        if entries and self.rng.random() < 0.1:
            entries.append(self.rng.choice(entries))
        desc = rec("GpuBindGroupDescriptor", layout=ref(layout), entries=entries)
        self.emit(dev, "create_bind_group", [desc], BG, dev)

    def binding_resource(self, dev: int) -> dict[str, Any] | None:
        roll = self.rng.random()
        if roll < 0.8:
            buffer = self.of(BUFFER, dev)
            if buffer is None:
                return None
            binding = rec(
                "GpuBufferBinding",
                buffer=ref(buffer),
                offset=self.opt(self.u64((0, 256))),
                size=self.opt(self.u64((4, 16))),
            )
            return rec("GpuBindingResource_GpuBufferBinding", value=binding)
        kind, case = (SAMPLER, "GpuSampler") if roll < 0.9 else (VIEW, "GpuTextureView")
        slot = self.of(kind, dev)
        return None if slot is None else rec(f"GpuBindingResource_{case}", value=ref(slot))

    def create_encoder(self) -> None:
        dev = self.device()
        if dev is not None:
            self.emit(dev, "create_command_encoder", [None], ENCODER, dev)

    def begin_render_pass(self) -> None:
        encoder = self.of(ENCODER)
        if encoder is None:
            return
        dev = self.model.devices.get(encoder)
        attachments: list[Any] = []
        for _ in range(self.rng.choice((1, 1, 1, 2, 0))):
            view = self.of(VIEW, dev)
            if view is None:
                continue
            attachments.append(
                rec(
                    "GpuRenderPassColorAttachment",
                    view=ref(view),
                    load_op=enum("GpuLoadOp", "CLEAR"),
                    store_op=enum("GpuStoreOp", "STORE"),
                    resolve_target=self.opt(ref(view), 0.05),
                    clear_value=self.opt(rec("GpuColor", r=0.0, g=1.0, b=0.0, a=1.0)),
                )
            )
        if attachments and self.rng.random() < 0.1:
            attachments.append(self.rng.choice(attachments))
        depth = None
        if self.rng.random() < 0.15:
            view = self.of(VIEW, dev)
            if view is not None:
                depth = rec(
                    "GpuRenderPassDepthStencilAttachment",
                    view=ref(view),
                    depth_load_op=self.opt(enum("GpuLoadOp", "CLEAR")),
                    depth_store_op=self.opt(enum("GpuStoreOp", "STORE")),
                    depth_clear_value=self.opt(1.0),
                )
        query = self.opt(ref(q), 0.2) if (q := self.of(QSET, dev)) is not None else None
        desc = rec(
            "GpuRenderPassDescriptor",
            color_attachments=attachments,
            depth_stencil_attachment=depth,
            occlusion_query_set=query,
            max_draw_count=self.opt(self.u64(), 0.05),
        )
        self.emit(encoder, "begin_render_pass", [desc], RPASS, dev)

    def begin_compute_pass(self) -> None:
        encoder = self.of(ENCODER)
        if encoder is None:
            return
        dev = self.model.devices.get(encoder)
        desc = None
        if self.rng.random() < 0.2 and (qset := self.of(QSET, dev)) is not None:
            writes = rec(
                "GpuComputePassTimestampWrites",
                query_set=ref(qset),
                beginning_of_pass_write_index=self.opt(self.u32((0, 1))),
                end_of_pass_write_index=self.opt(self.u32((0, 1))),
            )
            desc = rec("GpuComputePassDescriptor", timestamp_writes=writes)
        self.emit(encoder, "begin_compute_pass", [desc], CPASS, dev)

    def render_command(self) -> None:
        kind = RPASS if self.rng.random() < 0.7 else BENC
        target = self.of(kind)
        if target is None:
            return
        dev = self.model.devices.get(target)
        rng = self.rng
        choice = rng.randrange(7)
        if choice == 0 and (pipeline := self.of(RPIPE, dev)) is not None:
            self.emit(target, "set_pipeline", [ref(pipeline)])
        elif choice == 1:
            # Small counts: a valid draw of billions of vertices would run for minutes on lavapipe.
            count, instances = self.rng.choice((3, 4, 6)), self.opt(self.rng.choice((1, 2)))
            self.emit(target, "draw", [count, instances, self.opt(self.u32((0,))), self.opt(self.u32((0,)))])
        elif choice == 2 and (buffer := self.of(BUFFER, dev)) is not None:
            self.emit(
                target,
                "set_vertex_buffer",
                [self.u32((0, 1)), ref(buffer), self.opt(self.u64((0, 4))), self.opt(self.u64((4, 16)))],
            )
        elif choice == 3 and (buffer := self.of(BUFFER, dev)) is not None:
            fmt = enum("GpuIndexFormat", rng.choice(("UINT16", "UINT32")))
            self.emit(target, "set_index_buffer", [ref(buffer), fmt, self.opt(self.u64((0, 4))), None])
        elif choice == 4:
            self.emit(
                target, "draw_indexed", [rng.choice((3, 6)), None, None, self.opt(self.u32((0,))), None]
            )
        elif choice == 5 and (buffer := self.of(BUFFER, dev)) is not None:
            method = rng.choice(("draw_indirect", "draw_indexed_indirect"))
            self.emit(target, method, [ref(buffer), self.u64((0, 4, 16))])
        elif choice == 6:
            self.set_bind_group(target, dev)

    def set_bind_group(self, target: int, dev: int | None) -> None:
        group = self.of(BG, dev)
        if group is None and self.rng.random() < 0.9:
            return  # a null bind group ends the guest: now and then only
        offsets = [self.u32((0, 256)) for _ in range(self.rng.choice((0, 0, 1, 2)))]
        args = [self.u32((0, 0, 1)), self.opt(ref(group), 0.97) if group is not None else None]
        args += [self.opt(offsets), self.opt(self.u64((0, 1)), 0.2), self.opt(self.u32((0, 1)), 0.2)]
        self.emit(target, "set_bind_group", args)

    def pass_only_command(self) -> None:
        rpass = self.of(RPASS)
        if rpass is None:
            return
        choice = self.rng.randrange(5)
        if choice == 0:
            self.emit(
                rpass, "set_viewport", [0.0, 0.0, self.rng.choice((1.0, 16.0, 1e30, -5.0)), 8.0, 0.0, 1.0]
            )
        elif choice == 1:
            self.emit(rpass, "set_scissor_rect", [0, 0, self.u32((1, 8)), self.u32((1, 8))])
        elif choice == 2:
            self.emit(rpass, "begin_occlusion_query", [self.u32((0, 1))])
        elif choice == 3:
            self.emit(rpass, "end_occlusion_query", [])
        else:
            bundles = self.listed(BUNDLE, self.model.devices.get(rpass))
            self.emit(rpass, "execute_bundles", [bundles])

    def compute_command(self) -> None:
        cpass = self.of(CPASS)
        if cpass is None:
            return
        dev = self.model.devices.get(cpass)
        choice = self.rng.randrange(4)
        if choice == 0 and (pipeline := self.of(CPIPE, dev)) is not None:
            self.emit(cpass, "set_pipeline", [ref(pipeline)])
        elif choice == 1:
            # Small counts or over the 65535 limit: a valid dispatch of millions of groups would run long.
            count = self.rng.choice((1, 2, 65536, U32_MAX))
            self.emit(cpass, "dispatch_workgroups", [count, self.opt(1), self.opt(1)])
        elif choice == 2 and (buffer := self.of(BUFFER, dev)) is not None:
            self.emit(cpass, "dispatch_workgroups_indirect", [ref(buffer), self.u64((0, 4))])
        else:
            self.set_bind_group(cpass, dev)

    def end_pass(self) -> None:
        target = self.of(self.rng.choice((RPASS, CPASS)))
        if target is not None:
            self.emit(target, "end", [])

    def debug_marker(self) -> None:
        target = self.of(self.rng.choice((ENCODER, RPASS, CPASS, BENC)))
        if target is not None:
            method = self.rng.choice(("push_debug_group", "pop_debug_group", "insert_debug_marker"))
            self.emit(target, method, [] if method == "pop_debug_group" else ["m"])

    def copy(self) -> None:
        encoder = self.of(ENCODER)
        if encoder is None:
            return
        dev = self.model.devices.get(encoder)
        choice = self.rng.randrange(5)
        if choice == 0:
            src, dst = self.of(BUFFER, dev), self.of(BUFFER, dev)
            if src is not None and dst is not None:
                self.emit(
                    encoder,
                    "copy_buffer_to_buffer",
                    [ref(src), self.u64((0, 4)), ref(dst), self.u64((0, 4)), self.u64((4, 16, 64))],
                )
        elif choice == 1 and (buffer := self.of(BUFFER, dev)) is not None:
            self.emit(
                encoder,
                "clear_buffer",
                [ref(buffer), self.opt(self.u64((0, 4))), self.opt(self.u64((4, 16)))],
            )
        elif choice in (2, 3):
            buffer, texture = self.of(BUFFER, dev), self.of(TEXTURE, dev)
            if buffer is None or texture is None:
                return
            buf_info = rec(
                "GpuTexelCopyBufferInfo",
                buffer=ref(buffer),
                offset=self.opt(self.u64((0, 256))),
                bytes_per_row=self.opt(self.u32((256, 512, 4))),
                rows_per_image=self.opt(self.u32((1, 4))),
            )
            tex_info = rec(
                "GpuTexelCopyTextureInfo",
                texture=ref(texture),
                mip_level=self.opt(self.u32((0, 1))),
                origin=self.opt(rec("GpuOrigin3D", x=self.u32((0, 1)), y=0, z=0)),
            )
            size = rec(
                "GpuExtent3D",
                width=self.u32((1, 4)),
                height=self.opt(self.u32((1, 4))),
                depth_or_array_layers=None,
            )
            if choice == 2:
                self.emit(encoder, "copy_buffer_to_texture", [buf_info, tex_info, size])
            else:
                self.emit(encoder, "copy_texture_to_buffer", [tex_info, buf_info, size])
        elif choice == 4:
            qset, buffer = self.of(QSET, dev), self.of(BUFFER, dev)
            if qset is not None and buffer is not None:
                self.emit(
                    encoder,
                    "resolve_query_set",
                    [ref(qset), self.u32((0, 1)), self.u32((1, 2)), ref(buffer), self.u64((0, 256))],
                )

    def copy_texture_to_texture(self) -> None:
        encoder = self.of(ENCODER)
        dev = self.model.devices.get(encoder) if encoder is not None else None
        src, dst = self.of(TEXTURE, dev), self.of(TEXTURE, dev)
        if encoder is None or src is None or dst is None:
            return
        size = rec(
            "GpuExtent3D",
            width=self.u32((1, 4)),
            height=self.opt(self.u32((1, 4))),
            depth_or_array_layers=None,
        )
        self.emit(
            encoder,
            "copy_texture_to_texture",
            [
                rec("GpuTexelCopyTextureInfo", texture=ref(src)),
                rec("GpuTexelCopyTextureInfo", texture=ref(dst)),
                size,
            ],
        )

    def finish(self) -> None:
        encoder = self.of(ENCODER)
        if encoder is not None:
            self.emit(encoder, "finish", [None], CBUF, self.model.devices.get(encoder))

    def submit(self) -> None:
        queue = self.of(QUEUE)
        if queue is not None:
            self.emit(queue, "submit", [self.listed(CBUF, self.model.devices.get(queue))])

    def queue_write(self) -> None:
        queue = self.of(QUEUE)
        if queue is None:
            return
        dev = self.model.devices.get(queue)
        if self.rng.random() < 0.7 and (buffer := self.of(BUFFER, dev)) is not None:
            size = self.rng.choice((0, 4, 16, 64))
            self.emit(
                queue,
                "write_buffer_with_copy",
                [
                    ref(buffer),
                    self.u64((0, 4)),
                    data(size, 7),
                    self.opt(self.u64((0, 4)), 0.2),
                    self.opt(self.u64((4,)), 0.2),
                ],
            )
        elif (texture := self.of(TEXTURE, dev)) is not None:
            dest = rec("GpuTexelCopyTextureInfo", texture=ref(texture), mip_level=self.opt(self.u32((0, 1))))
            layout = rec(
                "GpuTexelCopyBufferLayout",
                offset=self.opt(self.u64((0, 4))),
                bytes_per_row=self.opt(self.u32((16, 64))),
                rows_per_image=None,
            )
            extent = rec(
                "GpuExtent3D",
                width=self.u32((1, 4)),
                height=self.opt(self.u32((1, 4))),
                depth_or_array_layers=None,
            )
            self.emit(
                queue,
                "write_texture_with_copy",
                [dest, data(self.rng.choice((0, 16, 64, 256))), layout, extent],
            )

    def work_done(self) -> None:
        queue = self.of(QUEUE)
        if queue is not None:
            self.emit(queue, "on_submitted_work_done", [])

    def map_call(self) -> None:
        buffer = self.of(BUFFER)
        if buffer is None:
            return
        rng = self.rng
        choice = rng.randrange(10)  # getters on an invalid buffer end the guest: 1 in 10
        if choice in (0, 5, 6):
            mode = rng.choice((1, 1, 2, 2, 3, 0))
            self.emit(buffer, "map_async", [mode, self.opt(self.u64((0, 8))), self.opt(self.u64((4, 8)))])
        elif choice in (1, 7):
            self.emit(
                buffer,
                "get_mapped_range_get_with_copy",
                [self.opt(self.u64((0, 8))), self.opt(self.u64((4, 8)))],
            )
        elif choice in (2, 8):
            self.emit(
                buffer,
                "get_mapped_range_set_with_copy",
                [data(rng.choice((0, 4, 8, 64)), 1), self.opt(self.u64((0, 8))), self.opt(self.u64((4, 8)))],
            )
        elif choice in (3, 4):
            self.emit(buffer, "unmap", [])
        else:
            self.emit(buffer, rng.choice(("size", "usage", "map_state")), [])

    def destroy(self) -> None:
        kind = self.rng.choice((BUFFER, BUFFER, TEXTURE, TEXTURE, QSET, DEVICE))
        if kind == DEVICE and self.rng.random() < 0.7:
            return  # destroying a device ends most of the episode's work: less often
        target = self.of(kind)
        if target is not None:
            self.emit(target, "destroy", [])

    def texture_getter(self) -> None:
        texture = self.of(TEXTURE)
        if texture is not None:
            method = self.rng.choice(("width", "height", "format", "usage", "dimension", "sample_count"))
            self.emit(texture, method, [])

    def query_set(self) -> None:
        dev = self.device()
        if dev is not None:
            kind = enum("GpuQueryType", self.rng.choice(("OCCLUSION", "OCCLUSION", "TIMESTAMP")))
            desc = rec("GpuQuerySetDescriptor", type=kind, count=self.u32((1, 2, 4096, 4097)))
            self.emit(dev, "create_query_set", [desc], QSET, dev)

    def bundle_encoder(self) -> None:
        dev = self.device()
        if dev is None:
            return
        rng = self.rng
        formats = [enum("GpuTextureFormat", "RGBA8UNORM") for _ in range(rng.choice((1, 1, 0, 2, 9)))]
        desc = rec(
            "GpuRenderBundleEncoderDescriptor",
            color_formats=formats,
            sample_count=self.opt(rng.choice((1, 4, 0, 3, 64)), 0.2),
        )
        self.emit(dev, "create_render_bundle_encoder", [desc], BENC, dev)

    def bundle_draw(self) -> None:
        """A bundle that draws from a vertex buffer, made whole in one go (a random walk seldom
        gets that far before an episode fails): often the buffer is still mapped at creation when
        the bundle is finished. The host checks a bundle's commands in a pass that it submits, and
        wgpu-native aborts on a submit that uses a mapped buffer."""
        dev = self.device()
        if dev is None:
            return
        rgba8 = enum("GpuTextureFormat", "RGBA8UNORM")
        desc = rec("GpuRenderBundleEncoderDescriptor", color_formats=[rgba8])
        encoder = self.emit(dev, "create_render_bundle_encoder", [desc], BENC, dev)
        code = rec("GpuShaderModuleDescriptor", code=RENDER_WGSL)
        module = self.emit(dev, "create_shader_module", [code], SHADER, dev)
        assert encoder is not None and module is not None
        pipeline = self.emit(dev, "create_render_pipeline", [self.render_pipeline(module, rgba8)], RPIPE, dev)
        mapped = self.rng.random() < 0.7
        desc = rec("GpuBufferDescriptor", size=256, usage=VERTEX_USAGE, mapped_at_creation=mapped)
        buffer = self.emit(dev, "create_buffer", [desc], BUFFER, dev)
        assert pipeline is not None and buffer is not None
        self.emit(encoder, "set_pipeline", [ref(pipeline)])
        self.emit(encoder, "set_vertex_buffer", [0, ref(buffer), None, None])
        self.emit(encoder, "draw", [3, None, None, None])
        self.emit(encoder, "finish", [None], BUNDLE, dev)

    def bundle_finish(self) -> None:
        encoder = self.of(BENC)
        if encoder is not None:
            self.emit(encoder, "finish", [None], BUNDLE, self.model.devices.get(encoder))

    def error_scope(self) -> None:
        dev = self.device()
        if dev is None:
            return
        depth = self.model.scopes.get(dev, 0)
        if depth and self.rng.random() < 0.5:
            self.model.scopes[dev] = depth - 1
            self.emit(dev, "pop_error_scope", [], ERROR, dev)
        elif depth < 4:
            self.model.scopes[dev] = depth + 1
            filter_ = self.rng.choice(("VALIDATION", "VALIDATION", "OUT_OF_MEMORY", "INTERNAL"))
            self.emit(dev, "push_error_scope", [enum("GpuErrorFilter", filter_)])

    def context_call(self) -> None:
        rng = self.rng
        choice = rng.randrange(6)
        context = self.of(CONTEXT)
        if choice == 0 or context is None:
            context = self.emit({"k": "Context", "m": "graphics_context"}, None, [], CONTEXT)
            if (dev := self.device()) is not None and context is not None and rng.random() < 0.9:
                self.emit(dev, "connect_graphics_context", [ref(context)])
        elif choice == 1 and (dev := self.device()) is not None:
            self.emit(dev, "connect_graphics_context", [ref(context)])
        elif choice in (2, 4):
            self.emit(context, "get_current_buffer", [], ABUF)
            if choice == 4:
                self.emit(context, "present", [])
        elif choice == 3 and (abuf := self.of(ABUF)) is not None:
            self.emit({"k": "GpuTexture"}, "from_graphics_buffer", [ref(abuf)], TEXTURE)
        elif choice == 5:
            if rng.random() < 0.5:
                self.emit({"k": "Device", "m": "frame_buffer"}, None, [], FBDEV)
            elif (fbdev := self.of(FBDEV)) is not None:
                self.emit(fbdev, "connect_graphics_context", [ref(context)])

    def drop(self) -> None:
        if not self.model.kinds:
            return
        slot = self.rng.choice(sorted(self.model.kinds))
        self.ops.append({"drop": slot})
        del self.model.kinds[slot]
        self.model.dropped.append(slot)

    def another_device(self) -> None:
        if sum(1 for k in self.model.kinds.values() if k == DEVICE) < 3:
            self.request_device()

    def create_bind_group_layout(self) -> None:
        dev = self.device()
        if dev is None:
            return
        rng = self.rng
        entries = []
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            binding = rng.choice((0, 0, 1, 2, 999, U32_MAX))
            visibility = rng.choice((1, 2, 4, 6, 7)) if rng.random() < 0.95 else self.u32()
            kind = rng.randrange(4)
            fields: dict[str, Any] = {"binding": binding, "visibility": visibility}
            if kind == 0:
                fields["buffer"] = rec(
                    "GpuBufferBindingLayout",
                    type=self.opt(
                        enum("GpuBufferBindingType", rng.choice(("UNIFORM", "STORAGE", "READ_ONLY_STORAGE")))
                    ),
                    has_dynamic_offset=self.opt(rng.random() < 0.5),
                    min_binding_size=self.opt(self.u64((0, 4, 16))),
                )
            elif kind == 1:
                fields["sampler"] = rec("GpuSamplerBindingLayout")
            elif kind == 2:
                fields["texture"] = rec("GpuTextureBindingLayout", multisampled=self.opt(rng.random() < 0.3))
            else:
                fmt = enum("GpuTextureFormat", rng.choice(FORMATS))
                fields["storage_texture"] = rec("GpuStorageTextureBindingLayout", format=fmt)
            if rng.random() < 0.05:  # two kinds in one entry
                fields["sampler"] = rec("GpuSamplerBindingLayout")
            entries.append(rec("GpuBindGroupLayoutEntry", **fields))
        self.emit(
            dev, "create_bind_group_layout", [rec("GpuBindGroupLayoutDescriptor", entries=entries)], BGL, dev
        )

    def create_pipeline_layout(self) -> None:
        dev = self.device()
        if dev is None:
            return
        layouts: list[Any] = self.listed(BGL, dev, most=4)
        if self.rng.random() < 0.2:
            layouts.insert(self.rng.randrange(len(layouts) + 1), None)
        desc = rec("GpuPipelineLayoutDescriptor", bind_group_layouts=layouts)
        self.emit(dev, "create_pipeline_layout", [desc], PLAYOUT, dev)

    def surface_call(self) -> None:
        rng = self.rng
        surface = self.of(SURFACE)
        choice = rng.randrange(4)
        if choice == 0 or surface is None:
            desc = rec_in(
                "surface",
                "CreateDesc",
                width=self.opt(self.u32((1, 8, 16))),
                height=self.opt(self.u32((1, 8))),
            )
            self.emit({"k": "Surface", "m": "surface"}, None, [desc], SURFACE)
        elif choice == 1 and (context := self.of(CONTEXT)) is not None:
            self.emit(surface, "connect_graphics_context", [ref(context)])
        elif choice == 2:
            self.emit(surface, "request_set_size", [self.opt(self.u32((1, 8))), self.opt(self.u32((1, 8)))])
        else:
            self.emit(surface, rng.choice(("width", "height")), [])

    def frame_buffer_call(self) -> None:
        rng = self.rng
        buffer = self.of(FBBUF)
        if buffer is None or rng.random() < 0.3:
            if (abuf := self.of(ABUF)) is not None:
                self.emit({"k": "Buffer", "m": "frame_buffer"}, "from_graphics_buffer", [ref(abuf)], FBBUF)
        elif rng.random() < 0.5:
            self.emit(buffer, "set", [data(rng.choice((16 * 16 * 4, 0, 4, 8 * 8 * 4, 1 << 20)), 3)])
        else:
            self.emit(buffer, "get", [])

    def queries(self) -> None:
        rng = self.rng
        choice = rng.randrange(6)
        if choice == 0 and (dev := self.device()) is not None:
            self.emit(dev, "limits", [], LIMITS)
        elif choice == 1 and (limits := self.of(LIMITS)) is not None:
            method = rng.choice(("max_bind_groups", "max_buffer_size", "max_texture_dimension2_d"))
            self.emit(limits, method, [])
        elif choice == 2 and (module := self.of(SHADER)) is not None:
            self.emit(module, "get_compilation_info", [], INFO)
        elif choice == 3 and (info := self.of(INFO)) is not None:
            self.emit(info, "messages", [])
        elif choice == 4 and (adapter := self.of(ADAPTER)) is not None:
            self.emit(adapter, rng.choice(("features", "limits", "info")), [], "AdapterQuery")
        elif choice == 5 and (dev := self.device()) is not None:
            self.emit(dev, "onuncapturederror_subscribe", [], "Pollable")

    def labels(self) -> None:
        if not self.model.kinds:
            return
        slot = self.rng.choice(sorted(self.model.kinds))
        if self.model.kinds[slot] in (DEVICE, QUEUE, BUFFER, TEXTURE, VIEW, ENCODER, CBUF, SHADER, BG, BGL):
            if self.rng.random() < 0.5:
                self.emit(slot, "set_label", [self.rng.choice(LABELS)])
            else:
                self.emit(slot, "label", [])

    def records(self) -> None:
        rng = self.rng
        if rng.random() < 0.5:
            record = self.of(RECORD)
            if record is None or rng.random() < 0.3:
                self.emit({"k": RECORD}, None, [], RECORD)
            else:
                value = self.opt(self.u64((1, 4, 8, 256)), 0.9)
                self.emit(record, "add", [rng.choice(LIMIT_NAMES), value])
        else:
            record = self.of(CONSTANTS)
            if record is None or rng.random() < 0.3:
                self.emit({"k": CONSTANTS}, None, [], CONSTANTS)
            else:
                self.emit(record, "add", [rng.choice(("x", "", "no_such")), rng.choice((0.0, 1e308, -1.5))])

    def request_device_with(self) -> None:
        adapter = self.of(ADAPTER)
        if adapter is None or sum(1 for k in self.model.kinds.values() if k == DEVICE) >= 3:
            return
        record = self.of(RECORD)
        features = [
            enum("GpuFeatureName", f) for f in self.rng.sample(FEATURES, self.rng.choice((0, 0, 1, 2)))
        ]
        desc = rec(
            "GpuDeviceDescriptor",
            required_features=self.opt(features),
            required_limits=self.opt(ref(record), 0.7) if record is not None else None,
            label=self.opt(self.rng.choice(LABELS)),
        )
        device = self.emit(adapter, "request_device", [desc], DEVICE)
        assert device is not None
        self.model.devices[device] = device
        self.emit(device, "queue", [], QUEUE, device)

    def request_adapter(self) -> None:
        gpu = self.of("Gpu")
        if gpu is not None and sum(1 for k in self.model.kinds.values() if k == ADAPTER) < 3:
            options = rec(
                "GpuRequestAdapterOptions",
                power_preference=self.opt(
                    enum("GpuPowerPreference", self.rng.choice(("LOW_POWER", "HIGH_PERFORMANCE")))
                ),
                force_fallback_adapter=self.opt(self.rng.random() < 0.5),
            )
            self.emit(gpu, "request_adapter", [self.opt(options)], ADAPTER)

    ACTIONS: tuple[tuple[str, float], ...] = (
        ("create_buffer", 8),
        ("create_texture", 4),
        ("create_view", 5),
        ("create_sampler", 1),
        ("create_shader", 2),
        ("create_compute_pipeline", 2),
        ("create_render_pipeline", 2),
        ("get_bind_group_layout", 2),
        ("create_bind_group", 4),
        ("create_encoder", 6),
        ("begin_render_pass", 4),
        ("begin_compute_pass", 3),
        ("render_command", 8),
        ("pass_only_command", 2),
        ("compute_command", 5),
        ("end_pass", 5),
        ("debug_marker", 1),
        ("copy", 6),
        ("copy_texture_to_texture", 1),
        ("finish", 6),
        ("submit", 7),
        ("queue_write", 4),
        ("work_done", 1),
        ("map_call", 8),
        ("destroy", 4),
        ("texture_getter", 1),
        ("query_set", 1),
        ("bundle_encoder", 2),
        ("bundle_draw", 0.3),
        ("bundle_finish", 2),
        ("error_scope", 2),
        ("context_call", 2),
        ("drop", 3),
        ("another_device", 0.5),
        ("create_bind_group_layout", 2),
        ("create_pipeline_layout", 1),
        ("surface_call", 1),
        ("frame_buffer_call", 1),
        ("queries", 1),
        ("labels", 1),
        ("records", 1),
        ("request_device_with", 0.3),
        ("request_adapter", 0.2),
    )

    def ending(self) -> None:
        """Now and then the episode ends on what ends a guest: a forged or a dropped handle."""
        roll = self.rng.random()
        kinds = [s for s, k in self.model.kinds.items() if k in (BUFFER, TEXTURE, DEVICE)]
        if roll < 0.03 and kinds:
            slot = self.rng.choice(kinds)
            handle = self.rng.choice((0, 999_999, U32_MAX))
            self.ops.append({"t": {"forge": slot, "h": handle}, "c": "label", "a": []})
        elif roll < 0.06 and self.model.dropped:
            slot = self.rng.choice(self.model.dropped)
            self.ops.append({"t": {"stale": slot}, "c": "label", "a": []})


def generate(seed: int, episode: int, calls: int) -> list[Op]:
    """Episode `episode` of seed `seed`: a device or two, then `calls` random calls in all."""
    rng = random.Random(f"gpu-fuzz:{seed}:{episode}")
    gen = _Generator(rng)
    gen.setup()
    while len(gen.ops) < calls - 1:
        gen.step()
    gen.ending()
    return gen.ops[:calls]
