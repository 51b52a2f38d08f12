"""Keras's namespace over minigrad: `from nn import keras` and `from nn.keras import layers` stand
in for `import keras` and `from keras import layers`, so a Keras script ports with only its
import lines changed. docs/keras-style.md lists what still differs from Keras.

Size budget: 680 code lines
"""
from . import callbacks, datasets, layers, losses, metrics, models, optimizers, utils
from .layers import Input
from .models import Model, Sequential

__all__ = ["Sequential", "Model", "Input", "layers", "models", "optimizers", "losses", "metrics",
           "callbacks", "utils", "datasets"]
