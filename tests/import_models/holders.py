"""What a model holds besides layers it calls once: tied weights, a submodule forward never
uses, tensors held directly (a learned scale, a persistent and a non-persistent buffer), a
layer called twice, and a stack of identical blocks in an nn.ModuleList."""

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        return x + self.fc(self.norm(x))


class TiedLanguageModel(nn.Module):
    def __init__(self, vocab=20, dim=8, depth=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.act = nn.GELU()
        self.decoder = nn.Linear(dim, vocab, bias=False)
        self.decoder.weight = self.embed.weight
        self.spare_head = nn.Linear(dim, 2)  # kept for fine-tuning, never called here
        self.scale = nn.Parameter(torch.ones(dim))
        self.register_buffer("offset", torch.arange(dim, dtype=torch.float32) / dim)
        self.register_buffer("mask", (torch.arange(dim) % 2).float(), persistent=False)

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        x = self.act(x * self.scale + self.offset)
        x = self.act(x) * self.mask
        return self.decoder(x)
