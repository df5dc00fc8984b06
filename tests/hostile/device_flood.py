"""device_flood: requests GPU devices until the host refuses one, then destroys one and asks again.

Each device holds a native poll thread, so a guest may hold only `Limits.gpu_devices` at once; the
request past it is the WIT's `err` (`operation-error`, WebGPU's OperationError), not a crash or a
thread per request. Checks: `held` (how many it got, the limit), `refused` ([kind class, message]),
`after_destroy` ("ok": a destroyed device no longer counts).
"""

from componentize_py_types import Err
from gfxkit import present_forever, report, setup
from wit_world.imports import webgpu as W


def run() -> None:
    device, canvas, context = setup()
    adapter = W.get_gpu().request_adapter(None)
    assert adapter is not None
    held = [device]
    refused: object = None
    for _ in range(1000):
        try:
            held.append(adapter.request_device(None))
        except Err as err:
            refused = [type(err.value.kind).__name__, err.value.message]
            break
    report("held", len(held))
    report("refused", refused)
    held.pop().destroy()
    try:
        held.append(adapter.request_device(None))
        report("after_destroy", "ok")
    except Err as err:
        report("after_destroy", [type(err.value.kind).__name__, err.value.message])
    present_forever(device, canvas, context)
