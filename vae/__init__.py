"""A variational autoencoder with a 2-D latent space, trained on MNIST, and the tools the explorer app uses."""
from vae.model import VAE, ELBO, elbo, iwae_bound, kl_divergence, load_checkpoint, load_model, reparameterize

__all__ = ["VAE", "ELBO", "elbo", "iwae_bound", "kl_divergence", "load_checkpoint", "load_model", "reparameterize"]
