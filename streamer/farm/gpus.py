"""The GPU Ray gave a task, as a Vulkan adapter.

Ray hands a task its GPUs by setting CUDA's device variables, which Vulkan (and so wgpu) ignores:
on a node with several GPUs every task would render on the first adapter. So the task looks its
GPUs up in `nvidia-smi` (index, PCI bus id, UUID), and tells the guest worker's Vulkan loader to
show only the first of them, by its PCI bus, through Mesa's device-select layer (`DRI_PRIME` with
`MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE`; the layer comes with Debian's mesa-vulkan-drivers).
Identical GPUs have one name, so the bus is the only thing that tells them apart.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["SMI_QUERY", "NvidiaGpu", "list_nvidia_gpus", "parse_nvidia_smi", "vulkan_selection"]

# What list_nvidia_gpus asks nvidia-smi; parse_nvidia_smi reads its answer.
SMI_QUERY = ("nvidia-smi", "--query-gpu=index,pci.bus_id,uuid,name", "--format=csv,noheader")


@dataclass(frozen=True)
class NvidiaGpu:
    index: int  # nvidia-smi's (NVML's) index: PCI bus order
    bus_id: str  # as nvidia-smi writes it: 00000000:18:00.0
    uuid: str  # GPU-…
    name: str

    @property
    def pci_tag(self) -> str:
        """The bus as Mesa's device-select layer takes it in DRI_PRIME: pci-0000_18_00_0."""
        domain, bus, rest = self.bus_id.lower().split(":")
        device, function = rest.split(".")
        return f"pci-{int(domain, 16):04x}_{bus}_{device}_{function}"


def parse_nvidia_smi(text: str) -> list[NvidiaGpu]:
    """The rows of `SMI_QUERY`'s output."""
    gpus = []
    for row in csv.reader(io.StringIO(text)):
        if len(row) != 4:
            continue
        index, bus_id, uuid, name = (cell.strip() for cell in row)
        gpus.append(NvidiaGpu(int(index), bus_id, uuid, name))
    return gpus


def list_nvidia_gpus() -> list[NvidiaGpu]:
    """This machine's NVIDIA GPUs; none where nvidia-smi is missing or fails."""
    if shutil.which(SMI_QUERY[0]) is None:
        return []
    try:
        done = subprocess.run(SMI_QUERY, capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_nvidia_smi(done.stdout)


def vulkan_selection(
    assigned: Sequence[str | int], gpus: Sequence[NvidiaGpu]
) -> tuple[NvidiaGpu, dict[str, str]]:
    """The GPU to render on, of those Ray `assigned` (its GPU ids: nvidia-smi indices, or UUIDs
    where CUDA_VISIBLE_DEVICES named GPUs by UUID), and the environment that makes it the only
    Vulkan adapter a process sees. A task given several GPUs renders on the first."""
    if not assigned:
        raise ValueError("Ray assigned no GPU to this task")
    wanted = str(assigned[0]).strip()
    for gpu in gpus:
        if wanted in (str(gpu.index), gpu.uuid) or (
            wanted.startswith("GPU-") and gpu.uuid.startswith(wanted)
        ):
            return gpu, {"DRI_PRIME": gpu.pci_tag, "MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE": "1"}
    known = ", ".join(f"{gpu.index} ({gpu.bus_id})" for gpu in gpus) or "none"
    raise ValueError(f"Ray assigned GPU {wanted}, which nvidia-smi does not list (it lists {known})")
