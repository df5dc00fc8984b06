"""scenes/free_lists.py: the copy of a `list<u8>` the componentize-py runtime makes for an import
call is registered to be freed after the call, exactly like the copy the glue makes itself.

The glue below has the shape componentize-py 0.25.1 generates for `[method]buffer.set` (a borrow
and a `list<u8>`); the behaviour of a real scene is tests/test_scenes.py's."""

from __future__ import annotations

import subprocess

import pytest
import wasmtime

from scenes.free_lists import FreeListsError, free_import_lists, wasm_tools

GLUE = """
(component
  (core module $glue
    (type $pop-list (func (param i32 i32 i32) (result i32)))
    (import "env" "wit_dylib_pop_borrow" (func $wit_dylib_pop_borrow (param i32 i32) (result i32)))
    (import "env" "wit_dylib_pop_list" (func $wit_dylib_pop_list (type $pop-list)))
    (import "env" "wit_dylib_pop_iter_next" (func $wit_dylib_pop_iter_next (param i32 i32)))
    (import "env" "wit_dylib_pop_u8" (func $wit_dylib_pop_u8 (param i32) (result i32)))
    (import "env" "wit_dylib_pop_iter" (func $wit_dylib_pop_iter (param i32 i32)))
    (import "env" "cabi_realloc" (func $cabi_realloc (param i32 i32 i32 i32) (result i32)))
    (import "env" "wit_dylib_dealloc_bytes" (func $wit_dylib_dealloc_bytes (param i32 i32 i32 i32 i32)))
    (import "host" "set" (func $set (param i32 i32 i32)))
    (memory (export "memory") 1)
    (global $__stack_pointer (mut i32) (i32.const 1024))
    (func (export "adapter set") (param i32)
      (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
      global.get $__stack_pointer
      i32.const 16
      i32.sub
      local.tee 1
      global.set $__stack_pointer
      local.get 0
      i32.const 43
      call $wit_dylib_pop_borrow
      local.set 2
      local.get 0
      i32.const 23
      local.get 1
      i32.const 0
      i32.add
      call $wit_dylib_pop_list
      local.set 5
      local.get 1
      i32.const 0
      i32.add
      i32.load
      local.set 6
      local.get 6
      i32.eqz
      if
        i32.const 0
        local.set 7
        i32.const 0
        i32.const 0
        i32.const 1
        local.get 5
        i32.const 1
        i32.mul
        local.tee 8
        call $cabi_realloc
        local.tee 9
        local.set 6
        loop
          local.get 7
          local.get 5
          i32.ne
          if
            local.get 0
            i32.const 23
            call $wit_dylib_pop_iter_next
            local.get 0
            call $wit_dylib_pop_u8
            local.set 10
            local.get 9
            local.get 10
            i32.store8
            local.get 7
            i32.const 1
            i32.add
            local.set 7
            local.get 9
            i32.const 1
            i32.add
            local.set 9
            br 1
          end
        end
        local.get 8
        if
          local.get 0
          local.get 6
          local.get 8
          i32.const 1
          i32.const 1
          call $wit_dylib_dealloc_bytes
        end
        local.get 0
        i32.const 23
        call $wit_dylib_pop_iter
      end
      local.get 2
      local.get 6
      local.get 5
      call $set
      local.get 1
      i32.const 16
      i32.add
      global.set $__stack_pointer)))
"""

COPY = 4096  # where the stand-in runtime "copied" the bytes
LENGTH = 921_600  # one 640x360 frame


def glue_module(component: bytes) -> bytes:
    """The core module of a component of one core module (its section runs to the end)."""
    start = component.index(b"\0asm\x01\x00\x00\x00", 8)
    return component[start:]


def calls_after(module: bytes) -> list[tuple[str, tuple[int, ...]]]:
    """Run `adapter set` with a runtime that copies the list itself (a non-null address, as
    componentize-py 0.25.1 does for `bytes`); the host calls made, in order."""
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    calls: list[tuple[str, tuple[int, ...]]] = []
    memory: list[wasmtime.Memory] = []
    i32 = wasmtime.ValType.i32()

    def pop_list(cx: int, ty: int, out: int) -> int:
        memory[0].write(store, COPY.to_bytes(4, "little"), out)
        return LENGTH

    def recorder(name: str, params: int, result: bool) -> wasmtime.Func:
        def call(*args: int) -> int | None:
            calls.append((name, tuple(args)))
            return 0 if result else None

        return wasmtime.Func(store, wasmtime.FuncType([i32] * params, [i32] if result else []), call)

    imports = {
        "wit_dylib_pop_borrow": recorder("pop_borrow", 2, True),
        "wit_dylib_pop_list": wasmtime.Func(store, wasmtime.FuncType([i32] * 3, [i32]), pop_list),
        "wit_dylib_pop_iter_next": recorder("pop_iter_next", 2, False),
        "wit_dylib_pop_u8": recorder("pop_u8", 1, True),
        "wit_dylib_pop_iter": recorder("pop_iter", 2, False),
        "cabi_realloc": recorder("cabi_realloc", 4, True),
        "wit_dylib_dealloc_bytes": recorder("dealloc_bytes", 5, False),
        "set": recorder("set", 3, False),
    }
    compiled = wasmtime.Module(engine, module)
    linker = wasmtime.Linker(engine)
    for item in compiled.imports:
        assert item.name is not None
        linker.define(store, item.module, item.name, imports[item.name])
    instance = linker.instantiate(store, compiled)
    exported = instance.exports(store)
    found = exported["memory"]
    assert isinstance(found, wasmtime.Memory)
    memory.append(found)
    adapter = exported["adapter set"]
    assert isinstance(adapter, wasmtime.Func)
    adapter(store, 7)
    return calls


@pytest.fixture(scope="module")
def glue() -> bytes:
    parse = [str(wasm_tools()), "parse", "-"]
    return subprocess.run(parse, input=GLUE.encode(), capture_output=True, check=True).stdout


def test_the_runtime_copy_is_freed_after_the_call(glue: bytes) -> None:
    assert calls_after(glue_module(glue))[-1] == ("set", (0, COPY, LENGTH))  # never freed
    freed, count = free_import_lists(glue)
    assert count == 1
    subprocess.run([str(wasm_tools()), "validate", "-"], input=freed, check=True)
    calls = calls_after(glue_module(freed))
    # Registered with the call (deferred: the runtime frees it once the import has returned).
    assert calls[-2:] == [("dealloc_bytes", (7, COPY, LENGTH, 1, 1)), ("set", (0, COPY, LENGTH))]
    assert not any(name == "cabi_realloc" for name, _ in calls)


def test_a_changed_glue_or_no_glue_is_an_error(glue: bytes) -> None:
    freed, _ = free_import_lists(glue)
    with pytest.raises(FreeListsError, match="changed already"):
        free_import_lists(freed)
    with pytest.raises(FreeListsError, match="not a component"):
        free_import_lists(glue_module(glue))
