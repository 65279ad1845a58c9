"""The VAE explorer: a Gradio page over the 2-D latent space of a VAE trained on MNIST.

    python app.py            # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT to change)

A model picker at the top (the same networks trained with the KL term weighed 0, 1 and 5)
that every tab follows. Tabs: Explorer (drag z, see the decoded digit and where it sits
among the test digits), Reconstruct (upload, paste, photograph or draw a digit; see q(z|x)),
Manifold (an n x n grid of decodes, linear or prior-CDF spaced), Sample & interpolate, ELBO
anatomy (every term of the bound the VAE is trained on, next to the exact log p(x)), and
Training (the latent space forming, epoch by epoch).

This file is the page: its layout and which handler each event calls. What the handlers
do is in explorer/handlers.py, the words in explorer/text.py, the pictures and controls the
page is made of in explorer/components.py, and the server's limits in
explorer/gradio_adjustments.py, which hold however `demo` is served. Only checkpoints/ is
read: no dataset, no network.
"""
import json
import random

import gradio as gr

from explorer import gradio_adjustments, handlers as h, text
from explorer.components import MAP_CANVAS, PAD, TRAINING_VIEW, digit_output, digit_sheet, latent_slider, map_image, view
from explorer.gradio_adjustments import ExplorerBlocks, uploads_unopened
from vae import inputs

gradio_adjustments.install()

NO_PROGRESS = dict(show_progress="hidden")
NOT_IN_API = dict(api_visibility="private")  # the page's own events; the API is the named endpoints below
LATEST_ONLY = dict(trigger_mode="always_last", show_progress="hidden")  # while dragging, only the newest value counts
# Server work waits in two queues: pictures, two at a time (one per core), and the ELBO's quadrature,
# one at a time (1-2 s for a digit seen first), so that a class asking for ELBOs never holds up
# everyone's grids and uploads. Gradio would otherwise give each event a queue of its own.
PICTURES = dict(concurrency_id="pictures", concurrency_limit=gradio_adjustments.CONCURRENCY)
QUADRATURE = dict(concurrency_id="quadrature", concurrency_limit=1)
PICTURE_BUTTONS = ["download", "fullscreen"]  # not Gradio's default "share": there is nowhere to share to

def moved(*sliders: gr.Slider) -> list:
    """The events of sliders set by the user: dragged or typed (input), or reset by their ↺ button,
    which Gradio reports as a release without an input."""
    return [event for slider in sliders for event in (slider.input, slider.release)]


def changed(*controls) -> list:
    """The change events of controls: set by the user, by a listener or by a reset. Gradio fires a
    slider's change a while after its input, so the page listens to both (VAEPage.set drops the repeat)."""
    return [control.change for control in controls]


def in_page(triggers, js: str, inputs=None, outputs=None) -> None:
    """A listener that runs in the page alone (explorer.js): no request reaches the server."""
    gr.on(triggers, None, inputs, outputs, js=js, **NO_PROGRESS, **NOT_IN_API)


def follow(js: str, controls: list, by_the_user: list) -> None:
    """The page's pictures follow `controls` through `js` (explorer.js's VAEPage.set). After the user's own
    events the values also go back to the controls, in range (a number typed beyond a slider's end); after
    a change made by a listener, the server or a reset they only redraw: written back while several
    controls change at once, they would hand each other's change events stale values, back and forth."""
    in_page(by_the_user, js, controls, controls)
    in_page(changed(*controls), js, controls)


GRID_START = [0.0, 0.0, 6.0, 20, "linear"]
(A1, A2), (B1, B2) = h.FIRST_ENDS
gradio_adjustments.serve_assets(h.ASSET_FOLDER)  # the folder of the page's own files, and nothing else

with ExplorerBlocks(title="VAE latent explorer", delete_cache=(3600, 3600), warm_up=h.warm_up) as demo:
    demo.example_file = h.ASSETS["example"]
    gr.Markdown(text.INTRO, latex_delimiters=text.LATEX, elem_classes="intro")
    with gr.Row():
        with gr.Column(scale=2, min_width=280):
            model = gr.Radio([(text.MODEL_LABELS[name], name) for name in h.MODELS], value=h.DEFAULT_MODEL, elem_id="model",
                             label="Model (every tab shows it)")
            reset_view = gr.Button("↺ Reset the views", size="sm", elem_id="reset_view")
        with gr.Column(scale=5):
            model_words = gr.Markdown(h.model_words(h.DEFAULT_MODEL)[0], elem_id="model_words", latex_delimiters=text.LATEX)
            with gr.Accordion("The three models side by side (python -m vae.evaluate)", open=False):
                gr.Markdown(text.models_table({name: m.facts for name, m in h.MODELS.items()}), latex_delimiters=text.LATEX)
    view("mode", '<div class="vae-mode" role="status"></div>')
    my_pixels = gr.State(None)  # the last uploaded or drawn digit, as the model sees it (uint8 28x28)
    my_posterior = gr.State(None)  # its q(z|x)

    with gr.Tabs(overflow_behavior="wrap"):  # on a phone every tab stays a tab, none hides behind a menu
        with gr.Tab("Explorer", id="explorer"):
            with gr.Row():
                with gr.Column(scale=3):
                    explorer_map = view("explorer_map", MAP_CANVAS, [0.0, 0.0],
                                        title="Latent map: test digits by class (hover to preview, click or drag to set z)")
                with gr.Column(scale=2):
                    view("explorer_digit", '<canvas class="vae-digit" role="img" aria-label="the decoded digit"></canvas>'
                         '<div class="vae-caption"></div>', [0.0, 0.0])
                    z1, z2 = latent_slider(0.0, "z1", "z1"), latent_slider(0.0, "z2", "z2")
                    gr.Markdown(text.EXPLORER, latex_delimiters=text.LATEX)

        with gr.Tab("Reconstruct", id="reconstruct"):
            with gr.Row():
                with gr.Column(scale=2):
                    with gr.Tab("Draw"):
                        pad = view("pad", PAD)
                        drawing = gr.Textbox(visible=False)  # what the pad sends: a PNG data URL
                    with gr.Tab("Upload / paste / webcam"):
                        upload = uploads_unopened(gr.Image(label="A picture of one digit", elem_id="upload", type="filepath",
                                                           image_mode=None, sources=["upload", "clipboard", "webcam"], height=380))
                with gr.Column(scale=2, elem_id="rec_results"):
                    with gr.Row():
                        prepared = digit_output("prepared", "Input x")
                        reconstruction = digit_output("reconstruction", "Reconstruction")
                    posterior = gr.Markdown(elem_id="posterior", latex_delimiters=text.LATEX)
                with gr.Column(scale=3):
                    rec_map = map_image("rec_map", "Where your digit lands")
                    gr.Markdown(text.RECONSTRUCT, latex_delimiters=text.LATEX)

        with gr.Tab("Manifold", id="manifold"):
            with gr.Row():
                with gr.Column(scale=3):
                    grid_view = view("grid", '<canvas class="vae-grid" role="img" aria-label="the decoded grid: drag to pan, '
                                     'scroll to zoom, click a cell to centre on it"></canvas><div class="vae-note"></div>', GRID_START,
                                     digit_region=h.DIGIT_REGION, span_min=inputs.SPAN_MIN, span_max=inputs.SPAN_MAX)
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
                    grid_map = view("grid_map", MAP_CANVAS, GRID_START, title="The grid's window (click to centre there)")
                    gr.Markdown(text.MANIFOLD_SPACING, latex_delimiters=text.LATEX)

        with gr.Tab("Sample & interpolate", id="sample"):
            with gr.Row():
                with gr.Column(scale=3):
                    gr.Markdown(text.SAMPLES, latex_delimiters=text.LATEX)
                    with gr.Row():
                        samples_n = gr.Slider(1, inputs.SAMPLES_N_MAX, value=36, step=1, label="how many", elem_id="samples_n")
                        samples_seed = gr.Number(0, label="seed", precision=0, elem_id="samples_seed")
                        samples_button = gr.Button("New samples", elem_id="samples_button")
                    view("samples", '<canvas class="vae-sheet" role="img" aria-label="decoded prior samples"></canvas>', [36, 0])
                with gr.Column(scale=2):
                    view("samples_map", MAP_CANVAS, [36, 0], title="The samples on the map")
            gr.Markdown(text.INTERPOLATION)
            with gr.Row():
                with gr.Column(scale=3):
                    with gr.Row():
                        with gr.Column():
                            pick_a = gr.Dropdown(h.DIGIT_CHOICES, value=0, label="A: a test digit", elem_id="interp_pick_a")
                            my_digit_a = gr.Button("A = my digit", size="sm", elem_id="interp_mine_a")
                            a1, a2 = latent_slider(A1, "A z1", "interp_a1"), latent_slider(A2, "A z2", "interp_a2")
                        with gr.Column():
                            pick_b = gr.Dropdown(h.DIGIT_CHOICES, value=1, label="B: a test digit", elem_id="interp_pick_b")
                            my_digit_b = gr.Button("B = my digit", size="sm", elem_id="interp_mine_b")
                            b1, b2 = latent_slider(B1, "B z1", "interp_b1"), latent_slider(B2, "B z2", "interp_b2")
                    interp_digits = digit_sheet("interp_digits", [0, 1], ["A", "B"])
                    with gr.Row():
                        steps = gr.Slider(2, inputs.STEPS_MAX, value=10, step=1, label="steps", elem_id="interp_steps")
                        click_sets = gr.Radio(["A", "B"], value="A", label="clicking the map sets", elem_id="interp_click_sets")
                    view("interp", '<canvas class="vae-strip" role="img" aria-label="the interpolation from A to B"></canvas>',
                         [A1, A2, B1, B2, 10])
                with gr.Column(scale=2):
                    interp_map = view("interp_map", MAP_CANVAS, [A1, A2, B1, B2, 10], title="The path on the map (click to move an end)")

        with gr.Tab("ELBO anatomy", id="elbo") as elbo_tab:
            gr.Markdown(text.ELBO_INTRO, latex_delimiters=text.LATEX)
            elbo_pixels = gr.State(None)
            with gr.Row():
                with gr.Column(scale=2):
                    elbo_digit = gr.Dropdown(h.DIGIT_CHOICES, value=h.FIRST_ELBO["index"], label="Pick a test digit", elem_id="elbo_digit")
                    elbo_digits = digit_sheet("elbo_digits", [h.FIRST_ELBO["index"]])
                    with gr.Row():
                        elbo_upload_img = uploads_unopened(gr.Image(label="…or upload one", elem_id="elbo_upload", type="filepath",
                                                                    image_mode=None, sources=["upload", "clipboard"], height=160))
                        elbo_input = digit_output("elbo_input", "the digit x", height=160)
                    elbo_my_digit = gr.Button("Use my digit from the Reconstruct tab", size="sm", elem_id="elbo_mine")
                    elbo_L = gr.Slider(1, inputs.L_MAX, value=h.FIRST_ELBO["L"], step=1, label="L: samples for the reconstruction term",
                                       elem_id="elbo_L")
                    elbo_K = gr.Slider(1, inputs.K_MAX, value=h.FIRST_ELBO["K"], step=1, label="K: importance samples for the IWAE bound",
                                       elem_id="elbo_K")
                    with gr.Row():
                        elbo_seed = gr.Number(h.FIRST_ELBO["seed"], label="seed for ε", precision=0, elem_id="elbo_seed")
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
            elbo_reading = gr.Markdown(h.model_words(h.DEFAULT_MODEL)[1], elem_id="elbo_reading", latex_delimiters=text.LATEX)

        with gr.Tab("Training", id="training"):
            gr.Markdown(text.TRAINING, latex_delimiters=text.LATEX)
            with gr.Row():
                with gr.Column(scale=3):
                    training = view("training", TRAINING_VIEW, [1], title="The test digits' posterior means")
                with gr.Column(scale=2):
                    with gr.Row(equal_height=True):
                        epoch = gr.Slider(1, len(h.DEFAULT.history), value=1, step=1, label="epoch", elem_id="train_epoch", scale=3)
                        play = gr.Button("▶ Play / pause", elem_id="train_play", scale=1)
                    elbo_curve, kl_curve = (gr.LinePlot(curve, x="epoch", y="nats", color="curve", label=label, elem_id=elem_id,
                                                        height=260)
                                            for curve, label, elem_id in zip(h.training_curves(1), ("−ELBO and reconstruction",
                                                                             "KL term"), ("elbo_curve", "kl_curve")))

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
            return gradio_adjustments.optional(gr.Textbox(h.DEFAULT_MODEL, label="model"))

        endpoint(h.decode, [number("z1"), number("z2"), which_model()], picture(), "decode")
        endpoint(h.reconstruct, [gr.File(label="image"), which_model()], [prepared, reconstruction, gr.JSON(label="posterior")],
                 "reconstruct")
        endpoint(h.grid, [number("z1", 0.0), number("z2", 0.0), number("span", 6.0), number("n", 20),
                          gr.Textbox("linear", label="spacing"), which_model()], picture(), "grid")
        endpoint(h.sample, [number("n", 36), number("seed", 0), which_model()], picture(), "sample")
        endpoint(h.interpolate, [number("a1"), number("a2"), number("b1"), number("b2"), number("steps", 10), which_model()],
                 picture(), "interpolate")
        endpoint(h.elbo, [gr.File(label="image"), number("L", 10), number("K", 1000), number("seed", 0), which_model()], elbo_json,
                 "elbo")

    # ------------------------------------------------------------ events
    # The model picker: the page's own views redraw with the model's decoder and map; the server's
    # views recompute what they show (the same digit, the same test digits at the interpolation's ends).
    in_page(model.change, "(m) => VAEPage.useModel(m)", [model])
    model.change(h.model_words, model, [model_words, elbo_reading, epoch], **NO_PROGRESS, **NOT_IN_API)
    # Explorer, drawn by the page: the digit and the marker follow the sliders; the map sets them.
    follow("(a, b) => VAEPage.set('explorer', a, b)", [z1, z2], moved(z1, z2))
    explorer_map.pick(None, None, [z1, z2], js="() => VAEPage.picked('explorer_map')", **NO_PROGRESS, **NOT_IN_API)

    # Reconstruct
    rec_outputs = [prepared, reconstruction, posterior, rec_map, my_pixels, my_posterior]
    upload.input(h.reconstruct_upload, [upload, model], rec_outputs, **PICTURES, **NOT_IN_API)
    pad.pick(h.reconstruct_drawing, [drawing, model], rec_outputs, js="(d, m) => [...VAEPage.picked('pad'), m]", **LATEST_ONLY,
             **PICTURES, **NOT_IN_API)
    model.change(h.reconstruct_again, [my_pixels, model], rec_outputs, **NO_PROGRESS, **PICTURES, **NOT_IN_API)

    # Manifold: the page moves the grid it shows at once and asks the server's /grid for a sharp one.
    grid_controls = [grid_z1, grid_z2, grid_span, grid_n, grid_spacing]
    window = [grid_z1, grid_z2, grid_span]
    follow("(...v) => VAEPage.set('grid', ...v)", grid_controls, moved(grid_z1, grid_z2, grid_span, grid_n))
    grid_view.pick(None, None, window, js="() => VAEPage.picked('grid')", **NO_PROGRESS, **NOT_IN_API)
    grid_map.pick(None, None, [grid_z1, grid_z2], js="() => VAEPage.picked('grid_map')", **NO_PROGRESS, **NOT_IN_API)
    for button, (dz1, dz2, zoom) in ((zoom_in, (0, 0, 1 / 1.5)), (zoom_out, (0, 0, 1.5)), (pan_left, (-1, 0, 1)),
                                     (pan_right, (1, 0, 1)), (pan_up, (0, 1, 1)), (pan_down, (0, -1, 1))):
        in_page(button.click, f"(a, b, s) => VAEPage.gridMove(a, b, s, {dz1}, {dz2}, {zoom}, {inputs.SPAN_MIN}, {inputs.SPAN_MAX})",
                window, window)

    # Samples and interpolation, drawn by the page.
    follow("(n, seed) => VAEPage.set('samples', n, seed)", [samples_n, samples_seed], moved(samples_n) + [samples_seed.input])
    in_page(samples_button.click, "() => VAEPage.newSeed()", None, samples_seed)
    ends = [a1, a2, b1, b2]
    follow("(...v) => VAEPage.set('interp', ...v)", ends + [steps], moved(*ends, steps))
    pickers = [pick_a, pick_b]
    for which, pick, my_digit in (("A", pick_a, my_digit_a), ("B", pick_b, my_digit_b)):
        pick.input(lambda i, a1, a2, b1, b2, m, w=which: h.endpoint_from_digit(i, a1, a2, b1, b2, w, m), [pick] + ends + [model],
                   ends + pickers, **NO_PROGRESS, **PICTURES, **NOT_IN_API)
        my_digit.click(lambda p, *v, w=which: h.endpoint_from_my_digit(p, *v, w), [my_posterior] + ends, ends + pickers,
                       **NO_PROGRESS, **PICTURES, **NOT_IN_API)
    interp_map.pick(None, [click_sets] + ends + pickers, ends + pickers, js="(...v) => VAEPage.pickedEnd(...v)", **NO_PROGRESS,
                    **NOT_IN_API)
    # A thumbnail clicked moves the end that clicking the map sets; the thumbnails outline what the pickers hold.
    interp_digits.pick(lambda which, index, a1, a2, b1, b2, m: h.endpoint_from_digit(index, a1, a2, b1, b2, which, m),
                       [click_sets, pick_a] + ends + [model], ends + pickers,
                       js="(which, index, ...v) => [which, VAEPage.picked('interp_digits')[0], ...v]",
                       **NO_PROGRESS, **PICTURES, **NOT_IN_API)
    model.change(h.ends_again, pickers + ends + [model], ends, **NO_PROGRESS, **PICTURES, **NOT_IN_API)
    in_page(changed(*pickers), "(a, b) => VAEPage.mark('interp_digits', a, b)", pickers)
    # An end moved by hand is no longer the test digit its picker names.
    gr.on(moved(a1, a2), None, None, pick_a, js="() => null")
    gr.on(moved(b1, b2), None, None, pick_b, js="() => null")

    # Every view the page draws back to how it started (the ELBO tab keeps its digit and settings).
    drawn_by_the_page = [z1, z2, *grid_controls, samples_n, samples_seed, *ends, steps, click_sets, *pickers]
    in_page(reset_view.click, f"() => {json.dumps([c.value for c in drawn_by_the_page])}", None, drawn_by_the_page)

    # ELBO anatomy: L and K update live too; always_last keeps at most one recomputation waiting.
    elbo_outputs = [elbo_pixels, elbo_numbers, elbo_json, elbo_map, elbo_samples, elbo_input]
    busy = dict(show_progress="minimal", **QUADRATURE, **NOT_IN_API)
    elbo_settings = [elbo_L, elbo_K, elbo_seed, model]
    elbo_tab.select(h.elbo_tab_opened, [elbo_pixels, model], elbo_outputs, **busy)
    elbo_digit.input(h.elbo_pick, [elbo_digit] + elbo_settings, elbo_outputs, **busy)
    elbo_digits.pick(lambda index, *settings: (*h.elbo_pick(index, *settings), index), [elbo_digit] + elbo_settings,
                     elbo_outputs + [elbo_digit], js="(index, ...settings) => [VAEPage.picked('elbo_digits')[0], ...settings]",
                     **busy)
    in_page(changed(elbo_digit), "(index) => VAEPage.mark('elbo_digits', index)", [elbo_digit])
    elbo_upload_img.upload(h.elbo_upload, [elbo_upload_img] + elbo_settings, elbo_outputs + [elbo_digit], **busy)
    elbo_my_digit.click(h.elbo_my_digit, [my_pixels] + elbo_settings, elbo_outputs + [elbo_digit], **busy)
    gr.on(moved(elbo_L, elbo_K) + [elbo_seed.submit, model.change], h.elbo_again, [elbo_pixels] + elbo_settings,
          elbo_outputs[1:], trigger_mode="always_last", **busy)
    elbo_resample.click(lambda: random.randrange(2**31), None, elbo_seed, **NO_PROGRESS, **NOT_IN_API).then(
        h.elbo_again, [elbo_pixels] + elbo_settings, elbo_outputs[1:], **busy)

    # Training, drawn by the page from the model's replay; the server draws the loss curves with the epoch marked.
    follow("(e) => VAEPage.set('training', e)", [epoch], moved(epoch))
    training.pick(None, None, epoch, js="() => VAEPage.picked('training')", **NO_PROGRESS, **NOT_IN_API)
    in_page(play.click, "() => VAEPage.play()")
    gr.on(changed(epoch, model), h.training_curves, [epoch, model], [elbo_curve, kl_curve], **LATEST_ONLY, **PICTURES,
          **NOT_IN_API)

if __name__ == "__main__":
    demo.launch()
