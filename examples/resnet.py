"""A small ResNet (He et al. 2016, the CIFAR-10 family): a 3x3 conv stem with 16 channels, three
stages of residual blocks at 16, 32 and 64 channels (the first block of the second and third stage
halves the resolution; its shortcut is a strided 1x1 conv + BatchNorm), global average pooling and
a linear classifier. Adam, random crop + horizontal flip augmentation.

Data: CIFAR-10 (binary version) when <data>/cifar-10-batches-bin/ exists, Fashion-MNIST otherwise
(<data>/fashion-mnist/, or Debian's `apt-get install dataset-fashion-mnist`).

Published figures: ResNet-20 (3 blocks per stage) reaches 91.25% on CIFAR-10 after 64k iterations
of SGD (He et al., Table 6); on Fashion-MNIST, Zalando's benchmark lists 94.9% for a ResNet-18 with
augmentation. This example trains for a few epochs on a CPU, so expect less.

  python examples/resnet.py --epochs 3                  # Fashion-MNIST, 1 block per stage
  python examples/resnet.py --data ~/data --blocks 3    # CIFAR-10, ResNet-20
"""
import os

import _common as common

import minigrad as mg
import nn
from minigrad import optim
from minigrad.data import DataLoader, TensorDataset, datasets, transforms
from minigrad.data.datasets import default_root
from nn import functional as F

STATS = {"cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
         "fashion-mnist": ((0.2860,), (0.3530,)),
         "mnist": ((0.1307,), (0.3081,))}


class BasicBlock(nn.Module):
    """conv 3x3 -> BN -> ReLU -> conv 3x3 -> BN, plus the shortcut, then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:      # match the shape of the residual
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, in_channels: int, num_classes: int = 10, blocks: int = 1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 16, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(16), nn.ReLU())
        layers, channels = [], 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(blocks):
                layers.append(BasicBlock(channels, width, stride if i == 0 else 1))
                channels = width
        self.stages = nn.Sequential(layers)     # (N, 16, H, W) -> (N, 64, H/4, W/4)
        self.pool = nn.AdaptiveAvgPool2d(1)     # -> (N, 64, 1, 1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(self.pool(x).flatten(1))


def load(args):
    """Training and test sets as uint8 images, channels-last for CIFAR-10, and the set's name."""
    name = args.dataset
    folders = {"cifar10": "cifar-10-batches-bin", "fashion-mnist": "fashion-mnist",
               "mnist": "mnist"}
    if name == "auto":
        root = common.root(args, folders["cifar10"]) or default_root()
        cifar = os.path.isdir(os.path.join(root, folders["cifar10"]))
        name = "cifar10" if cifar else "fashion-mnist"
    kind = {"cifar10": datasets.CIFAR10, "fashion-mnist": datasets.FashionMNIST,
            "mnist": datasets.MNIST}[name]
    root = common.root(args, folders[name])
    with common.loading(kind.__name__):
        train, test = kind(root, train=True), kind(root, train=False)
    return train, test, name


def main(argv=None):
    p = common.parser("resnet", __doc__, epochs=3, batch_size=128, lr=2e-3)
    p.add_argument("--blocks", type=int, default=1, help="residual blocks per stage (default 1; "
                   "3 gives ResNet-20)")
    p.add_argument("--dataset", choices=("auto", "cifar10", "fashion-mnist", "mnist"),
                   default="auto", help="default: CIFAR-10 when present under the data root, else "
                   "Fashion-MNIST")
    args = common.parse(p, argv, limit=512, epochs=1, batch_size=64)
    if args.blocks < 1:
        p.error(f"--blocks must be positive, got {args.blocks}")
    train_set, test_set, name = load(args)
    mean, std = STATS[name]
    height = train_set.data.shape[1]
    to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    flip = [] if name == "mnist" else [transforms.RandomHorizontalFlip()]    # a mirrored 2 is no 2
    augment = transforms.Compose([transforms.ToTensor(),     # pad with black, then normalise
                                  transforms.RandomCrop(height, padding=height // 8), *flip,
                                  transforms.Normalize(mean, std)])
    x_train = common.first(train_set.data, args.train)
    y_train = common.first(train_set.targets, args.train)
    x_test = to_input.apply_batch(common.first(test_set.data, args.test))
    y_test = common.first(test_set.targets, args.test)
    common.check_labels(y_train, 10, f"{name} training labels")
    epochs = common.count(args.epochs, "epoch")
    print(f"resnet: {name}, {len(x_train)} training / {len(x_test)} test images, "
          f"ResNet-{6 * args.blocks + 2} ({args.blocks} block(s) per stage), "
          f"{epochs}, batch {args.batch_size}, Adam lr {args.lr} (cosine), seed {args.seed}")

    run = common.Run(args, "resnet")
    model = ResNet(in_channels=x_test.shape[1], blocks=args.blocks)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True,
                        seed=args.seed, transform=augment)
    loader = common.distribute(args, loader, model)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * len(loader))
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
            if log.step % 10 == 0:
                bar.set_postfix(log.postfix(), refresh=False)
        record = log.end_epoch(test_acc=common.accuracy(model, x_test, y_test, batch_size=500))
        print(f"{common.epoch_line(epoch, record)}  ({run.elapsed():.0f} s)", flush=True)
        run.save_checkpoint(model, optimizer, epoch=epoch, scheduler=scheduler.state_dict())

    run.plot_curves(log, f"ResNet-{6 * args.blocks + 2} on {name}")
    # one box per residual block (depth 3: ResNet / stages / block); depth=None shows every op
    images = mg.tensor(x_test[:2], requires_grad=True)    # so the picture starts at the images
    run.draw_graph(loss_fn(model(images), mg.tensor(y_test[:2])), inputs={"images": images},
                   depth=3)
    test_acc = log.epochs[-1]["test_acc"]
    run.finish(log,
               published=[("ResNet-20, CIFAR-10 (He et al. 2016)", "91.25%"),
                          ("ResNet-18 + augmentation, Fashion-MNIST (Zalando)", "94.9%")],
               ours=[(f"ResNet-{6 * args.blocks + 2}, {name}, {len(x_train)} images, "
                      f"{epochs}", common.percent(test_acc))],
               test_acc=test_acc, dataset=name)


if __name__ == "__main__":
    main()
