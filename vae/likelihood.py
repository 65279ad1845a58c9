"""The exact log-likelihood that a 2-D latent space allows, the true posterior, and the
best Gaussian approximation to it (which splits the ELBO's gap, see `best_gaussian`).

In general log p(x) = log ∫ p(x|z) p(z) dz cannot be computed, which is why a VAE trains
on the ELBO instead. With a 2-D z the integral is a 2-D integral: a sum over a grid of z
values computes it to a few thousandths of a nat. That gives the exact gap
log p(x) - ELBO = KL(q(z|x) || p(z|x)), and the true posterior p(z|x) to draw beside q(z|x).

How the sum is made cheap (a trained 2-D VAE has posteriors 0.01-0.1 wide spread over
[-6, 6], so one uniform grid fine enough for all of them is far too big):

- Decoding a grid point costs ~1000x more than scoring one digit against it, so grid
  points are decoded once and shared by every digit: for Bernoulli pixels
  log p(x|z) = sum_i x_i l_i - softplus(l_i) with logits l = decoder(z), which for many
  digits and many points is one matrix product X @ L.T.
- A coarse pass over [-BOUND, BOUND]^2 finds where each digit's posterior mass is: the
  cells within MASS_NATS of its best cell, plus one cell of margin.
- Finer passes split only those cells, halving the step each time, and decode each cell
  once for all the digits that need it. On a uniform grid the midpoint rule converges
  faster than any power of the step for a smooth integrand that decays inside the grid
  (for a Gaussian of width sigma the error is ~2 exp(-2 pi^2 sigma^2 / h^2)), so a digit
  is done at the first step h where the rule at step 2h already agrees with it within
  `tol` on three grid offsets (see `converged`): wide posteriors are done on the coarse
  grid, narrow ones go down to a step of ~sigma / 2, where the error is far below `tol`.
Multimodal posteriors need nothing special: every cell of every mode is in the sum.

Everything runs on the model's device (digits are moved there): on a GPU the decoding and the
matrix products, nearly all the work, are many times faster. Grid coordinates and the per-digit
posteriors handed back (TruePosterior, BestGaussian) stay on the CPU: they are small, and what is
done with them next (drawing, a Newton fit of four numbers) is no faster on a GPU.
"""
import math
import warnings
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from tqdm import tqdm

from vae.model import IMAGE_PIXELS, VAE, log_prior, softplus

BOUND = 7.0  # the grid covers [-7, 7]^2: the prior puts < 1e-11 of its mass outside
COARSE_STEP = 0.1  # coarse cell size; locates posteriors down to sigma ~0.01 (see MASS_NATS)
MASS_NATS = 30.0  # a cell holds posterior mass if log p(x, z) there is within this of the best cell;
# a 0.01-wide mode is at most ~25 nats below its peak at the nearest coarse point, so it is still found
KEEP_NATS = 20.0  # finer passes drop cells whose best point is this far below the peak (< 1e-8 of its density)
MAX_LEVEL = 4  # finest step is COARSE_STEP / 2**4 = 0.00625
TOL = 0.01  # nats: accept a step once it agrees this well with twice that step
DECODE_BATCH = 16384  # grid points per decoder call
SCORE_BATCH = 256  # digits per coarse-pass matrix product ([256, 19600] floats, 20 MB)


class LatentGrid(NamedTuple):
    """Decoded grid points, ready to score any digit against.

    The points are the plane z1 x z2 in row-major order (row = z2, column = z1), so
    scores reshape to [len(z2), len(z1)] like an image of the latent plane.
    """

    z1: torch.Tensor  # [n1]
    z2: torch.Tensor  # [n2]
    logits: torch.Tensor  # [n2 * n1, 784] decoder logits
    offset: torch.Tensor  # [n2 * n1] log p(z) - sum_i softplus(l_i), so that log p(x, z) = x @ logits.T + offset


class TruePosterior(NamedTuple):
    """p(z|x) of one digit on a square grid covering its mass (see `true_posterior`)."""

    z1: torch.Tensor  # [size] grid coordinates along z1, ascending, equally spaced
    z2: torch.Tensor  # [size] grid coordinates along z2, ascending, same spacing as z1
    log_density: torch.Tensor  # [size, size] log p(z|x) at (z1[j], z2[i]) in row i, column j (row = z2, like an image), on the CPU
    log_px: float  # log p(x) from this grid: the normalizer of the density


def centres(lo: float, step: float, n: int) -> torch.Tensor:
    """Centres of n cells of width `step` starting at `lo`: the midpoint rule's nodes."""
    return lo + step * (torch.arange(n, dtype=torch.float64) + 0.5)


def device_of(model: VAE) -> torch.device:
    return next(model.parameters()).device


def plane(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """All points (z1[j], z2[i]) in row-major order (row i, column j). [len(z2) * len(z1), 2]"""
    g1, g2 = torch.meshgrid(z1, z2, indexing="xy")
    return torch.stack([g1, g2], dim=-1).reshape(-1, 2)


@torch.inference_mode()
def decode_points(model: VAE, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits [G, 784], offset [G]) of the points z [G, 2] (float64 coordinates), decoded in batches on the model's device."""
    z = z.to(device_of(model))
    logits = torch.cat([model.decode_logits(b.to(torch.float32)) for b in z.split(DECODE_BATCH)])
    offset = log_prior(z) - softplus(logits).sum(dim=-1, dtype=torch.float64)
    return logits, offset


def decode_grid(model: VAE, z1: torch.Tensor, z2: torch.Tensor) -> LatentGrid:
    """Decode every point of the plane z1 x z2."""
    return LatentGrid(z1, z2, *decode_points(model, plane(z1, z2)))


class CoarseGrid(NamedTuple):
    """The coarse grid and a copy shifted by half a step along both axes. The second gives
    the convergence check of the coarse sum a third grid offset (see `converged`)."""

    plain: LatentGrid
    shifted: LatentGrid


def coarse_grid(model: VAE, bound: float = BOUND, step: float = COARSE_STEP) -> CoarseGrid:
    """The decoded coarse grids over [-bound, bound]^2. They depend only on the model: an app
    that scores digit after digit computes them once and passes them as `coarse=` (39,200
    decodes, most of the work for a single digit)."""
    n = round(2 * bound / step)
    axis, shifted = centres(-bound, step, n), centres(-bound + step / 2, step, n)
    return CoarseGrid(decode_grid(model, axis, axis), decode_grid(model, shifted, shifted))


def log_joint(logits: torch.Tensor, offset: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x, z) = log p(x|z) + log p(z) of digits x [N, 784] at decoded points. [N, G] float64

    x @ logits.T - sum softplus(logits) is the Bernoulli log-likelihood summed over
    pixels, for all pairs in one matrix product (float32: its rounding error is ~1e-4 nats).
    """
    return (x @ logits.T).to(torch.float64) + offset


def flatten_digits(x: torch.Tensor) -> torch.Tensor:
    """[N, 1, 28, 28] or [N, 784] -> [N, 784], with a clear error for anything else."""
    if x.dim() < 2 or x[0].numel() != IMAGE_PIXELS:
        raise ValueError(f"expected digits of shape [N, 1, 28, 28] or [N, 784], got {tuple(x.shape)}")
    return x.reshape(x.shape[0], IMAGE_PIXELS).to(torch.float32)


def logsumexp_by_index(values: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    """out[k] = logsumexp of the rows values[index == k], for k < n (-inf where there are none).
    values [P, ...] -> [n, ...]"""
    shape = (n, *values.shape[1:])
    spread = index.view(-1, *[1] * (values.dim() - 1)).expand_as(values)
    top = torch.full(shape, -math.inf, dtype=values.dtype, device=values.device).scatter_reduce(0, spread, values, "amax")
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    total = torch.zeros(shape, dtype=values.dtype, device=values.device).index_add(0, index, (values - top[index]).exp())
    return total.log() + top


def interleaved_sums(lj: torch.Tensor) -> torch.Tensor:
    """log sum exp of lj [n, rows, cols] over each of the four interleaved sub-grids of twice
    the step (even/odd rows x even/odd columns). [n, 4]"""
    n, rows, cols = lj.shape
    parts = lj.view(n, rows // 2, 2, cols // 2, 2).permute(0, 2, 4, 1, 3).reshape(n, 4, -1)
    return torch.logsumexp(parts, dim=2)


def midpoint_rules(sums: torch.Tensor, step: float) -> tuple[torch.Tensor, torch.Tensor]:
    """log p(x) by the midpoint rule at `step` [N] and, from each interleaved sub-grid alone,
    at twice the step [N, 4], given the interleaved sums [N, 4]."""
    return torch.logsumexp(sums, dim=1) + 2 * math.log(step), sums + 2 * math.log(2 * step)


def converged(estimate: torch.Tensor, checks: list[torch.Tensor], tol: float) -> torch.Tensor:
    """Whether every rule in `checks` (each [N] or [N, k]) agrees with `estimate` [N] within tol.

    The error of a midpoint rule oscillates with the grid's offset against the integrand
    (Poisson summation: the leading term is A cos(2 pi offset / period)). The two offsets
    of interleaved sub-grids are half a period apart, so both can be right by luck while
    A is large; a third grid offset by a quarter period (the previous, coarser level, or
    the shifted coarse grid) cannot be. When rules at twice the step agree at all three
    offsets, the rule at the step itself is far more accurate than `tol`.
    """
    gaps = [(c if c.dim() == 2 else c[:, None]) - estimate[:, None] for c in checks]
    return torch.cat(gaps, dim=1).abs().amax(dim=1) < tol


def coarse_pass(coarse: CoarseGrid, x: torch.Tensor, tol: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Score every digit on the whole coarse grids. Returns log p(x) by the coarse rule [N],
    whether that is converged [N], and the cells holding each digit's posterior mass as
    rows (digit, z2 index, z1 index) [P, 3]."""
    step = (coarse.plain.z1[1] - coarse.plain.z1[0]).item()
    side = len(coarse.plain.z1)
    estimates, done, cells = [], [], []
    for start in range(0, len(x), SCORE_BATCH):
        xb = x[start:start + SCORE_BATCH]
        lj = log_joint(coarse.plain.logits, coarse.plain.offset, xb).view(-1, side, side)
        shifted = log_joint(coarse.shifted.logits, coarse.shifted.offset, xb).view(-1, side, side)
        estimate, halves = midpoint_rules(interleaved_sums(lj), step)
        estimates.append(estimate)
        done.append(converged(estimate, [halves, *midpoint_rules(interleaved_sums(shifted), step)], tol))
        mass = (lj >= lj.amax(dim=(1, 2), keepdim=True) - MASS_NATS).float()
        # one cell of margin: a narrow mode can sit between coarse points
        mass = F.max_pool2d(mass.unsqueeze(1), 3, stride=1, padding=1).squeeze(1)
        found = mass.nonzero()
        found[:, 0] += start
        cells.append(found)
    return torch.cat(estimates), torch.cat(done), torch.cat(cells)


def cell_pass(model: VAE, coarse: LatentGrid, x: torch.Tensor, cells: torch.Tensor, level: int
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Score digits on coarse cells split into 2**level x 2**level points: cells [P, 3] =
    (digit, z2 index, z1 index). Returns the interleaved sums per digit [N, 4] (-inf for
    digits without cells) and the best log p(x, z) in each row of `cells` [P].

    Each cell is decoded once and scored against all digits that need it.
    """
    step = (coarse.z1[1] - coarse.z1[0]).item()
    m = 2 ** level
    device = x.device
    inside = plane(centres(0.0, step / m, m), centres(0.0, step / m, m)).to(device)  # [m*m, 2] offsets within a cell
    z1, z2 = coarse.z1.to(device), coarse.z2.to(device)
    unique, owner = torch.unique(cells[:, 1:], dim=0, return_inverse=True)
    order = torch.argsort(owner, stable=True)
    rows = order.split(torch.bincount(owner, minlength=len(unique)).tolist())  # rows of `cells` per unique cell
    sums = torch.empty(len(cells), 4, dtype=torch.float64, device=device)
    best = torch.empty(len(cells), dtype=torch.float64, device=device)
    per_call = max(1, DECODE_BATCH // (m * m))
    for start in range(0, len(unique), per_call):
        ids = unique[start:start + per_call]
        corners = torch.stack([z1[ids[:, 1]], z2[ids[:, 0]]], dim=1) - step / 2
        logits, offset = decode_points(model, (corners[:, None, :] + inside[None]).reshape(-1, 2))
        logits, offset = logits.view(len(ids), m * m, -1), offset.view(len(ids), m * m)
        for k in range(len(ids)):
            r = rows[start + k]
            lj = log_joint(logits[k], offset[k], x[cells[r, 0]])
            sums[r] = interleaved_sums(lj.view(-1, m, m))
            best[r] = lj.amax(dim=1)
    return logsumexp_by_index(sums, cells[:, 0], len(x)), best


@torch.inference_mode()
def log_marginal_quadrature(model: VAE, x: torch.Tensor, tol: float = TOL, max_level: int = MAX_LEVEL,
                            coarse: CoarseGrid | None = None) -> torch.Tensor:
    """log p(x) = log ∫ p(x|z) p(z) dz by the midpoint rule, halving the step inside each
    digit's posterior-mass cells until the rule at twice the step agrees within `tol`
    nats on three grid offsets (see `converged`).

    x: [N, 1, 28, 28] or [N, 784] in [0, 1]. Returns float64 [N] on the model's device, in nats.
    `coarse` is the optional precomputed `coarse_grid(model)`. Warns if some digit has not
    converged at the finest step (the coarse step / 2**max_level).
    """
    x = flatten_digits(x).to(device_of(model))
    coarse = coarse if coarse is not None else coarse_grid(model)
    step = (coarse.plain.z1[1] - coarse.plain.z1[0]).item()
    result, done, cells = coarse_pass(coarse, x, tol)
    for level in range(1, max_level + 1):
        if done.all():
            break
        cells = cells[~done[cells[:, 0]]]
        sums, best = cell_pass(model, coarse.plain, x, cells, level)
        step /= 2
        finer, halves = midpoint_rules(sums, step)
        now_done = converged(finer, [halves, result], tol)
        result = torch.where(done, result, finer)
        done = done | now_done
        # at this resolution the mass is located to within a fine step: drop the margin cells
        top = torch.full((len(x),), -math.inf, dtype=best.dtype, device=best.device).scatter_reduce(0, cells[:, 0], best, "amax")
        cells = cells[best >= top[cells[:, 0]] - KEEP_NATS]
    if not done.all():
        warnings.warn(f"log_marginal_quadrature: {int((~done).sum())} of {len(x)} digits not converged to "
                      f"{tol} nats at the finest step {step}", RuntimeWarning)
    return result


def mass_box(z1: torch.Tensor, z2: torch.Tensor, lj: torch.Tensor) -> tuple[float, float, float]:
    """(centre z1, centre z2, side) of the square holding the points of lj [len(z2), len(z1)]
    within MASS_NATS of its maximum, with 1.5 steps of margin (one cell beyond the edge cells)."""
    keep = (lj >= lj.max() - MASS_NATS).cpu()  # indexes z1 and z2, which are on the CPU
    rows, cols = keep.any(dim=1).nonzero().squeeze(1), keep.any(dim=0).nonzero().squeeze(1)
    pad1, pad2 = 1.5 * (z1[1] - z1[0]).item(), 1.5 * (z2[1] - z2[0]).item()
    a1, b1 = z1[cols[0]].item() - pad1, z1[cols[-1]].item() + pad1
    a2, b2 = z2[rows[0]].item() - pad2, z2[rows[-1]].item() + pad2
    return (a1 + b1) / 2, (a2 + b2) / 2, max(b1 - a1, b2 - a2)


def square_grid(model: VAE, box: tuple[float, float, float], size: int) -> LatentGrid:
    """The decoded size x size midpoint grid over a square box (centre z1, centre z2, side)."""
    c1, c2, side = box
    step = side / size
    return decode_grid(model, centres(c1 - side / 2, step, size), centres(c2 - side / 2, step, size))


@torch.inference_mode()
def true_posterior(model: VAE, x: torch.Tensor, size: int = 100, coarse: CoarseGrid | None = None) -> TruePosterior:
    """p(z|x) = p(x|z) p(z) / p(x) of one digit on a size x size grid fitted to its mass.

    x: one digit, [1, 28, 28], [28, 28], [1, 1, 28, 28] or [784], in [0, 1]. The coarse
    grid locates the mass, a 32 x 32 grid over that region tightens the box to the points
    within MASS_NATS of the peak, and the final square grid spans that box (~15 posterior
    widths for a Gaussian posterior; all modes when there are several). log_px is the
    grid's own midpoint sum: as accurate as `log_marginal_quadrature` while the grid step
    is below the posterior's narrowest width, which holds unless the modes are far apart.
    """
    if x.numel() != IMAGE_PIXELS:
        raise ValueError(f"expected one digit of 784 pixels (e.g. [1, 28, 28]), got shape {tuple(x.shape)}")
    x = x.reshape(1, IMAGE_PIXELS).to(device_of(model), torch.float32)
    grid = (coarse if coarse is not None else coarse_grid(model)).plain
    for n in (32, size):
        lj = log_joint(grid.logits, grid.offset, x).view(len(grid.z2), len(grid.z1))
        grid = square_grid(model, mass_box(grid.z1, grid.z2, lj), n)
    lj = log_joint(grid.logits, grid.offset, x).view(size, size)
    step = (grid.z1[1] - grid.z1[0]).item()
    log_px = (torch.logsumexp(lj.flatten(), dim=0) + 2 * math.log(step)).item()
    return TruePosterior(grid.z1, grid.z2, (lj - log_px).cpu(), log_px)


MOMENT_BOUND = 5.5  # posterior_moments' grid: a trained model's posteriors lie well inside [-5.5, 5.5]^2
MOMENT_STEP = 0.025  # below the typical posterior width (~0.03); a wider grid step only widens the variances


@torch.inference_mode()
def posterior_moments(model: VAE, x: torch.Tensor, bound: float = MOMENT_BOUND, step: float = MOMENT_STEP,
                      batch: int = 256, progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and per-dimension variance of p(z|x) for many digits x [N, 784] (or [N, 1, 28, 28]), by
    the midpoint rule on one uniform grid over [-bound, bound]^2 decoded once for all of them.
    Returns float32 (mean [N, 2], var [N, 2]) on the model's device.

    Coarser than `log_marginal_quadrature` (a grid step near the narrowest posteriors' width
    adds about step^2 / 12 to their variance) but ~10x cheaper per digit: what fitting an encoder
    to 60,000 posteriors needs (vae/fit_encoder.py)."""
    x = flatten_digits(x).to(device_of(model))
    axis = centres(-bound, step, round(2 * bound / step))
    grid = decode_grid(model, axis, axis)
    zz = plane(axis, axis).to(x.device)
    means, variances = [], []
    for start in tqdm(range(0, len(x), batch), desc="posterior moments", leave=False, disable=not progress):
        weights = torch.softmax(log_joint(grid.logits, grid.offset, x[start:start + batch]), dim=1)
        mean = weights @ zz
        means.append(mean)
        variances.append((weights @ zz.pow(2) - mean.pow(2)).clamp(min=0))
    return torch.cat(means).float(), torch.cat(variances).float()


class BestGaussian(NamedTuple):
    """The diagonal Gaussian closest to a digit's true posterior (see `best_gaussian`)."""

    mu: torch.Tensor  # [2]
    sigma: torch.Tensor  # [2]
    kl: float  # D_KL(q* || p(z|x)) in nats: the approximation gap


@torch.inference_mode()
def posterior_on_square(model: VAE, x: torch.Tensor, log_px: float, box: tuple[float, float, float], size: int) -> TruePosterior:
    """p(z|x) of one digit x on the size x size midpoint grid over box = (centre z1, centre z2, side),
    normalized by a known log p(x): accurate wherever the grid's step resolves the posterior,
    whether or not the box holds all of its mass (a window to draw, or one mode)."""
    grid = square_grid(model, box, size)
    lj = log_joint(grid.logits, grid.offset, flatten_digits(x.reshape(1, -1)).to(device_of(model))).view(size, size)
    return TruePosterior(grid.z1, grid.z2, (lj - log_px).cpu(), log_px)


def closest_gaussian_on_grid(post: TruePosterior, start: tuple[torch.Tensor, torch.Tensor]
                             ) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(mu, sigma, KL) of the diagonal Gaussian q minimizing KL(q || p(z|x)) over the square grid
    of `post`, starting from start = (mu, sigma).

    KL is the midpoint sum over the grid with q's weights normalized on it. q is kept inside
    the grid (mean within the middle half, sigma between half a step and a sixth of the side),
    where that sum is accurate: a q wider or narrower than the grid can't be credited for
    mass the grid does not see.
    """
    with torch.inference_mode(False), torch.enable_grad():  # callers may be in inference mode; this needs autograd
        z1, z2, log_p = post.z1.clone(), post.z2.clone(), post.log_density.reshape(-1).clone()
        mu0, sigma0 = start[0].clone(), start[1].clone()
        step, side = (z1[1] - z1[0]).item(), (z1[-1] - z1[0]).item()
        centre = torch.stack([z1.mean(), z2.mean()])
        zz = plane(z1, z2)
        lo, hi = math.log(step / 2), math.log(side / 6)

        def unpack(theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return centre + side / 4 * torch.tanh(theta[:2]), lo + (hi - lo) * torch.sigmoid(theta[2:])

        def kl(theta: torch.Tensor) -> torch.Tensor:
            mu, log_sigma = unpack(theta)
            log_q = (-0.5 * ((zz - mu) / log_sigma.exp()) ** 2 - log_sigma - 0.5 * math.log(2 * math.pi)).sum(dim=1)
            return (torch.softmax(log_q, dim=0) * (log_q - log_p)).sum()

        u = ((mu0 - centre) / (side / 4)).clamp(-0.99, 0.99)
        v = ((sigma0.log() - lo) / (hi - lo)).clamp(0.01, 0.99)
        theta = newton_minimize(kl, torch.cat([torch.atanh(u), torch.log(v / (1 - v))]))
        mu, log_sigma = unpack(theta)
        return mu, log_sigma.exp(), kl(theta).item()


def newton_minimize(f: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor, max_steps: int = 100,
                    tol: float = 1e-12) -> torch.Tensor:
    """A minimum of a smooth scalar function f of a few parameters, from theta, by Newton's method:
    each step solves with the Hessian (shifted to be positive definite where f is not convex) and
    is halved until f decreases; stops once a step gains less than `tol`.

    For the four parameters of a Gaussian the exact Hessian is cheap, and Newton converges in a
    few steps. (torch.optim's LBFGS would do too, but constructing any torch.optim optimizer
    imports torch._dynamo, which costs a running app ~150 MB.)"""
    value = f(theta)
    shift = torch.eye(len(theta), dtype=theta.dtype)
    for _ in range(max_steps):
        grad = torch.autograd.functional.jacobian(f, theta)
        hessian = torch.autograd.functional.hessian(f, theta)
        lowest = torch.linalg.eigvalsh(hessian)[0].item()
        step = -torch.linalg.solve(hessian + (max(0.0, -lowest) + 1e-9) * shift, grad)
        for _ in range(40):
            trial = theta + step
            new = f(trial)
            if new < value:
                break
            step = step / 2
        else:
            return theta  # no step downhill: theta is a minimum to float precision
        gain, theta, value = (value - new).item(), trial, new
        if gain < tol:
            break
    return theta


@torch.inference_mode()
def best_gaussian(model: VAE, x: torch.Tensor, log_px: float, post: TruePosterior | None = None,
                  coarse: CoarseGrid | None = None, size: int = 48) -> BestGaussian:
    """q* = N(mu, diag sigma^2) minimizing D_KL(q* || p(z|x)) for one digit x.

    The ELBO of any q is log p(x) - KL(q || p(z|x)), so ELBO(q*) is the best a diagonal
    Gaussian can do for this digit, whatever the encoder. That splits the gap of the encoder's
    q (Cremer et al., 2018, "Inference suboptimality in variational autoencoders") into the
    approximation gap KL(q* || p(z|x)), the price of the Gaussian family, and the
    amortization gap ELBO(q*) - ELBO(q), the price of one network encoding every digit.

    `post` (from `true_posterior`; computed on a 64 x 64 grid from `coarse` when not given)
    gives two starts: its highest point, and its mean and spread. From each, q is fitted on post's
    grid; where that grid is coarser than a size x size grid spanning 16 sigma around q, q is fitted
    again on such a grid, re-centred and fitted again until the grid stops moving, so narrow modes
    far apart are each seen finely. `log_px` (from `log_marginal_quadrature`) normalizes p(z|x) on those grids.
    """
    if post is None:
        post = true_posterior(model, x, size=64, coarse=coarse)
    zz = plane(post.z1, post.z2)
    p = post.log_density.reshape(-1).exp()
    p = p / p.sum()
    mean = p @ zz
    step = (post.z1[1] - post.z1[0]).item()
    starts = [(zz[p.argmax()], torch.full((2,), step, dtype=torch.float64)),
              (mean, (p @ (zz - mean) ** 2).sqrt().clamp(min=step))]
    # A first fit on `post` itself costs no decoding and starts the refinement close to where it
    # ends; two starts that land on the same mode are refined once.
    fits: list[tuple[torch.Tensor, torch.Tensor, float]] = []
    for start in starts:
        mu, sigma, kl = closest_gaussian_on_grid(post, start)
        if not any(((mu - m).abs() < s).all() for m, s, _ in fits):
            fits.append((mu, sigma, kl))
    best = None
    for mu, sigma, kl in fits:
        # A window around q as fine as `post` already is would only repeat the fit: refine where post is coarser
        # (q narrow against post's span: one of several modes, or a narrow peak on a wide tail).
        for _ in range(6 if step > 16 * sigma.max().item() / size else 0):
            side = 16 * sigma.max().item()
            window = posterior_on_square(model, x, log_px, (mu[0].item(), mu[1].item(), side), size)
            new_mu, new_sigma, kl = closest_gaussian_on_grid(window, (mu, sigma))
            drift = ((new_mu - mu).abs().max() / side).item() + abs(new_sigma.max().item() * 16 / side - 1)
            mu, sigma = new_mu, new_sigma
            if drift < 0.05:
                break
        if best is None or kl < best.kl:
            best = BestGaussian(mu, sigma, kl)
    return best
