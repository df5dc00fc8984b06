"""Links a component's imports to the host's Python implementations, one linker per guest.

The component's own import list drives linking: every function of every interface the host
knows is defined (an unimplemented one traps with `not implemented: <WIT name>`), so any guest
written against the standard links; an interface the host does not know is named in a
`ComponentError`. Values cross the boundary through `lift` (wasmtime values to plain Python:
records become dicts with snake_case keys, handles become the host objects) and `lower` (back).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

import wgpu
from wasmtime import Engine
from wasmtime.component import (
    Component,
    ComponentInstanceType,
    FuncType,
    Linker,
    Record,
    ResourceAny,
    ResourceHost,
    ResourceType,
    ResultType,
    Variant,
)

from .errors import (
    ComponentError,
    GuestCallError,
    GuestExitRequest,
    GuestGpuError,
    GuestStopped,
    HostError,
    NotImplementedByHost,
)
from .host_calls import HostCalls
from .resources import HandleTable, Resource, resource_type_id
from .wit import versions_compatible

__all__ = [
    "HostInterface",
    "WitErr",
    "build_linker",
    "record",
    "split_import_name",
    "unprovided_imports",
    "wit",
]

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def wit(name: str) -> Callable[[F], F]:
    """Mark a method as the implementation of the WIT function `name` (e.g. `[method]surface.width`)."""

    def mark(fn: F) -> F:
        fn.__wit_name__ = name  # type: ignore[attr-defined]
        return fn

    return mark


class WitErr(Exception):
    """Raised by an implementation to return the `err` case of a WIT `result`."""

    def __init__(self, payload: Any = None) -> None:
        super().__init__(payload)
        self.payload = payload


def record(**fields: Any) -> Record:
    """A WIT record value to return to the guest; snake_case keywords become WIT field names."""
    rec = Record()
    for key, value in fields.items():
        setattr(rec, key.replace("_", "-"), value)
    return rec


class HostInterface:
    """Implements one WIT interface for one guest; subclasses mark methods with `@wit`."""

    interface: ClassVar[str]  # "wasi:io/poll", no version
    version: ClassVar[str]  # the version implemented; semver-compatible imports link too

    def api_error(self, call: str, impl: Callable[..., Any], args: list[Any], exc: Exception) -> Any:
        """A GPU error raised by `impl`: ends the guest unless an interface absorbs it (error scopes).

        Returns the value the guest gets instead, or raises.
        """
        if isinstance(exc, GuestCallError):
            raise exc
        raise GuestCallError(call, describe_gpu_error(exc)) from exc

    def implementations(self) -> dict[str, Callable[..., Any]]:
        found: dict[str, Callable[..., Any]] = {}
        for cls in reversed(type(self).__mro__):
            for attr, value in vars(cls).items():
                name = getattr(value, "__wit_name__", None)
                if name is not None:
                    found[name] = getattr(self, attr)
        return found


def split_import_name(name: str) -> tuple[str, str | None]:
    """`wasi:io/poll@0.2.9` -> (`wasi:io/poll`, `0.2.9`)."""
    base, _, version = name.partition("@")
    return base, version or None


def unprovided_imports(import_names: Iterable[str], provided: dict[str, str]) -> list[str]:
    """The imports no provided interface (`interface -> version`) serves at a compatible version."""
    missing = []
    for name in import_names:
        base, version = split_import_name(name)
        have = provided.get(base)
        if have is None or version is None or not versions_compatible(have, version):
            missing.append(name)
    return missing


class Boundary:
    """Converts values crossing between wasmtime and the host for one guest's handle table."""

    def __init__(self, table: HandleTable) -> None:
        self.table = table

    def lift(self, store: Any, value: Any) -> Any:
        """Wasmtime value -> plain Python; every handle is resolved and released at once."""
        if isinstance(value, (int, float, str, bool, bytes)) or value is None:
            return value
        if isinstance(value, ResourceAny):
            # wasmtime-py 49: `to_host` ends the borrow or takes the owned handle, so no `drop`
            # follows; an owned handle given to the host frees its table slot here.
            owned = value.owned
            rep = value.to_host(store).rep
            obj = self.table.get(rep)
            if owned:
                self.table.remove(rep)
            return obj
        if isinstance(value, Record):
            return {k.replace("-", "_"): self.lift(store, v) for k, v in vars(value).items()}
        if isinstance(value, list):
            return [self.lift(store, v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.lift(store, v) for v in value)
        if isinstance(value, Variant):
            return Variant(value.tag, self.lift(store, value.payload))
        if isinstance(value, set):
            return value
        raise TypeError(f"cannot lift {type(value).__name__}")

    def lower(self, value: Any) -> Any:
        """Plain Python -> wasmtime value; host objects get new owned handles."""
        if isinstance(value, (int, float, str, bool, bytes)) or value is None:
            return value
        if isinstance(value, Resource):
            return ResourceHost.own(self.table.insert(value), value.type_id())
        if isinstance(value, Record):
            for key, field in vars(value).items():
                setattr(value, key, self.lower(field))
            return value
        if isinstance(value, list):
            return [self.lower(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.lower(v) for v in value)
        if isinstance(value, Variant):
            return Variant(value.tag, self.lower(value.payload))
        if isinstance(value, set):
            return value
        raise TypeError(f"cannot lower {type(value).__name__}")


def _result_tagged(result: Any) -> bool | None:
    """None when a function returns no `result`; else whether its cases must be spelled `Variant`.

    wasmtime-py represents a result as a bare value when its cases have distinct Python types
    (pinned version: see pyproject), as a Variant otherwise.
    """
    if not isinstance(result, ResultType):
        return None
    return bool(result._tagged())


ApiErrorHandler = Callable[[str, Callable[..., Any], list[Any], Exception], Any]


def _first_line(text: str, limit: int = 500) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_gpu_error(exc: BaseException) -> str:
    """One readable line from a wgpu-py error, whose messages span many lines."""
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # wgpu-native puts the useful cause after a generic first line ("Validation Error").
    useful = [ln for ln in lines if not ln.lower().startswith(("validation error", "caused by"))]
    return _first_line(" ".join(useful[:3]) if useful else text)


def _host_function(
    call: str,
    impl: Callable[..., Any],
    tagged: bool | None,
    calls: Counter[str],
    api_error: ApiErrorHandler,
) -> Callable[[list[Any]], Any]:
    """`impl` over lifted arguments, returning the value to lower: WIT errors and GPU errors
    become what the guest sees, any other failure a `GuestCallError` that ends the guest."""

    def host_function(args: list[Any]) -> Any:
        calls[call] += 1
        try:
            try:
                value = impl(*args)
            except (wgpu.GPUError, GuestGpuError) as exc:
                value = api_error(call, impl, args, exc)
            return Variant("ok", value) if tagged else value
        except WitErr as err:
            if tagged is None:
                raise GuestCallError(call, str(err.payload)) from None
            return Variant("err", err.payload) if tagged else err.payload
        except (HostError, GuestStopped, GuestExitRequest):
            raise
        except (ValueError, TypeError, RuntimeError, KeyError, IndexError) as exc:
            log.debug("host call %s failed", call, exc_info=True)
            raise GuestCallError(call, describe_gpu_error(exc) or type(exc).__name__) from exc

    return host_function


def _trap_stub(call: str) -> Callable[[list[Any]], Any]:
    def stub(_args: list[Any]) -> Any:
        raise NotImplementedByHost(call)

    return stub


def build_linker(
    engine: Engine,
    component: Component,
    interfaces: Iterable[HostInterface],
    table: HandleTable,
    guard: Callable[[], None],
    call_counts: Counter[str],
    trampoline: bool = False,
) -> Linker:
    """A linker defining every import of `component` from `interfaces`, or a ComponentError.

    `guard()` runs first in every host call; `call_counts` counts each function's calls.
    `trampoline`: host calls go through wasmtime-py's generic trampoline (for comparison).
    """
    by_name = {iface.interface: iface for iface in interfaces}
    boundary = Boundary(table)
    imports = component.type.imports(engine)
    missing = unprovided_imports(imports, {name: iface.version for name, iface in by_name.items()})
    if missing:
        raise ComponentError("the component imports what this host does not provide: " + ", ".join(missing))

    def drop_handle(_store: Any, rep: int) -> None:
        table.remove(rep)

    linker = Linker(engine)
    calls = HostCalls(table, guard, boundary.lift, boundary.lower, trampoline)
    linker.host_calls = calls  # type: ignore[attr-defined]  # its callbacks live as long as the linker
    defined: list[ResourceType] = []
    with linker.root() as root:
        for import_name, ext in imports.items():
            base, _ = split_import_name(import_name)
            impls = by_name[base].implementations()
            instance_type = ext.ty
            assert isinstance(instance_type, ComponentInstanceType)
            with root.add_instance(import_name) as inst:
                for name, item in instance_type.exports(engine).items():
                    ty = item.ty
                    if isinstance(ty, ResourceType):
                        if any(ty == seen for seen in defined):
                            continue  # a `use` of a resource defined by an earlier interface
                        defined.append(ty)
                        host_ty = ResourceType.host(resource_type_id(f"{base}#{name}"))
                        inst.add_resource(name, host_ty, drop_handle)
                    elif isinstance(ty, FuncType):
                        impl = impls.get(name)
                        if impl is None:
                            calls.define(inst, name, ty, _trap_stub(name))
                        else:
                            tagged = _result_tagged(ty.result)
                            api_error = by_name[base].api_error
                            func = _host_function(name, impl, tagged, call_counts, api_error)
                            calls.define(inst, name, ty, func)
    return linker
