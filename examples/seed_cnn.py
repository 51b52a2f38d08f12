"""The seed CNN on MNIST: Conv 3x3 x8 (no bias) -> MaxPool 2 -> Dense 1352 -> 10 with softmax,
trained one image at a time (SGD, lr 0.005) on inputs (x / 255) - 0.5.

Published figures for this model and recipe:
  first 1000 training / 1000 test images, 3 epochs: 78% test accuracy (Victor Zhou, "CNNs, Part 2:
  Training a Convolutional Neural Network", a NumPy implementation from scratch);
  all 60000 / 10000 images, 3 epochs: 97.4% (the same model in Keras, "Keras for Beginners").

  python examples/seed_cnn.py --train 1000 --test 1000 --epochs 3
  python examples/seed_cnn.py --epochs 3
"""
import _common as common

import minigrad as mg
import nn
from minigrad import optim
from minigrad.data import DataLoader, TensorDataset


def seed_cnn():
    """The model, initialised like the reference: filters randn / 9, dense weights randn / 1352."""
    model = nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, bias=False),     # (N, 1, 28, 28) -> (N, 8, 26, 26)
        nn.MaxPool2d(2),                                # -> (N, 8, 13, 13)
        nn.Flatten(),                                   # -> (N, 1352)
        nn.Linear(13 * 13 * 8, 10),                     # -> (N, 10) logits; softmax is in the loss
    )
    nn.init.normal_(model[0].weight, std=1 / 9)
    nn.init.normal_(model[3].weight, std=1 / 1352)
    nn.init.zeros_(model[3].bias)
    return model


def prepare(dataset, n):
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [-0.5, 0.5], and the labels."""
    x = common.first(dataset.data, n)[:, None].astype("float32") / 255 - 0.5
    return x, common.first(dataset.targets, n)


def main(argv=None):
    p = common.parser("seed_cnn", __doc__, epochs=3, batch_size=1, lr=0.005)
    args = common.parse(p, argv, limit=300, epochs=1)
    train_set, test_set = common.mnist(args)
    x_train, y_train = prepare(train_set, args.train)
    x_test, y_test = prepare(test_set, args.test)
    common.check_labels(y_train, 10, "MNIST training labels")
    epochs = common.count(args.epochs, "epoch")
    print(f"seed_cnn: {len(x_train)} training / {len(x_test)} test images, {epochs}, "
          f"batch {args.batch_size}, SGD lr {args.lr}, seed {args.seed}")

    run = common.Run(args, "seed_cnn")
    model = seed_cnn()
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True,
                        seed=args.seed)
    loader = common.distribute(args, loader, model)
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
            if log.step % 100 == 0:
                bar.set_postfix(log.postfix(), refresh=False)
        record = log.end_epoch(test_acc=common.accuracy(model, x_test, y_test))
        print(f"{common.epoch_line(epoch, record)}  ({run.elapsed():.0f} s)")

    run.save_checkpoint(model, optimizer, epoch=args.epochs)
    run.plot_curves(log, "seed CNN")
    images = mg.tensor(x_train[:1], requires_grad=True)    # so the picture starts at the images
    run.draw_graph(loss_fn(model(images), mg.tensor(y_train[:1])), inputs={"images": images})
    test_acc = log.epochs[-1]["test_acc"]
    run.finish(log,
               published=[("1000 / 1000 images, 3 epochs (NumPy from scratch)", "78%"),
                          ("60000 / 10000 images, 3 epochs (Keras)", "97.4%")],
               ours=[(f"{len(x_train)} / {len(x_test)} images, {epochs}",
                      common.percent(test_acc))],
               test_acc=test_acc)


if __name__ == "__main__":
    main()
