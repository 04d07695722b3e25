"""A small ViT-style encoder over tokens: a learned class token and positional embedding
held as nn.Parameters, a non-persistent buffer, torch's TransformerEncoder."""

import torch
from torch import nn


class TokenTransformer(nn.Module):
    def __init__(self, vocab=50, length=6, dim=16, heads=2, layers=2, num_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, length + 1, dim) * 0.02)
        self.register_buffer("scale", torch.linspace(0.5, 1.5, length + 1).view(1, -1, 1),
                             persistent=False)
        layer = nn.TransformerEncoderLayer(dim, heads, dim * 2, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        x = self.embed(tokens)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1)
        x = (x + self.pos_embed) * self.scale
        x = self.encoder(x)
        return self.head(self.norm(x[:, 0]))
