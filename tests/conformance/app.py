"""conformance: the wasi:webgpu@0.0.1 conformance suite, one guest with a module per group.

The guest's first argument names the group to run; with none it runs them all. Each check prints
one JSON line, {"group": G, "check": NAME, "value": V} (or "error" instead of "value" when the
step raised; the suite goes on); tests/test_conformance.py compares the values with numbers it
computes itself. After the groups it prints {"done": [groups]} and renders frames (group_frames).

Groups: adapter, buffers, textures, shaders, bind-groups, render, compute, errors (errors also
ends with device loss), frames (the frame loop, always last). Special arguments, not part of "all":
  lost-live        calls gpu-device.lost on its live device: blocks until the host stops it
  uncaptured-flood makes invalid buffers with no error scope until the host ends it
"""

import json
import sys

import group_adapter
import group_bindings
import group_buffers
import group_compute
import group_errors
import group_frames
import group_render
import group_shaders
import group_textures
import wit_world
from gfxkit import setup
from wit_world.imports import webgpu as W

SPECIAL = ["lost-live", "uncaptured-flood"]
GROUPS = ["adapter", "buffers", "textures", "shaders", "bind-groups", "render", "compute", "errors", "frames"]


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        # The first argument that names a group (the host may or may not pass a program name first).
        wanted = [a for a in sys.argv if a in GROUPS or a in SPECIAL][:1] or GROUPS
        device, canvas, context = setup()
        gpu = W.get_gpu()
        adapter = gpu.request_adapter(None)
        assert adapter is not None
        if wanted == ["lost-live"]:
            print(json.dumps({"calling": "lost"}), flush=True)
            info = device.lost()
            reason = info.reason().name.lower()
            print(json.dumps({"lost": reason, "message": info.message()}), flush=True)
            return
        if wanted == ["uncaptured-flood"]:
            usage = W.GpuBufferUsage.map_read() | W.GpuBufferUsage.storage()
            made = 0
            while True:
                device.create_buffer(
                    W.GpuBufferDescriptor(size=4, usage=usage, mapped_at_creation=None, label=None)
                )
                made += 1
                if made % 1000 == 0:
                    print(json.dumps({"made": made}), flush=True)
        runs = {
            "adapter": lambda: group_adapter.run(gpu, adapter, device),
            "buffers": lambda: group_buffers.run(device),
            "textures": lambda: group_textures.run(device),
            "shaders": lambda: group_shaders.run(device),
            "bind-groups": lambda: group_bindings.run(device),
            "render": lambda: group_render.run(adapter, device),
            "compute": lambda: group_compute.run(device),
            "errors": lambda: group_errors.run(adapter, device),
        }
        for name in wanted:
            if name in runs:
                try:
                    runs[name]()
                except Exception as error:
                    print(
                        json.dumps(
                            {"group": name, "check": "group", "error": f"{type(error).__name__}: {error}"}
                        )
                    )
        print(json.dumps({"done": wanted}), flush=True)
        group_frames.run(device, canvas, context)
