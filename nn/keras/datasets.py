"""keras.datasets: mnist.load_data() and fashion_mnist.load_data(), read by minigrad's validated
loaders (minigrad.data; the same files, the same download and the same errors when missing)."""
from minigrad.data.datasets import FashionMNIST, MNIST


class _Dataset:
    def __init__(self, cls):
        self._cls = cls

    def load_data(self):
        """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28) and labels (N,)."""
        splits = self._cls(train=True), self._cls(train=False)
        return tuple((split.data, split.targets.astype("uint8")) for split in splits)


mnist = _Dataset(MNIST)
fashion_mnist = _Dataset(FashionMNIST)
