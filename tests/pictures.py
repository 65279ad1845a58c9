"""Pictures the tests upload, each made here so that a test says exactly what it holds.

A helper module, not a test file: test files import it, never each other.
"""
import io
import struct
import zlib

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter


def seven(size: tuple[int, int] = (300, 240), ink: int = 20, paper: int = 235, pen: int | None = None) -> Image.Image:
    """A dark '7' on light paper, off-centre, in mode L: asymmetric, so rotations show. Its pen is
    `pen` pixels wide (by default 1/25 of the width, MNIST's proportion for this size of digit)."""
    image = Image.new("L", size, paper)
    w, h = size
    draw = ImageDraw.Draw(image)
    draw.line([(0.2 * w, 0.2 * h), (0.6 * w, 0.2 * h), (0.35 * w, 0.8 * h)], fill=ink, width=pen or max(2, w // 25), joint="curve")
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def close(a: torch.Tensor, b: torch.Tensor, tol: float = 0.03) -> bool:
    """Same digit up to resampling: small mean difference in ink."""
    return (a - b).abs().mean().item() < tol


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height white pixels: tiny on disk, huge once decoded."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = bytes(1 + (width + 7) // 8)  # filter byte + packed pixels
    squeeze = zlib.compressobj(9)
    idat = b"".join(squeeze.compress(row * 1000) for _ in range(height // 1000)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def photo_of(pixels: np.ndarray) -> bytes:
    """JPEG bytes of a uint8 28x28 MNIST digit (white on black) photographed as dark ink on grey-white
    paper: 640x480, the digit off-centre, light falling off to one side, a little blur and noise."""
    height, width = 480, 640
    light = np.linspace(1.0, 0.8, width)[None, :] * np.ones((height, 1))
    paper = 232.0 * light + np.random.default_rng(1).normal(0, 3, (height, width))
    ink = np.asarray(Image.fromarray(pixels).resize((210, 210), Image.BICUBIC).filter(ImageFilter.GaussianBlur(1.5)), float)
    paper[50:260, 320:530] *= 1 - 0.85 * ink / 255
    return encode(Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGB"), "JPEG", quality=88)
