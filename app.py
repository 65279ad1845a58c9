"""The VAE explorer: a Gradio page over the 2-D latent space of a VAE trained on MNIST.

    python app.py            # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT to change)
    python app.py --checkpoint mine=runs/x.pt [--only-mine]   # your own model too (or alone): explorer/own.py

A model picker at the top (the same networks trained with the KL term weighed 0, 1 and 5, and
any of your own) that every tab follows. Tabs: Explorer (drag z, see the decoded digit and where it sits
among the test digits), Story (the idea of the VAE in nine steps, each beside a live figure), Reconstruct (upload, paste, photograph or draw a digit; see q(z|x)),
Manifold (an n x n grid of decodes, linear or prior-CDF spaced), Sample & interpolate, ELBO
anatomy (every term of the bound the VAE is trained on, next to the exact log p(x)), and
Training (the latent space forming, epoch by epoch).

This file is the page: its layout and which handler each event calls. The models are loaded
by explorer/models.py (models.load(), first thing here); what the handlers do is in
explorer/api.py (the API's endpoints), explorer/events.py and explorer/elbo_tab.py (the page's
events), the words in explorer/text.py, the pictures and controls the page is made of in
explorer/components.py, and the server's limits in explorer/gradio_adjustments.py, which hold
however `demo` is served. How the page's own state (explorer/static/) and Gradio's controls
talk: docs/architecture.md. Only checkpoints/ and your own checkpoints are read (and MNIST's test
digits where VAE_DATA_DIR holds them, for an own model nobody evaluated): no network.
"""
import functools
import json
import os
import random
import sys

import gradio as gr

from explorer import models, own

try:  # the models, the test digits and the page's files, before the page that shows them
    # Options only where this file is the program (`python app.py --checkpoint ...`); `import app` and
    # `gradio app.py` leave them to the environment (VAE_CHECKPOINTS).
    models.load(own.parse_request(sys.argv[1:] if __name__ == "__main__" else [], os.environ, list(models.MODEL_FOLDERS)))
except own.CheckpointError as e:
    sys.exit(f"app.py: {e}")

from explorer import api, elbo_tab, events, gradio_adjustments, memory, story, text  # noqa: E402
from explorer.components import (MAP_CANVAS, PAD, SEED, STATUS, TRAINING_VIEW, curves_and_words, digit_output,  # noqa: E402
                                 digit_sheet, latent_slider, map_image, page_config, story_step_column, view)
from explorer.gradio_adjustments import ExplorerBlocks, uploads_unopened  # noqa: E402
from vae import inputs  # noqa: E402

gradio_adjustments.install()

NO_PROGRESS = dict(show_progress="hidden")
NOT_IN_API = dict(api_visibility="private")  # the page's own events; the API is the named endpoints below
IN_PAGE = dict(**NO_PROGRESS, **NOT_IN_API)  # a listener that runs in the page alone: no request reaches the server
LATEST_ONLY = dict(trigger_mode="always_last", show_progress="hidden")  # while dragging, only the newest value counts
# Server work waits in two queues: pictures, two at a time (one per core), and the ELBO's quadrature,
# one at a time (1-2 s for a digit seen first), so that a class asking for ELBOs never holds up
# everyone's grids and uploads. Gradio would otherwise give each event a queue of its own.
PICTURES = dict(concurrency_id="pictures", concurrency_limit=gradio_adjustments.CONCURRENCY)
QUADRATURE = dict(concurrency_id="quadrature", concurrency_limit=1)
PICTURE_BUTTONS = ["download", "fullscreen"]  # not Gradio's default "share": there is nowhere to share to

(A1, A2), (B1, B2) = events.first_ends()
gradio_adjustments.serve_assets(models.ASSET_FOLDER)  # the folder of the page's own files, and nothing else


def warm_up() -> None:
    """At launch: the ELBO tab's first view built ahead of the first visitor, and the server's freed memory handed back."""
    elbo_tab.warm_up()
    memory.keep_handing_back()


with ExplorerBlocks(title="VAE latent explorer", delete_cache=(3600, 3600), warm_up=warm_up) as demo:
    demo.example_upload = models.EXAMPLE_DIGIT  # a path a client with the repository uploads, to this server or any other
    gr.Markdown(text.TITLE, elem_id="title")
    # One row above the tabs, so that a projector's first screen holds the Explorer's map, digit and
    # sliders: the model picker, the buttons, and the words about the model folded away.
    with gr.Row(elem_id="header", equal_height=True):
        model = gr.Radio([(text.model_label(name), name) for name in models.MODELS], value=models.DEFAULT.name, elem_id="model",
                         label="Model (every tab shows it)", scale=3)
        with gr.Column(scale=1, min_width=220):
            reset_view = gr.Button("↺ Reset the views", size="sm", elem_id="reset_view")
            copy_link = gr.Button("Copy a link to this view", size="sm", elem_id="copy_link")
            page = view("page", STATUS)  # the page's state lives here; its value passes the state to the controls
    with gr.Accordion(text.about_models(len(models.MODELS)), open=False, elem_id="about_model"):
        model_words = gr.Markdown(events.model_words(models.DEFAULT.name)[0], elem_id="model_words", latex_delimiters=text.LATEX)
        gr.Markdown(text.models_table({name: m.facts for name, m in models.MODELS.items()}), latex_delimiters=text.LATEX)
    my_pixels = gr.State(None)  # the last uploaded or drawn digit, as the model sees it (uint8 28x28)
    my_posterior = gr.State(None)  # its q(z|x)

    tabs = {}
    with gr.Tabs(overflow_behavior="wrap"):  # on a phone every tab stays a tab, none hides behind a menu
        with gr.Tab("Explorer", id="explorer") as tabs["explorer"]:
            with gr.Row():
                with gr.Column(scale=3):
                    view("explorer_map", MAP_CANVAS, title="Latent map: test digits by class (hover to preview, click or drag to set z)")
                with gr.Column(scale=2):
                    view("explorer_digit", '<canvas class="vae-digit" role="img" aria-label="the decoded digit"></canvas>'
                         '<div class="vae-caption">Loading the model…</div>')  # until the page draws the first digit
                    z1, z2 = latent_slider(0.0, "z1", "z1"), latent_slider(0.0, "z2", "z2")
                    gr.Markdown(text.INTRO + "\n\n" + text.EXPLORER, latex_delimiters=text.LATEX)

        with gr.Tab(f"Story: the idea in {story.STEPS} steps", id="story") as tabs["story"]:
            # One step shown at a time (page.js hides the others), each its words and formula, its figure and its
            # one control, computed by explorer/story.py for the digit picked in step 2 and the model picked above.
            with gr.Column(elem_id="story"):
                gr.Markdown(text.STORY_INTRO)
                story_step = gr.Radio([(f"{i}. {title}", i) for i, (title, _) in enumerate(text.STORY, 1)], value=1, label="step",
                                      elem_id="story_step")

                with story_step_column(1):
                    with gr.Row():
                        story_map = gr.Image(label="the draws on the map", format="png", interactive=False, scale=3, buttons=PICTURE_BUTTONS,
                                             elem_id="story_map")
                        with gr.Column(scale=2):
                            story_draws = digit_output("story_draws", f"what the decoder makes of them, 1 to {story.DRAWS}", height=120)
                            story_seed = gr.Number(0, label="draw", precision=0, elem_id="story_seed")
                            story_again = gr.Button("Draw again", elem_id="story_again")
                            story_z = gr.Markdown(elem_id="story_z")
                with story_step_column(2):
                    with gr.Row():
                        with gr.Column(scale=2):
                            story_digit = gr.Dropdown(events.digit_choices(), value=0, label="the digit x (the story follows it)",
                                                      elem_id="story_digit")
                            story_x = digit_output("story_x", "x", height=140)
                        story_integrand = gr.Image(label="p(x | z) p(z) over the plane, zoomed in", format="png", interactive=False,
                                                   scale=3, buttons=PICTURE_BUTTONS, elem_id="story_integrand")
                    story_px = gr.Markdown(elem_id="story_px", latex_delimiters=text.LATEX)
                with story_step_column(3):
                    story_K = gr.Slider(1, story.JENSEN_K_MAX, value=10, step=1, label="K: samples", elem_id="story_K")
                    story_jensen, story_jensen_words = curves_and_words("K", "both estimates as samples are added", "story_jensen", story.CURVE_COLOURS)
                with story_step_column(4):
                    story_q = gr.Radio([(label, key) for key, label in text.STORY_Q.items()], value="encoder", label="the oval shown",
                                       elem_id="story_q")
                    story_ellipse = gr.Image(label="q (rings) over the true posterior p(z | x) (grey), zoomed in", format="png",
                                             interactive=False, buttons=PICTURE_BUTTONS, elem_id="story_ellipse")
                    story_gap = gr.Markdown(elem_id="story_gap", latex_delimiters=text.LATEX)
                with story_step_column(5):
                    with gr.Row():
                        story_eps1 = gr.Slider(-inputs.EPS_LIMIT, inputs.EPS_LIMIT, value=0.0, step=0.01, label="ε1", elem_id="story_eps1")
                        story_eps2 = gr.Slider(-inputs.EPS_LIMIT, inputs.EPS_LIMIT, value=0.0, step=0.01, label="ε2", elem_id="story_eps2")
                    story_graph = gr.HTML(elem_id="story_graph")
                    story_variances = gr.Markdown(elem_id="story_variances", latex_delimiters=text.LATEX)
                with story_step_column(6):
                    story_L = gr.Slider(1, story.MC_L_MAX, value=1, step=1, label="L: samples per estimate", elem_id="story_L")
                    story_mc, story_mc_words = curves_and_words("L", "the spread of the estimate", "story_mc", story.CURVE_COLOURS)
                with story_step_column(7):
                    story_play = gr.Button("▶ Play / pause the training", elem_id="story_play")
                    with gr.Row():
                        with gr.Column(scale=3):
                            view("story_training", TRAINING_VIEW, title="The test digits' posterior means")
                        story_curve = gr.LinePlot(events.training_curves(1)[0], x="epoch", y="nats", color="curve", color_map=events.CURVE_COLOURS,
                                                  colors_in_legend=events.LEGENDS[0], color_title="", scale=2,
                                                  label="−ELBO, and the test digits' reconstruction term", elem_id="story_curve")
                with story_step_column(8):
                    story_beta = gr.Radio([(text.model_label(name), name) for name in models.MODEL_FOLDERS if name in models.MODELS],
                                          value=models.DEFAULT_MODEL if models.DEFAULT_MODEL in models.MODELS else None, label="β",
                                          elem_id="story_beta")
                    with gr.Row():
                        story_beta_map = gr.Image(label="where it puts the test digits", format="png", interactive=False, scale=3,
                                                  buttons=PICTURE_BUTTONS, elem_id="story_beta_map")
                        story_beta_samples = digit_output("story_beta_samples", "16 of its samples from the prior")
                    story_beta_words = gr.Markdown(elem_id="story_beta_words", latex_delimiters=text.LATEX)
                with story_step_column(9):
                    story_batch = gr.Slider(0, len(models.test_images) // story.BATCH - 1, value=0, step=1,
                                            label="which ten test digits (0: #0-9, 1: #10-19, …)", elem_id="story_batch")
                    story_wide = digit_output("story_wide", "test digits; the 2-D model's; the 20-D model's", height=200)
                    story_wide_words = gr.Markdown(elem_id="story_wide_words", latex_delimiters=text.LATEX)
                with gr.Row():
                    story_back = gr.Button("← back", elem_id="story_back", size="sm")
                    story_next = gr.Button("next →", elem_id="story_next", size="sm", variant="primary")

        with gr.Tab("Reconstruct", id="reconstruct") as tabs["reconstruct"]:
            with gr.Row():
                with gr.Column(scale=2):
                    with gr.Tab("Draw"):
                        pad = view("pad", PAD)  # its value: the drawing, as a PNG data URL
                    with gr.Tab("Upload / paste / webcam"):
                        upload = uploads_unopened(gr.Image(label="A picture of one digit", elem_id="upload", type="filepath",
                                                           image_mode=None, sources=["upload", "clipboard", "webcam"], height=380))
                with gr.Column(scale=2, elem_id="rec_results"):
                    # The switch above the pictures: on a phone the pictures stay next to the pad below them.
                    rec_which = gr.Radio([(text.RECONSTRUCTION_LABELS[key], key) for key in api.RECONSTRUCTIONS],
                                         value=api.RECONSTRUCTIONS[0], label="the reconstruction shown", elem_id="rec_which")
                    with gr.Row():
                        prepared = digit_output("prepared", "Input x")
                        reconstruction = digit_output("reconstruction", "Reconstruction")
                    posterior = gr.Markdown(elem_id="posterior", latex_delimiters=text.LATEX)
                    my_reconstructions = gr.State(None)  # the digit's three reconstructions, for the switch to pick from
                    my_upload = gr.State(None)  # an upload's results until they are shown (events.show_upload)
                with gr.Column(scale=3):
                    rec_map = map_image("rec_map", "Where your digit lands")
                    gr.Markdown(text.ANOTHER_DIGIT)
                    gr.Markdown(text.RECONSTRUCT, latex_delimiters=text.LATEX)

        with gr.Tab("Manifold", id="manifold") as tabs["manifold"]:
            with gr.Row():
                with gr.Column(scale=3):
                    view("grid", '<canvas class="vae-grid" role="img" aria-label="the decoded grid: drag to pan, '
                         'scroll to zoom, click a cell to centre on it"></canvas><div class="vae-note"></div>')
                with gr.Column(scale=2):
                    with gr.Row():
                        grid_z1, grid_z2 = latent_slider(0.0, "centre z1", "grid_z1"), latent_slider(0.0, "centre z2", "grid_z2")
                    with gr.Row():
                        grid_span = gr.Slider(inputs.SPAN_MIN, inputs.SPAN_MAX, value=6.0, step=0.01, label="span (first to last column)",
                                              elem_id="grid_span")
                        grid_n = gr.Slider(1, inputs.GRID_N_MAX, value=20, step=1, label="n × n", elem_id="grid_n")
                    grid_spacing = gr.Radio([("linear in z", "linear"), ("uniform in prior CDF Φ(z)", "cdf")], value="linear",
                                            label="spacing", elem_id="grid_spacing")
                    with gr.Row():
                        zoom_in = gr.Button("Zoom in", elem_id="zoom_in", size="sm")
                        zoom_out = gr.Button("Zoom out", elem_id="zoom_out", size="sm")
                    with gr.Row():
                        pan_left = gr.Button("← left", elem_id="pan_left", size="sm")
                        pan_right = gr.Button("right →", elem_id="pan_right", size="sm")
                        pan_up = gr.Button("↑ up", elem_id="pan_up", size="sm")
                        pan_down = gr.Button("↓ down", elem_id="pan_down", size="sm")
                    view("grid_map", MAP_CANVAS, title="The grid's window (click to centre there)")
                    gr.Markdown(text.MANIFOLD_SPACING, latex_delimiters=text.LATEX)

        with gr.Tab("Sample & interpolate", id="sample") as tabs["sample"]:
            with gr.Row():
                with gr.Column(scale=3):
                    gr.Markdown(text.SAMPLES, latex_delimiters=text.LATEX)
                    with gr.Row():
                        samples_n = gr.Slider(1, inputs.SAMPLES_N_MAX, value=36, step=1, label="how many", elem_id="samples_n")
                        samples_seed = gr.Number(0, label="seed", precision=0, elem_id="samples_seed")
                        samples_button = gr.Button("New samples", elem_id="samples_button")
                    view("samples", '<canvas class="vae-sheet" role="img" aria-label="decoded prior samples"></canvas>')
                with gr.Column(scale=2):
                    view("samples_map", MAP_CANVAS, title="The samples on the map")
            gr.Markdown(text.INTERPOLATION)
            with gr.Row():
                with gr.Column(scale=3):
                    with gr.Row():
                        with gr.Column():
                            pick_a = gr.Dropdown(events.digit_choices(), value=0, label="A: a test digit", elem_id="interp_pick_a")
                            my_digit_a = gr.Button("A = my digit", size="sm", elem_id="interp_mine_a")
                            a1, a2 = latent_slider(A1, "A z1", "interp_a1"), latent_slider(A2, "A z2", "interp_a2")
                        with gr.Column():
                            pick_b = gr.Dropdown(events.digit_choices(), value=1, label="B: a test digit", elem_id="interp_pick_b")
                            my_digit_b = gr.Button("B = my digit", size="sm", elem_id="interp_mine_b")
                            b1, b2 = latent_slider(B1, "B z1", "interp_b1"), latent_slider(B2, "B z2", "interp_b2")
                    digit_sheet("interp_digits", ["interp_pick_a", "interp_pick_b"], ["A", "B"], choose="interp_click_sets")
                    with gr.Row():
                        steps = gr.Slider(2, inputs.STEPS_MAX, value=10, step=1, label="steps", elem_id="interp_steps")
                        click_sets = gr.Radio(["A", "B"], value="A", label="clicking the map sets", elem_id="interp_click_sets")
                    view("interp", '<canvas class="vae-strip" role="img" aria-label="the interpolation from A to B"></canvas>')
                with gr.Column(scale=2):
                    view("interp_map", MAP_CANVAS, title="The path on the map (click to move an end)")

        with gr.Tab("ELBO anatomy", id="elbo") as tabs["elbo"]:
            gr.Markdown(text.ELBO_INTRO, latex_delimiters=text.LATEX)
            elbo_pixels = gr.State(None)
            first = elbo_tab.FIRST_ELBO
            with gr.Row():
                with gr.Column(scale=2):
                    elbo_digit = gr.Dropdown(events.digit_choices(), value=first["index"], label="Pick a test digit", elem_id="elbo_digit")
                    digit_sheet("elbo_digits", ["elbo_digit"])
                    with gr.Row():
                        elbo_upload_img = uploads_unopened(gr.Image(label="…or upload one", elem_id="elbo_upload", type="filepath",
                                                                    image_mode=None, sources=["upload", "clipboard"], height=160))
                        elbo_input = digit_output("elbo_input", "the digit x", height=160)
                    elbo_my_digit = gr.Button("Use my digit from the Reconstruct tab", size="sm", elem_id="elbo_mine")
                    elbo_L = gr.Slider(1, inputs.L_MAX, value=first["L"], step=1, label="L: samples for the reconstruction term",
                                       elem_id="elbo_L")
                    elbo_K = gr.Slider(1, inputs.K_MAX, value=first["K"], step=1, label="K: importance samples for the IWAE bound",
                                       elem_id="elbo_K")
                    with gr.Row():
                        elbo_seed = gr.Number(first["seed"], label="seed for ε", precision=0, elem_id="elbo_seed")
                        elbo_resample = gr.Button("Draw new ε", size="sm", elem_id="elbo_resample")
                with gr.Column(scale=5):
                    elbo_numbers = gr.Markdown("Computing…", elem_id="elbo_numbers", latex_delimiters=text.LATEX)
                    with gr.Row():
                        elbo_map = gr.Image(label=text.ELBO_MAP_LABEL, elem_id="elbo_map", format="png", interactive=False, scale=3,
                                            buttons=PICTURE_BUTTONS)
                        with gr.Column(scale=2):
                            gr.Markdown(text.ELBO_SAMPLES, latex_delimiters=text.LATEX)
                            elbo_samples = gr.Image(label="decoded samples", show_label=False, elem_id="elbo_samples", format="png",
                                                    interactive=False, buttons=PICTURE_BUTTONS)
                            with gr.Accordion("All terms as JSON", open=False):
                                elbo_json = gr.JSON(label="terms (nats)", elem_id="elbo_json")
            elbo_reading = gr.Markdown(events.model_words(models.DEFAULT.name)[1], elem_id="elbo_reading", latex_delimiters=text.LATEX)

        with gr.Tab("Training", id="training") as tabs["training"]:
            gr.Markdown(text.TRAINING, latex_delimiters=text.LATEX)
            with gr.Row():
                with gr.Column(scale=3):
                    view("training", TRAINING_VIEW, title="The test digits' posterior means")
                with gr.Column(scale=2):
                    with gr.Row(equal_height=True):
                        epoch = gr.Slider(1, value=1, step=1, label="epoch", elem_id="train_epoch", scale=3,
                                          **events.epoch_range(len(models.DEFAULT.history)))
                        play = gr.Button("▶ Play / pause", elem_id="train_play", scale=1)
                    # No fixed height: at 260 px the legend under the plot was cut off.
                    elbo_curve, kl_curve = (gr.LinePlot(curve, x="epoch", y="nats", color="curve", color_map=events.CURVE_COLOURS,
                                                        colors_in_legend=legend, color_title="", label=label, elem_id=elem_id)
                                            for curve, legend, label, elem_id in zip(events.training_curves(1), events.LEGENDS,
                                                                                     ("−ELBO, and the test digits' reconstruction term", "KL term"),
                                                                                     ("elbo_curve", "kl_curve")))

    # ------------------------------------------------------------ the API
    # Each endpoint reads hidden inputs without bounds, so every value reaches the checks in
    # vae/inputs.py and gets their message (a slider refuses out-of-range values with a vaguer
    # one, and a non-number with none); uploads arrive as files, which open_image validates
    # before anything decodes them. Outputs are the components the page shows. Registered
    # before the page's events, so that these get the plain names.
    with gr.Row(visible=False):
        def endpoint(fn, api_inputs, outputs, name):
            queue = QUADRATURE if name == "elbo" else PICTURES
            gr.Button().click(fn, api_inputs, outputs, api_name=name, show_progress="hidden", **queue)

        def number(label, value=None):
            return gr.Number(value, label=label)

        def picture():
            return gr.Image(format="png")

        def which_model():  # a call without it gets the default model
            return gradio_adjustments.optional(gr.Textbox(models.DEFAULT.name, label="model"))

        endpoint(api.decode, [number("z1"), number("z2"), which_model()], picture(), "decode")
        endpoint(api.reconstruct, [gr.File(label="image"), which_model()],
                 [prepared, reconstruction, picture(), picture(), gr.JSON(label="posterior")], "reconstruct")
        endpoint(api.grid, [number("z1", 0.0), number("z2", 0.0), number("span", 6.0), number("n", 20),
                          gr.Textbox("linear", label="spacing"), which_model()], picture(), "grid")
        endpoint(api.sample, [number("n", 36), number("seed", 0), which_model()], picture(), "sample")
        endpoint(api.interpolate, [number("a1"), number("a2"), number("b1"), number("b2"), number("steps", 10), which_model()],
                 picture(), "interpolate")
        endpoint(api.elbo, [gr.File(label="image"), number("L", 10), number("K", 1000), number("seed", 0), which_model()], elbo_json,
                 "elbo")

    # ------------------------------------------------------------ the page's state (explorer/static/page.js)
    # Its keys are the controls' elem_ids. One JS-only listener a control reports its value to the
    # page; the page view's value passes the page's values back to the controls.
    story_controls = [story_step, story_seed, story_digit, story_K, story_q, story_eps1, story_eps2, story_L, story_beta, story_batch]
    controls = [model, z1, z2, grid_z1, grid_z2, grid_span, grid_n, grid_spacing, samples_n, samples_seed, pick_a, pick_b,
                a1, a2, b1, b2, steps, click_sets, elbo_digit, elbo_L, elbo_K, elbo_seed, epoch, *story_controls]
    state = {c.elem_id: c for c in controls}
    drawn_by_the_page = [key for key in state if key not in ("model", "elbo_digit", "elbo_L", "elbo_K", "elbo_seed", "train_epoch")]
    page.props["config"] = page_config(state, defaults={"tab": "explorer", "explorer_hover": None}, reset=drawn_by_the_page,
                                       limits={"samples_seed": SEED, "elbo_seed": SEED, "story_seed": SEED, "story_step": (1, story.STEPS, 1)},
                                       tabs=list(tabs))
    page.value = {key: c.value for key, c in state.items()}
    for key, control in state.items():
        control.change(None, control, None, js=f"(v) => {{ window.VAEPage?.control({json.dumps(key)}, v); }}", **IN_PAGE)
    page.change(None, page, controls, js=f"(values) => {json.dumps(list(state))}.map((key) => values[key])", **IN_PAGE)
    for name, tab in tabs.items():
        tab.select(None, js=f"() => {{ window.VAEPage?.control('tab', {json.dumps(name)}); }}", **IN_PAGE)

    # Buttons that move the page's state.
    reset_view.click(None, js="() => VAEPage.reset()", **IN_PAGE)  # every view the page draws back to how it started
    copy_link.click(None, js="() => VAEPage.copyLink()", **IN_PAGE)
    for button, move in ((zoom_in, (0, 0, -1)), (zoom_out, (0, 0, 1)), (pan_left, (-1, 0, 0)), (pan_right, (1, 0, 0)),
                         (pan_up, (0, 1, 0)), (pan_down, (0, -1, 0))):
        button.click(None, js=f"() => VAEPage.gridMove({', '.join(map(str, move))})", **IN_PAGE)
    samples_button.click(None, js="() => VAEPage.newSeed()", **IN_PAGE)
    play.click(None, js="() => VAEPage.play()", **IN_PAGE)
    story_play.click(None, js="() => VAEPage.play()", **IN_PAGE)
    story_again.click(None, js="() => VAEPage.storyDraw()", **IN_PAGE)
    story_back.click(None, js="() => VAEPage.storyMove(-1)", **IN_PAGE)
    story_next.click(None, js="() => VAEPage.storyMove(1)", **IN_PAGE)

    # ------------------------------------------------------------ the server's events
    # The model picker: the words about the model, and the views the server draws, through that model.
    model.change(events.model_words, model, [model_words, elbo_reading, epoch], **NO_PROGRESS, **NOT_IN_API)

    # Reconstruct: an upload, or the drawing pad's value when the pen lifts. The newest picture wins: a
    # picture uploaded while another is computed is computed next (always_last; Gradio's default for
    # .input drops it), and an upload's results are shown only while its picture is still in the box.
    rec_outputs = [prepared, reconstruction, posterior, rec_map, my_pixels, my_posterior, my_reconstructions]
    upload.input(events.reconstruct_upload, [upload, model], my_upload, **LATEST_ONLY, **PICTURES, **NOT_IN_API).success(
        events.show_upload, [my_upload, upload, rec_which], rec_outputs, **NO_PROGRESS, **NOT_IN_API)
    pad.change(events.reconstruct_drawing, [pad, model, rec_which], rec_outputs, **LATEST_ONLY, **PICTURES, **NOT_IN_API)
    model.change(events.reconstruct_again, [my_pixels, model, rec_which], rec_outputs, **NO_PROGRESS, **PICTURES, **NOT_IN_API)
    rec_which.change(events.picked, [my_reconstructions, rec_which], reconstruction, **NO_PROGRESS, **NOT_IN_API)  # computes nothing

    # An interpolation end from the Reconstruct tab's digit (the page sets ends from test digits itself).
    ends = [a1, a2, b1, b2]
    for which, my_digit in (("A", my_digit_a), ("B", my_digit_b)):
        my_digit.click(lambda p, *v, w=which: events.endpoint_from_my_digit(p, *v, w), [my_posterior] + ends, ends + [pick_a, pick_b],
                       **NO_PROGRESS, **PICTURES, **NOT_IN_API)

    # ELBO anatomy: a digit picked (in the list or on the thumbnails), uploaded or brought from the
    # Reconstruct tab; L, K, the seed and the model recompute it live, always_last keeping at most one waiting.
    elbo_outputs = [elbo_pixels, elbo_numbers, elbo_json, elbo_map, elbo_samples, elbo_input]
    busy = dict(show_progress="minimal", **QUADRATURE, **NOT_IN_API)
    elbo_settings = [elbo_L, elbo_K, elbo_seed, model]
    tabs["elbo"].select(elbo_tab.elbo_tab_opened, [elbo_pixels, model], elbo_outputs, **busy)
    elbo_digit.change(elbo_tab.elbo_pick, [elbo_digit] + elbo_settings, elbo_outputs, trigger_mode="always_last", **busy)
    elbo_upload_img.upload(elbo_tab.elbo_upload, [elbo_upload_img] + elbo_settings, elbo_outputs + [elbo_digit], **busy)
    elbo_my_digit.click(elbo_tab.elbo_my_digit, [my_pixels] + elbo_settings, elbo_outputs + [elbo_digit], **busy)
    gr.on([elbo_L.change, elbo_K.change, elbo_seed.change, model.change], elbo_tab.elbo_again, [elbo_pixels] + elbo_settings,
          elbo_outputs[1:], trigger_mode="always_last", **busy)
    elbo_resample.click(lambda: random.randrange(2**31), None, elbo_seed, **NO_PROGRESS, **NOT_IN_API)

    # Training: the page replays the model's training; the server draws the loss curves with the epoch marked.
    gr.on([epoch.change, model.change], events.training_curves_twice, [epoch, model],
          [elbo_curve, kl_curve, story_curve], **LATEST_ONLY, **PICTURES, **NOT_IN_API)

    # The Story: a step coming into view (picked, the tab opened, another model) computes that step; each step's
    # control recomputes its own. Quick steps wait with the pictures, slow ones (the exact terms, thousands of
    # draws) in the quadrature's queue, so that a class's ELBOs never hold up the quick ones.
    story_outputs = {1: [story_map, story_draws, story_z], 2: [story_x, story_integrand, story_px], 3: [story_jensen, story_jensen_words],
                     4: [story_ellipse, story_gap], 5: [story_graph, story_variances], 6: [story_mc, story_mc_words],
                     8: [story_beta_map, story_beta_samples, story_beta_words], 9: [story_wide, story_wide_words]}
    busy_story = dict(trigger_mode="always_last", show_progress="minimal", **NOT_IN_API)
    story_queues = ((story.QUICK, PICTURES), (story.SLOW, QUADRATURE))
    queue_of_step = {n: queue for steps, queue in story_queues for n in steps}
    for steps, queue in story_queues:
        gr.on([story_step.change, model.change, tabs["story"].select],
              functools.partial(story.show, outputs={n: len(story_outputs[n]) for n in steps}), [*story_controls, model],
              [c for n in steps for c in story_outputs[n]], **busy_story, **queue)
    for fn, triggers, args, n in ((story.generative, [story_seed], [story_seed], 1), (story.likelihood, [story_digit], [story_digit], 2),
                                  (story.jensen, [story_K], [story_digit, story_K], 3), (story.recognition, [story_q], [story_digit, story_q], 4),
                                  (story.reparameterization, [story_eps1, story_eps2], [story_digit, story_eps1, story_eps2], 5),
                                  (story.monte_carlo, [story_L], [story_digit, story_L], 6), (story.kl_term, [story_beta], [story_beta], 8),
                                  (story.two_dimensions, [story_batch], [story_batch, story_digit], 9)):
        gr.on([c.change for c in triggers], api.user_errors(fn), args + ([model] if n != 8 else []), story_outputs[n],
              **busy_story, **queue_of_step[n])

if __name__ == "__main__":
    demo.launch()
