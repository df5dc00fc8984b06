"""Fast `list<u8>` conversion between wasmtime-py values and the C API, by numpy over raw memory.

Why: wasmtime-py 49.0.0 (`wasmtime.component.ListType`) converts every list element by element in
Python: one `wasmtime_component_val_t` struct (a kind byte plus a union) per byte, each read or
written through ctypes. A 640x360 frame-buffer buffer (921,600 bytes) took about 0.7 s to lift
from C (`buffer.set`) and 1.1 s to lower into C (`buffer.get`). This module reads and writes the
kind byte and the u8 payload of all elements at once through strided numpy views over the C
array: 9 ms and 14 ms for the same buffer. Measured on one 2-core machine (lavapipe), median of 3:

    streamer render framebuffer --frames 30 --size 640x360:  29.8 s before, 7.8 s after
    (about 5 s of either is compiling the component; the MP4 output is byte-identical).

At 1280x720, wasmtime itself traps on `buffer.set` ("fuel allocated for hostcalls has been
exhausted") before any Python conversion runs, with or without this module; wasmtime-py 49 has
no C API to raise that limit.

Only lists whose element type is u8 (`ListType._is_bytes()`, wasmtime-py's own test) take the
fast path; every other list goes to the original methods. The two methods are replaced once, by
an explicit `install()` (called from `Runtime.__init__`), and only when

* the installed wasmtime-py is exactly 49.0.0, the version pinned in pyproject.toml: the patch
  depends on private details of `_types.py` (its ownership rules, `_is_bytes`, how it frees), so
  any other version keeps the slow, correct path until this module is checked against it;
* the ctypes layout checks below pass (field sizes, types and offsets of
  `wasmtime_component_val_t`, the list/tuple/record vectors the original reads and frees through).

Otherwise `install()` logs at debug level and changes nothing.

Ownership mirrors the original exactly. `convert_from_c` reads the elements, then marks each one
as `bool false` (the original does so for each converted element) and frees the vector with
`wasmtime_component_valtuple_delete` on `c.of.tuple`, in a `finally`, as the original does; u8
elements own nothing, so the marking changes nothing the delete would free. `convert_to_c`
allocates with `wasmtime_component_vallist_new_uninit`, writes the kind and payload of every
element, and hands the vector to `ptr` as a list value; should writing fail, it marks the
elements `bool false` and deletes the vector, as the original's cleanup does.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.metadata
import logging
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from wasmtime import _ffi as ffi
from wasmtime._store import Storelike
from wasmtime.component import ListType

__all__ = ["PINNED_WASMTIME", "ByteListLayout", "LayoutError", "RawBytes", "install", "installed"]

log = logging.getLogger(__name__)

PINNED_WASMTIME: Final = "49.0.0"

_installed = False  # the one-time patch flag


class LayoutError(Exception):
    """The wasmtime-py ctypes structures are not laid out the way the fast path assumes."""


class RawBytes:
    """A numpy array interface over `count` bytes at `address`, `stride` bytes apart."""

    def __init__(self, address: int, count: int, stride: int) -> None:
        self.__array_interface__ = {
            "version": 3,
            "shape": (count,),
            "strides": (stride,),
            "typestr": "|u1",
            "data": (address, False),
        }


def _field(struct: type[ctypes.Structure | ctypes.Union], name: str) -> tuple[object, int, int]:
    """A field's declared ctypes type, byte offset and byte size."""
    for entry in struct._fields_:
        if entry[0] == name:
            if len(entry) != 2:
                raise LayoutError(f"{struct.__name__}.{name} is a bit field")
            descriptor = getattr(struct, name)
            return entry[1], int(descriptor.offset), int(descriptor.size)
    raise LayoutError(f"{struct.__name__} has no field {name!r}")


def _kind_value(constant: object) -> int:
    if not isinstance(constant, ctypes.c_uint8):
        raise LayoutError(f"kind constant {constant!r} is not a c_uint8")
    return int(constant.value)


@dataclass(frozen=True)
class ByteListLayout:
    """Where the kind byte and the u8 payload sit in each `wasmtime_component_val_t`.

    `probe()` derives every number from the ctypes declarations (nothing hard-coded) and checks
    the assumptions the fast path makes; `to_c` and `from_c` are the fast conversions.
    """

    stride: int  # sizeof(wasmtime_component_val_t): elements are this far apart
    kind_offset: int  # the kind byte
    u8_offset: int  # of.u8
    boolean_offset: int  # of.boolean (the "owns nothing" marking the original writes)
    kind_u8: int
    kind_bool: int
    kind_list: int

    @classmethod
    def probe(cls) -> ByteListLayout:
        """The layout of the loaded wasmtime-py, or LayoutError saying which check failed."""
        val = ffi.wasmtime_component_val_t
        union = ffi.wasmtime_component_valunion_t
        stride = ctypes.sizeof(val)
        kind_type, kind_offset, kind_size = _field(val, "kind")
        of_type, of_offset, of_size = _field(val, "of")
        u8_type, u8_offset, u8_size = _field(union, "u8")
        bool_type, bool_offset, bool_size = _field(union, "boolean")
        if kind_type is not ctypes.c_uint8 or kind_size != 1:
            raise LayoutError("wasmtime_component_val_t.kind is not one c_uint8")
        if of_type is not union:
            raise LayoutError("wasmtime_component_val_t.of is not wasmtime_component_valunion_t")
        if u8_type is not ctypes.c_uint8 or u8_size != 1:
            raise LayoutError("wasmtime_component_valunion_t.u8 is not one c_uint8")
        if bool_type is not ctypes.c_bool or bool_size != 1:
            raise LayoutError("wasmtime_component_valunion_t.boolean is not one c_bool")
        if not (kind_offset + kind_size <= of_offset and of_offset + of_size <= stride):
            raise LayoutError("wasmtime_component_val_t fields overlap or overrun the struct")
        if max(u8_offset, bool_offset) >= of_size:
            raise LayoutError("u8/boolean lie outside the union")
        # The original reads the size through `of.record`, the data through `of.tuple`, and frees
        # with the tuple delete; this module reads through `of.list`. All three must coincide.
        vectors = {
            "list": ffi.wasmtime_component_vallist_t,
            "tuple": ffi.wasmtime_component_valtuple_t,
            "record": ffi.wasmtime_component_valrecord_t,
        }
        placements = set()
        for member, vector in vectors.items():
            member_type, member_offset, member_size = _field(union, member)
            if member_type is not vector:
                raise LayoutError(f"wasmtime_component_valunion_t.{member} is not {vector.__name__}")
            size_type, size_offset, _ = _field(vector, "size")
            _, data_offset, data_size = _field(vector, "data")
            if size_type is not ctypes.c_size_t:
                raise LayoutError(f"{vector.__name__}.size is not a c_size_t")
            placements.add((member_offset, member_size, size_offset, data_offset, data_size))
        if len(placements) != 1:
            raise LayoutError("the list, tuple and record vectors are not laid out alike")
        for member in ("list", "tuple"):
            data_type, _, _ = _field(vectors[member], "data")
            if data_type is not ctypes.POINTER(val):
                raise LayoutError(f"{vectors[member].__name__}.data does not point at values")
        return cls(
            stride=stride,
            kind_offset=kind_offset,
            u8_offset=of_offset + u8_offset,
            boolean_offset=of_offset + bool_offset,
            kind_u8=_kind_value(ffi.WASMTIME_COMPONENT_U8),
            kind_bool=_kind_value(ffi.WASMTIME_COMPONENT_BOOL),
            kind_list=_kind_value(ffi.WASMTIME_COMPONENT_LIST),
        )

    def _column(self, address: int, count: int, offset: int) -> npt.NDArray[np.uint8]:
        """A writable strided view of one byte of each of `count` values at `address`."""
        column: npt.NDArray[np.uint8] = np.asarray(RawBytes(address + offset, count, self.stride))
        return column

    def _mark_owning_nothing(self, address: int, count: int) -> None:
        """What the original writes into each converted element: kind bool, value false."""
        self._column(address, count, self.kind_offset)[:] = self.kind_bool
        self._column(address, count, self.boolean_offset)[:] = 0

    def from_c(self, c: ffi.wasmtime_component_val_t) -> bytes:
        """`ListType.convert_from_c` for `list<u8>`: the bytes, and the C vector freed."""
        assert c.kind == self.kind_list
        try:
            count = int(c.of.list.size)
            if count == 0:
                return b""
            address = ctypes.cast(c.of.list.data, ctypes.c_void_p).value
            if address is None:
                raise ValueError("list<u8> value with elements but no data")
            kinds = self._column(address, count, self.kind_offset)
            if not bool(np.all(kinds == self.kind_u8)):
                raise AssertionError("list<u8> value holding elements that are not u8")
            data = self._column(address, count, self.u8_offset).tobytes()
            self._mark_owning_nothing(address, count)
            return data
        finally:
            ffi.wasmtime_component_valtuple_delete(ctypes.byref(c.of.tuple))

    def to_c(self, val: Any, ptr: ctypes._Pointer[ffi.wasmtime_component_val_t]) -> None:
        """`ListType.convert_to_c` for `list<u8>`: `val` (bytes) as a new list value in `*ptr`."""
        if not isinstance(val, bytes):
            raise TypeError("expected bytes value")
        count = len(val)
        raw = ffi.wasmtime_component_vallist_t()
        ffi.wasmtime_component_vallist_new_uninit(ctypes.byref(raw), count)
        address = ctypes.cast(raw.data, ctypes.c_void_p).value
        cleanup = True
        try:
            if count:
                if address is None:
                    raise MemoryError("wasmtime_component_vallist_new_uninit returned no data")
                self._column(address, count, self.kind_offset)[:] = self.kind_u8
                self._column(address, count, self.u8_offset)[:] = np.frombuffer(val, dtype=np.uint8)
            ptr.contents.kind = ffi.WASMTIME_COMPONENT_LIST
            ptr.contents.of.list = raw
            cleanup = False
        finally:
            if cleanup:
                if count and address is not None:
                    self._mark_owning_nothing(address, count)
                ffi.wasmtime_component_vallist_delete(ctypes.byref(raw))


def _refusal() -> str | None:
    """Why the fast path must not be installed here, or None."""
    try:
        version = importlib.metadata.version("wasmtime")
    except importlib.metadata.PackageNotFoundError:
        return "wasmtime's distribution metadata is missing"
    if version != PINNED_WASMTIME:
        return f"wasmtime {version} is installed, the fast path is checked against {PINNED_WASMTIME} only"
    for name in ("convert_to_c", "convert_from_c", "_is_bytes"):
        if not callable(getattr(ListType, name, None)):
            return f"wasmtime.component.ListType has no {name}"
    return None


def installed() -> bool:
    """Whether `install()` has replaced the ListType methods in this process."""
    return _installed


def install() -> bool:
    """Route `list<u8>` conversions through the numpy fast path; True if it is in place.

    Idempotent. Refuses (debug log, slow path kept) unless wasmtime-py is the pinned version and
    the layout checks pass.
    """
    global _installed
    if _installed:
        return True
    reason = _refusal()
    if reason is None:
        try:
            layout = ByteListLayout.probe()
        except LayoutError as exc:
            reason = f"layout check failed: {exc}"
    if reason is not None:
        log.debug("list<u8> fast path not installed: %s", reason)
        return False

    original_to_c = ListType.convert_to_c
    original_from_c = ListType.convert_from_c

    @functools.wraps(original_to_c)
    def convert_to_c(
        self: ListType, store: Storelike, val: Any, ptr: ctypes._Pointer[ffi.wasmtime_component_val_t]
    ) -> None:
        if self._is_bytes():
            layout.to_c(val, ptr)
        else:
            original_to_c(self, store, val, ptr)

    @functools.wraps(original_from_c)
    def convert_from_c(self: ListType, c: ffi.wasmtime_component_val_t) -> Any:
        if self._is_bytes():
            return layout.from_c(c)
        return original_from_c(self, c)

    setattr(ListType, "convert_to_c", convert_to_c)  # noqa: B010 (mypy: no method assignment)
    setattr(ListType, "convert_from_c", convert_from_c)  # noqa: B010 (as above)
    _installed = True
    log.debug("list<u8> fast path installed (%s)", layout)
    return True
