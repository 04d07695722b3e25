"""Squeeze-and-excitation: a channel gate computed from the pooled features."""

import torch
import torch.nn.functional as F
from torch import nn


class SEBlock(nn.Module):
    def __init__(self, channels, reduction=4):
        super().__init__()
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.fc2 = nn.Linear(channels // reduction, channels)

    def forward(self, x):
        b, c, _, _ = x.size()
        w = x.mean((2, 3))
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(w))))
        return x * w.view(b, c, 1, 1)


class SEConvNet(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.se1 = SEBlock(16)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.se2 = SEBlock(32, reduction=8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.se1(F.relu(self.conv1(x)))
        x = self.se2(F.relu(self.conv2(x)))
        return self.fc(self.pool(x).flatten(1))
