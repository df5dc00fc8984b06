"""gpu_fuzz: replays a wasi:webgpu call script, the guest half of the fuzzer (benchmarks/gpu_fuzz/).

The script is JSON lines in the environment variable FUZZ_SCRIPT, one call a line, made by the host's
generator. The guest keeps every value a call returns in a table of slots (by index), so a script
can reuse, drop and forge handles: the boundary between guest and host (lifted lists, borrows,
forged and dropped handles) is what the fuzzer is for, so calls go through the real bindings.

A call is `{"t": target, "c": method, "a": [args], "o": slot}`; the target is `{"s": i}` (the
object in slot i), `{"m": "webgpu"}` (a function of that interface) or `{"k": "GpuTexture"}` (a
static function, or the constructor when `c` is null). Arguments are JSON values, with objects:
`{"s": i}` a slot's value, `{"r": "GpuBufferDescriptor", "f": {...}}` a record or variant case
(missing fields are None), `{"e": "GpuTextureFormat", "v": "RGBA8UNORM"}` an enum case,
`{"b": n, "x": byte}` n bytes, `{"forge": i, "h": n}` a copy of slot i's object naming handle n,
`{"stale": i}` the object dropped from slot i (its handle gone). `{"drop": i}` drops slot i's handle.
A call whose slot is empty is skipped. Every interface's name may be given as `"m"` in `{"r"...}`,
`{"e"...}` and `{"k"...}` (default webgpu).

Prints, when FUZZ_TRACE=1, `@N` before call N (the host finds the call a crash happened in);
`{"shown": N, "value": ...}` after call N when it has `"p": 1`; and at the end one JSON line:
`{"done": calls, "ok": n, "err": n, "skip": n, "exc": {name: n}}`.
"""

import copy
import dataclasses
import json
import os

import wit_world
from componentize_py_types import Err
from wit_world.imports import frame_buffer, graphics_context, surface, webgpu

MODULES = {
    "webgpu": webgpu,
    "graphics_context": graphics_context,
    "frame_buffer": frame_buffer,
    "surface": surface,
}


class Skip(Exception):
    """An argument names an empty slot: the call is not made."""


class Replay:
    def __init__(self) -> None:
        self.slots: dict[int, object] = {}
        self.dropped: dict[int, object] = {}

    def value(self, spec: object) -> object:
        if isinstance(spec, list):
            return [self.value(item) for item in spec]
        if not isinstance(spec, dict):
            return spec
        module = MODULES[spec.get("m", "webgpu")]
        if "s" in spec:
            found = self.slots.get(spec["s"])
            if found is None:
                raise Skip()
            return found
        if "r" in spec:
            cls = getattr(module, spec["r"])
            given = {key: self.value(field) for key, field in spec.get("f", {}).items()}
            for field in dataclasses.fields(cls):
                given.setdefault(field.name, None)
            return cls(**given)
        if "e" in spec:
            return getattr(getattr(module, spec["e"]), spec["v"])
        if "b" in spec:
            return bytes([spec.get("x", 0)]) * spec["b"]
        if "forge" in spec:
            real = self.slots.get(spec["forge"])
            if real is None:
                raise Skip()
            forged = copy.copy(real)
            vars(forged)["handle"] = spec["h"]
            return forged
        if "stale" in spec:
            found = self.dropped.get(spec["stale"])
            if found is None:
                raise Skip()
            return found
        raise ValueError(f"unknown argument {spec}")

    def target(self, spec: dict) -> object:
        if "m" in spec and len(spec) == 1:
            return MODULES[spec["m"]]
        if "k" in spec:
            return getattr(MODULES[spec.get("m", "webgpu")], spec["k"])
        return self.value(spec)

    def drop(self, slot: int) -> None:
        found = self.slots.pop(slot, None)
        if found is None:
            raise Skip()
        self.dropped[slot] = copy.copy(found)
        found.__exit__(None, None, None)

    def call(self, op: dict) -> object:
        if "drop" in op:
            self.drop(op["drop"])
            return None
        target = self.target(op["t"])
        args = [self.value(arg) for arg in op.get("a", [])]
        function = target if op["c"] is None else getattr(target, op["c"])
        if "o" in op:
            self.slots.pop(op["o"], None)
        result = function(*args)
        if "o" in op and result is not None:
            self.slots[op["o"]] = result
        return result


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        trace = os.environ.get("FUZZ_TRACE") == "1"
        replay = Replay()
        counts = {"ok": 0, "err": 0, "skip": 0}
        exceptions: dict[str, int] = {}
        lines = os.environ.get("FUZZ_SCRIPT", "").splitlines()
        for index, line in enumerate(lines):
            if trace:
                print(f"@{index}", flush=True)
            op = json.loads(line)
            try:
                result = replay.call(op)
                counts["ok"] += 1
                if op.get("p"):
                    plain = isinstance(result, (str, int, float, bool, type(None)))
                    shown = result if plain else repr(result)
                    print(json.dumps({"shown": index, "value": shown}), flush=True)
            except Skip:
                counts["skip"] += 1
                if op.get("p"):  # an error scope that caught nothing: its empty slot, shown as null
                    print(json.dumps({"shown": index, "value": None}), flush=True)
            except Err as error:
                counts["err"] += 1
                if op.get("p"):
                    print(json.dumps({"shown": index, "err": repr(error.value)[:300]}), flush=True)
            except Exception as error:  # the bindings refused an argument: the guest's own error
                name = type(error).__name__
                exceptions[name] = exceptions.get(name, 0) + 1
        print(json.dumps({"done": len(lines), **counts, "exc": exceptions}), flush=True)
