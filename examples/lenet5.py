"""LeNet-5 on MNIST: conv 5x5 x6 (pad 2) -> ReLU -> max-pool -> conv 5x5 x16 -> ReLU -> max-pool ->
FC 120 -> FC 84 -> FC 10, softmax cross-entropy.

Recipe: Adam with a short linear warm-up then cosine decay to zero (per step), batch 64, inputs
normalised with the MNIST mean and standard deviation; 10 epochs by default.

Published figures: a NumPy implementation of this network reaches 98.3% train / 97.8% validation
accuracy after 5 epochs; LeCun et al. (1998) report 99.05% test accuracy without distortions.

  python examples/lenet5.py --epochs 1      # about 98.5%, the README's first command
  python examples/lenet5.py                 # 10 epochs: >= 99.0%
"""
import math

import _common as common

import minigrad as mg
import nn
from minigrad import optim
from minigrad.data import DataLoader, TensorDataset, transforms
from nn import functional as F

MEAN, STD = 0.1307, 0.3081      # of the MNIST training pixels, scaled to [0, 1]


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))    # (N, 1, 28, 28) -> (N, 6, 14, 14)
        x = self.pool(F.relu(self.conv2(x)))    # -> (N, 16, 5, 5)
        x = x.flatten(1)                        # -> (N, 400)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)                      # -> (N, 10) logits


def warmup_cosine(total_steps: int, warmup: float):
    """The lr factor at each step: linear from 0 to 1 over the first `warmup` fraction of the steps,
    then half a cosine down to 0 at the last step."""
    ramp = max(1, round(warmup * total_steps))

    def factor(step):
        if step < ramp:
            return (step + 1) / ramp
        return 0.5 * (1 + math.cos(math.pi * (step - ramp) / max(1, total_steps - ramp)))
    return factor


def main(argv=None):
    p = common.parser("lenet5", __doc__, epochs=10, batch_size=64, lr=3e-3)
    p.add_argument("--warmup", type=float, default=0.2, help="fraction of the steps spent warming "
                   "the lr up (default 0.2)")
    p.add_argument("--schedule", choices=("cosine", "constant"), default="cosine",
                   help="lr schedule after the warm-up (default cosine)")
    args = common.parse(p, argv, limit=500, epochs=1)
    train_set, test_set = common.mnist(args)
    normalize = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    x_train = common.first(train_set.data, args.train)
    y_train = common.first(train_set.targets, args.train)
    x_test = normalize.apply_batch(common.first(test_set.data, args.test))     # (N, 1, 28, 28)
    y_test = common.first(test_set.targets, args.test)
    common.check_labels(y_train, 10, "MNIST training labels")
    epochs = common.count(args.epochs, "epoch")
    print(f"lenet5: {len(x_train)} training / {len(x_test)} test images, {epochs}, "
          f"batch {args.batch_size}, Adam lr {args.lr} ({args.schedule}), seed {args.seed}")

    run = common.Run(args, "lenet5")
    model = LeNet5()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True,
                        seed=args.seed, transform=normalize)
    loader = common.distribute(args, loader, model)
    total = args.epochs * len(loader)
    warm = warmup_cosine(total, args.warmup) if args.schedule == "cosine" else \
        lambda step: min(1.0, (step + 1) / max(1, round(args.warmup * total)))
    scheduler = optim.lr_scheduler.LambdaLR(optimizer, warm)
    loss_fn = nn.CrossEntropyLoss()
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
            scheduler.step()
            log.update(loss.item(), common.correct(logits, y), len(y))
            if log.step % 20 == 0:
                bar.set_postfix(log.postfix(), refresh=False)
        record = log.end_epoch(test_acc=common.accuracy(model, x_test, y_test))
        print(f"{common.epoch_line(epoch, record)}  ({run.elapsed():.0f} s)", flush=True)
        run.save_checkpoint(model, optimizer, epoch=epoch, scheduler=scheduler.state_dict())

    run.plot_curves(log, "LeNet-5")
    images = mg.tensor(x_test[:2], requires_grad=True)    # so the picture starts at the images
    run.draw_graph(loss_fn(model(images), mg.tensor(y_test[:2])), inputs={"images": images})
    test_acc = log.epochs[-1]["test_acc"]
    run.finish(log,
               published=[("NumPy LeNet-5, 5 epochs", "98.3% train / 97.8% validation"),
                          ("LeCun et al. 1998, no distortions", "99.05% test")],
               ours=[(f"{len(x_train)} / {len(x_test)} images, {epochs}",
                      f"{common.percent(log.epochs[-1]['train_acc'])} train (running) / "
                      f"{common.percent(test_acc)} test")],
               test_acc=test_acc)


if __name__ == "__main__":
    main()
