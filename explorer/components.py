"""The page's pictures and controls, made the same way wherever app.py puts them: the views that
explorer/static/ draws (each a gr.HTML whose js_on_load mounts it in page.js), the drawing pad,
the pickers' thumbnails, the latent sliders and the digit pictures the server sends; and the
page's config, which carries to the page every number it shares with Python (the map's frame,
the colours, the grid's layout, the controls' ranges and first values), so that none is written
twice. Call after explorer.models.load(): the views name the page's files.
"""
import dataclasses
import json

import gradio as gr

from explorer import models, text
from explorer.events import window_note
from vae import draw, inputs

PAD = ('<div class="vae-pad-tools" role="toolbar" aria-label="pen">pen: '
       '<button data-width="thin" aria-pressed="false">thin</button><button data-width="medium" aria-pressed="true">medium'
       '</button><button data-width="wide" aria-pressed="false">wide</button><button data-act="undo">↶ undo</button>'
       '<button data-act="clear">clear</button></div>'
       '<canvas class="vae-pad" role="img" aria-label="drawing pad: draw one digit with the mouse, a pen or a finger"></canvas>')
MAP_CANVAS = '<canvas class="vae-map" role="img" aria-label="${title}"></canvas>'
TRAINING_VIEW = ('<div class="vae-caption" role="status"></div>' + MAP_CANVAS +
                 '<canvas class="vae-manifold" role="img" aria-label="the manifold decoded at that epoch"></canvas>')
# The page view: what copying a link did (and the link itself where the clipboard is refused), and
# why digits come from the server, if they do.
STATUS = ('<span class="vae-said" role="status"></span><input class="vae-link" readonly hidden aria-label="the link to this view">'
          '<div class="vae-mode" role="status"></div>')
SEED = (0, inputs.SEED_MAX, 1)  # a seed box's range: what numpy and torch both take


def asset_url(path) -> str:
    """Where the page fetches one of explorer/assets.py's files (relative: the app may be mounted under a path)."""
    return f"gradio_api/file={path}"


def view(name: str, template: str, **props) -> gr.HTML:
    """A picture the page draws: page.js's view `name`. The page's modules are preloaded together
    (head), then js_on_load imports the entry and mounts the view; `props` reach it as they are."""
    entry = asset_url(models.PAGE_MODULES["page"])
    preload = "".join(f'<link rel="modulepreload" href="{asset_url(path)}">' for path in models.PAGE_MODULES.values())
    mount = (f"import(new URL({json.dumps(entry)}, document.baseURI).href)"
             f".then((page) => page.mount({json.dumps(name)}, element, props));")
    return gr.HTML(html_template=template, js_on_load=mount, head=preload, elem_id=name, **props)


def digit_sheet(name: str, marks: list[str], letters: list[str] | None = None, choose: str | None = None) -> gr.HTML:
    """The picker's thumbnails: the first test digits, those the state's `marks` keys pick outlined; a click
    picks one (for the mark whose letter the `choose` key names)."""
    return view(name, '<canvas class="vae-digits" role="img" aria-label="the first 100 test digits: click one to pick it">'
                '</canvas>', marks=marks, letters=letters or [], choose=choose)


def page_config(controls: dict[str, gr.components.Component], defaults: dict, reset: list[str], limits: dict, tabs: list[str]) -> dict:
    """What page.js needs to know, as the page view's props.config.

    controls: the Gradio controls whose values the page's state holds, by elem_id (= state key);
    defaults: the state's other first values (tab, the views' own keys); reset: the keys the
    "Reset the views" button puts back; limits: ranges of controls that are not sliders; tabs: the
    tabs' ids, which an address may name."""
    ranges = {key: [c.minimum, c.maximum, c.step] for key, c in controls.items() if isinstance(c, gr.Slider)}
    return {
        "models": {name: {"decoder_url": asset_url(m.assets["decoder"]), "points_url": asset_url(m.assets["points"]),
                          "replay_url": asset_url(m.assets["replay"]) if "replay" in m.assets else None,
                          "note": window_note(m), "epochs": len(m.history), "name": text.model_label(name).split(":")[0]}
                   for name, m in models.MODELS.items()},
        "no_replay": text.NO_REPLAY,
        "frame": dataclasses.asdict(models.MAP),
        "style": {"colours": draw.DIGIT_COLOURS.tolist(), "ink": draw.INK, "hover": draw.HOVER, "axis": draw.AXIS,
                  "label_size": draw.LABEL_SIZE, "short_name": draw.SHORT_NAME, "name_size": draw.NAME_SIZE, "splat_radius": draw.SPLAT_RADIUS, "splat_alpha": draw.SPLAT_ALPHA,
                  "grid_line": draw.GRID_LINE},
        "grid_layouts": {str(n): dataclasses.asdict(draw.grid_layout(n)) for n in range(1, inputs.GRID_N_MAX + 1)},
        "grid_margins": draw.GRID_MARGINS,
        "digit_region": models.DIGIT_REGION,
        "limits": {**ranges, **limits},
        "defaults": {**{key: c.value for key, c in controls.items()}, **defaults},
        "controls": list(controls),
        "saved": ["tab", *controls],
        "reset": reset,
        "tabs": tabs,
    }


def map_image(elem_id: str, label: str) -> gr.Image:
    return gr.Image(str(models.DEFAULT.assets["map"]), label=label, elem_id=elem_id, format="png", interactive=False,
                    buttons=["download"], show_label=True)


def digit_output(elem_id: str, label: str, value=None, height: int = 240) -> gr.Image:
    # min_width: two digits side by side still fit a phone's width
    return gr.Image(value, label=label, elem_id=elem_id, format="png", interactive=False, height=height, buttons=["download"],
                    min_width=120)


def latent_slider(value: float, label: str, elem_id: str) -> gr.Slider:
    return gr.Slider(-models.Z_RANGE, models.Z_RANGE, value=value, step=0.01, label=label, elem_id=elem_id)


def story_step_column(i: int) -> gr.Column:
    """Step i of the Story (1-based): a column holding its title, words and formula (text.STORY), for its figure and
    control to follow; page.js shows one step at a time by these columns' ids."""
    title, said = text.STORY[i - 1]
    column = gr.Column(elem_id=f"story_{i}", elem_classes=["vae-step"])
    with column:
        gr.Markdown(f"### {i}. {title}\n{said}", latex_delimiters=text.LATEX)
    return column


def curves_and_words(x: str, label: str, elem_id: str, colours: dict[str, str]) -> tuple[gr.LinePlot, gr.Markdown]:
    """A plot of curves in nats against x (a DataFrame's columns x, "nats", "curve"), and the words under it."""
    return (gr.LinePlot(x=x, y="nats", color="curve", color_map=colours, color_title="", label=label, elem_id=f"{elem_id}_plot"),
            gr.Markdown(elem_id=elem_id, latex_delimiters=text.LATEX))
