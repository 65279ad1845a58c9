"""vae/colour.py's measures, and the latent map's palette judged by them: every pair of classes apart
under normal vision and simulated protanopia, deuteranopia and tritanopia, or told apart by the digit
written on each cluster; the overlays greys that no class is near. `pytest -s` prints the tables."""
import json

import numpy as np
import pytest

from vae import colour, draw

# Sharma, Wu & Dalal (2005), Table 1: CIELAB pairs and their CIEDE2000, hue wrap-arounds included.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, -0.001, 2.49), (50.0, 0.0009, -2.49), 4.8045),
    ((50.0, -0.001, 2.49), (50.0, 0.0011, -2.49), 4.7461),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
]
TAB10 = np.array([(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                  (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)])
WHITE = np.array([255.0, 255.0, 255.0])


def table(palette: np.ndarray, vision: str) -> str:
    """The palette's pairwise differences under `vision`, as rows of text."""
    d = colour.pairwise(palette, vision)
    rows = [f"{vision:>12} " + "".join(f"{k:>6}" for k in range(len(d)))]
    rows += [f"{i:>12} " + "".join("      " if j <= i else f"{d[i, j]:6.1f}" for j in range(len(d))) for i in range(len(d))]
    return "\n".join(rows)


@pytest.mark.parametrize("lab1, lab2, expected", SHARMA)
def test_ciede2000_matches_sharmas_test_data(lab1, lab2, expected):
    assert colour.ciede2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-4)
    assert colour.ciede2000(np.array(lab2), np.array(lab1)) == pytest.approx(expected, abs=1e-4)


def test_simulations_leave_greys_alone_and_merge_what_they_should():
    greys = np.repeat(np.arange(0, 256, 17.0)[:, None], 3, axis=1)
    for vision in colour.VISIONS:
        np.testing.assert_allclose(colour.simulate(greys, vision), greys, atol=0.5)
    red, green = np.array([214.0, 39.0, 40.0]), np.array([44.0, 160.0, 44.0])
    assert colour.difference(red, green) > 50
    assert colour.difference(red, green, "deuteranopia") < 10  # (protanopia tells them apart by red's darkening)
    # Tableau 10, the map's palette before: orange and green are one colour without red cones
    assert colour.worst_pair(TAB10, "protanopia")[0] < 2


def test_every_pair_of_classes_is_apart_under_every_vision():
    before = {vision: colour.worst_pair(TAB10, vision) for vision in colour.VISIONS}
    after = {vision: colour.worst_pair(draw.DIGIT_COLOURS, vision) for vision in colour.VISIONS}
    for vision in colour.VISIONS:
        print("\n" + table(draw.DIGIT_COLOURS, vision))
    print("\nworst pair (CIEDE2000), Tableau 10 -> the map's palette:")
    for vision in colour.VISIONS:
        (b, pb), (a, pa) = before[vision], after[vision]
        print(f"{vision:>12}: {b:5.1f} ({pb[0]}/{pb[1]}) -> {a:5.1f} ({pa[0]}/{pa[1]})")
    # Ten colours at APART under deuteranopia too is more than the search found; the few pairs a little
    # below it are told apart by the digit on each cluster (test_each_digit_is_written_at_its_clusters_median).
    assert min(worst for worst, _ in after.values()) >= 13.5


def test_classes_are_seen_on_white_and_never_near_a_grey():
    """The overlays are greys (no deficiency changes a grey), so no overlay is taken for a class."""
    for overlay in (draw.INK, draw.HOVER, WHITE):
        assert len(set(np.asarray(overlay).tolist())) == 1, overlay
    assert (colour.to_lab(draw.DIGIT_COLOURS)[:, 0] >= colour.DARKEST).all()
    for vision in colour.VISIONS:
        assert colour.from_greys(draw.DIGIT_COLOURS, vision).min() >= colour.FROM_GREY, vision
        assert colour.difference(draw.DIGIT_COLOURS, WHITE, vision).min() >= colour.FROM_WHITE, vision


def test_each_digit_is_written_at_its_clusters_median():
    frame = draw.MapFrame()
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 3000)
    z = rng.normal(scale=0.4, size=(3000, 2)) + np.array([[3 * np.cos(k), 3 * np.sin(k)] for k in range(10)])[labels]
    centres = draw.class_centres(z, labels)
    np.testing.assert_allclose(centres[4], np.median(z[labels == 4], axis=0))
    a = np.asarray(draw.render_map(frame, z, labels)).astype(int)
    for d, (x, y) in enumerate(np.round(frame.z_to_px(centres)).astype(int)):
        near = a[y - 8:y + 9, x - 8:x + 9]
        assert (np.abs(near - draw.INK).max(axis=-1) < 30).sum() > 10, d  # the digit's ink
        assert (near.min(axis=-1) == 255).sum() > 10, d  # its white halo
    assert np.isnan(draw.class_centres(z[labels != 3], labels[labels != 3])[3]).all()


def test_the_elbo_overlays_add_greys_only():
    """q's rings, q*'s, the samples and the wash change a pixel only towards a grey: its colour
    (what is left after taking away its grey) shrinks, never turns."""
    frame = draw.MapFrame(half=1.0)
    rng = np.random.default_rng(2)
    base = draw.render_map(frame, rng.normal(scale=0.5, size=(4000, 2)), rng.integers(0, 10, 4000))
    image = base.copy()
    z = np.linspace(-0.8, 0.8, 41)
    draw.draw_heatmap(image, frame, z, z, np.exp(-(z[None] ** 2 + z[:, None] ** 2) / 0.1))
    draw.draw_ellipses(image, frame, np.array([0.2, 0.0]), np.array([0.3, 0.2]), ks=(1.0,), colour="white", halo=draw.INK)
    draw.draw_ellipses(image, frame, np.array([0.0, 0.1]), np.array([0.2, 0.3]))
    draw.draw_points(image, frame, rng.normal(scale=0.3, size=(50, 2)), colour="white", outline=draw.INK)
    assert only_greys_added(np.asarray(base), np.asarray(image))


def only_greys_added(base: np.ndarray, shown: np.ndarray, slack: float = 6) -> bool:
    """Whether every pixel of `shown` is its pixel of `base` blended with some grey (within `slack` levels)."""
    chroma_base = base.astype(float) - base.mean(axis=-1, keepdims=True)
    chroma = shown.astype(float) - shown.mean(axis=-1, keepdims=True)
    # shown = (1 - a) base + a grey  =>  chroma = (1 - a) chroma_base, 0 <= a <= 1
    k = np.clip((chroma * chroma_base).sum(-1) / np.maximum((chroma_base**2).sum(-1), 1e-9), 0, 1)
    return bool(np.abs(chroma - k[..., None] * chroma_base).max() <= slack)


def test_the_page_finds_the_clusters_centres_as_the_server_does():
    from test_page_js import NODE, run_js

    if NODE is None:
        pytest.skip("no node")
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 9, 501)  # odd and even counts; no 9
    z = rng.normal(size=(501, 2))
    out = run_js(f"""
        import {{ classCentres }} from "./draw.js";
        const c = classCentres({{ mu: {json.dumps(z.ravel().tolist())}, labels: {json.dumps(labels.tolist())} }});
        console.log(JSON.stringify(c.map(([a, b]) => [isNaN(a) ? null : a, isNaN(b) ? null : b])));""")
    expected = draw.class_centres(z, labels)
    np.testing.assert_allclose(np.array(out[:9], dtype=float), expected[:9], atol=1e-12)
    assert out[9] == [None, None]

