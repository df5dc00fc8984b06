"""buffers: creation, mapping (state, ranges, errors), copies and clears, read back as numbers."""

import struct

from componentize_py_types import Err
from gfxkit import BU, Group, err_kind, wit_enum
from wit_world.imports import webgpu as W


def run(device: W.GpuDevice) -> None:
    g = Group("buffers", device)

    def mapped_at_creation() -> list[int]:
        buf = g.buffer(16, BU.copy_src(), mapped=True)
        buf.get_mapped_range_set_with_copy(struct.pack("<4I", 10, 20, 30, 40), None, None)
        buf.unmap()
        return g.read_u32(buf, 4)

    g.check("mapped-at-creation", mapped_at_creation)

    def getters() -> list[object]:
        buf = g.buffer(48, BU.map_read() | BU.copy_dst(), label="getters")
        return [buf.size(), buf.usage(), buf.label()]

    g.check("getters", getters)

    def map_states() -> list[object]:
        buf = g.buffer(16, BU.map_read() | BU.copy_dst())
        g.queue.write_buffer_with_copy(buf, 0, struct.pack("<4I", 1, 2, 3, 4), None, None)
        states = [wit_enum(buf.map_state())]
        buf.map_async(W.GpuMapMode.read(), 8, 8)
        states.append(wit_enum(buf.map_state()))
        part = list(struct.unpack("<2I", bytes(buf.get_mapped_range_get_with_copy(8, 8))))
        try:
            buf.get_mapped_range_get_with_copy(0, 8)  # outside the mapped range
            outside = "ok"
        except Err as err:
            outside = err_kind(err)
        buf.unmap()
        states.append(wit_enum(buf.map_state()))
        return [states, part, outside]

    g.check("map-states", map_states)

    def map_write() -> list[int]:
        buf = g.buffer(16, BU.map_write() | BU.copy_src())
        buf.map_async(W.GpuMapMode.write(), 8, 8)
        buf.get_mapped_range_set_with_copy(struct.pack("<2I", 77, 88), 8, 8)
        buf.unmap()
        return g.read_u32(buf, 4)

    g.check("map-write-offset", map_write)

    def map_errors() -> list[str]:
        out = []
        no_map = g.buffer(16, BU.copy_dst())
        device.push_error_scope(W.GpuErrorFilter.VALIDATION)
        for buf, offset in ((no_map, None), (g.buffer(16, BU.map_read()), 5)):
            try:
                buf.map_async(W.GpuMapMode.read(), offset, None)
                out.append("ok")
            except Err as err:
                out.append(err_kind(err))
        gone = g.buffer(16, BU.map_read())
        gone.destroy()
        try:
            gone.map_async(W.GpuMapMode.read(), None, None)
            out.append("ok")
        except Err as err:
            out.append(err_kind(err))
        device.pop_error_scope()
        return out

    g.check("map-errors", map_errors)

    def copies() -> list[int]:
        src = g.buffer_with(struct.pack("<8I", *range(1, 9)), BU.copy_src())
        dst = g.buffer_with(struct.pack("<8I", *([99] * 8)), BU.copy_src())
        encoder = g.encoder()
        encoder.copy_buffer_to_buffer(src, 8, dst, 16, 12)  # 3, 4, 5 -> slots 4, 5, 6
        encoder.clear_buffer(dst, 0, 8)  # slots 0, 1
        encoder.clear_buffer(dst, 28, None)  # slot 7 to the end
        g.submit(encoder)
        return g.read_u32(dst, 8)

    g.check("copy-and-clear", copies)
