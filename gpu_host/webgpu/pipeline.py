"""wasi:webgpu shaders and pipelines: compilation info, pipeline constants, async pipeline creation.

wgpu-py 0.32 gives no structured compilation messages, so a module whose creation failed keeps
wgpu's error text and `get-compilation-info` parses naga's report (`┌─ wgsl:3:10` for a parsing
error, `┌─ :2:23` for a validation error, the `^^^` under the offending span, and the `= ...` notes)
into one message of type error. A valid module has no messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import wgpu

from ..errors import GuestGpuError
from ..linking import WitErr, describe_gpu_error, record, wit
from ..resources import Resource
from .objects import (
    GpuCompilationInfo,
    GpuComputePipeline,
    GpuDevice,
    GpuRenderPipeline,
    GpuShaderModule,
    RecordGpuPipelineConstantValue,
    W,
)

if TYPE_CHECKING:
    from ..guest import GuestContext

__all__ = ["GpuCompilationMessage", "PipelineFunctions", "compilation_message"]

_LOCATION = re.compile(r"┌─ [^:\n]*:(\d+):(\d+)")  # `wgsl:3:10` (parsing), `:2:23` (validation)
_CARETS = re.compile(r"│\s*(\^+)")
_HEADLINE = re.compile(r"(?:parsing|validation) error:\s*(.+)")
_NOTE = re.compile(r"^\s*= (.+)$", re.MULTILINE)  # naga's notes under the snippet


class GpuCompilationMessage(Resource):
    wit_resource = W + "gpu-compilation-message"

    def __init__(
        self, message: str, kind: str, line_num: int, line_pos: int, offset: int, length: int
    ) -> None:
        self.message = message
        self.kind = kind
        self.line_num = line_num
        self.line_pos = line_pos
        self.offset = offset
        self.length = length


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def compilation_message(error_text: str, code: str, limit: int) -> GpuCompilationMessage:
    """naga's error report as a gpu-compilation-message; positions in UTF-16 code units, 1-based
    line and column, all zero when the report names no location."""
    headline = _HEADLINE.search(error_text)
    message = headline.group(1).strip() if headline else describe_gpu_error(Exception(error_text))
    notes = _NOTE.findall(error_text)
    if headline and notes:
        message += ": " + "; ".join(note.strip() for note in notes)
    message = message if len(message) <= limit else message[: max(0, limit - 1)] + "…"
    where = _LOCATION.search(error_text)
    if where is None:
        return GpuCompilationMessage(message, "error", 0, 0, 0, 0)
    line_num, column = int(where.group(1)), int(where.group(2))
    lines = code.split("\n")
    line = lines[line_num - 1] if 0 < line_num <= len(lines) else ""
    line_pos = _utf16(line[: column - 1]) + 1
    offset = sum(_utf16(text) + 1 for text in lines[: line_num - 1]) + line_pos - 1
    carets = _CARETS.search(error_text[where.end() :])
    span = len(carets.group(1)) if carets else 0
    length = _utf16(line[column - 1 : column - 1 + span])
    return GpuCompilationMessage(message, "error", line_num, line_pos, offset, length)


def _pipeline_error(exc: BaseException) -> WitErr:
    reason = "internal" if isinstance(exc, wgpu.GPUInternalError) else "validation"
    message = exc.reason if isinstance(exc, GuestGpuError) else describe_gpu_error(exc)
    # create-pipeline-error-kind has one case, `gpu-pipeline-error(reason)`: wasmtime-py 49 takes
    # such a variant untagged (its payload alone), as it does a result of distinct types.
    return WitErr(record(kind=reason, message=message))


class PipelineFunctions:
    ctx: GuestContext
    create_compute_pipeline: Callable[[GpuDevice, dict[str, Any]], GpuComputePipeline]
    create_render_pipeline: Callable[[GpuDevice, dict[str, Any]], GpuRenderPipeline]

    # WIT: [method]gpu-shader-module.get-compilation-info
    @wit("[method]gpu-shader-module.get-compilation-info")
    def shader_module_get_compilation_info(self, module: GpuShaderModule) -> GpuCompilationInfo:
        if module.compile_error is None:
            return GpuCompilationInfo([])
        limit = self.ctx.options.limits.error_message_chars
        return GpuCompilationInfo([compilation_message(module.compile_error, module.code, limit)])

    # WIT: [method]gpu-compilation-info.messages
    @wit("[method]gpu-compilation-info.messages")
    def compilation_info_messages(self, info: GpuCompilationInfo) -> list[Resource]:
        return list(info.messages)

    # WIT: [method]gpu-compilation-message.message
    @wit("[method]gpu-compilation-message.message")
    def compilation_message_message(self, message: GpuCompilationMessage) -> str:
        return message.message

    # WIT: [method]gpu-compilation-message.type
    @wit("[method]gpu-compilation-message.type")
    def compilation_message_type(self, message: GpuCompilationMessage) -> str:
        return message.kind

    # WIT: [method]gpu-compilation-message.line-num
    @wit("[method]gpu-compilation-message.line-num")
    def compilation_message_line_num(self, message: GpuCompilationMessage) -> int:
        return message.line_num

    # WIT: [method]gpu-compilation-message.line-pos
    @wit("[method]gpu-compilation-message.line-pos")
    def compilation_message_line_pos(self, message: GpuCompilationMessage) -> int:
        return message.line_pos

    # WIT: [method]gpu-compilation-message.offset
    @wit("[method]gpu-compilation-message.offset")
    def compilation_message_offset(self, message: GpuCompilationMessage) -> int:
        return message.offset

    # WIT: [method]gpu-compilation-message.length
    @wit("[method]gpu-compilation-message.length")
    def compilation_message_length(self, message: GpuCompilationMessage) -> int:
        return message.length

    # --- async creation: synchronous here, with the WIT's error instead of a device error -----------

    # WIT: [method]gpu-device.create-compute-pipeline-async
    @wit("[method]gpu-device.create-compute-pipeline-async")
    def create_compute_pipeline_async(
        self, device: GpuDevice, descriptor: dict[str, Any]
    ) -> GpuComputePipeline:
        try:
            return self.create_compute_pipeline(device, descriptor)
        except (wgpu.GPUError, GuestGpuError) as exc:
            raise _pipeline_error(exc) from None

    # WIT: [method]gpu-device.create-render-pipeline-async
    @wit("[method]gpu-device.create-render-pipeline-async")
    def create_render_pipeline_async(
        self, device: GpuDevice, descriptor: dict[str, Any]
    ) -> GpuRenderPipeline:
        try:
            return self.create_render_pipeline(device, descriptor)
        except (wgpu.GPUError, GuestGpuError) as exc:
            raise _pipeline_error(exc) from None

    # --- record-gpu-pipeline-constant-value ----------------------------------------------------------

    @wit("[constructor]record-gpu-pipeline-constant-value")
    def new_constants(self) -> RecordGpuPipelineConstantValue:
        return RecordGpuPipelineConstantValue()

    @wit("[method]record-gpu-pipeline-constant-value.add")
    def constants_add(self, rec: RecordGpuPipelineConstantValue, key: str, value: float) -> None:
        rec.values[key] = value

    @wit("[method]record-gpu-pipeline-constant-value.get")
    def constants_get(self, rec: RecordGpuPipelineConstantValue, key: str) -> float | None:
        return rec.values.get(key)

    @wit("[method]record-gpu-pipeline-constant-value.has")
    def constants_has(self, rec: RecordGpuPipelineConstantValue, key: str) -> bool:
        return key in rec.values

    @wit("[method]record-gpu-pipeline-constant-value.remove")
    def constants_remove(self, rec: RecordGpuPipelineConstantValue, key: str) -> None:
        rec.values.pop(key, None)

    @wit("[method]record-gpu-pipeline-constant-value.keys")
    def constants_keys(self, rec: RecordGpuPipelineConstantValue) -> list[str]:
        return list(rec.values)

    @wit("[method]record-gpu-pipeline-constant-value.values")
    def constants_values(self, rec: RecordGpuPipelineConstantValue) -> list[float]:
        return list(rec.values.values())

    @wit("[method]record-gpu-pipeline-constant-value.entries")
    def constants_entries(self, rec: RecordGpuPipelineConstantValue) -> list[tuple[str, float]]:
        return list(rec.values.items())
