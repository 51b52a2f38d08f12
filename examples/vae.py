"""A convolutional variational autoencoder on MNIST (Kingma & Welling 2014): a strided-conv
encoder to the mean and log-variance of a Gaussian latent, the reparameterisation z = mu +
sigma * eps, and a ConvTranspose2d decoder to Bernoulli logits of the 28x28 pixels.

  encoder  Conv 4x4/2 (16) -> ReLU -> Conv 4x4/2 (32) -> ReLU -> Linear 1568 -> 2 x latent
  decoder  Linear latent -> 1568 -> ReLU -> Unflatten (32, 7, 7) -> ConvTranspose 4x4/2 (16)
           -> ReLU -> ConvTranspose 4x4/2 (1) -> logits

Recipe: Adam lr 1e-3, batch 128; the loss is the negative ELBO, binary cross-entropy of the
pixel intensities summed over the image plus KL(q(z|x) || N(0, I)), averaged over the batch.
Reference: the same model written with torch.nn, started from minigrad's initial weights (a
state_dict copy) and trained on the same batches with the same noise; the test ELBOs per image
must agree within 2%. Writes samples.png (decoded draws from the prior) and
reconstructions.png (test digits above their reconstructions).

  python examples/vae.py              # 5 epochs, a few minutes
  python examples/vae.py --quick      # a smoke run
"""
import sys

import _common as common
import numpy as np

import minigrad as mg
import nn
from minigrad import optim
from nn import functional as F


def make_vae(ns, Fn):
    """The VAE class written once over a namespace: (nn, nn.functional) for minigrad,
    (torch.nn, torch.nn.functional) for the reference."""

    class VAE(ns.Module):
        def __init__(self, latent):
            super().__init__()
            self.latent = latent
            self.encoder = ns.Sequential(
                ns.Conv2d(1, 16, 4, stride=2, padding=1), ns.ReLU(),          # -> (16, 14, 14)
                ns.Conv2d(16, 32, 4, stride=2, padding=1), ns.ReLU(),         # -> (32, 7, 7)
                ns.Flatten(), ns.Linear(32 * 7 * 7, 2 * latent))
            self.decoder = ns.Sequential(
                ns.Linear(latent, 32 * 7 * 7), ns.ReLU(), ns.Unflatten(1, (32, 7, 7)),
                ns.ConvTranspose2d(32, 16, 4, stride=2, padding=1), ns.ReLU(),  # -> (16, 14, 14)
                ns.ConvTranspose2d(16, 1, 4, stride=2, padding=1))             # -> (1, 28, 28)

        def forward(self, x, eps):
            """(negative ELBO summed over the batch, reconstruction logits)."""
            h = self.encoder(x)
            mu, logvar = h[:, :self.latent], h[:, self.latent:]
            z = mu + (0.5 * logvar).exp() * eps
            logits = self.decoder(z)
            recon = Fn.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            kl = 0.5 * (mu * mu + logvar.exp() - logvar - 1).sum()
            return recon + kl, logits

    return VAE


def batches(n, batch_size, epochs, latent, seed):
    """[(image indices, noise)] for every step: one shuffle per epoch and the eps of each draw,
    shared by both frameworks."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(epochs):
        order = rng.permutation(n)
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            out.append((idx, rng.standard_normal((len(idx), latent)).astype(np.float32)))
    return out


def train(model, opt, x, steps, tensor, args, desc):
    """Adam steps over `steps`; the training curve (step, mean negative ELBO per image)."""
    curve, chunk = [], []
    bar = common.progress(steps, args, desc)
    for step, (idx, eps) in enumerate(bar):
        loss, _ = model(tensor(x[idx]), tensor(eps))
        opt.zero_grad()
        (loss / len(idx)).backward()
        opt.step()
        chunk.append(loss.item() / len(idx))
        if len(chunk) == max(1, len(steps) // 40):
            curve.append((step + 1, sum(chunk) / len(chunk)))
            bar.set_postfix(elbo=f"{-curve[-1][1]:.1f}", refresh=False)
            chunk = []
    return curve


def test_elbo(model, x, eps, no_grad, tensor):
    """The ELBO per test image (nats), one draw of fixed noise per image."""
    total = 0.0
    model.eval()
    with no_grad():
        for i in range(0, len(x), 500):
            total += float(model(tensor(x[i:i + 500]), tensor(eps[i:i + 500]))[0].item())
    return -total / len(x)


def torch_run(args, VAE_state, x_train, x_test, steps, test_eps):
    try:
        import torch
    except ImportError:
        print("note: PyTorch is not installed; no reference run (pip install torch)",
              file=sys.stderr)
        return None, None
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    model = make_vae(torch.nn, torch.nn.functional)(args.latent)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in VAE_state.items()})
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    curve = train(model, opt, x_train, steps, torch.from_numpy, args, "PyTorch")
    return curve, test_elbo(model, x_test, test_eps, torch.no_grad, torch.from_numpy)


def save_grid(path, images, rows):
    """Tile (N, 28, 28) images in [0, 1] into `rows` rows and write a PNG (Pillow, else
    matplotlib)."""
    n, h, w = images.shape
    cols = -(-n // rows)
    grid = np.ones((rows * (h + 2), cols * (w + 2)), dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * (h + 2) + 1:r * (h + 2) + 1 + h, c * (w + 2) + 1:c * (w + 2) + 1 + w] = image
    pixels = (np.clip(grid, 0, 1) * 255).astype(np.uint8)
    try:
        from PIL import Image
        Image.fromarray(pixels).resize((pixels.shape[1] * 3, pixels.shape[0] * 3),
                                       Image.NEAREST).save(path)
    except ImportError:
        try:
            import matplotlib.pyplot as plt
            plt.imsave(path, pixels, cmap="gray")
        except ImportError:
            print(f"note: {path} not drawn (pip install Pillow)", file=sys.stderr)


def plot(run, ours, theirs):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: curves.png not drawn (pip install matplotlib)", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, curve in (("minigrad", ours), ("PyTorch", theirs)):
        if curve:
            ax.plot(*zip(*curve), label=label)
    ax.set(xlabel="step", ylabel="negative ELBO per image (nats)", yscale="log", title="VAE")
    ax.legend()
    fig.tight_layout()
    fig.savefig(run.path("curves.png"), dpi=100)
    plt.close(fig)


def main(argv=None):
    p = common.parser("vae", __doc__, epochs=5, batch_size=128, lr=1e-3)
    p.add_argument("--latent", type=common._positive, default=16, help="latent dimensions "
                   "(default 16)")
    p.add_argument("--no-reference", action="store_true", help="skip the PyTorch reference run")
    args = common.parse(p, argv, limit=512, epochs=1)
    train_set, test_set = common.mnist(args)
    x_train = (common.first(train_set.data, args.train)[:, None] / 255.0).astype(np.float32)
    x_test = (common.first(test_set.data, args.test)[:, None] / 255.0).astype(np.float32)
    steps = batches(len(x_train), args.batch_size, args.epochs, args.latent, args.seed)
    test_eps = np.random.default_rng(args.seed + 1).standard_normal(
        (len(x_test), args.latent)).astype(np.float32)
    print(f"vae: {len(x_train)} training / {len(x_test)} test images, "
          f"{common.count(args.epochs, 'epoch')}, batch {args.batch_size}, latent {args.latent}, "
          f"Adam lr {args.lr}, seed {args.seed}")

    run = common.Run(args, "vae")
    model = make_vae(nn, F)(args.latent)
    initial = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt = optim.Adam(model.parameters(), lr=args.lr)
    curve = train(model, opt, x_train, steps, mg.tensor, args, "minigrad")
    elbo = test_elbo(model, x_test, test_eps, mg.no_grad, mg.tensor)
    print(f"minigrad: test ELBO {elbo:.2f} nats per image  ({run.elapsed():.0f} s)", flush=True)
    ref_curve, ref_elbo = (None, None) if args.no_reference else \
        torch_run(args, initial, x_train, x_test, steps, test_eps)
    if ref_elbo is not None:
        print(f"PyTorch:  test ELBO {ref_elbo:.2f} nats per image  ({run.elapsed():.0f} s)")

    run.save_checkpoint(model, opt)
    plot(run, curve, ref_curve)
    with mg.no_grad():
        z = mg.tensor(np.random.default_rng(args.seed + 2).standard_normal(
            (64, args.latent)).astype(np.float32))
        save_grid(run.path("samples.png"), model.decoder(z).sigmoid().numpy()[:, 0], rows=8)
        _, logits = model(mg.tensor(x_test[:16]), mg.tensor(np.zeros((16, args.latent),
                                                                      np.float32)))
        pairs = np.concatenate([x_test[:16, 0], logits.sigmoid().numpy()[:, 0]])
        save_grid(run.path("reconstructions.png"), pairs, rows=2)
    images = mg.tensor(x_test[:2], requires_grad=True)
    run.draw_graph(model(images, mg.tensor(test_eps[:2]))[0], inputs={"images": images}, depth=2)
    gap = None if ref_elbo is None else (elbo - ref_elbo) / abs(ref_elbo)
    run.finish(None,
               published=[("the same model and batches in PyTorch",
                           "not run" if ref_elbo is None else f"ELBO {ref_elbo:.2f} nats/image")],
               ours=[(f"{common.count(args.epochs, 'epoch')}, test ELBO",
                      f"{elbo:.2f} nats/image" +
                      ("" if gap is None else f" ({100 * gap:+.2f}% against PyTorch)"))],
               test_elbo=elbo, reference_test_elbo=ref_elbo, loss_curve=curve,
               reference_curve=ref_curve)


if __name__ == "__main__":
    main()
