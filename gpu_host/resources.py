"""Host objects handed to guests as WIT resources, and the per-guest table that names them.

A guest sees an integer handle; the host keeps `rep -> object` in a `HandleTable` owned by one
guest, so guests never share objects and the table is freed with the guest.
"""

from __future__ import annotations

import zlib
from typing import ClassVar

from .errors import HostError

__all__ = ["HandleTable", "Resource", "TableFull", "resource_type_id"]


def resource_type_id(qualified_name: str) -> int:
    """A stable wasmtime host resource type id for `package/interface#resource` (no version)."""
    return zlib.crc32(qualified_name.encode()) & 0x7FFFFFFF


class Resource:
    """Base of every object a guest holds a handle to.

    `wit_resource` is `wasi:io/poll#pollable`-style: the interface (without version) and the
    resource name, which is how the linker finds the wasmtime resource type.
    """

    wit_resource: ClassVar[str] = ""

    @classmethod
    def type_id(cls) -> int:
        return resource_type_id(cls.wit_resource)

    def release(self) -> None:
        """Free what this object holds eagerly (GPU memory); called when its guest ends."""


class TableFull(HostError):
    """The guest holds more handles than its table allows."""


class HandleTable:
    """Integer handles of one guest. Not thread-safe: only the guest's thread touches it."""

    def __init__(self, limit: int = 100_000) -> None:
        """`limit`: handles held at once (`Limits.handles`); one more is a `TableFull`."""
        self._objects: dict[int, Resource] = {}
        self._next = 1
        self._limit = limit

    def insert(self, obj: Resource) -> int:
        if len(self._objects) >= self._limit:
            raise TableFull(
                f"the guest holds {self._limit} handles (Limits.handles); drop some before creating more"
            )
        rep = self._next
        self._next += 1
        self._objects[rep] = obj
        return rep

    def get(self, rep: int) -> Resource:
        return self._objects[rep]

    def remove(self, rep: int) -> None:
        self._objects.pop(rep, None)

    def __len__(self) -> int:
        return len(self._objects)

    def drain(self) -> list[Resource]:
        """Empty the table, returning what it held (for release at guest end)."""
        objects = list(self._objects.values())
        self._objects.clear()
        return objects
