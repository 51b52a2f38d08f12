"""Data pipeline: datasets, a seeded resumable DataLoader, array transforms and real data sets."""
from . import datasets, transforms
from .dataset import Dataset, Subset, TensorDataset, random_split
from .loader import DataLoader

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "datasets",
           "transforms"]
