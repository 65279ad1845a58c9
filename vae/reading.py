"""The reconstruction the app shows: how a digit is read back through the decoder.

A trained 2-D VAE's posterior p(z|x) is far sharper than one picture warrants, so decoding its
single peak (or q's mean) makes a digit near the border between two classes flip with a few
pixels, or with a move of one pixel. `posterior_reconstruction` reads instead the digits the
decoder draws around q(z|x), weighted by the tempered posterior p(z|x) ** READ_POWER, for the
digit and for copies of it moved by one pixel (READ_SHIFTS), each moved back. The grid sums it
uses (decoding points, scoring a digit against them) are vae/likelihood.py's; docs/model.md
("What a reconstruction is decoded at") gives the measurements behind each choice.
"""
from typing import NamedTuple

import torch

from vae.likelihood import decode_points, flatten_digits, log_joint, plane
from vae.model import VAE, std_dev

READ_SIGMAS = 5.0  # posterior_reconstruction reads mu +- this many sigma of q(z|x)...
READ_GRID, READ_FINE = 11, 13  # ...on a READ_GRID-point square grid (the peak then on a READ_FINE one across its best cell)...
READ_SHIFT_GRID = 7  # ...and each moved copy on a coarser one: they only steady the average...
READ_POWER = 0.1  # ...averaging the digits decoded there, weighted by p(z|x) ** READ_POWER...
READ_SHIFTS = ((1, 0), (-1, 0), (0, 1), (0, -1))  # ...for the digit and its copies moved by these (rows, columns)


class Reconstruction(NamedTuple):
    """What the app shows for a digit (see `posterior_reconstruction`)."""

    image: torch.Tensor  # [N, 1, 28, 28] the reconstruction: decoded digits averaged over the tempered posterior
    mode: torch.Tensor  # [N, 2] float32: the most probable z in the same box


def moved(x: torch.Tensor, rows: int, columns: int) -> torch.Tensor:
    """Digits [N, 784] moved by whole pixels down and right (negative: up and left), background coming in."""
    field, out = x.view(-1, 28, 28), torch.zeros(x.shape[0], 28, 28, dtype=x.dtype)

    def span(d: int) -> tuple[slice, slice]:  # (where the pixels go, where they come from)
        return slice(max(d, 0), 28 + min(d, 0)), slice(max(-d, 0), 28 + min(-d, 0))

    (r_to, r_from), (c_to, c_from) = span(rows), span(columns)
    out[:, r_to, c_to] = field[:, r_from, c_from]
    return out.reshape(x.shape)


@torch.inference_mode()
def posterior_reconstruction(model: VAE, x: torch.Tensor, sigmas: float = READ_SIGMAS, size: int = READ_GRID,
                             fine: int = READ_FINE, power: float = READ_POWER,
                             shifts: tuple[tuple[int, int], ...] = READ_SHIFTS, shift_size: int = READ_SHIFT_GRID) -> Reconstruction:
    """Each digit x [N, 784] (or [N, 1, 28, 28]) as the decoder draws it, read from the box mu +- sigmas * sigma
    of the encoder's q(z|x) on a size x size grid: the mean of p(x|z) averaged over the grid's points
    weighted by p(z|x) ** power (power = 1: the posterior's own average, the posterior predictive mean;
    large: the peak's digit), and the peak, the point of highest log p(x, z), refined on a fine x fine grid
    across the best cell. The image is that average taken for the digit and for its copies moved by
    `shifts` pixels (each on a shift_size x shift_size grid), each moved back, then averaged.

    Why a power below 1: log p(x|z) counts the 784 pixels as independent observations, but the pixels of
    a stroke rise and fall together, so p(z|x) is far surer than one picture warrants, and a digit whose
    posterior sits near the border between two classes flips class when a few pixels change. Weighted by
    p(z|x) ** 0.1, as if the picture held a tenth as many independent observations, the reconstruction is
    read from the neighbourhood that explains the digit about as well, not from its single best point.
    Why the moved copies: MNIST centres a digit by its centre of mass, which places it to a pixel at best,
    and a digit one pixel off is as much an MNIST digit; yet the sharp posterior moves by several sigma
    with such a shift. Averaged over the one-pixel moves, the reading no longer hangs on where the centring
    happened to put the digit.
    Why the box around q: the committed encoder is refitted to cover all of the posterior's mass
    (vae/fit_encoder.py), so mu +- 5 sigma holds the z that explain the digit."""
    x = flatten_digits(x)
    offsets = ((0, 0), *shifts)  # the digit itself first: the peak is its own, not a moved copy's
    copies = torch.stack([moved(x, *o) for o in offsets])  # [C, N, 784]
    mu, logvar = model.encode(copies.view(-1, 1, 28, 28))
    mu, half = mu.double().view(len(copies), -1, 2), sigmas * std_dev(logvar).double().view(len(copies), -1, 2)

    def square(n: int) -> torch.Tensor:  # [n * n, 2] over [-1, 1]^2
        return plane(*(torch.linspace(-1.0, 1.0, n, dtype=torch.float64),) * 2)

    finer = square(fine) * 2 / (size - 1)  # spans a cell each side
    # Every copy's box in one decoder call: the weights are read once for all the points, not once a box.
    boxes = [(c, n, mu[c, n] + square(size if c == 0 else shift_size) * half[c, n])
             for c in range(len(copies)) for n in range(copies.shape[1])]
    decoded = decode_points(model, torch.cat([z for _, _, z in boxes]))
    counts = [len(z) for _, _, z in boxes]
    reads, modes = torch.empty(copies.shape), []
    for (c, n, z), logits, offset in zip(boxes, *(part.split(counts) for part in decoded)):
        digit = copies[c, n]
        lj = log_joint(logits, offset, digit[None])[0]
        reads[c, n] = torch.softmax(power * lj, dim=0).to(torch.float32) @ torch.sigmoid(logits)
        if c == 0:
            z = z[lj.argmax()] + finer * half[c, n]
            modes.append(z[log_joint(*decode_points(model, z), digit[None]).argmax()])
    image = torch.stack([moved(read, -rows, -columns) for read, (rows, columns) in zip(reads, offsets)]).mean(dim=0)
    return Reconstruction(image.view(-1, 1, 28, 28), torch.stack(modes).float())
