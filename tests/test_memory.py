"""explorer/memory.py: the memory a class's digits leave in the C library's heaps goes back to the system."""
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import memory

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(memory.malloc_trim() is None or not Path("/proc/self/status").exists(),
                                reason="no glibc malloc_trim or no /proc here")

# Each workload runs in a process of its own (its own heaps), on four threads as Gradio's workers run
# handlers (each thread's heap kept apart), then starts the trimmer; it prints the resident memory
# before the work, after it, and a second after the trimmer started, in MB.
MEASURED = """
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import torch
from explorer import memory

def rss():
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024

def measured(work):
    start = rss()
    with ThreadPoolExecutor(4) as workers:
        kept = work(workers)  # alive until the end, as a server keeps what it caches
    grown = rss()
    memory.keep_handing_back(every=0.2)
    time.sleep(1.0)
    print(start, grown, rss())
"""

# Holes made on purpose: 64 KB blocks (kept in the heaps, below malloc's mmap threshold), each
# followed by a small tensor that stays alive, so that no freed block can merge with the heap's top.
HOLES = MEASURED + """
def holes(_):
    blocks, kept = [], []
    for _ in range(1000):
        blocks.append(torch.ones(16384))
        kept.append(torch.ones(16))
    return kept

measured(lambda workers: list(workers.map(holes, range(4))))
"""

# The exact terms of 32 new digits, as a class's ELBOs compute them.
DIGITS = MEASURED + """
import numpy as np
from explorer import api, models

torch.set_num_threads(1)
models.load()
digits = torch.load("checkpoints/test_latents.pt", weights_only=True)["images"]
api.exact_terms(np.asarray(digits[0]).tobytes(), models.DEFAULT.name)  # the coarse grid, built once
measured(lambda workers: list(workers.map(lambda digit: api.exact_terms(np.asarray(digit).tobytes(), models.DEFAULT.name),
                                          digits[1:33])))
"""


def resident_mb(workload: str) -> tuple[float, float, float]:
    out = subprocess.run([sys.executable, "-c", workload], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    start, grown, trimmed = map(float, out.stdout.split())
    return start, grown, trimmed


def test_memory_freed_on_the_worker_threads_goes_back_to_the_system():
    start, grown, trimmed = resident_mb(HOLES)
    assert grown - start > 200, f"the heaps no longer keep the freed blocks ({start:.0f} -> {grown:.0f} MB)"
    # What stays: the 4,000 small tensors kept alive, each holding the 4 KB page it sits on.
    assert trimmed - start < 30, f"{start:.0f} MB at the start, {grown:.0f} with the holes, {trimmed:.0f} a second after the trimmer started"


@pytest.mark.slow
def test_a_class_s_digits_leave_the_memory_where_it_was():
    start, grown, trimmed = resident_mb(DIGITS)
    # The digits' results are kept (32 x 34 KB); whatever the heaps grew by beyond that is freed memory,
    # a few hundred MB where the threads' heaps keep it.
    assert trimmed < start + 20, f"{start:.0f} MB at the start, {grown:.0f} after 32 digits, {trimmed:.0f} a second after the trimmer started"
