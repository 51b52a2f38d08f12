"""Transforms on image arrays, for one image or a whole (N, ...) batch at once.

Layouts follow torchvision: `Resize` works on uint8 channels-last images (H, W) or (H, W, C), as
loaded; `ToTensor` turns them into float32 channels-first (C, H, W) in [0, 1]; `Normalize`,
`RandomCrop` and `RandomHorizontalFlip` then act on channels-first images (the last two axes are
height and width). Results are NumPy arrays; the DataLoader wraps each batch into Tensors.
Random transforms draw from their own generator (given a `seed`), or else from minigrad's, so
`mg.manual_seed` makes them repeatable.
"""
from .. import backend as B
from ..backend import xp
from ._io import optional_import
from .dataset import as_array, make_rng


def apply_batch(transform, xs):
    """Apply `transform` to a batch: in one call if it is a Transform, else image by image."""
    if hasattr(transform, "apply_batch"):
        return transform.apply_batch(xs)
    return xp.stack([as_array(transform(x)) for x in xs])


class Transform:
    """Base class: subclasses define `apply_batch(xs)` on an (N, ...) array; calling the transform
    on one image runs it as a batch of one."""

    def __call__(self, x):
        return self.apply_batch(as_array(x)[None])[0]

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply `transforms` in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def apply_batch(self, xs):
        for t in self.transforms:
            xs = apply_batch(t, xs)
        return xs


class ToTensor(Transform):
    """uint8 (H, W) or (H, W, C) -> float32 (C, H, W) in [0, 1] (1 channel for (H, W)), like
    torchvision; other dtypes are converted to float32 without scaling."""

    def apply_batch(self, xs):
        xs = as_array(xs)
        if xs.ndim not in (3, 4):
            raise ValueError(f"ToTensor: expected (H, W) or (H, W, C) images; got a batch of shape "
                             f"{xs.shape}, i.e. images of shape {xs.shape[1:]}")
        out = xs[:, None] if xs.ndim == 3 else xs.transpose(0, 3, 1, 2)
        out = xp.ascontiguousarray(out, dtype=B.float32)
        return out / B.float32(255) if xs.dtype == xp.uint8 else out


class Rescale(Transform):
    """x * scale + offset as float32, e.g. Rescale(1 / 255, -0.5) maps bytes to [-0.5, 0.5]."""

    def __init__(self, scale: float, offset: float = 0.0):
        self.scale, self.offset = float(scale), float(offset)

    def apply_batch(self, xs):
        return as_array(xs).astype(B.float32) * B.float32(self.scale) + B.float32(self.offset)


class Normalize(Transform):
    """(x - mean) / std per channel of channels-first images; one value applies to all channels."""

    def __init__(self, mean, std):
        self.mean, self.std = (xp.asarray(v, dtype=B.float32).reshape(-1) for v in (mean, std))
        if self.mean.size != self.std.size or self.mean.size == 0:
            raise ValueError(f"Normalize: mean has {self.mean.size} values and std {self.std.size}; "
                             "they must match (one per channel)")
        if (self.std <= 0).any():
            raise ValueError(f"Normalize: std must be positive, got {self.std.tolist()}")

    def apply_batch(self, xs):
        xs = as_array(xs)
        c = self.mean.size
        if c > 1 and (xs.ndim < 4 or xs.shape[1] != c):
            raise ValueError(f"Normalize: {c} channel means for images of shape {xs.shape[1:]}; "
                             f"expected channels-first (C={c}, H, W) images, e.g. after ToTensor")
        shape = (1, c) + (1,) * (xs.ndim - 2) if c > 1 else ()
        return (xs.astype(B.float32) - self.mean.reshape(shape)) / self.std.reshape(shape)


def _pair(size, name):
    size = (size, size) if isinstance(size, (int, xp.integer)) else tuple(size)
    if len(size) != 2 or any(int(s) < 1 for s in size):
        raise ValueError(f"{name}: size must be a positive int or (height, width), got {size}")
    return int(size[0]), int(size[1])


class RandomCrop(Transform):
    """A random (height, width) window of each image after zero-padding `padding` pixels per side."""

    def __init__(self, size, padding: int = 0, seed=None):
        self.size, self.padding = _pair(size, "RandomCrop"), int(padding)
        if self.padding < 0:
            raise ValueError(f"RandomCrop: padding must be >= 0, got {padding}")
        self._rng = make_rng(seed) if seed is not None else None

    def apply_batch(self, xs):
        xs, (h, w), p = as_array(xs), self.size, self.padding
        if xs.ndim < 3:
            raise ValueError(f"RandomCrop: expected images with height and width as the last two "
                             f"axes; got a batch of shape {xs.shape}")
        xs = xp.pad(xs, [(0, 0)] * (xs.ndim - 2) + [(p, p), (p, p)])
        n, hp, wp = xs.shape[0], xs.shape[-2], xs.shape[-1]
        if hp < h or wp < w:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the padded image "
                             f"({hp}, {wp}) (batch of shape {xs.shape})")
        rng = self._rng or make_rng()
        top, left = rng.integers(0, hp - h + 1, n), rng.integers(0, wp - w + 1, n)
        # gather with (N, h, w) index grids, the image axes moved next to N and back
        moved = xp.moveaxis(xs, (-2, -1), (1, 2))
        rows, cols = top[:, None, None] + xp.arange(h)[:, None], left[:, None, None] + xp.arange(w)
        out = moved[xp.arange(n)[:, None, None], rows, cols]
        return xp.ascontiguousarray(xp.moveaxis(out, (1, 2), (-2, -1)))


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right (its last axis) with probability p."""

    def __init__(self, p: float = 0.5, seed=None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p, self._rng = float(p), make_rng(seed) if seed is not None else None

    def apply_batch(self, xs):
        xs = as_array(xs)
        flip = (self._rng or make_rng()).random(xs.shape[0]) < self.p
        return xp.where(flip.reshape((-1,) + (1,) * (xs.ndim - 1)), xs[..., ::-1], xs)


class Resize(Transform):
    """Resize uint8 (H, W) or (H, W, C) images to size = (height, width) with Pillow (bilinear)."""

    def __init__(self, size):
        self.size = _pair(size, "Resize")

    def apply_batch(self, xs):
        xs = as_array(xs)
        if xs.dtype != xp.uint8 or xs.ndim not in (3, 4):
            raise ValueError(f"Resize: expected uint8 (H, W) or (H, W, C) images; got a batch of "
                             f"shape {xs.shape} and dtype {xs.dtype}")
        image = optional_import("PIL.Image", "Resize")
        h, w = self.size
        return xp.stack([xp.asarray(image.fromarray(x).resize((w, h), image.BILINEAR)) for x in xs])
