"""A character-level GPT trained on a word list, one word a line (like makemore's names): token
and position embeddings, causal self-attention blocks with pre-LayerNorm and a GELU MLP, a final
LayerNorm and an output layer tied to the token embedding.

Data: /usr/share/dict/american-english (Debian's wamerican word list; `apt-get install wamerican`),
or any text file with --data. The words are shuffled with the seed and split 90/10 into training
and validation words; each split is one stream of characters with a newline after every word.

Recipe: Adam, batches of random windows of the training stream, a linear warm-up then cosine
decay. Reference: the same model written with torch.nn, started from minigrad's initial weights
(a state_dict copy) and trained on the same batches; the validation losses (nats per character)
must agree within 2%. Then the model samples 20 new words.

  python examples/char_gpt.py            # 3,000 steps, about 4 minutes
  python examples/char_gpt.py --quick    # a smoke run
"""
import argparse
import math
import os
import sys

import _common as common
import numpy as np

import minigrad as mg
import nn
from minigrad import optim
from nn import functional as F

DICT = "/usr/share/dict/american-english"


def make_gpt(ns, Fn, zeros):
    """The GPT class written once over a namespace: (nn, nn.functional, mg.zeros) for minigrad,
    (torch.nn, torch.nn.functional, torch.zeros) for the reference."""

    class Block(ns.Module):
        def __init__(self, C, heads):
            super().__init__()
            self.heads = heads
            self.ln1, self.ln2 = ns.LayerNorm(C), ns.LayerNorm(C)
            self.qkv, self.proj = ns.Linear(C, 3 * C), ns.Linear(C, C)
            self.fc, self.out = ns.Linear(C, 4 * C), ns.Linear(4 * C, C)

        def forward(self, x):
            N, T, C = x.shape
            qkv = self.qkv(self.ln1(x)).reshape(N, T, 3, self.heads, C // self.heads)
            q, k, v = (qkv[:, :, i].permute(0, 2, 1, 3) for i in range(3))   # (N, H, T, C / H)
            y = Fn.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.permute(0, 2, 1, 3).reshape(N, T, C))
            return x + self.out(Fn.gelu(self.fc(self.ln2(x))))

    class GPT(ns.Module):
        def __init__(self, vocab, block, C, heads, layers):
            super().__init__()
            self.wte = ns.Parameter(zeros(vocab, C))           # tied to the output layer
            self.wpe = ns.Parameter(zeros(block, C))
            self.blocks = ns.ModuleList([Block(C, heads) for _ in range(layers)])
            self.ln_f = ns.LayerNorm(C)

        def forward(self, idx):                                # (N, T) ints -> (N, T, vocab)
            x = self.wte[idx] + self.wpe[:idx.shape[1]]
            for block in self.blocks:
                x = block(x)
            return self.ln_f(x) @ self.wte.T

    return GPT


def parse(argv):
    p = argparse.ArgumentParser(prog="python examples/char_gpt.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", metavar="FILE", default=DICT, help=f"a text file, one word or line "
                   f"per sample (default {DICT})")
    p.add_argument("--steps", type=common._positive, default=3000, help="training steps "
                   "(default 3000)")
    p.add_argument("--batch-size", type=common._positive, default=32, help="windows per step "
                   "(default 32)")
    p.add_argument("--block", type=common._positive, default=24, help="context length in "
                   "characters (default 24)")
    p.add_argument("--width", type=common._positive, default=64, help="embedding size (default 64)")
    p.add_argument("--layers", type=common._positive, default=2, help="attention blocks (default 2)")
    p.add_argument("--heads", type=common._positive, default=4, help="heads per block (default 4)")
    p.add_argument("--lr", type=common._positive_float, default=3e-3, help="peak learning rate "
                   "(default 3e-3)")
    p.add_argument("--seed", type=int, default=0, help="seed for the split, initialisation, batches "
                   "and samples (default 0)")
    p.add_argument("--limit", type=common._positive, metavar="N", help="use only N words of the "
                   "file (after shuffling)")
    p.add_argument("--out", metavar="DIR", default=os.path.join("runs", "char_gpt"),
                   help="where the checkpoint, curves, samples and results go (default "
                   "runs/char_gpt)")
    p.add_argument("--no-reference", action="store_true", help="skip the PyTorch reference run")
    p.add_argument("--quick", action="store_true", help="a reduced smoke run (3,000 words, 30 "
                   "steps) for tests")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.quick:
        args.steps = 30 if args.steps == p.get_default("steps") else args.steps
        args.limit = args.limit or 3000
    if args.width % args.heads:
        p.error(f"--width {args.width} must be divisible by --heads {args.heads}")
    return args


def load_words(args):
    if not os.path.isfile(args.data):
        hint = " (Debian/Ubuntu: apt-get install wamerican)" if args.data == DICT else ""
        common.fail(f"the text file {args.data} is missing{hint}; pass another with --data FILE")
    try:
        with open(args.data, encoding="utf-8") as f:
            words = [line.strip() for line in f if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        common.fail(f"cannot read {args.data} as UTF-8 text: {e}")
    words = [words[i] for i in np.random.default_rng(args.seed).permutation(len(words))]
    words = words[:args.limit]
    if len(words) < 20:
        common.fail(f"{args.data} has {len(words)} non-empty lines; at least 20 are needed")
    return words


def encode(words, stoi):
    return np.array([stoi[c] for w in words for c in w + "\n"], dtype=np.int64)


def windows(stream, starts, block):
    """(inputs, targets), each (len(starts), block): the characters at starts + 0..block-1 and the
    ones after them."""
    rows = starts[:, None] + np.arange(block + 1)
    chunk = stream[rows]
    return chunk[:, :-1], chunk[:, 1:]


def lr_factor(step, total, warmup=100):
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def evaluate(model, val_x, val_y, no_grad, tensor, cross_entropy):
    """Mean cross-entropy per character over the fixed validation windows (nats/char)."""
    total = 0.0
    with no_grad():
        for i in range(0, len(val_x), 256):
            logits = model(tensor(val_x[i:i + 256]))
            target = tensor(val_y[i:i + 256])
            total += float(cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                         target.reshape(-1), reduction="sum").item())
    return total / val_y.size


def sample(model, itos, stoi, block, rng, count=20):
    words = []
    with mg.no_grad():
        while len(words) < count:
            context = [stoi["\n"]]
            while len(context) < 4 * block:
                logits = model(mg.tensor(np.array([context[-block:]])))[0, -1]
                p = logits.softmax(-1).numpy().astype(np.float64)
                nxt = int(rng.choice(len(p), p=p / p.sum()))
                if nxt == stoi["\n"]:
                    break
                context.append(nxt)
            if len(context) > 1:
                words.append("".join(itos[i] for i in context[1:]))
    return words


def train(model, opt, batches, steps, step_fn, args, desc):
    """Run `steps` steps of step_fn(model, x, y) -> loss; the loss curve (step, mean loss)."""
    curve, chunk = [], []
    bar = common.progress(range(steps), args, desc)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = args.lr * lr_factor(step, steps)
        x, y = batches[step]
        chunk.append(step_fn(x, y))
        if len(chunk) == max(1, steps // 40):
            curve.append((step + 1, sum(chunk) / len(chunk)))
            bar.set_postfix(loss=f"{curve[-1][1]:.3f}", refresh=False)
            chunk = []
    return curve


def minigrad_run(args, data, vocab):
    GPT = make_gpt(nn, F, mg.zeros)
    model = GPT(vocab, args.block, args.width, args.heads, args.layers)
    for name, p in model.named_parameters():                 # GPT-2's initialisation
        if name in ("wte", "wpe") or (name.endswith("weight") and p.ndim == 2):
            nn.init.normal_(p, 0.0, 0.02)
    initial = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt = optim.Adam(model.parameters(), lr=args.lr)

    def step(x, y):
        logits = model(mg.tensor(x))
        loss = F.cross_entropy(logits.reshape(-1, vocab), mg.tensor(y.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()
    curve = train(model, opt, data["batches"], args.steps, step, args, "minigrad")
    val = evaluate(model, data["val_x"], data["val_y"], mg.no_grad, mg.tensor, F.cross_entropy)
    return model, opt, initial, curve, val


def torch_run(args, data, vocab, initial):
    try:
        import torch
    except ImportError:
        print("note: PyTorch is not installed; no reference run (pip install torch)",
              file=sys.stderr)
        return None, None
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    GPT = make_gpt(torch.nn, torch.nn.functional, torch.zeros)
    model = GPT(vocab, args.block, args.width, args.heads, args.layers)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in initial.items()})
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    def step(x, y):
        logits = model(torch.from_numpy(x))
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab),
                                                 torch.from_numpy(y.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()
    curve = train(model, opt, data["batches"], args.steps, step, args, "PyTorch")
    val = evaluate(model, data["val_x"], data["val_y"], torch.no_grad,
                   torch.from_numpy, torch.nn.functional.cross_entropy)
    return curve, val


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
    ax.set(xlabel="step", ylabel="training loss (nats/char)", title="char GPT")
    ax.legend()
    fig.tight_layout()
    fig.savefig(run.path("curves.png"), dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse(argv)
    mg.manual_seed(args.seed)
    words = load_words(args)
    chars = sorted(set("".join(words)) | {"\n"})
    stoi, itos = {c: i for i, c in enumerate(chars)}, dict(enumerate(chars))
    cut = int(0.9 * len(words))
    train_stream, val_stream = encode(words[:cut], stoi), encode(words[cut:], stoi)
    if min(len(train_stream), len(val_stream)) <= args.block + 1:
        common.fail(f"{args.data}: too little text for --block {args.block}")
    rng = np.random.default_rng(args.seed)
    batches = [windows(train_stream, rng.integers(0, len(train_stream) - args.block,
                                                  args.batch_size), args.block)
               for _ in range(args.steps)]
    starts = np.arange(0, len(val_stream) - args.block, args.block)[:4096]
    val_x, val_y = windows(val_stream, starts, args.block)
    data = {"batches": batches, "val_x": val_x, "val_y": val_y}
    print(f"char_gpt: {cut} training / {len(words) - cut} validation words from {args.data} "
          f"({len(chars)} characters), {args.layers} blocks x {args.heads} heads, width "
          f"{args.width}, context {args.block}, {args.steps} steps of {args.batch_size}, "
          f"Adam lr {args.lr}, seed {args.seed}")

    run = common.Run(args, "char_gpt")
    model, opt, initial, curve, val = minigrad_run(args, data, len(chars))
    print(f"minigrad: validation loss {val:.4f} nats/char  ({run.elapsed():.0f} s)", flush=True)
    ref_curve, ref_val = (None, None) if args.no_reference else \
        torch_run(args, data, len(chars), initial)
    if ref_val is not None:
        print(f"PyTorch:  validation loss {ref_val:.4f} nats/char  ({run.elapsed():.0f} s)")
    run.save_checkpoint(model, opt, vocab="".join(chars))
    plot(run, curve, ref_curve)
    run.draw_graph(F.cross_entropy(model(mg.tensor(val_x[:1, :4])).reshape(-1, len(chars)),
                                   mg.tensor(val_y[:1, :4].reshape(-1))), depth=3)
    known = set(words)
    samples = sample(model, itos, stoi, args.block, np.random.default_rng(args.seed))
    with open(run.path("samples.txt"), "w") as f:
        f.write("\n".join(samples) + "\n")
    print("samples (* = not in the word list): " +
          ", ".join(w + ("" if w in known else "*") for w in samples))
    gap = None if ref_val is None else (val - ref_val) / ref_val
    run.finish(None,
               published=[("the same model and batches in PyTorch",
                           "not run" if ref_val is None else f"{ref_val:.4f} nats/char")],
               ours=[(f"{args.steps} steps, validation loss", f"{val:.4f} nats/char" +
                      ("" if gap is None else f" ({100 * gap:+.2f}% against PyTorch)"))],
               val_loss=val, reference_val_loss=ref_val, loss_curve=curve,
               reference_curve=ref_curve, samples=samples)


if __name__ == "__main__":
    main()
