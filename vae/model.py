"""The VAE and its objective, written as the math.

Recognition model q(z|x) = N(mu(x), diag sigma(x)^2) with a 2-D z, prior
p(z) = N(0, I), decoder p(x|z) = prod_i Bernoulli(x_i; p_i(z)) over the 784 pixels
(grayscale intensities in [0, 1] are scored by the Bernoulli cross-entropy, as in
pytorch/examples' VAE). Every quantity below is per example, in nats.
"""
import hashlib
import math
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

LATENT_DIM = 2
IMAGE_PIXELS = 28 * 28
LOG_2PI = math.log(2 * math.pi)
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "vae.pt"


class ELU(nn.Module):
    """ELU (alpha = 1) written as max(x, 0) + exp(min(x, 0)) - 1: the same function as nn.ELU
    to float rounding, but built from vectorized clamp and exp, where torch's CPU ELU goes
    through a scalar expm1 and is many times slower. A smooth activation keeps the decoded
    manifold and the posterior p(z|x) smooth, which the quadrature relies on."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clamp(min=0) + x.clamp(max=0).exp() - 1


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(ELU())
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """MLP encoder and decoder: an MLP decodes a whole grid of digits in one batch of matrix
    products, fast enough on a CPU for live sliders; depth and width buy quality."""

    def __init__(self, hidden: int = 768, depth: int = 3, latent_dim: int = LATENT_DIM):
        super().__init__()
        self.config = {"hidden": hidden, "depth": depth, "latent_dim": latent_dim}
        self.latent_dim = latent_dim
        self.encoder = mlp([IMAGE_PIXELS] + [hidden] * depth + [2 * latent_dim])
        self.decoder = mlp([latent_dim] + [hidden] * depth + [IMAGE_PIXELS])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [N, 1, 28, 28] in [0, 1] -> (mu, logvar), each [N, latent_dim]."""
        h = self.encoder(x.reshape(x.shape[0], IMAGE_PIXELS))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z: [N, latent_dim] -> Bernoulli logits [N, 784]."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [N, latent_dim] -> Bernoulli means [N, 1, 28, 28] in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z)).view(-1, 1, 28, 28)


def std_dev(logvar: torch.Tensor) -> torch.Tensor:
    """sigma = exp(logvar / 2): the encoder outputs log sigma^2, which may be any real number."""
    return torch.exp(0.5 * logvar)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I): the randomness moves into eps, so
    gradients flow through mu and sigma."""
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + std_dev(logvar) * eps


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """D_KL(q(z|x) || p(z)) for q = N(mu, diag exp(logvar)) and p = N(0, I), in closed form. [N]"""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=-1)


def forward_kl(mu: torch.Tensor, logvar: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """D_KL(p(z|x) || q(z|x)) up to a constant that does not depend on q, for q = N(mu, diag exp(logvar))
    and a posterior p(z|x) with mean `mean` and per-dimension variance `var`:
    E_p[-log q(z|x)] - const = 1/2 sum_i [logvar_i + (var_i + (mean_i - mu_i)^2) / exp(logvar_i)]. [N]

    The ELBO's KL runs the other way, KL(q || p(z|x)), which lets q sit on one mode of p(z|x) and
    ignore the rest. This direction makes q cover all of p's mass: the proposal importance sampling
    (the IWAE bound) needs. Minimized by mu = mean, exp(logvar) = var."""
    return 0.5 * (logvar + (var + (mean - mu).pow(2)) / logvar.exp()).sum(dim=-1)


def softplus(logits: torch.Tensor) -> torch.Tensor:
    """log(1 + exp(l)) = -log(1 - sigmoid(l)), as max(l, 0) + log(1 + exp(-|l|)), which cannot overflow.
    Written out rather than F.softplus or log1p because torch's vectorized log1p is slow on CPUs, and
    this form also fuses into one kernel under torch.compile. Where exp(-|l|) < 6e-8 the sum
    1 + exp(-|l|) rounds to 1, an error below 6e-8 nats a pixel."""
    return logits.clamp(min=0) + torch.log(1 + torch.exp(-logits.abs()))


def log_bernoulli(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x|z) = sum_i x_i log p_i + (1 - x_i) log(1 - p_i) with p_i = sigmoid(l_i), which is
    sum_i x_i l_i - softplus(l_i); x [..., 784] in [0, 1], logits broadcastable. [...]

    Computed in float32 at least: under bfloat16 autocast the decoder's logits are bfloat16, and
    softplus in bfloat16 (3 significant digits) put the sum over 784 pixels ~1 nat off, and the
    gradient that training follows with it."""
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    return (x * logits - softplus(logits)).sum(dim=-1)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag exp(logvar)), summed over the latent dimensions."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(dim=-1)


def log_prior(z: torch.Tensor) -> torch.Tensor:
    """log p(z) for the standard normal prior."""
    return -0.5 * (LOG_2PI + z.pow(2)).sum(dim=-1)


class ELBO(NamedTuple):
    """The ELBO and its two parts, each [N] in nats: elbo = reconstruction - kl."""

    elbo: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor


def elbo(model: VAE, x: torch.Tensor, L: int = 1) -> ELBO:
    """E_q[log p(x|z)] estimated with L reparameterized samples, minus the closed-form KL."""
    mu, logvar = model.encode(x)
    flat = x.reshape(x.shape[0], IMAGE_PIXELS)
    eps = torch.randn(L, *mu.shape, dtype=mu.dtype, device=mu.device)
    z = reparameterize(mu, logvar, eps)  # [L, N, latent]
    reconstruction = log_bernoulli(flat, model.decode_logits(z)).mean(dim=0)
    kl = kl_divergence(mu, logvar)
    return ELBO(reconstruction - kl, reconstruction, kl)


@torch.no_grad()
def iwae_log_weights(model: VAE, x: torch.Tensor, K: int = 1000, chunk: int = 250,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """log w_k = log p(x, z_k) - log q(z_k|x) for K draws z_k ~ q(z|x), drawn in chunks of `chunk`
    to bound memory, from `generator` (on the model's device; torch's global one if None). [K, N]"""
    mu, logvar = model.encode(x)
    flat = x.reshape(x.shape[0], IMAGE_PIXELS)
    log_w = []
    for start in range(0, K, chunk):
        k = min(chunk, K - start)
        z = reparameterize(mu, logvar, torch.randn(k, *mu.shape, dtype=mu.dtype, device=mu.device, generator=generator))
        log_w.append(log_bernoulli(flat, model.decode_logits(z)) + log_prior(z) - log_normal(z, mu, logvar))
    return torch.cat(log_w, dim=0)


def iwae_bound(model: VAE, x: torch.Tensor, K: int = 1000, chunk: int = 250,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """log (1/K) sum_k p(x, z_k) / q(z_k|x) with z_k ~ q(z|x): a lower bound on log p(x) in
    expectation, which tightens as K grows (K=1 is a one-sample ELBO). [N]"""
    return torch.logsumexp(iwae_log_weights(model, x, K, chunk, generator), dim=0) - math.log(K)


QUANT_GROUP = 16  # weights per int8 scale: small groups keep one large weight from coarsening many (docs/training.md)
CHECKPOINT_FORMATS = ("vae-explorer/1", "vae-explorer/2")  # 2 adds the int8 weights of `compact` checkpoints


def quantize(w: torch.Tensor, group: int = QUANT_GROUP) -> tuple[torch.Tensor, torch.Tensor]:
    """w [out, in] -> (int8 [out, in], float16 scales [out, in // group]). Each run of `group` weights
    of a row shares a scale, so one large weight coarsens only its own group."""
    rows, cols = w.shape
    groups = w.reshape(rows, cols // group, group)
    scale = (groups.abs().amax(dim=-1, keepdim=True) / 127).half().clamp(min=torch.finfo(torch.float16).tiny)
    q = (groups / scale.float()).round().clamp(-127, 127).to(torch.int8)
    return q.reshape(rows, cols), scale.squeeze(-1)


def dequantize(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The float32 weights of `quantize`'s (int8, scales)."""
    rows, cols = q.shape
    return (q.reshape(rows, scale.shape[1], -1).float() * scale.float().unsqueeze(-1)).reshape(rows, cols)


def on_cpu(tree):
    """`tree` (tensors in dicts, lists and tuples, as an optimizer's state_dict) with every tensor on the CPU (copied from a GPU)."""
    if isinstance(tree, torch.Tensor):
        return tree.detach().cpu()
    if isinstance(tree, dict):
        return {k: on_cpu(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(on_cpu(v) for v in tree)
    return tree


def save_checkpoint(path: str | Path, model: VAE, meta: dict, compact: bool = False, **extra) -> None:
    """Weights, architecture and metadata (command, epochs, seed, metrics) in one file
    that `torch.load(weights_only=True)` can read: plain dicts, numbers, strings, tensors, all on
    the CPU whatever device trained the model, so that the file loads on any machine.
    `compact` stores the weight matrices as int8 with a float16 scale per QUANT_GROUP weights and
    the rest as float16, about a quarter of float32's bytes; loading restores float32, and evaluation
    measures the model as loaded."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    weights, scales = {}, {}
    for k, v in on_cpu(model.state_dict()).items():
        if compact and v.dim() == 2 and v.shape[1] % QUANT_GROUP == 0:
            weights[k], scales[k] = quantize(v)
        else:
            weights[k] = v.half() if compact else v
    torch.save({"format": CHECKPOINT_FORMATS[-1], "config": model.config, "model": weights, "scales": scales, "meta": meta,
                **on_cpu(extra)}, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path | None = None) -> tuple[VAE, dict]:
    """Load a checkpoint written by `save_checkpoint`: the model on the CPU in eval mode, and the whole file's dict."""
    path = Path(path) if path is not None else DEFAULT_CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"No VAE checkpoint at {path}. Train one with `python -m vae.train` or pass the path of an existing one.")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"{path} is not a readable VAE checkpoint ({type(e).__name__}: {e}).") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") not in CHECKPOINT_FORMATS:
        raise ValueError(f"{path} is not a VAE checkpoint of this project (no 'format' entry among {CHECKPOINT_FORMATS}).")
    try:
        model = VAE(**ckpt["config"])
        scales = ckpt.get("scales", {})
        model.load_state_dict({k: dequantize(v, scales[k]) if k in scales else v for k, v in ckpt["model"].items()})
    except (KeyError, TypeError, AttributeError, RuntimeError) as e:
        raise ValueError(f"{path} does not match the VAE architecture {ckpt.get('config')}: {e}") from None
    return model.eval(), ckpt


def checkpoint_sha256(path: str | Path) -> str:
    """The SHA-256 of a checkpoint file's bytes: vae.evaluate records it in the figures it writes, so that
    they can be told apart from another checkpoint's."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_model(path: str | Path | None = None) -> VAE:
    """The committed model (or the one at `path`) on the CPU, in eval mode."""
    return load_checkpoint(path)[0]
