"""keras.callbacks: fit's callbacks (nn/callbacks.py) under Keras's signatures; ModelCheckpoint
saves the model with Model.save (or save_weights), as Keras does."""
from .. import callbacks as _callbacks
from ..callbacks import Callback, CSVLogger, History, LearningRateScheduler  # noqa: F401


class ModelCheckpoint(_callbacks.ModelCheckpoint):
    """Save the model to `filepath` (which may name {epoch} and logs) after each epoch, or only
    when `monitor` improves with save_best_only."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch"):
        super().__init__(filepath, monitor, save_best_only, mode, save_freq)
        self.verbose, self.save_weights_only = verbose, save_weights_only

    def _write(self, path, epoch):
        (self.model.save_weights if self.save_weights_only else self.model.save)(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saving model to {path}")


class EarlyStopping(_callbacks.EarlyStopping):
    """Stop when `monitor` has not improved by more than min_delta for `patience` epochs."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 restore_best_weights=False):
        super().__init__(monitor, patience, min_delta, mode, restore_best_weights)
        self.verbose = verbose
