"""WIT descriptor values (as lifted by gpu_host.linking) to wgpu-py descriptor structs.

Field names already match (WIT kebab-case lifted to snake_case is wgpu-py's spelling); absent
options are dropped so wgpu-py applies the WebGPU defaults; handles become native objects. A
few enum spellings differ between the WIT and WebGPU (`d2` vs `2d`) and are mapped here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from wasmtime.component import Variant

from ..errors import GuestCallError, GuestGpuError
from ..linking import WitErr, record
from .objects import Destroyable, GpuObject, RecordGpuPipelineConstantValue

__all__ = [
    "argument_checks",
    "binding_resource",
    "extent",
    "layout",
    "native",
    "no_gaps",
    "to_wgpu",
    "wit_dimension",
    "wit_error",
]

_VIEW_DIMENSION = {
    "d1": "1d",
    "d2": "2d",
    "d2-array": "2d-array",
    "cube": "cube",
    "cube-array": "cube-array",
    "d3": "3d",
}
_VERTEX_FORMAT = {"unorm1010102": "unorm10-10-10-2"}


def wit_dimension(value: str) -> str:
    """wgpu-py's `2d` back to the WIT's `d2`."""
    return {v: k for k, v in _VIEW_DIMENSION.items()}[value]


def wit_error(kind: str, cause: BaseException | str, only_case: bool = False) -> WitErr:
    """The `err` of a webgpu result: its `{kind, message}` record, the message one line.

    `only_case`: the error's kind is a variant of one case without payload (`unmap-error-kind`,
    `set-bind-group-error-kind`, `write-buffer-error-kind`), which wasmtime-py 49 lowers untagged,
    from None; a `Variant` there fails to lower and ends the guest with a host failure.
    """
    message = (
        cause if isinstance(cause, str) else (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    )
    return WitErr(record(kind=None if only_case else Variant(kind), message=message))


def extent(size: dict[str, Any]) -> tuple[int, int, int]:
    """A gpu-extent3-d with WebGPU's defaults for the optional height and depth."""
    return (size["width"], size.get("height") or 1, size.get("depth_or_array_layers") or 1)


@contextlib.contextmanager
def argument_checks(call: str) -> Iterator[None]:
    """wgpu-py's own checks of a call's numbers and fields (a ValueError for an offset not a
    multiple of 4, a KeyError for a missing field) as the validation errors WebGPU makes of
    them, so that the guest's error scopes capture them instead of the guest ending."""
    try:
        yield
    except KeyError as exc:
        raise GuestGpuError(call, f"a required field is missing: {exc.args[0]}") from None
    except ValueError as exc:
        raise GuestGpuError(
            call, str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid value"
        ) from None


def no_gaps(items: list[Any] | None, what: str, call: str) -> None:
    """Refuse `none` entries in a list wgpu-py 0.32 cannot pass on with gaps (it fails on them)."""
    if items and any(item is None for item in items):
        raise GuestCallError(call, f"{what} with gaps (none entries) are not supported by this host")


def native(obj: GpuObject, call: str) -> Any:
    """The wgpu object behind `obj`; a destroyed, finished or invalid one is a validation error."""
    if isinstance(obj, Destroyable):
        return obj.check_alive(call)
    return obj.check_valid(call)


def to_wgpu(value: Any, call: str) -> Any:
    """Recursively: drop None fields, handles to native objects, rename WIT-only enum spellings."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, field in value.items():
            if field is None:
                continue
            if key in ("dimension", "view_dimension") and isinstance(field, str):
                out[key] = _VIEW_DIMENSION.get(field, field)
            elif key == "format" and isinstance(field, str):
                out[key] = _VERTEX_FORMAT.get(field, field)
            elif key == "constants" and isinstance(field, RecordGpuPipelineConstantValue):
                out[key] = dict(field.values)
            elif key == "resource":
                out[key] = binding_resource(field, call)
            else:
                out[key] = to_wgpu(field, call)
        return out
    if isinstance(value, list):
        return [to_wgpu(v, call) for v in value]
    if isinstance(value, tuple):
        return tuple(to_wgpu(v, call) for v in value)
    if isinstance(value, GpuObject):
        return native(value, call)
    if isinstance(value, Variant):
        raise GuestCallError(call, f"unexpected variant case {value.tag}")
    return value


def layout(value: Any, call: str) -> Any:
    """gpu-layout-mode: `auto` arrives as None, `specific` as the pipeline layout."""
    if value is None or (isinstance(value, Variant) and value.tag == "auto"):
        return "auto"
    if isinstance(value, Variant):
        value = value.payload
    if not isinstance(value, GpuObject):
        raise GuestCallError(call, "layout must be `auto` or a gpu-pipeline-layout")
    return native(value, call)


def binding_resource(value: Any, call: str) -> Any:
    """gpu-binding-resource: a buffer binding record, a sampler or a texture view."""
    payload = value.payload if isinstance(value, Variant) else value
    if isinstance(payload, dict):
        return to_wgpu(payload, call)
    if not isinstance(payload, GpuObject):
        raise GuestCallError(call, "a binding resource must be a buffer binding, sampler or texture view")
    return native(payload, call)
