"""Refit a trained VAE's encoder toward the exact posterior, so that q(z|x) is a good
importance-sampling proposal as well as a good ELBO.

    python -m vae.fit_encoder --data-dir ../shared/data --checkpoint runs/fast60.pt --out checkpoints/vae.pt

Training on the ELBO minimizes KL(q(z|x) || p(z|x)), which is content with q on one mode of
the posterior. Where a digit's posterior has a second, heavier mode far away, q never
samples it, and the IWAE bound stays tens of nats below log p(x) whatever K is. A 2-D
latent space lets us compute p(z|x) itself (vae/likelihood.py), so this script adds the
other direction, KL(p(z|x) || q(z|x)), which makes q cover all of the posterior's mass:

    loss = -ELBO + beta * KL(p(z|x) || q(z|x))

for the encoder alone; the decoder, and with it p(x) and p(z|x), does not change. The
posterior's moments for the 60,000 training digits are computed once (~5 min), then each
epoch is a pass of the encoder (~15 s). Larger beta tightens the IWAE bound and loosens
the ELBO. The command and per-epoch metrics are stored in the checkpoint beside the
training's, and the training's replay (vae/replay.py) is copied beside --out: it shows how
the model was trained, which the refit does not change. The refit reads the dataset the model was
trained on (the checkpoint records it) and runs where `--device` says (a GPU with auto, when there is one).
"""
import argparse
import shlex
import shutil
import sys
import time

import torch
from tqdm import tqdm

from vae.data import DATASETS, DEFAULT_DATASET, load_mnist
from vae.device import FLOAT64_DEVICES, DeviceError, pick_device
from vae.likelihood import posterior_moments
from vae.model import elbo, forward_kl, load_checkpoint, save_checkpoint
from vae.replay import replay_path
from vae.train import learning_rate, test_metrics


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/ (default: $VAE_DATA_DIR, else download to ./data)")
    p.add_argument("--dataset", choices=tuple(DATASETS), default=None,
                   help="the dataset to refit on (default: the one the checkpoint was trained on)")
    p.add_argument("--device", choices=FLOAT64_DEVICES, default="auto",
                   help="where to compute: auto takes a GPU when torch sees one (no mps: the exact posterior sums in float64)")
    p.add_argument("--checkpoint", required=True, help="the trained model to start from")
    p.add_argument("--out", required=True, help="checkpoint to write")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--beta", type=float, default=10.0, help="weight of KL(p(z|x) || q(z|x)) against the ELBO")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-subset", type=int, default=None, help="use only the first N training digits")
    p.add_argument("--test-subset", type=int, default=None, help="evaluate on only the first N test digits")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    try:
        device = pick_device(args.device, FLOAT64_DEVICES)
    except DeviceError as e:
        sys.exit(str(e))
    torch.manual_seed(args.seed)
    model, ckpt = load_checkpoint(args.checkpoint)
    model.to(device)
    dataset = args.dataset or ckpt["meta"].get("dataset", DEFAULT_DATASET)
    train_x = load_mnist("train", args.data_dir, dataset)[0][:args.train_subset].to(device)
    test_x = load_mnist("test", args.data_dir, dataset)[0][:args.test_subset].to(device)
    mean, var = posterior_moments(model, train_x, progress=True)

    for p in model.decoder.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(model.encoder.parameters(), lr=args.lr)
    history = [{"epoch": 0, **test_metrics(model, test_x)}]
    print(f"start     test -ELBO {history[0]['neg_elbo']:8.3f}", flush=True)
    try:
        for epoch in range(args.epochs):
            for group in opt.param_groups:
                group["lr"] = learning_rate(args.lr, epoch, args.epochs)
            model.train()
            order = torch.randperm(len(train_x)).to(device)
            total, t0 = 0.0, time.time()
            for start in tqdm(range(0, len(order), args.batch_size), desc=f"epoch {epoch + 1}/{args.epochs}", leave=False):
                idx = order[start:start + args.batch_size]
                x = train_x[idx]
                mu, logvar = model.encode(x)
                loss = (-elbo(model, x).elbo + args.beta * forward_kl(mu, logvar, mean[idx], var[idx])).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            metrics = {"epoch": epoch + 1, "train_loss": total / len(order), **test_metrics(model, test_x),
                       "seconds": time.time() - t0}
            history.append(metrics)
            print(f"epoch {epoch + 1:3d}  train loss {metrics['train_loss']:8.3f}  test -ELBO {metrics['neg_elbo']:8.3f} "
                  f"(recon {-metrics['reconstruction']:8.3f}, KL {metrics['kl']:6.3f})  {metrics['seconds']:.1f}s", flush=True)
    except KeyboardInterrupt:
        print(f"\ninterrupted in epoch {len(history)}: nothing saved", flush=True)
        return {}
    model.eval()
    command = "python -m vae.fit_encoder " + shlex.join(sys.argv[1:] if argv is None else argv)
    meta = {**ckpt["meta"], "metrics": history[-1],
            "fit_encoder": {"command": command, "device": str(device), "dataset": dataset, "epochs": args.epochs, "beta": args.beta, "lr": args.lr,
                            "seed": args.seed, "history": history}}
    save_checkpoint(args.out, model, meta, compact=True)
    if replay_path(args.checkpoint).is_file():
        shutil.copyfile(replay_path(args.checkpoint), replay_path(args.out))
    return history[-1]


if __name__ == "__main__":
    main()
