"""The wgpu-py objects a guest holds, one small class per wasi:webgpu resource.

Each wraps the native object and remembers what the host must check before passing it on
(its device, whether it was destroyed), because some misuse makes wgpu-native abort the process.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Self

import wgpu

from ..errors import GuestGpuError
from ..limits import Limits
from ..resources import Resource
from . import gpu_wait
from .budget import Charge, GpuBudget
from .error_scope import ErrorScopes
from .gpu_wait import GpuWaits

log = logging.getLogger(__name__)

W = "wasi:webgpu/webgpu#"


class GpuObject(Resource):
    """A native wgpu object with a label and the device that made it."""

    invalid_reason: str | None = None  # set on the stand-in for a creation that failed in an error scope
    charge: Charge | None = None  # its place in the guest's GPU budget (budget.py), freed on release
    # The buffers, textures and query sets that using this object touches (tracking.py): checked at
    # submit, because wgpu-native aborts the process on a submit touching a destroyed one.
    uses: set[Destroyable] | None = None

    def __init__(self, native: Any, device: GpuDevice | None = None, label: str = "") -> None:
        self.native = native
        self.device = device
        self.label = label or ""
        if native is not None and device is not None:
            self.charge = device.budget.charge(f"create {self.kind()}", self.kind())

    @classmethod
    def invalid(cls, device: GpuDevice, label: str, reason: str) -> Self:
        """WebGPU's "invalid object": what a failed creation returns; any use is a validation error."""
        obj = cls.__new__(cls)
        GpuObject.__init__(obj, None, device, label)
        obj.invalid_reason = reason
        return obj

    def kind(self) -> str:
        return self.wit_resource.split("#")[1]

    def check_valid(self, call: str) -> Any:
        if self.invalid_reason is not None:
            raise GuestGpuError(call, f"invalid {self.kind()} (its creation failed: {self.invalid_reason})")
        if self.native is None:
            raise GuestGpuError(call, f"the {self.kind()} is no longer valid")
        return self.native

    def release(self) -> None:
        native, self.native = self.native, None
        if self.device is not None:
            self.device.waits.park(native)  # its GPU is still busy after a wait timed out
        self.uses = None
        if self.charge is not None:
            self.charge.free()

    def wedged(self) -> bool:
        """Its device lost a GPU wait: the host must not destroy or drop its objects yet."""
        return self.device is not None and self.device.waits.timed_out


class Destroyable(GpuObject):
    destroyed = False
    memory: Charge | None = None  # the bytes it holds of the guest's GPU budget, freed on destroy

    def destroy(self) -> None:
        if not self.destroyed and self.native is not None:
            self.native.destroy()
        self.destroyed = True
        if self.memory is not None:
            self.memory.free()

    def release(self) -> None:
        if self.native is not None and not self.destroyed and not self.wedged():
            try:
                self.native.destroy()
            except Exception:
                log.debug("destroy failed while releasing", exc_info=True)
        self.destroyed = True
        if self.memory is not None:
            self.memory.free()
        super().release()

    def check_alive(self, call: str) -> Any:
        if self.invalid_reason is None and (self.destroyed or self.native is None):
            raise GuestGpuError(call, f"the {self.kind()} was destroyed")
        return self.check_valid(call)


class Gpu(Resource):
    wit_resource = W + "gpu"


class GpuAdapter(GpuObject):
    wit_resource = W + "gpu-adapter"


def limit_key(name: str) -> str:
    """`max-texture-dimension1-d`, wgpu-py's `max-texture-dimension-1d` and WebGPU's
    `maxTextureDimension1D` all meet as `maxtexturedimension1d`."""
    return name.replace("-", "").lower()


class GpuSupportedLimits(Resource):
    wit_resource = W + "gpu-supported-limits"

    def __init__(self, limits: dict[str, int]) -> None:
        self.limits = limits
        self.by_key = {limit_key(name): int(value) for name, value in limits.items()}  # one lookup a getter


class GpuSupportedFeatures(Resource):
    wit_resource = W + "gpu-supported-features"

    def __init__(self, features: set[str]) -> None:
        self.features = features


class WgslLanguageFeatures(Resource):
    wit_resource = W + "wgsl-language-features"

    def __init__(self, features: set[str]) -> None:
        self.features = features


class GpuAdapterInfo(Resource):
    wit_resource = W + "gpu-adapter-info"

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info


class GpuDevice(Destroyable):
    wit_resource = W + "gpu-device"

    def __init__(
        self,
        native: wgpu.GPUDevice,
        adapter: GpuAdapter,
        label: str = "",
        budget: GpuBudget | None = None,
        blocked: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        """`budget`: the guest's (budget.py); `blocked`: its `CpuDeadline.blocked`, around GPU waits."""
        super().__init__(native, None, label)
        self.budget = budget or GpuBudget(Limits())  # the guest's, shared by its devices
        self.charge = self.budget.charge("[method]gpu-adapter.request-device", "gpu-device")
        self.adapter = adapter
        self.queue: GpuQueue | None = None
        # Every wait on this device's GPU is bounded; past the deadline the device is lost.
        self.waits = GpuWaits(
            native,
            self.budget.limits.gpu_wait_seconds,
            self._wait_timed_out,
            blocked,
            submit_blocks=gpu_wait.submit_blocks(adapter.native.info),
        )
        # Called once, before the device is destroyed or released: what the host made on it for
        # the guest (a graphics context's presenter) is finished and freed first.
        self.before_release: list[Callable[[], None]] = []
        self.error_scopes = ErrorScopes()
        self.lost_reason: str | None = None  # gpu-device-lost-reason once lost: "unknown" or "destroyed"
        self.lost_message = ""
        self.on_lost: list[Callable[[], None]] = []  # called once, when the device is lost
        self.uncaptured_errors = 0  # GPU errors no error scope captured (device_events.py)

    def check_alive(self, call: str) -> Any:
        if self.lost_reason is not None and not self.destroyed:
            raise GuestGpuError(call, f"the gpu-device was lost: {self.lost_message}")
        return super().check_alive(call)

    def wedged(self) -> bool:
        return self.waits.timed_out

    def _wait_timed_out(self, message: str) -> None:
        """A GPU wait passed its deadline: the device is lost (its waits keep the native device and
        what the guest releases alive until the GPU is idle, since dropping them would block)."""
        self.lose("unknown", message)

    def lose(self, reason: str, message: str) -> None:
        """Mark the device lost (destroyed by the guest, or given up by the host); the first call wins."""
        if self.lost_reason is not None:
            return
        self.lost_reason, self.lost_message = reason, message
        for callback in self.on_lost:
            callback()

    def _finish_dependents(self) -> None:
        callbacks, self.before_release = self.before_release, []
        for callback in callbacks:
            callback()

    def destroy(self) -> None:
        self._finish_dependents()
        super().destroy()

    def release(self) -> None:
        self._finish_dependents()
        self.queue = None
        if self.wedged():
            # Destroying it would wait for wgpu's poll thread, stuck in a blocking poll; its waits
            # drop it once its GPU is idle.
            self.destroyed = True
        super().release()


class GpuQueue(GpuObject):
    wit_resource = W + "gpu-queue"


class GpuBuffer(Destroyable):
    wit_resource = W + "gpu-buffer"


class GpuTexture(Destroyable):
    wit_resource = W + "gpu-texture"


class GpuTextureView(GpuObject):
    wit_resource = W + "gpu-texture-view"


class GpuSampler(GpuObject):
    wit_resource = W + "gpu-sampler"


class GpuBindGroupLayout(GpuObject):
    wit_resource = W + "gpu-bind-group-layout"


class GpuBindGroup(GpuObject):
    wit_resource = W + "gpu-bind-group"


class GpuPipelineLayout(GpuObject):
    wit_resource = W + "gpu-pipeline-layout"


class GpuShaderModule(GpuObject):
    wit_resource = W + "gpu-shader-module"
    compile_error: str | None = None  # wgpu's full error text, for a module whose creation failed
    code = ""  # its WGSL, to turn naga's line:column into an offset


class GpuComputePipeline(GpuObject):
    wit_resource = W + "gpu-compute-pipeline"


class GpuRenderPipeline(GpuObject):
    wit_resource = W + "gpu-render-pipeline"


class GpuCommandBuffer(GpuObject):
    wit_resource = W + "gpu-command-buffer"
    submitted = False


class GpuCommandEncoder(GpuObject):
    wit_resource = W + "gpu-command-encoder"


class GpuRenderPassEncoder(GpuObject):
    wit_resource = W + "gpu-render-pass-encoder"


class GpuComputePassEncoder(GpuObject):
    wit_resource = W + "gpu-compute-pass-encoder"


class GpuRenderBundle(GpuObject):
    wit_resource = W + "gpu-render-bundle"


class GpuRenderBundleEncoder(GpuObject):
    wit_resource = W + "gpu-render-bundle-encoder"


class GpuQuerySet(Destroyable):
    wit_resource = W + "gpu-query-set"


class GpuCompilationInfo(Resource):
    wit_resource = W + "gpu-compilation-info"

    def __init__(self, messages: list[Resource]) -> None:
        self.messages = messages  # gpu-compilation-message resources (webgpu/pipeline.py)


class RecordGpuPipelineConstantValue(Resource):
    """A string -> f64 map a guest builds for pipeline overridable constants."""

    wit_resource = W + "record-gpu-pipeline-constant-value"

    def __init__(self) -> None:
        self.values: dict[str, float] = {}


class RecordOptionGpuSize64(Resource):
    """A string -> optional u64 map, used for `required-limits`."""

    wit_resource = W + "record-option-gpu-size64"

    def __init__(self) -> None:
        self.values: dict[str, int | None] = {}
