"""The page's pictures and controls, made the same way wherever app.py puts them: the views that
explorer/static/explorer.js draws (gr.HTML canvases wired to its VAEPage), the drawing pad, the
pickers' thumbnails, the latent sliders and the digit pictures the server sends."""
import gradio as gr

from explorer import handlers as h

Z = h.Z_RANGE


def asset_url(path) -> str:
    """Where the page fetches one of explorer/assets.py's files (relative: the app may be mounted under a path)."""
    return f"gradio_api/file={path}"


PAGE_SCRIPT = f'<script src="{asset_url(h.ASSETS["script"])}"></script>'
PAD = ('<div class="vae-pad-tools" role="toolbar" aria-label="pen">pen: '
       '<button data-width="thin" aria-pressed="false">thin</button><button data-width="medium" aria-pressed="true">medium'
       '</button><button data-width="wide" aria-pressed="false">wide</button><button data-act="undo">↶ undo</button>'
       '<button data-act="clear">clear</button></div>'
       '<canvas class="vae-pad" role="img" aria-label="drawing pad: draw one digit with the mouse, a pen or a finger"></canvas>')
MAP_CANVAS = '<canvas class="vae-map" role="img" aria-label="${title}"></canvas>'
TRAINING_VIEW = ('<div class="vae-caption" role="status"></div>' + MAP_CANVAS +
                 '<canvas class="vae-manifold" role="img" aria-label="the manifold decoded at that epoch"></canvas>')
# Each model's files and words for the page: it decodes, maps and replays the model the picker names.
MODEL_FILES = {name: {"decoder_url": asset_url(m.assets["decoder"]), "points_url": asset_url(m.assets["points"]),
                      "replay_url": asset_url(m.assets["replay"]), "note": h.window_note(m)} for name, m in h.MODELS.items()}


def view(name: str, template: str, start: list | None = None, **props) -> gr.HTML:
    """A picture the page draws: explorer.js's view `name`, first showing its controls' values `start`.
    Its 'pick' event carries the control values a click or drag on it sets (VAEPage.picked)."""
    return gr.HTML(html_template=template, js_on_load=f"VAEPage.mount('{name}', element, props, trigger); /* emits 'pick' */",
                   head=PAGE_SCRIPT, elem_id=name, start=start, models=MODEL_FILES, model=h.DEFAULT_MODEL, **props)


def digit_sheet(name: str, start: list, letters: list[str] | None = None) -> gr.HTML:
    """The picker's thumbnails: the first test digits, the picked ones (`start` at first) outlined; a click picks one."""
    return view(name, '<canvas class="vae-digits" role="img" aria-label="the first 100 test digits: click one to pick it">'
                '</canvas>', start, letters=letters or [])


def map_image(elem_id: str, label: str, value=str(h.DEFAULT.assets["map"])) -> gr.Image:
    return gr.Image(value, label=label, elem_id=elem_id, format="png", interactive=False, buttons=["download"], show_label=True)


def digit_output(elem_id: str, label: str, value=None, height: int = 240) -> gr.Image:
    # min_width: two digits side by side still fit a phone's width
    return gr.Image(value, label=label, elem_id=elem_id, format="png", interactive=False, height=height, buttons=["download"],
                    min_width=120)


def latent_slider(value: float, label: str, elem_id: str) -> gr.Slider:
    return gr.Slider(-Z, Z, value=value, step=0.01, label=label, elem_id=elem_id)
