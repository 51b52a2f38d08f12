"""Regenerate the graph pictures of the docs gallery: python docs/gallery/make_gallery.py

Each picture is one small forward (and, where gradients are shown, backward) pass drawn with
minigrad.viz; the SVGs are written next to this script. Needs Graphviz (`dot`) and the graphviz
Python package (pip install "minigrad[viz]").
"""
from pathlib import Path

import minigrad as mg
import nn
from minigrad import viz
from nn import functional as F

HERE = Path(__file__).parent


def mlp_step():
    """A two-layer perceptron, its cross-entropy loss, and the gradient norms after backward."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    x, y = mg.randn(8, 4), mg.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward(retain_graph=True)
    viz.draw(loss, path=HERE / "mlp_step.svg", inputs={"x": x}, show_grad=True)


class SmallConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 5 * 5, 10)

    def forward(self, x):
        h = self.pool(F.relu(self.conv(x)))
        return self.fc(h.flatten(1))


def conv_step():
    """conv -> relu -> max-pool -> linear -> cross-entropy, with composites collapsed and expanded.
    The images require grad so that the graph shows them entering conv2d with their own shape."""
    mg.manual_seed(0)
    model = SmallConvNet()
    images, labels = mg.randn(2, 1, 12, 12).requires_grad_(), mg.tensor([3, 7])
    loss = nn.CrossEntropyLoss()(model(images), labels)
    viz.draw(loss, path=HERE / "conv_step.svg", inputs={"images": images})
    viz.draw(loss, path=HERE / "conv_step_expanded.svg", inputs={"images": images}, expand=True)


class ResidualBlock(nn.Module):
    """conv-bn-relu-conv-bn plus the input, then relu (ResNet's basic block)."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + x)


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.block1 = ResidualBlock(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        h = self.block1(F.relu(self.stem(x)))
        return self.fc(self.pool(h).flatten(1))


def residual_block():
    """A stem, one residual block and a classifier: module clusters nest (TinyResNet/block1/bn1)."""
    mg.manual_seed(0)
    model = TinyResNet()
    images, labels = mg.randn(2, 3, 8, 8).requires_grad_(), mg.tensor([1, 4])
    loss = nn.CrossEntropyLoss()(model(images), labels)
    viz.draw(loss, path=HERE / "residual_block.svg", inputs={"images": images})
    viz.draw(loss, path=HERE / "residual_block_modules.svg", inputs={"images": images}, depth=2)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        h = self.pool1(F.relu(self.conv1(x)))
        h = self.pool2(F.relu(self.conv2(h))).flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(h)))))


def lenet5():
    """One LeNet-5 training step, and its layers only (what Model.plot draws)."""
    mg.manual_seed(0)
    model = LeNet5()
    images, labels = mg.randn(4, 1, 28, 28).requires_grad_(), mg.tensor([0, 1, 2, 3])
    loss = nn.CrossEntropyLoss()(model(images), labels)
    viz.draw(loss, path=HERE / "lenet5_step.svg", inputs={"images": images})
    viz.draw(loss, path=HERE / "lenet5_layers.svg", inputs={"images": images}, depth=2)


if __name__ == "__main__":
    for make in (mlp_step, conv_step, residual_block, lenet5):
        make()
    print("wrote", ", ".join(sorted(p.name for p in HERE.glob("*.svg"))))
