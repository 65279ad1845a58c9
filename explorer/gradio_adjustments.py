"""Every place where the explorer changes how Gradio behaves, each kept because it protects people, their data or
the server, or people measurably gain by it, and Gradio 6.31 has no public way to it (its docstring says which).

1. `ExplorerBlocks` (protects the server): its limits, and Gradio's check that a file payload names an uploaded file,
   hold however the app is served (`python app.py`, `gradio app.py`, `demo.launch()`, `gr.mount_gradio_app`).
2. `atomic_image_saves` (protects data): an output image is never served half-written.
3. `file_payload_messages` (protects people and the server): a file payload that Gradio refuses before any handler
   runs gets a message saying why, and never a server path.
4. `uploads_unopened` (people gain): a file that is not an image gets our message, not a bare "Error".
5. `serve_assets` (measured gain): browsers keep the page's own files; a reload fetches none of their ~7 MB again.
6. `documented_api` (people gain): the "Use via API" page says what each parameter and result is; its examples run.
7. `optional` (protects API users' calls): a call may leave out the `model` that every endpoint gained later.
8. `template_with_noscript` (people gain): a browser without JavaScript is told what the page needs.

`install()` first checks that Gradio still works inside as 6.31 does; where it does not, 2, 3, 5 and 8 are left out,
6 and 7 switched off (Gradio's own behaviour), and for 1 and 4 the check says that they no longer help, each with a
warning, as for a Gradio outside VERIFIED. It may run again (reload mode re-imports this module): a replacement is
never wrapped around itself.
"""
import html
import io
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read by Gradio whenever it would phone home
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

import gradio as gr  # noqa: E402
import gradio.image_utils  # noqa: E402
import gradio.queueing  # noqa: E402
import gradio.routes  # noqa: E402
import gradio.utils  # noqa: E402
import pydantic  # noqa: E402
from gradio import processing_utils  # noqa: E402
from gradio.exceptions import InvalidPathError  # noqa: E402
from packaging.version import Version  # noqa: E402

from explorer import text  # noqa: E402
from vae.preprocess import MAX_UPLOAD_BYTES  # noqa: E402

log = logging.getLogger("explorer")

VERIFIED = ("6.31.0", "6.32")  # Gradio versions these adjustments were checked against: [first, last)
MAX_FILE_SIZE = MAX_UPLOAD_BYTES  # uploads beyond this are refused by Gradio's upload route, before they reach disk
SESSION_CAPACITY = 200  # sessions whose state Gradio keeps; each holds a copy of every component's value
CONCURRENCY = 2  # requests computed at once: one per core
# Waiting requests beyond this are told "queue full" (the page then says so and retries) instead of eating
# memory: two for each page Gradio keeps a session for, as a page waits for one picture and one upload at most.
QUEUE_SIZE = 2 * SESSION_CAPACITY
STATIC = Path(__file__).resolve().parent / "static"
# launch() defaults that change only how the page looks; pass them to gr.mount_gradio_app too.
LOOK = dict(theme=gr.themes.Soft(), css_paths=[STATIC / "explorer.css"], footer_links=["api"])


# ---------------------------------------------------------------- 1. settings that hold however the app is served

def _at_most(name: str, cap: int) -> property:
    """A setting that Gradio assigns but that never exceeds `cap` (None: the cap)."""
    def set_it(self, value) -> None:
        setattr(self, f"_{name}", cap if value is None else int(min(value, cap)))

    return property(lambda self: getattr(self, f"_{name}", cap), set_it)


class ExplorerBlocks(gr.Blocks):
    """gr.Blocks whose protective settings cannot be loosened by the way it is served. Protects the server. No public
    route does: these settings are the arguments of whoever calls launch() or mount_gradio_app(), whose defaults are no
    upload limit, 10,000 sessions and (mounted) error texts sent to callers; reload mode copies the running app's.

    Here they are properties: a caller may ask for a smaller upload limit or fewer sessions, never for more, and
    show_error stays off, so an unexpected exception never sends its text (which may name server paths) to a caller;
    our own messages are gr.Error, which Gradio always shows. And Gradio checks that a file payload names an uploaded
    file, not any file on the server, only once the Blocks has_launched, which launch() sets and mount_gradio_app
    never does (mounted, a forged payload could make a handler read /etc/passwd): here a served Blocks has launched.

    The queue limits are set here too; launch() adds the page's look and first calls `warm_up`, which must return at
    once (explorer/elbo_tab.py's starts a thread)."""

    max_file_size = _at_most("max_file_size", MAX_FILE_SIZE)
    state_session_capacity = _at_most("state_session_capacity", SESSION_CAPACITY)
    show_error = property(lambda self: False, lambda self, value: None)  # always off
    has_launched = property(lambda self: getattr(self, "_has_launched", False) or getattr(self, "is_running", False),
                            lambda self, value: setattr(self, "_has_launched", value))

    def __init__(self, *args, warm_up: Callable[[], object] | None = None, **kwargs):
        super().__init__(*args, analytics_enabled=False, **kwargs)
        self.warm_up = warm_up
        self.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)

    example_upload: str | None = None  # the API page's example file, as a client names it (app.py sets it)

    def validate_inputs(self, block_fn, inputs: list) -> None:
        missing = block_fn.inputs[len(inputs):]  # filled in with their values if all are optional
        if _optional_inputs is None and all(getattr(c, "explorer_optional", False) for c in missing):
            inputs.extend(c.value for c in missing)
        super().validate_inputs(block_fn, inputs)

    def get_api_info(self, all_endpoints: bool = False, page: str | None = None):
        info = super().get_api_info(all_endpoints=all_endpoints, page=page)
        if _api_words is None:
            return documented_api(info, self.fns.values(), self.example_upload)
        return info

    def launch(self, **kwargs):
        """gr.Blocks.launch with the page's theme and footer unless given; starts the warm-up first."""
        if self.warm_up is not None:
            self.warm_up()
        return super().launch(**{**LOOK, **kwargs})


def served_blocks_check_file_paths() -> str | None:
    """None if Gradio still checks file payloads by Blocks.has_launched, ExplorerBlocks' property; else why not."""
    check = getattr(processing_utils, "_check_allowed", None)
    if check is None or "has_launched" not in _unwrap(check).__code__.co_names:
        return "processing_utils._check_allowed no longer decides by Blocks.has_launched whether to check a file payload"
    return None


def uploads_unopened(image: gr.Image) -> gr.Image:
    """`image` (an upload component of type "filepath"), changed so that an uploaded file's path is handed to our
    handler unopened, for vae.preprocess.open_image to judge. People gain: Gradio's own preprocess opens the file with
    PIL first, so a file that is not an image failed there, before our checks, and the page showed a bare "Error".
    Pasted and webcam pictures (data: URLs) still go through it. Set on the instance: a subclass would be a custom
    component to Gradio. Gradio 6.31's public `validator=` cannot do this: its inputs go through the same preprocess
    (queueing.create_validator_fn). `preprocess=False` on the two upload events could, the handlers reading the path."""
    gradio_preprocess = image.preprocess

    def preprocess(payload):
        if payload is not None and payload.path and not (payload.url or "").startswith("data:"):
            return str(payload.path)
        return gradio_preprocess(payload)

    image.preprocess = preprocess
    return image


def uploads_unopened_in_effect() -> str | None:
    """None if Gradio still preprocesses an input by the component's `preprocess` attribute; else why not."""
    if "preprocess" not in _unwrap(gr.Blocks.preprocess_data).__code__.co_names:
        return "Blocks.preprocess_data no longer calls the component's preprocess"
    return None


# ---------------------------------------------------------------- 2. atomic image saves

def save_pil_to_cache_atomically(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Gradio's save_pil_to_cache, but writing a new file under a temporary name and renaming it into place, and
    leaving an existing one alone. Protects data: Gradio names an output image after its content and rewrites the file
    in place, so two requests answered with the same image at once can be served a half-written file. Gradio 6.31's
    save_file_to_cache is atomic; its save_pil_to_cache, which every image returned as an array goes through, is not.
    PNGs at zlib level 3, not Pillow's 6 (measured gain: a 20x20 grid in 10 ms instead of 27, the file 6% larger)."""
    if format.lower() == "png":
        with io.BytesIO() as out:
            img.save(out, "PNG", pnginfo=processing_utils.get_pil_metadata(img), compress_level=3)
            data = out.getvalue()
    else:
        data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = folder / f"{name}.{format}"
    if path.exists():
        os.utime(path)  # delete_cache ages files by their times: a file served again is young again
    else:
        fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(staging, path)
    return str(path.resolve())


def atomic_image_saves() -> str | None:
    """Install save_pil_to_cache_atomically; the reason it cannot be installed, or None."""
    original = _original(processing_utils.save_pil_to_cache)
    if _parameters(original) != ["img", "cache_dir", "name", "format"]:
        return "processing_utils.save_pil_to_cache no longer takes (img, cache_dir, name, format)"
    if not callable(getattr(processing_utils, "get_pil_metadata", None)):
        return "processing_utils.get_pil_metadata is gone"
    # Gradio's image components reach it through these two functions, by its module-level name.
    if "save_pil_to_cache" not in _unwrap(processing_utils.save_img_array_to_cache).__code__.co_names:
        return "processing_utils.save_img_array_to_cache no longer calls save_pil_to_cache"
    if not {"processing_utils", "save_pil_to_cache"} <= set(_unwrap(gradio.image_utils.save_image).__code__.co_names):
        return "image_utils.save_image no longer calls processing_utils.save_pil_to_cache"
    save_pil_to_cache_atomically.__wrapped__ = original
    processing_utils.save_pil_to_cache = save_pil_to_cache_atomically
    return None


# ---------------------------------------------------------------- 3. messages for refused file payloads

FOREIGN_FILE = "Only files uploaded through this app can be used: this request names a file that was not."
NOT_A_FILE = "An image must be sent as an uploaded file (from Python: gradio_client.handle_file(path))."


def error_payload_for_bad_files(error: BaseException | None, show_error: bool) -> dict:
    """Gradio's error_payload, with our messages for two file payloads that Gradio refuses before any handler runs: a
    file that was not uploaded (a forged request naming a server path) and something that is not a file at all.
    Protects people (a message that says why) and the server (no path in it): with show_error off, as ExplorerBlocks
    keeps it, Gradio gives no message; with it on, its own text and the server path. Nothing public lies between."""
    if isinstance(error, InvalidPathError):
        error = gr.Error(FOREIGN_FILE, print_exception=False)
    elif isinstance(error, pydantic.ValidationError):
        error = gr.Error(NOT_A_FILE, print_exception=False)
    return error_payload_for_bad_files.__wrapped__(error, show_error)


def file_payload_messages() -> str | None:
    """Install error_payload_for_bad_files; the reason it cannot be installed, or None."""
    original = _original(gradio.utils.error_payload)
    if _parameters(original) != ["error", "show_error"]:
        return "utils.error_payload no longer takes (error, show_error)"
    # The queue imported the function by name; the HTTP routes look it up on gradio.utils.
    if _original(getattr(gradio.queueing, "error_payload", None)) is not original:
        return "queueing no longer uses utils.error_payload"
    error_payload_for_bad_files.__wrapped__ = original
    gradio.utils.error_payload = gradio.queueing.error_payload = error_payload_for_bad_files
    return None


# ---------------------------------------------------------------- 5. the page's own files, cached for good

IMMUTABLE = "public, max-age=31536000, immutable"
_asset_folders: set[Path] = set()


def serve_assets(folder: Path) -> None:
    """Serve the files of `folder` at /gradio_api/file=<path> (replacing any earlier gr.set_static_paths), with a
    Cache-Control that lets browsers keep them: a reload then fetches none again (measured gain: ~7 MB of decoders,
    points and replays). Only for folders whose file names change with their content, as explorer/assets.py's do.
    gr.set_static_paths, the public part, serves them; no public setting adds the header."""
    folder = Path(folder).resolve()
    gr.set_static_paths([folder])
    _asset_folders.add(folder)


def file_fetch_caching_assets(path_or_url, request, blocks_or_config, upload_dir):
    """Gradio's file_fetch (the /gradio_api/file= route), adding IMMUTABLE to what it serves from a folder given to
    serve_assets. Gradio's answer has no Cache-Control, and starlette's FileResponse never answers 304."""
    response = file_fetch_caching_assets.__wrapped__(path_or_url, request, blocks_or_config, upload_dir)
    if Path(str(path_or_url)).resolve().parent in _asset_folders:
        response.headers["Cache-Control"] = IMMUTABLE
    return response


def cached_assets() -> str | None:
    """Install file_fetch_caching_assets; the reason it cannot be installed, or None."""
    original = _original(getattr(gradio.routes, "file_fetch", None))
    if original is None or _parameters(original) != ["path_or_url", "request", "blocks_or_config", "upload_dir"]:
        return "routes.file_fetch no longer takes (path_or_url, request, blocks_or_config, upload_dir)"
    if "file_fetch" not in _names_in(gradio.routes.App.create_app.__code__):
        return "the app's file route no longer calls routes.file_fetch"
    file_fetch_caching_assets.__wrapped__ = original
    gradio.routes.file_fetch = file_fetch_caching_assets
    return None


# ---------------------------------------------------------------- 6. the API page in our words, with examples that run

def documented_api(info: dict, fns, example_upload: str | None) -> dict:
    """Gradio's description of the API (Blocks.get_api_info), completed for its page: each parameter and result of a
    named endpoint gets its handler's docstring words (under Args: and Returns:) where Gradio says only which component
    carries it, and each file parameter's example becomes `example_upload`, a digit the repository ships, where Gradio
    puts a PDF on the internet that no endpoint here can read. People gain: the page says what each number means and
    its examples run. Gradio 6.31 reads a handler's docstring for the endpoint's description only (its parameter words
    go to MCP tools); on the API page a parameter's words are its component's data-model description (for a file, the
    FileData class's docstring) and its example the component's example_payload(). `api_description` sets the
    endpoint's alone."""
    handlers = {f"/{fn.api_name}": fn.fn for fn in fns if fn.api_name and fn.fn}
    for name, endpoint in info.get("named_endpoints", {}).items():
        if name not in handlers:
            continue
        _, parameters, returns = gradio.utils.get_function_description(handlers[name])
        for parameter in endpoint["parameters"]:
            words = parameters.get(parameter["parameter_name"])
            if words:  # Gradio's page puts them after its own sentence
                parameter["python_type"]["description"] = words[:1].upper() + words[1:]
            example = parameter.get("example_input")
            if example_upload and isinstance(example, dict) and example.get("url"):
                parameter["example_input"] = {**example, "url": example_upload, "path": example_upload}
        if len(returns) == len(endpoint["returns"]):
            for result, words in zip(endpoint["returns"], returns):  # Gradio's page shows only a result's label
                result["label"] = result["python_type"]["description"] = words
    return info


def api_words() -> str | None:
    """Whether documented_api can do its job: None, or why not (then the page is Gradio's own)."""
    global _api_words
    _api_words = None
    if not callable(getattr(gradio.utils, "get_function_description", None)):
        _api_words = "gradio.utils.get_function_description is gone"
    elif _parameters(gr.Blocks.get_api_info)[1:] != ["all_endpoints", "page"]:
        _api_words = "Blocks.get_api_info no longer takes (all_endpoints, page)"
    return _api_words


_api_words: str | None = "not checked yet"


# ---------------------------------------------------------------- 7. optional inputs at the end of an endpoint

def optional(component: gr.components.Component) -> gr.components.Component:
    """Mark an endpoint's input as one that an API call may leave out (the last ones only): it then takes the
    component's value. Protects API users' calls written before the input existed: gradio_client fills in a default
    itself, but a plain HTTP call with fewer values is refused by Blocks.validate_inputs, and Gradio 6.31 has no public
    way to make an input optional. The mark is on the component, so that it holds for the Blocks Gradio's reload mode
    keeps serving, whose class comes from an earlier import of this module."""
    component.explorer_optional = True
    return component


def optional_inputs() -> str | None:
    """Whether validate_inputs can fill in optional inputs: None, or why not."""
    global _optional_inputs
    _optional_inputs = None
    if _parameters(gr.Blocks.validate_inputs)[1:] != ["block_fn", "inputs"]:
        _optional_inputs = "Blocks.validate_inputs no longer takes (block_fn, inputs)"
    elif "validate_inputs" not in _names_in(gr.Blocks.preprocess_data.__code__):
        _optional_inputs = "Blocks.preprocess_data no longer calls validate_inputs"
    return _optional_inputs


_optional_inputs: str | None = "not checked yet"


# ---------------------------------------------------------------- 8. a line for browsers without JavaScript

PAGES = ("frontend/index.html", "frontend/share.html")  # Gradio's templates of the page


# The first `head=` of the page's components (the views' <link rel="modulepreload"> of the page's modules), from the
# config that Gradio's template already holds.
FIRST_HEAD = ("{% set heads = config.get('components', []) | map(attribute='props') | map(attribute='head') | select | list %}"
              "{% if heads %}{{ heads[0] | safe }}{% endif %}")


def template_with_noscript(environment, name: str):
    """Gradio's template loader (get_source), with text.NO_JAVASCRIPT ("{address}": the app's, for each request) in a
    <noscript> before <gradio-app>, and the views' module preloads in the <head>. People gain: Gradio's page is built by
    its script, so without JavaScript it was blank; and on a slow link the page's modules arrive with Gradio's own
    instead of after them (bench/slow_network.py: the first digit 2 s sooner at 1.5 Mbit/s). No public way: `head=` and
    `js=` travel in the config, for that script to insert once it has drawn the page; only the template is HTML."""
    source, filename, uptodate = template_with_noscript.__wrapped__(environment, name)
    if name in PAGES:
        words = html.escape(text.NO_JAVASCRIPT).replace("{address}", "{{ config.get('root', '') }}")
        source = source.replace("<gradio-app", f'<noscript><p style="margin: 2em">{words}</p></noscript><gradio-app', 1)
        source = source.replace("</head>", FIRST_HEAD + "</head>", 1)
    return source, filename, uptodate


def noscript_line() -> str | None:
    """Install template_with_noscript; the reason it cannot be installed, or None."""
    env = getattr(getattr(gradio.routes, "templates", None), "env", None)
    original = _original(getattr(getattr(env, "loader", None), "get_source", None))
    if original is None or any(original(env, page)[0].count("<gradio-app") != 1 or original(env, page)[0].count("</head>") != 1
                               for page in PAGES):
        return "Gradio's page is no longer one <head> and one <gradio-app> in routes.templates"
    template_with_noscript.__wrapped__ = original
    env.loader.get_source = template_with_noscript
    return None


# ---------------------------------------------------------------- installing

ADJUSTMENTS = {"atomic image saves": atomic_image_saves, "messages for refused file payloads": file_payload_messages,
               "file payloads checked however the app is served": served_blocks_check_file_paths,
               "uploads reach our checks": uploads_unopened_in_effect, "the page's files cached for good": cached_assets,
               "the API page in our words": api_words, "optional inputs": optional_inputs,
               "a line for browsers without JavaScript": noscript_line}


def install() -> dict[str, str | None]:
    """Apply every adjustment that Gradio's internals allow: {name: None if in effect, else why not}.
    Each refusal and a Gradio version outside VERIFIED is logged as a warning."""
    version = Version(gr.__version__)
    if not Version(VERIFIED[0]) <= version < Version(VERIFIED[1]):
        log.warning("Gradio %s is outside the versions the explorer's Gradio adjustments were verified against "
                    "(>=%s, <%s): checking its internals before installing them.", version, *VERIFIED)
    outcome = {name: adjust() for name, adjust in ADJUSTMENTS.items()}
    for name, reason in outcome.items():
        if reason is not None:
            log.warning("Gradio adjustment '%s' not installed, Gradio %s behaves its own way: %s.", name, version, reason)
    return outcome


def _original(fn):
    """Gradio's function behind one of our replacements (installed by an earlier import of this module, too)."""
    while getattr(fn, "__module__", None) == __name__ and hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    return fn


def _unwrap(fn):
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    return fn


def _names_in(code) -> set[str]:
    """The global names a code object and the functions nested in it use."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _names_in(const)
    return names


def _parameters(fn) -> list[str]:
    code = _unwrap(fn).__code__
    return list(code.co_varnames[: code.co_argcount])
