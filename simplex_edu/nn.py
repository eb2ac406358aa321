"""Tiny models the lessons train: small enough to read top to bottom and to train on a CPU in seconds."""

from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Sequential):
    """A multilayer perceptron: Linear → activation → … → Linear, sizes given as a list."""

    def __init__(self, sizes: list[int], activation: type[nn.Module] = nn.ReLU):
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(fan_in, fan_out))
            if i < len(sizes) - 2:
                layers.append(activation())
        super().__init__(*layers)
        self.sizes = list(sizes)


class GRUReadout(nn.Module):
    """A GRU over token embeddings with a linear readout at every step (next-token logits)."""

    def __init__(self, vocab_size: int, hidden_size: int = 32, output_size: int | None = None):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, output_size or vocab_size)

    def forward(self, tokens: torch.Tensor, return_hidden: bool = False):
        """Logits of shape (batch, length, outputs); also the hidden states if asked."""
        hidden, _ = self.gru(self.embed(tokens))
        logits = self.readout(hidden)
        return (logits, hidden) if return_hidden else logits


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
