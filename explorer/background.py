"""Work the server does beside the requests, each job on a daemon thread that stops cleanly at exit."""
import atexit
import threading
from collections.abc import Callable


def start(name: str, work: Callable[[threading.Event], None]) -> threading.Thread:
    """Run work(stop) on a daemon thread named `name`; `work` checks `stop` between its steps. At exit
    `stop` is set and the thread joined, so the process ends once the step under way is done, never
    inside a torch or C call (a daemon thread killed mid-call at interpreter exit can abort the process)."""
    stop = threading.Event()

    def finish() -> None:
        stop.set()
        thread.join()

    thread = threading.Thread(target=work, args=(stop,), name=name, daemon=True)
    atexit.register(finish)
    thread.start()
    return thread
