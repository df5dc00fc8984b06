"""Host functions as per-signature callbacks over wasmtime's C API, without wasmtime-py's trampoline.

Why: wasmtime-py 49's `LinkerInstance.add_func` calls every host function through one generic
trampoline that, on every call, wraps the function's C type in Python objects, asks it for its
parameter and result types (new objects again, one C call each) and converts each argument by
walking those types. A call with one borrowed handle and a u32 result cost 19 us on the 2-core
machine, of which wasmtime itself takes under 3 (docs/performance.md, "Host calls").

Here the types are read once per import, when the linker is built: `reader` and `writer` turn
each WIT type into a function that reads or writes one `wasmtime_component_val_t` at an address,
and `callback` registers one ctypes callback per function with
`wasmtime_component_linker_instance_add_func`. The values handed to the host implementations are
the ones `linking.Boundary.lift` made from wasmtime-py's values (records as dicts with snake_case
keys, handles resolved to host objects, `list<u8>` as bytes, options as the value or None), so the
implementations do not change. Types without a fast form here (variants, results and flags as
arguments, compound results) go through wasmtime-py's own converters, as before.

Ownership follows wasmtime-py 49's trampoline: argument values belong to the callee, so after
reading one the callback runs `wasmtime_component_val_delete` on it and leaves it as `bool false`
(harmless whether or not wasmtime drops the arguments afterwards); every handle is turned into
its host representation with `wasmtime_component_resource_any_to_host`, which also ends a borrow.
An exception is stored where wasmtime-py looks for it when the guest's call returns
(`wasmtime.component._enter.LAST_EXCEPTION`), so a host error surfaces from the guest call as the
same Python exception as with wasmtime-py's trampoline.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any, Final

import numpy as np
from wasmtime import WasmtimeError
from wasmtime import _ffi as ffi
from wasmtime import component as wc
from wasmtime._store import StoreContext
from wasmtime.component import _enter

from .errors import GuestCallError
from .fast_lists import RawBytes
from .resources import HandleTable, Resource, TableFull

__all__ = ["HostCalls", "Invoke", "Reader", "Writer", "reader", "writer"]

Reader = Callable[[int, int], Any]  # (context address, value address) -> Python value
Writer = Callable[[int, int, Any], None]  # (context address, value address, Python value)
Invoke = Callable[[list[Any]], Any]  # arguments -> result value

VAL_SIZE: Final = ctypes.sizeof(ffi.wasmtime_component_val_t)  # 32: kind byte, padding, union
PAYLOAD: Final = ffi.wasmtime_component_val_t.of.offset  # 8
RECORD_ENTRY: Final = ctypes.sizeof(ffi.wasmtime_component_valrecord_entry)  # 48: name, value
RECORD_VALUE: Final = ffi.wasmtime_component_valrecord_entry.val.offset  # 16

_KIND_BOOL: Final = ffi.WASMTIME_COMPONENT_BOOL.value
_KIND_RESOURCE: Final = ffi.WASMTIME_COMPONENT_RESOURCE.value
_KIND_RESULT: Final = ffi.WASMTIME_COMPONENT_RESULT.value

_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_size_t,  # wasmtime_error_t *, or 0
    ctypes.c_void_p,  # env
    ctypes.c_void_p,  # wasmtime_context_t *
    ctypes.c_void_p,  # const wasmtime_component_func_type_t *
    ctypes.c_void_p,  # wasmtime_component_val_t *args
    ctypes.c_size_t,
    ctypes.c_void_p,  # wasmtime_component_val_t *results
    ctypes.c_size_t,
)
# wasmtime-py's prototype of add_func takes its own callback type; the address is what matters.
_ADD_FUNC_CALLBACK: Final = ffi.wasmtime_component_func_callback_t
_FINALIZER: Final = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def _c(name: str, restype: Any, *argtypes: Any) -> Any:
    """A C API function with plain address arguments: no per-call pointer type checks."""
    return ctypes.CFUNCTYPE(restype, *argtypes)((name, ffi.dll))


_vp = ctypes.c_void_p
_any_to_host = _c("wasmtime_component_resource_any_to_host", _vp, _vp, _vp, _vp)
_host_rep = _c("wasmtime_component_resource_host_rep", ctypes.c_uint32, _vp)
_host_new = _c("wasmtime_component_resource_host_new", _vp, ctypes.c_bool, ctypes.c_uint32, ctypes.c_uint32)
_host_to_any = _c("wasmtime_component_resource_host_to_any", _vp, _vp, _vp, _vp)
_host_delete = _c("wasmtime_component_resource_host_delete", None, _vp)
_val_delete = _c("wasmtime_component_val_delete", None, _vp)
_error_new = _c("wasmtime_error_new", _vp, ctypes.c_char_p)

_u8 = ctypes.c_uint8.from_address
_u64 = ctypes.c_uint64.from_address
_ptr = ctypes.c_void_p.from_address


def _scalar_reader(ctype: Any, convert: Callable[[Any], Any] | None = None) -> Reader:
    at = ctype.from_address
    if convert is None:
        return lambda _ctx, addr: at(addr + PAYLOAD).value
    return lambda _ctx, addr: convert(at(addr + PAYLOAD).value)


_SCALARS: Final[dict[type, tuple[Any, int]]] = {
    wc.Bool: (ctypes.c_bool, ffi.WASMTIME_COMPONENT_BOOL.value),
    wc.S8: (ctypes.c_int8, ffi.WASMTIME_COMPONENT_S8.value),
    wc.U8: (ctypes.c_uint8, ffi.WASMTIME_COMPONENT_U8.value),
    wc.S16: (ctypes.c_int16, ffi.WASMTIME_COMPONENT_S16.value),
    wc.U16: (ctypes.c_uint16, ffi.WASMTIME_COMPONENT_U16.value),
    wc.S32: (ctypes.c_int32, ffi.WASMTIME_COMPONENT_S32.value),
    wc.U32: (ctypes.c_uint32, ffi.WASMTIME_COMPONENT_U32.value),
    wc.S64: (ctypes.c_int64, ffi.WASMTIME_COMPONENT_S64.value),
    wc.U64: (ctypes.c_uint64, ffi.WASMTIME_COMPONENT_U64.value),
    wc.F32: (ctypes.c_float, ffi.WASMTIME_COMPONENT_F32.value),
    wc.F64: (ctypes.c_double, ffi.WASMTIME_COMPONENT_F64.value),
}


def is_scalar(ty: Any) -> bool:
    """Whether a value of `ty` owns no memory (nothing to free after reading it)."""
    return type(ty) in _SCALARS or isinstance(ty, wc.Char)


def _name(addr: int) -> str:
    """A `wasm_name_t` (size, data) at `addr` as text."""
    size = _u64(addr).value
    return ctypes.string_at(_ptr(addr + 8).value or 0, size).decode() if size else ""


def _resource_rep(ctx: int, handle: int | None, out: ctypes.c_void_p, out_at: int) -> int:
    """The host's integer for a handle; `out` is a scratch pointer of the guest's thread, at
    address `out_at`."""
    error = _any_to_host(ctx, handle, out_at)
    if error:
        raise WasmtimeError._from_ptr(ctypes.cast(error, ctypes.POINTER(ffi.wasmtime_error_t)))
    host = out.value
    rep: int = _host_rep(host)
    _host_delete(host)
    return rep


def reader(ty: Any, table: HandleTable, lift: Callable[[Any, Any], Any], out: ctypes.c_void_p) -> Reader:
    """A function reading a value of WIT type `ty` as the host implementations take it.

    `lift(store, value)` is the boundary's conversion of a wasmtime-py value, used with
    wasmtime-py's own converter for types without a fast form here. `out` is scratch space for
    handle conversions, used only on the guest's thread.
    """
    kind = type(ty)
    if kind in _SCALARS:
        return _scalar_reader(_SCALARS[kind][0])
    if isinstance(ty, wc.Char):
        return _scalar_reader(ctypes.c_uint32, chr)
    if isinstance(ty, (wc.String, wc.EnumType)):
        return lambda _ctx, addr: _name(addr + PAYLOAD)
    if isinstance(ty, (wc.BorrowType, wc.OwnType)):
        get = table.get
        out_at = ctypes.addressof(out)
        if isinstance(ty, wc.BorrowType):
            return lambda ctx, addr: get(_resource_rep(ctx, _ptr(addr + PAYLOAD).value, out, out_at))
        remove = table.remove

        def take(ctx: int, addr: int) -> Any:
            rep = _resource_rep(ctx, _ptr(addr + PAYLOAD).value, out, out_at)
            obj = get(rep)
            remove(rep)  # an owned handle given to the host frees its slot
            return obj

        return take
    if isinstance(ty, wc.RecordType):
        fields = [
            (name.replace("-", "_"), RECORD_ENTRY * i + RECORD_VALUE, reader(field, table, lift, out))
            for i, (name, field) in enumerate(ty.fields)
        ]

        def record(ctx: int, addr: int) -> dict[str, Any]:
            data = _ptr(addr + PAYLOAD + 8).value or 0
            return {name: read(ctx, data + offset) for name, offset, read in fields}

        return record
    if isinstance(ty, wc.TupleType):
        elements = [(VAL_SIZE * i, reader(e, table, lift, out)) for i, e in enumerate(ty.elements)]

        def tuple_(ctx: int, addr: int) -> tuple[Any, ...]:
            data = _ptr(addr + PAYLOAD + 8).value or 0
            return tuple(read(ctx, data + offset) for offset, read in elements)

        return tuple_
    if isinstance(ty, wc.ListType):
        element = ty.element
        if isinstance(element, wc.U8):

            def byte_list(_ctx: int, addr: int) -> bytes:
                count = _u64(addr + PAYLOAD).value
                if not count:
                    return b""
                data = _ptr(addr + PAYLOAD + 8).value or 0
                return np.asarray(RawBytes(data + PAYLOAD, count, VAL_SIZE)).tobytes()

            return byte_list
        read_element = reader(element, table, lift, out)

        def list_(ctx: int, addr: int) -> list[Any]:
            count = _u64(addr + PAYLOAD).value
            data = _ptr(addr + PAYLOAD + 8).value or 0
            return [read_element(ctx, data + VAL_SIZE * i) for i in range(count)]

        return list_
    if isinstance(ty, wc.OptionType) and not ty._tagged():
        read_payload = reader(ty.payload, table, lift, out)

        def option(ctx: int, addr: int) -> Any:
            payload = _ptr(addr + PAYLOAD).value
            return None if payload is None else read_payload(ctx, payload)

        return option
    return _generic_reader(ty, lift)


def _generic_reader(ty: Any, lift: Callable[[Any, Any], Any]) -> Reader:
    """wasmtime-py's converter, then the boundary's lift (variants, results, flags, ...)."""

    def read(ctx: int, addr: int) -> Any:
        store = StoreContext(ctypes.cast(ctx, ctypes.POINTER(ffi.wasmtime_context_t)))
        try:
            return lift(store, ty.convert_from_c(ffi.wasmtime_component_val_t.from_address(addr)))
        finally:
            store._invalidate()

    return read


def writer(ty: Any, table: HandleTable, lower: Callable[[Any], Any]) -> Writer:
    """A function writing a host implementation's value as a result of WIT type `ty`.

    `lower(value)` is the boundary's conversion to wasmtime-py values, used with wasmtime-py's
    own converter for types without a fast form here. A handle the table cannot hold raises
    the table's `TableFull` before anything is written.
    """
    kind = type(ty)
    if kind in _SCALARS:
        ctype, tag = _SCALARS[kind]
        at = ctype.from_address

        def scalar(_ctx: int, addr: int, value: Any) -> None:
            at(addr + PAYLOAD).value = value
            _u8(addr).value = tag

        return scalar
    if isinstance(ty, wc.OwnType):
        insert = table.insert

        def own(ctx: int, addr: int, value: Any) -> None:
            host = _host_new(True, insert(value), value.type_id())
            handle = ctypes.c_void_p()
            try:
                error = _host_to_any(ctx, host, ctypes.addressof(handle))
            finally:
                _host_delete(host)
            if error:
                raise WasmtimeError._from_ptr(ctypes.cast(error, ctypes.POINTER(ffi.wasmtime_error_t)))
            _ptr(addr + PAYLOAD).value = handle.value
            _u8(addr).value = _KIND_RESOURCE

        return own
    if isinstance(ty, wc.ResultType) and ty.ok is None and not ty._tagged():
        generic = _generic_writer(ty, lower)

        def result(ctx: int, addr: int, value: Any) -> None:
            if value is not None:  # the error case
                generic(ctx, addr, value)
                return
            ctypes.c_bool.from_address(addr + PAYLOAD).value = True
            _ptr(addr + PAYLOAD + 8).value = None
            _u8(addr).value = _KIND_RESULT

        return result
    return _generic_writer(ty, lower)


def _generic_writer(ty: Any, lower: Callable[[Any], Any]) -> Writer:
    def write(ctx: int, addr: int, value: Any) -> None:
        store = StoreContext(ctypes.cast(ctx, ctypes.POINTER(ffi.wasmtime_context_t)))
        try:
            pointer = ctypes.cast(addr, ctypes.POINTER(ffi.wasmtime_component_val_t))
            ty.convert_to_c(store, lower(value), pointer)
        finally:
            store._invalidate()

    return write


def _free(addr: int) -> None:
    """Release what an argument value owns; it stays behind as a `bool`, which owns nothing."""
    _val_delete(addr)
    _u8(addr).value = _KIND_BOOL
    _u8(addr + PAYLOAD).value = 0  # false: a valid bool, whoever reads it next


class HostCalls:
    """Defines host functions in one guest's linker; holds their callbacks while it lives."""

    def __init__(
        self,
        table: HandleTable,
        guard: Callable[[], None],
        lift: Callable[[Any, Any], Any],
        lower: Callable[[Any], Any],
        trampoline: bool = False,
    ) -> None:
        """`guard()` runs before each call's arguments are read (it raises to stop the guest);
        `lift` and `lower` are the boundary's conversions for the types read and written by
        wasmtime-py's converters. `trampoline`: define every function through wasmtime-py's
        generic trampoline instead, the path before this module (benchmarks/runtime.py)."""
        self.table = table
        self.guard = guard
        self.lift = lift
        self.lower = lower
        self.trampoline = trampoline
        self.scratch = ctypes.c_void_p()
        self.callbacks: list[Any] = []  # the ctypes thunks wasmtime calls: must outlive the linker

    def define(self, instance: wc.LinkerInstance, call: str, func_type: wc.FuncType, invoke: Invoke) -> None:
        """Define `call` in `instance`: its arguments are read, passed to `invoke(args)`, and the
        value it returns written as the function's result."""
        if self.trampoline:
            instance.add_func(call, self._through_trampoline(call, invoke))
            return
        guard = self.guard
        read_args = self._argument_reader(func_type)
        result = func_type.result
        write = None if result is None else writer(result, self.table, self.lower)

        def host_call(_env: int, ctx: int, _ty: int, args: int, _n: int, results: int, _m: int) -> int:
            try:
                guard()
                value = invoke(read_args(ctx, args))
                if write is not None:
                    try:
                        write(ctx, results, value)
                    except TableFull as exc:
                        raise _table_full(call, value, exc) from exc
                return 0
            except BaseException as exc:  # every error must reach the guest's caller
                return _raise_in_caller(exc)

        callback = _CALLBACK(host_call)
        self.callbacks.append(callback)
        encoded = call.encode()
        error = ffi.wasmtime_component_linker_instance_add_func(
            instance.ptr(),
            ctypes.create_string_buffer(encoded),
            len(encoded),
            ctypes.cast(callback, _ADD_FUNC_CALLBACK),
            None,
            _FINALIZER(),  # none: the callbacks live in `self.callbacks`
        )
        if error:
            raise WasmtimeError._from_ptr(error)

    def _argument_reader(self, func_type: wc.FuncType) -> Callable[[int, int], list[Any]]:
        """Reads a call's arguments, then frees what they own (even when reading fails)."""
        reads = [
            (VAL_SIZE * i, reader(ty, self.table, self.lift, self.scratch))
            for i, (_, ty) in enumerate(func_type.params)
        ]
        owned = [VAL_SIZE * i for i, (_, ty) in enumerate(func_type.params) if not is_scalar(ty)]
        if not owned:
            return lambda ctx, args: [read(ctx, args + offset) for offset, read in reads]
        if len(reads) == 1:  # the common method with no arguments besides `self`
            read = reads[0][1]

            def read_one(ctx: int, args: int) -> list[Any]:
                try:
                    return [read(ctx, args)]
                finally:
                    _free(args)

            return read_one

        def read_all(ctx: int, args: int) -> list[Any]:
            try:
                return [read(ctx, args + offset) for offset, read in reads]
            finally:
                for offset in owned:
                    _free(args + offset)

        return read_all

    def _through_trampoline(self, call: str, invoke: Invoke) -> Callable[..., Any]:
        guard, lift, lower = self.guard, self.lift, self.lower

        def host_func(store: Any, *values: Any) -> Any:
            guard()
            value = invoke([lift(store, v) for v in values])
            try:
                return lower(value)
            except TableFull as exc:
                raise _table_full(call, value, exc) from exc

        return host_func


def _table_full(call: str, value: Any, exc: TableFull) -> GuestCallError:
    if isinstance(value, Resource):
        value.release()  # made for a handle the guest will never get
    return GuestCallError(call, str(exc), "Limits.handles")


def _raise_in_caller(exc: BaseException) -> int:
    """A trap for wasmtime; `exc` is raised again where the guest was called (wasmtime-py's
    `enter_wasm`), as wasmtime-py's trampoline arranges."""
    if isinstance(exc, WasmtimeError):
        return int(ctypes.cast(exc._consume(), ctypes.c_void_p).value or 0)
    _enter.LAST_EXCEPTION = exc  # type: ignore[assignment]
    return int(_error_new(b"python exception") or 0)
