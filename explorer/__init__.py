"""The explorer app around vae/: the committed models (models.py, loaded by models.load()), the
API's endpoints (api.py), the page's server events (events.py, elbo_tab.py), its words (text.py),
its pictures and controls (components.py), its stylesheet and JavaScript (static/, assets.py) and
every change it makes to Gradio (gradio_adjustments.py). app.py lays the page out and wires these
together. Importing any of them but components.py loads nothing: app.py calls models.load() first.
"""
import ctypes
import sys


def limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives every thread that allocates a heap arena of its own, and Gradio answers
    requests on a pool of worker threads, so a busy server's memory keeps growing with
    arenas it rarely reuses; two are enough for two cores. Set before the server's threads start."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 is M_ARENA_MAX
        except (OSError, AttributeError):  # a libc without mallopt (e.g. musl): keep its default
            pass


limit_malloc_arenas()
