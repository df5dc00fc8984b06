"""submit_twice: submits a command buffer twice, then one command buffer twice in one list,
finishes an encoder twice, and records into a finished encoder.

wgpu-native aborts the process on the second submit and on a list naming one command buffer
twice; the host must refuse both as validation errors. The others are validation errors from
wgpu. Checks: `submit_twice`, `twice_in_one_submit`, `finish_twice`, `record_after_finish`.
"""

from gfxkit import BU, buffer, check, present_forever, setup


def run() -> None:
    device, canvas, context = setup()
    once = device.create_command_encoder(None).finish(None)
    device.queue().submit([once])
    check(device, "submit_twice", lambda: device.queue().submit([once]))
    fresh = device.create_command_encoder(None).finish(None)
    check(device, "twice_in_one_submit", lambda: device.queue().submit([fresh, fresh]))
    encoder = device.create_command_encoder(None)
    encoder.finish(None)
    check(device, "finish_twice", lambda: encoder.finish(None))
    target = buffer(device, 16, BU.copy_dst())
    check(device, "record_after_finish", lambda: encoder.clear_buffer(target, None, None))
    present_forever(device, canvas, context)
