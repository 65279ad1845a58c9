"""The page's events that need the server, except the ELBO tab's (explorer/elbo_tab.py): the model
picker's words, the Training tab's loss curves, the Reconstruct tab (an upload, the drawing pad, the
same digit through another model) and the interpolation's ends set from test digits or your digit.

What follows a slider or the pointer is drawn by the page itself (explorer/static/);
these answer only what it cannot compute. They build on explorer/api.py's computations, so a
number the page shows for a digit is the number the API returns for it. `first_ends()` and
`digit_choices()` are what the page starts with; like everything here they need models.load().
"""
import base64
import binascii
from typing import NamedTuple

import gradio as gr
import numpy as np
import pandas as pd
from PIL import Image

from explorer import models, text
from explorer.api import Reconstructed, reconstruction_of, uploaded_pixels
from explorer.models import DIGIT_REGION, MAP, Z_RANGE, Model, named
from vae import draw, latent
from vae.likelihood import TOL
from vae.preprocess import MAX_UPLOAD_BYTES, ImageError, open_image, prepare_image

# ---------------------------------------------------------------- the model picker and the Training tab


def epoch_range(epochs: int) -> dict:
    """The Training tab's epoch slider for a run of `epochs` epochs: from 1 to its last. A one-epoch run has
    nothing to step through, and Gradio's slider needs its maximum above its minimum: 1 to 2, fixed at 1
    (the page keeps the epoch within the run too: page.js's tidy)."""
    return {"maximum": max(epochs, 2), "interactive": epochs > 1}


def model_words(model: str) -> tuple:
    """What the page says about a model when it is picked: its paragraph under the picker, the ELBO
    tab's reading of the numbers, and the Training tab's epoch slider, which spans its epochs."""
    m = named(model)
    return (text.model_text(m.name, m.facts), text.elbo_reading(m.facts, m.facts["beta"], TOL),
            gr.update(**epoch_range(len(m.history))))


# The curves by their names in the plots' legends (test and training digits; the reconstruction term on the test
# digits), and the history's key for each. Short: a legend is one row under its plot, and a phone's width holds only so much.
CURVES = {"test": "neg_elbo", "training": "train_sample_neg_elbo"}
RECONSTRUCTION_CURVE = "reconstruction"
KL_CURVES = {"test": "kl", "training": "train_sample_kl"}
EPOCH_MARK = "the epoch shown"
# One colour for each, the same in both plots: each plot would otherwise colour its curves by their order in it,
# and the epoch's line came out teal in one and red in the other.
CURVE_COLOURS = {"test": "#1f77b4", "training": "#ff7f0e", RECONSTRUCTION_CURVE: "#2ca02c", EPOCH_MARK: "#7f7f7f"}
# The legends: the epoch's line is left out, as the row holds the curves only without it; text.TRAINING names it.
LEGENDS = ([*CURVES, RECONSTRUCTION_CURVE], [*KL_CURVES])


def training_curves(epoch, model: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Training tab's loss curves, in nats per digit over the epochs (the test reconstruction term
    beside the negative ELBO; the KL term apart, on its own scale), each with a vertical line at `epoch`."""
    m = named(model)
    epoch = int(np.clip(round(float(epoch or 1)), 1, len(m.history)))
    elbo_rows = [(h["epoch"], h[key], curve) for h in m.history for curve, key in CURVES.items()]
    elbo_rows += [(h["epoch"], -h["reconstruction"], RECONSTRUCTION_CURVE) for h in m.history]
    kl_rows = [(h["epoch"], h[key], curve) for h in m.history for curve, key in KL_CURVES.items()]

    def marked(rows):
        values = [value for _, value, _ in rows]
        return pd.DataFrame(rows + [(epoch, min(values), EPOCH_MARK), (epoch, max(values), EPOCH_MARK)],
                            columns=["epoch", "nats", "curve"])

    return marked(elbo_rows), marked(kl_rows)


def training_curves_twice(epoch, model: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The Training tab's curves, and its −ELBO curve again for the Story's training step."""
    elbo, kl = training_curves(epoch, model)
    return elbo, kl, elbo


# ---------------------------------------------------------------- the Reconstruct tab


def posterior_map(post: dict | None, m: Model | None = None) -> Image.Image:
    """The model's latent map with the posterior's peak marked and q(z|x)'s mean and 1- and 2-sigma ellipses."""
    m = m or models.DEFAULT
    if not post:
        return m.base_map
    mu, sigma = np.array(post["mu"]), np.array(post["sigma"])
    image = m.base_map.copy()
    draw.draw_marker(image, MAP, np.array(post["mode"]), radius=10)  # the rings are often only a few pixels wide
    draw.draw_ellipses(image, MAP, mu, sigma)
    return image


class Shown(NamedTuple):
    """What the Reconstruct tab shows for a digit, or for a picture refused (words: why), whichever
    reconstruction its switch picks."""

    read: Reconstructed | None
    words: str  # q(z|x) in words, or the message of a picture refused
    map: Image.Image
    pixels: np.ndarray | None  # the digit, for the other tabs


def nothing_shown(m: Model, message: str = "") -> Shown:
    return Shown(None, message, m.base_map, None)


def reconstruction_view(pixels: np.ndarray, m: Model, notes: list[str] = ()) -> Shown:
    """Everything the Reconstruct tab shows for a digit (q(z|x) in words, after what was done with a
    doubtful picture), and the digit for the other tabs."""
    read = reconstruction_of(pixels, m)
    return Shown(read, text.posterior_text(read.posterior, " ".join(notes)), posterior_map(read.posterior, m), pixels)


def picked(read: Reconstructed | None, which: str) -> np.ndarray | None:
    """The reconstruction the switch picks ("reading", "mean" or "sample", api.RECONSTRUCTIONS), if there is a digit."""
    return getattr(read, which) if read else None


def tab_outputs(shown: Shown, which: str) -> tuple:
    """app.py's rec_outputs for `shown`, the reconstruction `which` in view: the input and that picture,
    the words, the map, the digit and its q(z|x) for the other tabs, and all three pictures for the switch."""
    read = shown.read
    return (read and read.prepared, picked(read, which), shown.words, shown.map, shown.pixels, read and read.posterior, read)


class Upload(NamedTuple):
    """An uploaded picture's path and what the tab shows for it, until it is shown (show_upload)."""

    image: str | None
    shown: Shown


def reconstruct_upload(image: str | None, model: str | None = None) -> Upload:
    """What the tab shows for an uploaded picture: its reconstructions, or, for a picture refused, no
    pictures and the reason, in the page (a gr.Error would leave the last digit's results under its badges)."""
    m = named(model)
    if image is None:
        return Upload(None, nothing_shown(m))
    notes: list[str] = []
    try:
        pixels = uploaded_pixels(image, notes)
    except ImageError as e:
        return Upload(image, nothing_shown(m, str(e)))
    return Upload(image, reconstruction_view(pixels, m, notes))


def show_upload(upload: Upload | None, image: str | None, which: str) -> tuple:
    """Show an upload's results (tab_outputs), unless another picture has been put in the box since:
    then those results are an older picture's, and the newer one's are on their way."""
    if upload is None or upload.image != image:
        return gr.skip()
    return tab_outputs(upload.shown, which)


def reconstruct_again(pixels: np.ndarray | None, model: str, which: str) -> tuple:
    """The Reconstruct tab when another model is picked: the same digit, through that model."""
    m = named(model)
    return tab_outputs(nothing_shown(m) if pixels is None else reconstruction_view(pixels, m), which)


PNG_DATA_URL = "data:image/png;base64,"


def drawing_bytes(drawing: object) -> bytes:
    """The PNG file inside the data URL the page's drawing pad sends; ImageError if it is anything else."""
    if not isinstance(drawing, str) or not drawing.startswith(PNG_DATA_URL):
        raise ImageError("The drawing did not arrive as a PNG picture: reload the page and draw again.")
    if len(drawing) > len(PNG_DATA_URL) + 4 * (MAX_UPLOAD_BYTES // 3 + 1):
        raise ImageError(f"The drawing is larger than {MAX_UPLOAD_BYTES // 2**20} MB.")
    try:
        return base64.b64decode(drawing[len(PNG_DATA_URL):], validate=True)
    except binascii.Error:
        raise ImageError("The drawing did not arrive as a PNG picture: reload the page and draw again.") from None


def reconstruct_drawing(drawing: str | None, model: str | None = None, which: str = "reading") -> tuple:
    """Live reconstruction of the drawing pad (a PNG data URL of black strokes on transparent), as
    tab_outputs; an empty pad ("") clears the outputs instead of complaining, and a drawing refused
    says why in their place."""
    m = named(model)
    if not drawing:
        return tab_outputs(nothing_shown(m), which)
    notes: list[str] = []
    try:
        rgba = np.asarray(open_image(drawing_bytes(drawing)).convert("RGBA"))
        if not (rgba[..., 3] > 0).any():
            return tab_outputs(nothing_shown(m), which)
        pixels = latent.to_uint8(prepare_image(rgba, notes))[0]
    except ImageError as e:
        return tab_outputs(nothing_shown(m, str(e)), which)
    return tab_outputs(reconstruction_view(pixels, m, notes), which)


# ---------------------------------------------------------------- the Manifold tab


def window_note(m: Model) -> str:
    """What the page says under the grid when its window reaches beyond |z| = DIGIT_REGION, where no digit lives."""
    outside = int((np.abs(m.mu) > DIGIT_REGION).any(axis=1).sum())
    return (f"Part of this window lies beyond |z| = {DIGIT_REGION:g}, where the prior puts almost no mass (under "
            f"1 in 10,000) and the encoder puts {outside} of the {len(m.mu):,} test digits: the decoder was hardly "
            "ever taught to draw there, so what it draws at the edge need not look like a digit.")


# ---------------------------------------------------------------- the interpolation's ends


def slider_value(z: float) -> float:
    """A latent coordinate the sliders can show: inside their range, on their 0.01 step."""
    return round(float(np.clip(z, -Z_RANGE, Z_RANGE)), 2)


def test_digit_mu(index: int, m: Model | None = None) -> tuple[float, float]:
    """Where the model's q(z|x) puts test digit #index, as the sliders can show it: its mean as the
    latent map's points hold it (float32, explorer/assets.py), from which the page places an
    interpolation end named as that digit."""
    mu = (m or models.DEFAULT).mu[int(index)].astype(np.float32)
    return slider_value(mu[0]), slider_value(mu[1])


def move_endpoint(z: tuple[float, float], a1, a2, b1, b2, which: str) -> tuple:
    """Set end A or B of the interpolation to z: the four sliders, and the A and B test-digit pickers,
    the moved end's cleared (z is not a test digit's). The page draws the rest, and places an end
    picked as a test digit itself (explorer/static/page.js)."""
    a1, a2, b1, b2 = (*z, b1, b2) if which == "A" else (a1, a2, *z)
    pickers = (None, gr.skip()) if which == "A" else (gr.skip(), None)
    return a1, a2, b1, b2, *pickers


def endpoint_from_my_digit(post, a1, a2, b1, b2, which: str) -> tuple:
    if not post:
        raise gr.Error("Upload or draw a digit in the Reconstruct tab first.", print_exception=False)
    return move_endpoint((slider_value(post["mode"][0]), slider_value(post["mode"][1])), a1, a2, b1, b2, which)


# ---------------------------------------------------------------- what the page starts with


def first_ends() -> tuple[tuple[float, float], tuple[float, float]]:
    """The interpolation's first ends: test digits #0 and #1 under the default model."""
    return test_digit_mu(0), test_digit_mu(1)


def digit_choices() -> list[tuple[str, int]]:
    """The test-digit pickers' choices: (label, index) for each of the first 100 test digits."""
    return [(f"test digit #{i} (a {models.test_labels[i]})", i) for i in range(len(models.test_images))]
