"""A cat classifier: the L-layer network [12288, 20, 7, 5, 1] (ReLU, ReLU, ReLU, sigmoid) trained
with binary cross-entropy by full-batch gradient descent (lr 0.0075, 2500 iterations) on the
deeplearning.ai "cat vs non-cat" images (64x64 RGB, flattened, x / 255). Weights are
randn / sqrt(fan_in) and biases zero.

Published figures (deeplearning.ai, "Deep Neural Network for Image Classification: Application"):
98.6% train / 80% test accuracy, the cost falling to about 0.09 (0.0929 at iteration 2400).
By default the initial weights are drawn exactly as the course draws them (NumPy's legacy generator
seeded with 1) and the network computes in float64, as the course's NumPy code does, so the run
retraces the course's, cost for cost; `--dtype float32` runs about twice as fast, but its sums
round differently from CPU to CPU (78% or 80% test). `--init random` draws the weights from
minigrad's generator seeded with --seed instead.

`--folder DIR` trains on your own images instead: DIR holds one sub-folder per class (e.g. cats/ and
others/), images are resized to 128x128, and a seeded 80/20 split gives training and test images.

  python examples/cat_classifier.py                  # the course's run, cost for cost
  python examples/cat_classifier.py --dtype float32
  python examples/cat_classifier.py --init random --seed 3
  python examples/cat_classifier.py --folder ~/pictures/cats_and_others
"""
import math
import os

import numpy as np
import _common as common

import minigrad as mg
import nn
from minigrad import optim
from minigrad.data import datasets, random_split

LAYERS = [20, 7, 5, 1]


def l_layer_model(n_inputs: int):
    """Linear -> ReLU three times, then Linear -> sigmoid: (N, n_inputs) -> (N, 1) probabilities."""
    sizes = [n_inputs] + LAYERS
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    layers[-1] = nn.Sigmoid()
    return nn.Sequential(layers)


def initialise(model, how: str):
    """Weights randn / sqrt(fan_in), biases zero: drawn from NumPy's legacy generator seeded with 1,
    in the course's order ("course"), or from minigrad's generator ("random")."""
    course = np.random.RandomState(1)
    for layer in model:
        if isinstance(layer, nn.Linear):
            fan_out, fan_in = layer.weight.shape
            if how == "course":
                w = course.randn(fan_out, fan_in) / np.sqrt(fan_in)
                with mg.no_grad():
                    layer.weight.copy_(mg.tensor(w.astype(layer.weight.dtype)))
            else:
                nn.init.normal_(layer.weight, std=1 / math.sqrt(fan_in))
            nn.init.zeros_(layer.bias)


def load(args):
    """(x_train, y_train, x_test, y_test, class names): x flattened to (N, H*W*3) in [0, 1]."""
    if args.folder:
        with common.loading(f"the image folder {args.folder}"):
            images = datasets.ImageFolder(args.folder, size=(128, 128))
        if len(images.classes) != 2:
            common.fail(f"{args.folder} has {len(images.classes)} class folders "
                        f"({', '.join(images.classes)}); this binary classifier needs exactly two")
        n_test = max(1, round(0.2 * len(images)))
        if len(images) - n_test < 2:
            common.fail(f"{args.folder} holds only {len(images)} images; give it at least a few "
                        "per class")
        train, test = random_split(images, [len(images) - n_test, n_test], seed=args.seed)
        parts = [(images.data[s.indices], images.targets[s.indices]) for s in (train, test)]
        classes = images.classes
    else:
        with common.loading("the cat vs non-cat data set"):
            data = common.root(args, "catvnoncat")
            parts = [(d.data, d.targets) for d in (datasets.CatVsNonCat(data, train=True),
                                                   datasets.CatVsNonCat(data, train=False))]
        classes = ["non-cat", "cat"]
    out = []
    for (x, y), n in zip(parts, (args.train, args.test)):
        x, y = common.first(x, n), common.first(y, n)
        common.check_labels(y, 2, "labels")
        out += [x.reshape(len(x), -1).astype(args.dtype) / 255, y.astype(args.dtype)[:, None]]
    return (*out, classes)


def accuracy(model, x, y) -> float:
    """The fraction of images whose probability lands on the right side of 0.5."""
    with mg.no_grad():
        return float(((model(mg.tensor(x)) > 0.5).numpy() == (y > 0.5)).mean())


def main(argv=None):
    p = common.parser("cat_classifier", __doc__, epochs=None, batch_size=None, lr=0.0075)
    p.add_argument("--iterations", type=int, default=2500, help="gradient-descent steps on the "
                   "whole training set (default 2500)")
    p.add_argument("--init", choices=("course", "random"), default="course",
                   help="draw the initial weights exactly as the course does, or from minigrad's "
                   "generator seeded by --seed (default course)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float64",
                   help="floating-point type of the data and weights (default float64, as the "
                   "course computes)")
    p.add_argument("--folder", metavar="DIR", help="train on an image folder with two class "
                   "sub-folders instead (resized to 128x128; 80/20 train/test split)")
    args = common.parse(p, argv, iterations=300)
    if args.iterations < 1:
        p.error(f"--iterations must be positive, got {args.iterations}")
    if args.folder and not os.path.isdir(args.folder):
        p.error(f"--folder {args.folder}: no such folder")
    x_train, y_train, x_test, y_test, classes = load(args)
    print(f"cat_classifier: {len(x_train)} training / {len(x_test)} test images of "
          f"{x_train.shape[1]} values, classes {classes[0]!r} (0) and {classes[1]!r} (1); "
          f"{args.iterations} iterations of gradient descent, lr {args.lr}, {args.init} init, "
          f"{args.dtype}")

    run = common.Run(args, "cat_classifier")
    model = l_layer_model(x_train.shape[1])
    if args.dtype == "float64":
        model.double()
    initialise(model, args.init)
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = nn.BCELoss()
    x, y = mg.tensor(common.shard(args, x_train)), mg.tensor(common.shard(args, y_train))
    common.distribute(args, None, model)
    log = common.TrainLog(every=100)
    costs = {}
    for i in common.progress(range(args.iterations), args, "iterations"):
        probs = model(x)
        loss = loss_fn(probs, y)
        if i == 0:
            run.draw_graph(loss)
        optimizer.zero_grad()
        loss.backward()
        common.sync(args, model)
        optimizer.step()
        log.update(loss.item(), int(((probs > 0.5).numpy() == (y.numpy() > 0.5)).sum()), len(x))
        if i % 100 == 0 or i == args.iterations - 1:
            costs[i] = loss.item()
            print(f"cost after iteration {i}: {costs[i]:.6f}", flush=True)
            log.end_epoch(iteration=i, train_acc=accuracy(model, x_train, y_train),
                          test_acc=accuracy(model, x_test, y_test))

    last = 2400 if 2400 in costs else max(costs)
    train_acc, test_acc = accuracy(model, x_train, y_train), accuracy(model, x_test, y_test)
    run.save_checkpoint(model, optimizer, iterations=args.iterations)
    run.plot_curves(log, "cat classifier", x="iteration")
    run.finish(log,
               published=[("deeplearning.ai, 2500 iterations", "98.6% train / 80% test"),
                          ("cost", "0.7717 at iteration 0 -> 0.0929 at iteration 2400")],
               ours=[(f"{len(x_train)} / {len(x_test)} images, {args.iterations} iterations",
                      f"{common.percent(train_acc)} train / {common.percent(test_acc)} test"),
                     ("cost", f"{costs[0]:.4f} at iteration 0 -> {costs[last]:.4f} at "
                              f"iteration {last}")],
               train_acc=train_acc, test_acc=test_acc, costs=costs)


if __name__ == "__main__":
    main()
