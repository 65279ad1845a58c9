"""How far apart two colours look, to people with normal colour vision and to people without one of
the three kinds of cone: the measure vae/draw.py's palette was chosen by, and its tests check.

Colour-vision deficiency is simulated with Machado, Oliveira & Fernandes (2009) at severity 1
(protanopia, deuteranopia, tritanopia), a 3x3 matrix applied in linear RGB; the difference is
CIEDE2000 (Sharma, Wu & Dalal 2005) between the CIELAB values (D65) of the sRGB colours. About 2 is
a just-noticeable difference; two dots side by side on a map need ~15 to be told apart at a glance.
Colours are sRGB triples 0-255 in arrays [..., 3].
"""
import numpy as np

# Machado et al. 2009, Table 1, severity 1.0: linear RGB -> linear RGB as seen without that cone.
# Each row sums to 1, so greys (white, black, ink) look the same to everyone.
SIMULATIONS = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
VISIONS = ("normal", *SIMULATIONS)  # the four ways a palette is judged

# What the latent map asks of its class colours, in CIEDE2000 under every vision. Two classes at
# less than APART need another cue (vae/draw.py writes each class's digit on its cluster). The
# overlays drawn on the map are all greys (ink, white halos, a grey wash), so a class stays
# FROM_GREY from every grey; FROM_WHITE from the map's white ground, to be seen at all; and no
# darker than DARKEST (L*): a darker dot of a few pixels reads as black, whatever its hue.
APART = 15.0
FROM_GREY = 15.0
FROM_WHITE = 25.0
DARKEST = 30.0

# sRGB (linear) -> CIE XYZ, and the D65 white point, as in IEC 61966-2-1.
RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                       [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])
WHITE = RGB_TO_XYZ.sum(axis=1)


def to_linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB 0-255 -> linear RGB 0-1 (the sRGB transfer curve undone)."""
    c = np.asarray(rgb, dtype=np.float64) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear RGB 0-1 -> sRGB 0-255 (float), clipped to what a screen shows."""
    c = np.clip(linear, 0, 1)
    return 255 * np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def simulate(rgb: np.ndarray, vision: str) -> np.ndarray:
    """The sRGB colours [..., 3] as someone with `vision` (one of VISIONS) sees them, as sRGB (float)."""
    if vision == "normal":
        return np.asarray(rgb, dtype=np.float64)
    return to_srgb(to_linear(rgb) @ SIMULATIONS[vision].T)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB 0-255 [..., 3] -> CIELAB (L*, a*, b*) under D65."""
    t = (to_linear(rgb) @ RGB_TO_XYZ.T) / WHITE
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between CIELAB colours [..., 3] (broadcast), kL = kC = kH = 1."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    # a* is stretched for near-neutral colours, where CIELAB underrates differences of hue.
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1, a2 = a1 * (1 + g), a2 * (1 + g)
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1, h2 = np.degrees(np.arctan2(b1, a1)) % 360, np.degrees(np.arctan2(b2, a2)) % 360
    grey = (c1 * c2) == 0  # a hue is undefined for a grey: its difference counts as none
    dh = np.where(grey, 0, (h2 - h1 + 180) % 360 - 180)
    dL, dC = L2 - L1, c2 - c1
    dH = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    L_bar, c_bar = (L1 + L2) / 2, (c1 + c2) / 2
    h_bar = np.where(grey, h1 + h2, np.where(np.abs(h1 - h2) > 180, (h1 + h2 + 360) / 2, (h1 + h2) / 2)) % 360
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    s_L = 1 + 0.015 * (L_bar - 50) ** 2 / np.sqrt(20 + (L_bar - 50) ** 2)
    s_C, s_H = 1 + 0.045 * c_bar, 1 + 0.015 * c_bar * t
    # Blues: hue and chroma differences interact (the rotation term).
    r_T = (-2 * np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7))
           * np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))))
    return np.sqrt((dL / s_L) ** 2 + (dC / s_C) ** 2 + (dH / s_H) ** 2 + r_T * (dC / s_C) * (dH / s_H))


def difference(rgb1: np.ndarray, rgb2: np.ndarray, vision: str = "normal") -> np.ndarray:
    """CIEDE2000 between sRGB colours [..., 3] (broadcast) as someone with `vision` sees them."""
    return ciede2000(to_lab(simulate(rgb1, vision)), to_lab(simulate(rgb2, vision)))


def from_greys(rgb: np.ndarray, vision: str = "normal") -> np.ndarray:
    """The least difference between each colour [..., 3] and any grey, from black to white, under
    `vision` (which leaves greys as they are)."""
    greys = to_lab(np.repeat(np.arange(256.0)[:, None], 3, axis=1))
    return ciede2000(to_lab(simulate(rgb, vision))[..., None, :], greys).min(axis=-1)


def pairwise(palette: np.ndarray, vision: str = "normal") -> np.ndarray:
    """The [n, n] table of differences between the palette's colours [n, 3] under `vision`."""
    p = np.asarray(palette)
    return difference(p[:, None], p[None, :], vision)


def worst_pair(palette: np.ndarray, vision: str = "normal") -> tuple[float, tuple[int, int]]:
    """The smallest difference between two of the palette's colours under `vision`, and which two."""
    table = pairwise(palette, vision)
    i, j = np.triu_indices(len(table), k=1)
    k = int(np.argmin(table[i, j]))
    return float(table[i[k], j[k]]), (int(i[k]), int(j[k]))
