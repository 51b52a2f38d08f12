"""ONNX interop: `export` writes the recorded graph of a forward pass as an ONNX model.

export.py holds the exporter (its docstring says how composites map to ONNX operators and how
the rest is lowered primitive by primitive).

Size budget: 600 code lines
"""
from .export import MIN_OPSET, export

__all__ = ["export", "MIN_OPSET"]
