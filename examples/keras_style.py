"""The seed's Keras script, run by minigrad's Keras namespace (nn.keras) with only its import lines
changed: the CNN of "Keras for Beginners" trained one image at a time, as in the seed.

    from keras.models import Sequential            from nn.keras.models import Sequential
    from keras.layers import Conv2D, ...           from nn.keras.layers import Conv2D, ...
    from keras.utils import to_categorical         from nn.keras.utils import to_categorical
    from keras.optimizers import SGD               from nn.keras.optimizers import SGD

The seed's four `mnist` package calls (mnist.train_images() ...) become
keras.datasets.mnist.load_data(), which returns the same uint8 arrays. Images are channels_last,
(N, 28, 28, 1), as in Keras. The flags --epochs, --batch-size and --lr default to the script's
3, 1 and .005; --train / --test cut the data for a shorter run. The harness adds two arguments to
the script's fit: verbose (for --no-progress) and distributed (for --distributed under mpirun,
e.g. mpirun -n 2 python examples/keras_style.py --distributed --batch-size 2).

Published figure: the same script in Keras reaches 97.4% test accuracy after 3 epochs.

  python examples/keras_style.py
  python examples/keras_style.py --quick
"""
import os

import numpy as np
import _common as common

import minigrad as mg
from nn import keras
from nn.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
from nn.keras.models import Sequential
from nn.keras.optimizers import SGD
from nn.keras.utils import to_categorical


def main(argv=None):
    p = common.parser("keras_style", __doc__, epochs=3, batch_size=1, lr=0.005)
    args = common.parse(p, argv, limit=300, epochs=2)
    if args.data is not None:
        os.environ["MINIGRAD_DATA"] = common.root(args, "mnist")
    keras.utils.set_random_seed(args.seed)
    run = common.Run(args, "keras_style")
    with common.loading("MNIST"):
        (train_images, train_labels), (test_images, test_labels) = \
            keras.datasets.mnist.load_data()
    train_images, train_labels = (common.first(a, args.train) for a in (train_images, train_labels))
    test_images, test_labels = (common.first(a, args.test) for a in (test_images, test_labels))
    print(f"keras_style: {len(train_images)} training / {len(test_images)} test images, "
          f"{common.count(args.epochs, 'epoch')}, batch {args.batch_size}, SGD lr {args.lr}, "
          f"seed {args.seed}")

    # --- the seed's script from here on (its literals 1, 3 and .005 are the flags' defaults) ---
    # Normalize the images.
    train_images = (train_images / 255) - 0.5
    test_images = (test_images / 255) - 0.5

    # Reshape the images.
    train_images = np.expand_dims(train_images, axis=3)
    test_images = np.expand_dims(test_images, axis=3)

    model = Sequential([
        Conv2D(8, 3, input_shape=(28, 28, 1), use_bias=False),
        MaxPooling2D(pool_size=2),
        Flatten(),
        Dense(10, activation='softmax'),
    ])

    model.compile(SGD(lr=args.lr), loss='categorical_crossentropy', metrics=['accuracy'])

    history = model.fit(
        train_images,
        to_categorical(train_labels),
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_data=(test_images, to_categorical(test_labels)),
        verbose=0 if args.no_progress else "auto",
        distributed=args.distributed,
    )
    # --- end of the seed's script ---

    h = history.history
    log = common.TrainLog(every=1)
    steps = -(-len(train_images) // args.batch_size)
    for i in range(len(history.epoch)):
        log.curve.append(((i + 1) * steps, h["loss"][i]))
        log.epochs.append({"epoch": i + 1, "train_loss": h["loss"][i],
                           "train_acc": h["accuracy"][i], "test_loss": h["val_loss"][i],
                           "test_acc": h["val_accuracy"][i]})
        print(common.epoch_line(i + 1, log.epochs[-1]))
    model.summary()
    run.save_checkpoint(model, model.optimizer)
    run.plot_curves(log, "seed CNN, Keras script")
    if mg.distributed.rank == 0:                    # --distributed: rank 0 alone writes files
        model.save(run.path("model.keras"))
        history.plot(run.path("history.png"))
        try:
            model.plot(path=run.path("graph.svg"))  # Keras's plot_model: one box per layer
        except (RuntimeError, ImportError) as e:
            print(f"note: graph.svg not drawn: {str(e).splitlines()[0]}")
    test_acc = h["val_accuracy"][-1]
    run.finish(log,
               published=[("the same script in Keras, 60000 / 10000 images, 3 epochs", "97.4%")],
               ours=[(f"{len(train_images)} / {len(test_images)} images, "
                      f"{common.count(args.epochs, 'epoch')}, batch {args.batch_size}",
                      common.percent(test_acc))],
               test_acc=test_acc, history=h)


if __name__ == "__main__":
    main()
