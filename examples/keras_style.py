"""The seed CNN (examples/seed_cnn.py) written the Keras way: Sequential + compile + fit.

A Keras script ports line by line; the one difference is that minigrad's images are channels-first,
so input_shape is (1, 28, 28) rather than (28, 28, 1). Labels stay class indices ('cross_entropy'
also takes one-hot rows, like Keras's categorical_crossentropy).

    Keras                                           minigrad
    Sequential([                                    nn.Sequential([
      Conv2D(8, 3, input_shape=(28, 28, 1),           nn.Conv2D(8, 3, input_shape=(1, 28, 28),
             use_bias=False),                                   use_bias=False),
      MaxPooling2D(pool_size=2),                      nn.MaxPooling2D(pool_size=2),
      Flatten(),                                      nn.Flatten(),
      Dense(10, activation='softmax')])               nn.Dense(10, activation="softmax")])
    model.compile(SGD(learning_rate=0.005),         model.compile("sgd", lr=0.005,
      loss='categorical_crossentropy',                loss="cross_entropy",
      metrics=['accuracy'])                           metrics=["accuracy"])
    model.fit(x, y, batch_size=1, epochs=3,         model.fit(x, y, batch_size=1, epochs=3,
      validation_data=(x_test, y_test))               validation_data=(x_test, y_test))

Published figure: the same model in Keras reaches 97.4% test accuracy on MNIST after 3 epochs.

  python examples/keras_style.py
  python examples/keras_style.py --optimizer adam --batch-size 32
"""
import _common as common

import nn
from nn.callbacks import Callback, ModelCheckpoint


class LossCurve(Callback):
    """Keep the running training loss every `every` batches, for the curves picture."""

    def __init__(self, log: common.TrainLog):
        self.log, self.steps = log, 0

    def on_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.steps % self.log.every == 0:
            self.log.curve.append((self.steps, logs["loss"]))


def main(argv=None):
    p = common.parser("keras_style", __doc__, epochs=3, batch_size=1, lr=0.005)
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                   help="compile's optimizer (default sgd)")
    args = common.parse(p, argv, limit=300, epochs=2)
    train_set, test_set = common.mnist(args)
    common.check_labels(train_set.targets, 10, "MNIST training labels")
    x_train = common.first(train_set.data, args.train)[:, None].astype("float32") / 255 - 0.5
    y_train = common.first(train_set.targets, args.train)
    x_test = common.first(test_set.data, args.test)[:, None].astype("float32") / 255 - 0.5
    y_test = common.first(test_set.targets, args.test)
    epochs = common.count(args.epochs, "epoch")
    print(f"keras_style: {len(x_train)} training / {len(x_test)} test images, "
          f"{epochs}, batch {args.batch_size}, {args.optimizer} lr {args.lr}, seed {args.seed}")

    run = common.Run(args, "keras_style")
    model = nn.Sequential([
        nn.Conv2D(8, 3, input_shape=(1, 28, 28), use_bias=False),
        nn.MaxPooling2D(pool_size=2),
        nn.Flatten(),
        nn.Dense(10, activation="softmax"),
    ])
    model.compile(args.optimizer, lr=args.lr, loss="cross_entropy", metrics=["accuracy"])
    steps = -(-len(x_train) // args.batch_size)
    log = common.TrainLog(every=max(1, steps // 20))
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x_test, y_test), seed=args.seed,
                        verbose=0 if args.no_progress else 1, distributed=args.distributed,
                        callbacks=[ModelCheckpoint(run.path("checkpoint.npz")), LossCurve(log)])
    h = history.history
    for i in range(len(history.epoch)):
        log.epochs.append({"epoch": i + 1, "train_loss": h["loss"][i],
                           "train_acc": h["accuracy"][i], "test_loss": h["val_loss"][i],
                           "test_acc": h["val_accuracy"][i]})
        print(f"epoch {i + 1}: loss {h['loss'][i]:.4f}, accuracy "
              f"{common.percent(h['accuracy'][i])}, val_loss {h['val_loss'][i]:.4f}, "
              f"val_accuracy {common.percent(h['val_accuracy'][i])}")
    model.summary()
    history.plot(run.path("history.png"))
    run.plot_curves(log, "seed CNN, Keras style")
    try:
        model.plot(path=run.path("graph.svg"))      # Keras's plot_model: one box per layer
    except (RuntimeError, ImportError) as e:
        print(f"note: graph.svg not drawn: {str(e).splitlines()[0]}")
    test_acc = h["val_accuracy"][-1]
    run.finish(log,
               published=[("the same model in Keras, 60000 / 10000 images, 3 epochs", "97.4%")],
               ours=[(f"{len(x_train)} / {len(x_test)} images, {epochs}, "
                      f"{args.optimizer}, batch {args.batch_size}", common.percent(test_acc))],
               test_acc=test_acc, history=h)


if __name__ == "__main__":
    main()
