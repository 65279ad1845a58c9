"""The server's freed memory handed back to the system every few seconds.

Each digit's quadrature and reading allocates and frees tensors of a few megabytes, on whichever of
Gradio's worker threads runs it. glibc's malloc keeps what is freed in its heaps for reuse, and the
digits of a class leave those heaps fragmented: the server's resident memory would keep growing with
every crowd of new people, though `malloc_trim` gives it all back. Trimming after every digit would
fault those pages in again each time; every few seconds costs a few milliseconds of one core.
Where the C library has no `malloc_trim` (macOS, Windows, musl) nothing starts.
"""
import ctypes
import ctypes.util
import threading
from collections.abc import Callable
from functools import cache

from explorer import background

TRIM_EVERY = 5.0  # seconds between trims


def malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim(pad), or None where the C library has none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)


@cache  # one thread per process, however often the app is launched
def keep_handing_back(every: float = TRIM_EVERY) -> threading.Thread | None:
    """Start a background thread that trims the heaps every `every` seconds; None where there is no
    malloc_trim. Stopped at exit, so that no trim runs while the interpreter finalizes."""
    trim = malloc_trim()
    if trim is None:
        return None

    def work(stop: threading.Event) -> None:
        while not stop.wait(every):
            trim(0)

    return background.start("explorer-memory-trim", work)
