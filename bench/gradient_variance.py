"""Why the reparameterization trick: the variance of two unbiased gradient estimators of
E_q[log p(x|z)] with respect to q's mean and standard deviation, for a few test digits.

    python -m bench.gradient_variance --data-dir ../shared/data              # the first 5 test digits
    python -m bench.gradient_variance --data-dir ../shared/data --digits 0 33 --L 10

For each digit (vae/gradients.py): the variance of an L-sample estimate, summed over the two latent
dimensions, by reparameterization and by the score-function (REINFORCE) estimator, on the same
draws of eps, and how many times larger the second is. Both estimators' mean gradients are printed
too, the score function's with its standard error over the draws (both dimensions together): they
agree up to that noise, which is the point: the same gradient, far noisier.
"""
import argparse

from vae.data import load_mnist
from vae.gradients import gradient_variance
from vae.model import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="folder holding MNIST/raw (default: $VAE_DATA_DIR)")
    parser.add_argument("--checkpoint", default=None, help="VAE checkpoint (default: checkpoints/vae.pt)")
    parser.add_argument("--digits", type=int, nargs="*", default=[0, 1, 2, 3, 4], help="test digits by index")
    parser.add_argument("--L", type=int, default=1, help="samples per gradient estimate")
    parser.add_argument("--samples", type=int, default=20_000, help="draws of eps the variances are measured on")
    args = parser.parse_args()

    model, images = load_model(args.checkpoint), load_mnist("test", args.data_dir)[0]
    print(f"Var of an L = {args.L} gradient estimate of E_q[log p(x|z)], summed over z1 and z2 ({args.samples:,} draws)")
    print(f"{'digit':>5} | {'d/dmu: reparam':>15} {'score':>12} {'ratio':>8} | {'d/dsigma: reparam':>18} {'score':>12} {'ratio':>8}"
          f" | mean d/dmu: reparam, score ± its standard error")
    for i in args.digits:
        g = gradient_variance(model, images[i:i + 1], L=args.L, samples=args.samples)
        (r1, r2), (s1, s2) = g.mean_reparameterized.mu.tolist(), g.mean_score.mu.tolist()
        means = f"({r1:.1f}, {r2:.1f}), ({s1:.1f}, {s2:.1f}) ± {(g.score_mu * args.L / args.samples) ** 0.5:.0f}"
        print(f"{i:>5} | {g.reparameterized_mu:>15,.1f} {g.score_mu:>12,.0f} {g.score_mu / g.reparameterized_mu:>7,.0f}x"
              f" | {g.reparameterized_sigma:>18,.1f} {g.score_sigma:>12,.0f} {g.score_sigma / g.reparameterized_sigma:>7,.0f}x | {means}")


if __name__ == "__main__":
    main()
