"""explorer/memory.py: the memory a class's digits leave in the C library's heaps goes back to the system."""
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import memory

ROOT = Path(__file__).resolve().parent.parent

# In a process of its own (its own heaps): the exact terms of 32 new digits, as a class's ELBOs
# compute them, on four threads as Gradio's workers run them (each thread's heap kept apart), then
# the trimmer started; the resident memory at each point, in MB.
WORKLOAD = """
import time
from concurrent.futures import ThreadPoolExecutor
import numpy as np, torch
from pathlib import Path
from explorer import api, memory, models

def rss():
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024

torch.set_num_threads(1)
models.load()
digits = torch.load("checkpoints/test_latents.pt", weights_only=True)["images"]
api.exact_terms(np.asarray(digits[0]).tobytes(), models.DEFAULT.name)  # the coarse grid, built once
start = rss()
with ThreadPoolExecutor(4) as workers:
    list(workers.map(lambda digit: api.exact_terms(np.asarray(digit).tobytes(), models.DEFAULT.name), digits[1:33]))
grown = rss()
memory.keep_handing_back(every=0.2)
time.sleep(1.0)
print(start, grown, rss())
"""


@pytest.mark.slow
@pytest.mark.skipif(memory.malloc_trim() is None or not Path("/proc/self/status").exists(),
                    reason="no glibc malloc_trim or no /proc here")
def test_the_quadratures_freed_memory_goes_back_to_the_system():
    out = subprocess.run([sys.executable, "-c", WORKLOAD], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    start, grown, trimmed = map(float, out.stdout.split())
    # The digits' results are kept (32 x 34 KB); what the heaps grew by beyond that is freed memory held.
    assert grown - start > 30, f"the workload no longer fragments the heaps ({start:.0f} -> {grown:.0f} MB)"
    assert trimmed < start + 10, f"{start:.0f} MB at the start, {grown:.0f} after 32 digits, {trimmed:.0f} a second after the trimmer started"
