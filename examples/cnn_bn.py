"""A CNN with batch normalisation on MNIST: two blocks of Conv 5x5 (16 then 32 channels, pad 2) ->
BatchNorm -> ReLU -> MaxPool 2, then Linear 7*7*32 -> 10; Adam lr 1e-3, batch 100, one epoch,
inputs scaled to [0, 1].

The same recipe in PyTorch is the reference: benchmarks/compare_cnn_bn.py trains both on the same
data order for several seeds and compares the mean test accuracies (they must agree within 0.3
percentage points).

  python examples/cnn_bn.py
  python examples/cnn_bn.py --seed 1
"""
import _common as common

import minigrad as mg
import nn
from minigrad import optim
from minigrad.data import DataLoader, TensorDataset, transforms


class ConvNet(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        # (N, 1, 28, 28) -> (N, 16, 14, 14)
        self.layer1 = nn.Sequential(nn.Conv2d(1, 16, kernel_size=5, padding=2), nn.BatchNorm2d(16),
                                    nn.ReLU(), nn.MaxPool2d(2))
        # -> (N, 32, 7, 7)
        self.layer2 = nn.Sequential(nn.Conv2d(16, 32, kernel_size=5, padding=2), nn.BatchNorm2d(32),
                                    nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(7 * 7 * 32, num_classes)

    def forward(self, x):
        x = self.layer2(self.layer1(x))
        return self.fc(x.flatten(1))                                # (N, 1568) -> (N, 10)


def load(args):
    """MNIST as float32 (N, 1, 28, 28) arrays in [0, 1] (the test set) and the raw training set."""
    train_set, test_set = common.mnist(args)
    x_train = common.first(train_set.data, args.train)
    y_train = common.first(train_set.targets, args.train)
    x_test = transforms.ToTensor().apply_batch(common.first(test_set.data, args.test))
    common.check_labels(y_train, 10, "MNIST training labels")
    return x_train, y_train, x_test, common.first(test_set.targets, args.test)


def make_loader(x_train, y_train, args):
    """Batches of [0, 1] images in the order fixed by --seed (the comparison replays this order)."""
    return DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True,
                      seed=args.seed, transform=transforms.ToTensor())


def train(args, data, run=None):
    """Train one model with the recipe; returns (model, optimizer, TrainLog, last loss function)."""
    x_train, y_train, x_test, y_test = data
    mg.manual_seed(args.seed)
    model = ConvNet()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    loader = common.distribute(args, make_loader(x_train, y_train, args), model)
    log = common.TrainLog(every=max(1, len(loader) // 20))
    for epoch in range(1, args.epochs + 1):
        bar = common.progress(loader, args, f"epoch {epoch}/{args.epochs}")
        for x, y in bar:
            logits = model(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad()
            loss.backward()
            common.sync(args, model)
            optimizer.step()
            log.update(loss.item(), common.correct(logits, y), len(y))
            if log.step % 20 == 0:
                bar.set_postfix(log.postfix(), refresh=False)
        record = log.end_epoch(test_acc=common.accuracy(model, x_test, y_test))
        elapsed = f"  ({run.elapsed():.0f} s)" if run else ""
        print(common.epoch_line(epoch, record) + elapsed, flush=True)
    return model, optimizer, log, loss_fn


def arguments(argv=None):
    p = common.parser("cnn_bn", __doc__, epochs=1, batch_size=100, lr=1e-3)
    return common.parse(p, argv, limit=500)


def main(argv=None):
    args = arguments(argv)
    data = load(args)
    epochs = common.count(args.epochs, "epoch")
    print(f"cnn_bn: {len(data[0])} training / {len(data[2])} test images, {epochs}, "
          f"batch {args.batch_size}, Adam lr {args.lr}, seed {args.seed}")
    run = common.Run(args, "cnn_bn")
    model, optimizer, log, loss_fn = train(args, data, run)
    run.save_checkpoint(model, optimizer, epoch=args.epochs)
    run.plot_curves(log, "CNN + BatchNorm")
    x_test, y_test = data[2], data[3]
    images = mg.tensor(x_test[:2], requires_grad=True)    # so the picture starts at the images
    run.draw_graph(loss_fn(model(images), mg.tensor(y_test[:2])), inputs={"images": images})
    test_acc = log.epochs[-1]["test_acc"]
    run.finish(log,
               published=[("the same recipe in PyTorch (benchmarks/compare_cnn_bn.py)",
                           "mean of 3 seeds, within 0.3 points")],
               ours=[(f"{len(data[0])} / {len(x_test)} images, {epochs}, "
                      f"seed {args.seed}", common.percent(test_acc))],
               test_acc=test_acc)


if __name__ == "__main__":
    main()
