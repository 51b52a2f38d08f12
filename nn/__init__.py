"""Neural-network building blocks: modules, layers, losses, initialisers and the functional ops
they call (`nn.functional`)."""
from . import functional, init, utils
from .layers import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout,
                     Flatten, Identity, LeakyReLU, Linear, MaxPool2d, ReLU, Sigmoid, Softmax, Tanh)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, ModuleList, Parameter, Sequential

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d",
    "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout", "Flatten", "Identity", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "MSELoss", "functional", "init", "utils"]

# --- Keras-style API (nn/model.py, nn/callbacks.py) -----------------------------------------------
# Dense, Conv2D, MaxPooling2D and Model's compile/fit/evaluate/predict are added below this line.
from . import callbacks
from .callbacks import (Callback, CSVLogger, EarlyStopping, History, LearningRateScheduler,
                        ModelCheckpoint)
from .keras_layers import Conv2D, Dense, MaxPooling2D
from .model import Model

__all__ += ["Model", "Dense", "Conv2D", "MaxPooling2D", "callbacks", "Callback", "History",
            "ModelCheckpoint", "EarlyStopping", "LearningRateScheduler", "CSVLogger"]

# --- attention, Transformer, normalisation and upsampling layers (nn/transformer.py, layers_ext.py)
from .layers_ext import (GELU, ConvTranspose2d, GroupNorm, LayerNorm, SiLU, Softplus, Unflatten,
                         Upsample)
from .transformer import (MultiheadAttention, TransformerDecoderLayer, TransformerEncoder,
                          TransformerEncoderLayer)

__all__ += ["LayerNorm", "GroupNorm", "GELU", "SiLU", "Softplus", "Unflatten", "ConvTranspose2d",
            "Upsample", "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
            "TransformerDecoderLayer"]

# --- more activations, losses, distances, unfold/fold, channel dropout, padding (layers_more.py) --
from .layers_more import (CELU, ELU, SELU, ConstantPad2d, CosineSimilarity, Dropout2d, Fold,
                          Hardsigmoid, Hardswish, Hardtanh, HuberLoss, KLDivLoss, L1Loss, Mish,
                          PairwiseDistance, ReflectionPad2d, ReLU6, ReplicationPad2d,
                          SmoothL1Loss, Unfold, ZeroPad2d)

__all__ += ["ELU", "CELU", "SELU", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Mish",
            "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "CosineSimilarity",
            "PairwiseDistance", "Unfold", "Fold", "Dropout2d", "ZeroPad2d", "ConstantPad2d",
            "ReflectionPad2d", "ReplicationPad2d"]

# --- embeddings and recurrent layers (nn/recurrent.py) ---------------------------------------------
from .recurrent import GRU, LSTM, RNN, Embedding, GRUCell, LSTMCell, RNNCell

__all__ += ["Embedding", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]
