"""Sequential MNIST: an LSTM reads each image row by row (28 steps of 28 pixels) and a Linear
layer classifies its last hidden state.

Recipe: LSTM(28 -> 128) + Linear(128 -> 10), softmax cross-entropy, Adam (lr 2e-3), batch 128,
pixels in [0, 1]; 4 epochs by default. The reference is the same recipe in PyTorch, started from
minigrad's initial weights (state_dict copied) and fed the same batches in the same order; it runs
after minigrad's when PyTorch is installed (--no-reference skips it).

  python examples/seq_mnist_lstm.py             # 4 epochs: >= 98% test
  python examples/seq_mnist_lstm.py --quick     # a smoke run
"""
import time

import _common as common

import minigrad as mg
import nn
from minigrad import optim
from minigrad.data import DataLoader, TensorDataset, transforms


def make_model(nn, hidden_size=128):
    """The model over a namespace: minigrad's nn or torch.nn (the reference uses the latter)."""

    class RowLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(28, hidden_size, batch_first=True)
            self.fc = nn.Linear(hidden_size, 10)

        def forward(self, x):
            x = x.reshape(x.shape[0], 28, 28)               # (N, 1, 28, 28) -> (N, T=28, 28)
            _, (h, _) = self.lstm(x)                        # h: (1, N, hidden)
            return self.fc(h[0])                            # -> (N, 10) logits
    return RowLSTM()


def load(args):
    """MNIST: the raw training set and the test set as float32 (N, 1, 28, 28) in [0, 1]."""
    train_set, test_set = common.mnist(args)
    x_train = common.first(train_set.data, args.train)
    y_train = common.first(train_set.targets, args.train)
    x_test = transforms.ToTensor().apply_batch(common.first(test_set.data, args.test))
    common.check_labels(y_train, 10, "MNIST training labels")
    return x_train, y_train, x_test, common.first(test_set.targets, args.test)


def make_loader(x_train, y_train, args):
    """Batches of [0, 1] images in the order fixed by --seed (the reference replays this order)."""
    return DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True,
                      seed=args.seed, transform=transforms.ToTensor())


def train(args, data, run=None):
    """Train with the recipe; returns (model, optimizer, TrainLog, initial state_dict)."""
    x_train, y_train, x_test, y_test = data
    mg.manual_seed(args.seed)
    model = make_model(nn)
    initial = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    loader = make_loader(x_train, y_train, args)
    log = common.TrainLog(every=max(1, len(loader) // 20))
    for epoch in range(1, args.epochs + 1):
        bar = common.progress(loader, args, f"epoch {epoch}/{args.epochs}")
        for x, y in bar:
            logits = model(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.update(loss.item(), common.correct(logits, y), len(y))
            if log.step % 20 == 0:
                bar.set_postfix(log.postfix(), refresh=False)
        record = log.end_epoch(test_acc=common.accuracy(model, x_test, y_test))
        elapsed = f"  ({run.elapsed():.0f} s)" if run else ""
        print(common.epoch_line(epoch, record) + elapsed, flush=True)
    return model, optimizer, log, initial


def torch_train(torch, args, data, initial):
    """The same recipe in PyTorch from the given initial weights, replaying minigrad's batch
    order; returns the test accuracy after each epoch."""
    x_train, y_train, x_test, y_test = data
    model = make_model(torch.nn)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in initial.items()})
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loader = make_loader(x_train, y_train, args)
    images = torch.from_numpy(x_train.astype("float32") / 255)
    labels = torch.from_numpy(y_train).long()
    test_images = torch.from_numpy(x_test)
    accuracies = []
    for epoch in range(args.epochs):
        order = torch.from_numpy(loader.order(epoch))
        for i in range(0, len(order), args.batch_size):
            batch = order[i:i + args.batch_size]
            loss = torch.nn.functional.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            logits = torch.cat([model(test_images[i:i + 1000])
                                for i in range(0, len(x_test), 1000)])
        accuracies.append(float((logits.argmax(1).numpy() == y_test).mean()))
    return accuracies


def arguments(argv=None):
    p = common.parser("seq_mnist_lstm", __doc__, epochs=4, batch_size=128, lr=2e-3)
    p.add_argument("--no-reference", action="store_true", help="skip the PyTorch reference run")
    return common.parse(p, argv, limit=300, epochs=1)


def main(argv=None):
    args = arguments(argv)
    data = load(args)
    epochs = common.count(args.epochs, "epoch")
    print(f"seq_mnist_lstm: {len(data[0])} training / {len(data[2])} test images, {epochs}, "
          f"batch {args.batch_size}, Adam lr {args.lr}, seed {args.seed}")
    run = common.Run(args, "seq_mnist_lstm")
    model, optimizer, log, initial = train(args, data, run)
    ours_s = run.elapsed()
    run.save_checkpoint(model, optimizer, epoch=args.epochs)
    run.plot_curves(log, "LSTM on MNIST rows")
    x_test, y_test = data[2], data[3]
    images = mg.tensor(x_test[:2], requires_grad=True)    # so the picture starts at the images
    run.draw_graph(nn.CrossEntropyLoss()(model(images), mg.tensor(y_test[:2])),
                   inputs={"images": images}, depth=1)    # the LSTM as one box
    test_acc = log.epochs[-1]["test_acc"]
    published, reference = [], {}
    torch = None if args.no_reference else _torch()
    if torch is not None:
        start = time.perf_counter()
        theirs = torch_train(torch, args, data, initial)[-1]
        reference = {"torch_test_acc": theirs, "torch_seconds": time.perf_counter() - start}
        published.append((f"PyTorch {torch.__version__}, same weights and batches",
                          common.percent(theirs)))
    run.finish(log, published=published or [("PyTorch reference", "skipped")],
               ours=[(f"{len(data[0])} / {len(x_test)} images, {epochs}, seed {args.seed}",
                      common.percent(test_acc))],
               test_acc=test_acc, seconds=ours_s, **reference)


def _torch():
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: no reference run")
        return None
    torch.set_num_threads(1)
    return torch


if __name__ == "__main__":
    main()
