"""Which device the command-line tools compute on: `--device auto|cpu|cuda|mps`.

`auto` takes a GPU when torch sees one. Under torchrun each process takes the GPU of its
LOCAL_RANK, so one process drives one GPU. A device that is asked for but absent is a
one-line error for the person who asked, not a traceback.
"""
import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

# The exact posterior and log p(x) (vae/likelihood.py) sum in float64, which Apple's MPS lacks:
# the tools that compute them offer these devices only.
FLOAT64_DEVICES = ("auto", "cpu", "cuda")
DEVICES = (*FLOAT64_DEVICES, "mps")


class DeviceError(ValueError):
    """The device asked for is not there."""


def available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return torch.backends.mps.is_available()
    return kind == "cpu"


def pick_device(name: str, choices: tuple[str, ...] = DEVICES) -> torch.device:
    """The torch.device for `--device name`: for "auto" the first GPU kind among `choices` that is
    there, else the CPU; cuda is this process's GPU (LOCAL_RANK under torchrun, else the first).
    Raises DeviceError when the device is not one of `choices` or is not there."""
    if name not in choices:
        raise DeviceError(f"--device must be one of {', '.join(choices)}, not {name!r}")
    kind = name
    if name == "auto":
        kind = next((k for k in choices if k not in ("auto", "cpu") and available(k)), "cpu")
    if not available(kind):
        raise DeviceError(f"--device {kind}: torch sees no {kind.upper()} device here "
                          f"(torch {torch.__version__}); use --device cpu, or auto to take a GPU only when there is one")
    if kind == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if local_rank >= torch.cuda.device_count():
            raise DeviceError(f"--device cuda: process LOCAL_RANK={local_rank} has no GPU of its own "
                              f"({torch.cuda.device_count()} visible); start at most that many processes per node")
        return torch.device("cuda", local_rank)
    return torch.device(kind)


@contextmanager
def fixed_noise(seed: int, device: torch.device) -> Iterator[None]:
    """Random draws inside come from `seed`, on the CPU and on `device`; outside, the generators go on
    as if nothing had been drawn (a measurement in the middle of training does not change its noise)."""
    accelerator = [] if device.type == "cpu" else [device]
    with torch.random.fork_rng(devices=accelerator, device_type=device.type if accelerator else "cuda"):
        torch.manual_seed(seed)
        yield
