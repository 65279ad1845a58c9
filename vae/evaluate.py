"""Evaluate a checkpoint on the 10,000 test digits of MNIST (or of the MNIST-format dataset it was trained on).

    python -m vae.evaluate --data-dir ../shared/data

Prints the mean negative ELBO with its reconstruction and KL parts, the IWAE bound,
and, for a 2-D latent space, the exact -log p(x) by quadrature over the latent plane (vae/likelihood.py)
with the gap log p(x) - ELBO = KL(q(z|x) || p(z|x)), all in nats. For the first
--split-digits digits it also splits that gap into its approximation and amortization
parts with the best diagonal Gaussian of each digit (likelihood.best_gaussian). How legible
the digits it generates are comes from the CNN of bench/classifier.py (vae/classifier.py): its
mean confidence on 2,000 prior samples, and the share of the prior's mass it is sure of (for MNIST
models only: the CNN knows digits). Writes the numbers to a JSON file beside the checkpoint, and writes
the test-set posterior means and labels that the app's latent map draws; both record the checkpoint's
SHA-256, by which the app knows them as that checkpoint's (explorer/own.py).

The bounds and the quadrature run on `--device` (a GPU with auto, when there is one), several times
faster than on a CPU; on a CPU the numbers are the same as they always were.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from vae.classifier import DEFAULT_CLASSIFIER, legibility, load_classifier
from vae.data import DATASETS, DEFAULT_DATASET, binarize, load_mnist
from vae.device import FLOAT64_DEVICES, DeviceError, pick_device
from vae.likelihood import best_gaussian, coarse_grid, log_marginal_quadrature
from vae.model import DEFAULT_CHECKPOINT, checkpoint_sha256, elbo, iwae_bound, load_checkpoint

EXAMPLE_DIGITS = 100  # test digits stored beside the latents, for the app's digit picker


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/ (default: $VAE_DATA_DIR, else download to ./data)")
    p.add_argument("--dataset", choices=tuple(DATASETS), default=None,
                   help="the test set to evaluate on (default: the one the checkpoint was trained on)")
    p.add_argument("--device", choices=FLOAT64_DEVICES, default="auto",
                   help="where to compute: auto takes a GPU when torch sees one (no mps: the quadrature sums in float64)")
    p.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    p.add_argument("--metrics", default=None, help="JSON to write (default: metrics.json beside the checkpoint)")
    p.add_argument("--latents", default=None, help="latents file to write (default: test_latents.pt beside the checkpoint)")
    p.add_argument("--L", type=int, default=100, help="samples for the Monte-Carlo reconstruction term")
    p.add_argument("--K", type=int, default=1000, help="importance samples for the IWAE bound")
    p.add_argument("--subset", type=int, default=None, help="only the first N test digits")
    p.add_argument("--split-digits", type=int, default=500,
                   help="split the gap into approximation and amortization for the first N digits (~0.5 s each)")
    p.add_argument("--classifier", default=str(DEFAULT_CLASSIFIER), help="bench/classifier.py's CNN, for the legibility figures")
    p.add_argument("--batch-size", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


@torch.inference_mode()
def evaluate(model, images: torch.Tensor, L: int, K: int, batch_size: int = 250, split_digits: int = 0) -> dict:
    """Per-digit bounds and exact log-likelihood averaged over `images`, plus the posterior
    parameters of every digit; for the first `split_digits` digits, the approximation gap
    KL(q* || p(z|x)) of the best diagonal Gaussian q*. Computes on the model's device, moving each
    batch there; returns CPU tensors. In more than two latent dimensions no grid computes log p(x):
    the bounds only."""
    device = next(model.parameters()).device
    rows = {"elbo": [], "reconstruction": [], "kl": [], "iwae": [], "mu": [], "logvar": []}
    for start in tqdm(range(0, len(images), batch_size), desc="evaluate", leave=False):
        x = images[start:start + batch_size].to(device)
        terms = elbo(model, x, L=L)
        mu, logvar = model.encode(x)
        for key, value in (*terms._asdict().items(), ("iwae", iwae_bound(model, x, K=K)), ("mu", mu), ("logvar", logvar)):
            rows[key].append(value)
    cat = {k: torch.cat(v).cpu() for k, v in rows.items()}
    bounds = {
        "digits": len(images),
        "latent_dim": model.latent_dim,
        "neg_elbo": -cat["elbo"].mean().item(),
        "reconstruction_nll": -cat["reconstruction"].mean().item(),
        "kl": cat["kl"].mean().item(),
        "neg_iwae": -cat["iwae"].mean().item(),
        "L": L,
        "K": K,
    }
    if model.latent_dim != 2:
        return {"metrics": bounds, "per_digit": cat}
    t0 = time.time()
    coarse = coarse_grid(model)
    cat["log_px"] = log_marginal_quadrature(model, images, coarse=coarse).cpu()
    quadrature_seconds = time.time() - t0
    gap = cat["log_px"] - cat["elbo"]
    split = images[:split_digits]
    approximation = torch.tensor([best_gaussian(model, x, lp.item(), coarse=coarse).kl
                                  for x, lp in tqdm(zip(split, cat["log_px"]), total=len(split), desc="gap split", leave=False)],
                                 dtype=torch.float64)
    metrics = {
        **bounds,
        "neg_log_px": -cat["log_px"].mean().item(),
        "gap": gap.mean().item(),
        "iwae_gap": (cat["log_px"] - cat["iwae"]).mean().item(),
        "quadrature_seconds": round(quadrature_seconds, 1),
        "split_digits": len(split),
        "split_gap": gap[:len(split)].mean().item() if len(split) else None,
        "approximation_gap": approximation.mean().item() if len(split) else None,
        "amortization_gap": (gap[:len(split)] - approximation).mean().item() if len(split) else None,
    }
    return {"metrics": metrics, "per_digit": cat}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    try:
        device = pick_device(args.device, FLOAT64_DEVICES)
    except DeviceError as e:
        sys.exit(str(e))
    torch.manual_seed(args.seed)
    model, ckpt = load_checkpoint(args.checkpoint)
    dataset = args.dataset or ckpt["meta"].get("dataset", DEFAULT_DATASET)
    images, labels = load_mnist("test", args.data_dir, dataset)
    if ckpt["meta"].get("binarized"):  # scored on the black-and-white test digits its training was tested on
        images = binarize(images)
    images, labels = images[:args.subset], labels[:args.subset]

    t0 = time.time()
    result = evaluate(model.to(device), images, L=args.L, K=args.K, batch_size=args.batch_size, split_digits=args.split_digits)
    model.cpu()  # the legibility figures below are cheap, and their classifier is on the CPU
    # The checkpoint's hash, in both files: the app shows figures beside a checkpoint only where they are its own.
    sha = checkpoint_sha256(args.checkpoint)
    metrics = {**result["metrics"], "seconds": round(time.time() - t0, 1), "device": str(device), "dataset": dataset,
               "checkpoint": Path(args.checkpoint).name, "checkpoint_sha256": sha,
               "train_command": ckpt["meta"].get("command"), "epochs": ckpt["meta"].get("epochs"),
               "refit_command": ckpt["meta"].get("fit_encoder", {}).get("command")}  # None if the encoder was not refitted
    per = result["per_digit"]
    if dataset != "mnist":
        print(f"no legibility figures: the classifier knows MNIST's digits, not {dataset}")
    elif Path(args.classifier).is_file():
        classifier = load_classifier(args.classifier)
        accuracy = torch.load(args.classifier, map_location="cpu", weights_only=True)["test_accuracy"]
        metrics.update(legibility(model, classifier, seed=args.seed), classifier_test_accuracy=accuracy)
    else:
        print(f"no {args.classifier}: no legibility figures (python bench/classifier.py makes the classifier)")

    print(f"test digits            {metrics['digits']}")
    print(f"-ELBO (L={args.L:<4d})         {metrics['neg_elbo']:9.3f} nats")
    print(f"  reconstruction       {metrics['reconstruction_nll']:9.3f} nats  (-E_q log p(x|z))")
    print(f"  KL(q(z|x) || p(z))   {metrics['kl']:9.3f} nats")
    print(f"-IWAE (K={args.K:<5d})      {metrics['neg_iwae']:9.3f} nats")
    if "neg_log_px" not in metrics:
        print(f"-log p(x)              not computed: no grid covers a {model.latent_dim}-D latent space")
    else:
        print(f"-log p(x) (quadrature) {metrics['neg_log_px']:9.3f} nats  ({metrics['quadrature_seconds']} s)")
        print(f"  gap log p(x) - ELBO  {metrics['gap']:9.3f} nats  (= KL(q(z|x) || p(z|x)), the looseness of the ELBO)")
        print(f"  gap log p(x) - IWAE  {metrics['iwae_gap']:9.3f} nats")
    if metrics.get("split_digits"):
        print(f"first {metrics['split_digits']} digits: gap {metrics['split_gap']:.3f} = approximation "
              f"{metrics['approximation_gap']:.3f} (best diagonal Gaussian q* vs p(z|x)) + amortization "
              f"{metrics['amortization_gap']:.3f} (encoder's q vs q*) nats")
    if "prior_confidence" in metrics:
        mass = (f"{metrics['prior_mass_confident']:.1%} of p(z) decodes to a digit it is >= 90% sure of; "
                if "prior_mass_confident" in metrics else "")
        print(f"prior samples          classifier ({metrics['classifier_test_accuracy']:.2%} on MNIST's test set) "
              f"{metrics['prior_confidence']:.1%} sure on average; {mass}digits named {metrics['prior_digits']}")

    directory = Path(args.checkpoint).parent
    metrics_path = Path(args.metrics) if args.metrics else directory / "metrics.json"
    latents_path = Path(args.latents) if args.latents else directory / "test_latents.pt"
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    torch.save({"mu": per["mu"].float(), "logvar": per["logvar"].float(), "labels": labels.to(torch.uint8),
                "images": (images[:EXAMPLE_DIGITS, 0] * 255).round().to(torch.uint8), "checkpoint_sha256": sha}, latents_path)
    print(f"wrote {metrics_path} and {latents_path}")
    return metrics


if __name__ == "__main__":
    main()
