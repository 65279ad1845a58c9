"""A variational autoencoder with a 2-D latent space, trained on MNIST, and the tools the explorer app uses.

The names below load on first use, so that light modules such as vae.inputs can be
imported without torch.
"""
import importlib

__all__ = ["VAE", "ELBO", "elbo", "iwae_bound", "kl_divergence", "load_checkpoint", "load_model", "reparameterize"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("vae.model"), name)
    raise AttributeError(f"module 'vae' has no attribute {name!r}")
