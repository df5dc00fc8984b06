"""wgsl_nul: a valid shader followed by a NUL character and more text.

WGSL reaches wgpu-native as a C string, so it would compile the part before the NUL and ignore
the rest without a word. The host must refuse the source as a validation error naming the NUL.
Check: `nul`.
"""

from gfxkit import check, present_forever, setup, shader


def run() -> None:
    device, canvas, context = setup()
    code = "@compute @workgroup_size(1) fn main() {}\n\0 this part would be ignored"
    check(device, "nul", lambda: shader(device, code))
    present_forever(device, canvas, context)
