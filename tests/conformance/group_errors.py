"""errors: the queue, error scopes, uncaptured errors (the guest carries on), query-set errors and
device loss.

Uncaptured errors here: exactly two (UNCAPTURED below), each a line on stderr that the test reads.
"""

import struct

from componentize_py_types import Err
from gfxkit import BU, Group, described, err_kind, wit_enum
from group_shaders import BAD, messages
from wit_world.imports import webgpu as W

UNCAPTURED = 2


def run(adapter: W.GpuAdapter, device: W.GpuDevice) -> None:
    g = Group("errors", device)

    def write_with_offsets() -> list[int]:
        buf = g.buffer_with(bytes(16), BU.copy_src())
        g.queue.write_buffer_with_copy(buf, 4, struct.pack("<4I", 5, 6, 7, 8), 4, 8)  # 6, 7 -> slots 1, 2
        g.queue.on_submitted_work_done()
        return g.read_u32(buf, 4)

    g.check("write-buffer-offsets", write_with_offsets)

    def scopes() -> list[object]:
        device.push_error_scope(W.GpuErrorFilter.VALIDATION)
        device.push_error_scope(W.GpuErrorFilter.OUT_OF_MEMORY)
        device.push_error_scope(W.GpuErrorFilter.INTERNAL)
        g.buffer(16, BU.map_read() | BU.storage())  # a validation error
        internal = described(device.pop_error_scope())
        oom = described(device.pop_error_scope())
        validation = described(device.pop_error_scope())
        return [internal, oom, validation]

    g.check("nested-scopes", scopes)

    def uncaptured() -> dict[str, object]:
        before = device.onuncapturederror_subscribe()
        ready_before = before.ready()
        module = g.shader(BAD)  # uncaptured #1: the guest carries on with an invalid module
        ready_after_one = before.ready()
        after = device.onuncapturederror_subscribe()
        quiet = after.ready()
        try:  # an async creation reports through its result, not as an uncaptured error
            device.create_compute_pipeline_async(
                W.GpuComputePipelineDescriptor(
                    compute=W.GpuProgrammableStage(module=module, entry_point="main", constants=None),
                    layout=W.GpuLayoutMode_Auto(),
                    label=None,
                )
            )
            pipeline = "ok"
        except Err as err:
            pipeline = err_kind(err)
        still_quiet = after.ready()
        invalid = g.buffer(16, BU.map_read() | BU.storage())  # uncaptured #2
        try:
            invalid.map_async(W.GpuMapMode.read(), None, None)
            mapped = "ok"
        except Err as err:
            mapped = err_kind(err)
        return {
            "ready": [ready_before, ready_after_one, quiet, still_quiet, after.ready()],
            "pipeline": pipeline,
            "mapped": mapped,
            "messages": len(messages(module)),
        }

    g.check("uncaptured", uncaptured)

    def query_set_errors() -> list[object]:
        out: list[object] = []
        try:
            device.create_query_set(
                W.GpuQuerySetDescriptor(type=W.GpuQueryType.TIMESTAMP, count=2, label=None)
            )
            out.append("ok")
        except Err as err:
            out.append(err_kind(err))
        device.push_error_scope(W.GpuErrorFilter.VALIDATION)
        device.create_query_set(
            W.GpuQuerySetDescriptor(type=W.GpuQueryType.OCCLUSION, count=5000, label=None)
        )
        out.append(described(device.pop_error_scope()))
        return out

    g.check("query-set-errors", query_set_errors)

    def loss() -> list[object]:
        doomed = adapter.request_device(None)
        doomed.destroy()
        info = doomed.lost()
        again = doomed.lost()  # lost stays resolved
        doomed.create_buffer(
            W.GpuBufferDescriptor(size=4, usage=BU.copy_dst(), mapped_at_creation=None, label=None)
        )
        return [wit_enum(info.reason()), info.message(), wit_enum(again.reason())]

    g.check("device-lost", loss)
