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


class _AttentionBlock(nn.Module):
    """Pre-norm causal self-attention followed by a pre-norm MLP, each with a residual connection."""

    def __init__(self, d_model: int, n_heads: int, mlp_ratio: int):
        super().__init__()
        self.n_heads = n_heads
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, mlp_ratio * d_model), nn.GELU(),
                                 nn.Linear(mlp_ratio * d_model, d_model))

    def forward(self, h: torch.Tensor, bias: torch.Tensor, cache: list | None, layer: int) -> torch.Tensor:
        batch, length, d_model = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(batch, length, 3, self.n_heads, -1).permute(2, 0, 3, 1, 4)
        if cache is not None:  # keys and values of earlier tokens are reused, not recomputed
            k, v = _append_to_cache(cache, layer, k, v)
        # Written out rather than scaled_dot_product_attention: with an ALiBi bias and these tiny shapes the
        # plain version is faster on a CPU, and it reads as the formula softmax(q·kᵀ/√d + bias)·v.
        scores = q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5 + bias
        attended = scores.softmax(-1) @ v
        h = h + self.out(attended.transpose(1, 2).reshape(batch, length, d_model))
        return h + self.mlp(self.norm2(h))


def _append_to_cache(cache: list, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Store new keys and values in the layer's buffers and return all of them so far.

    Buffers double in length when full, so decoding n tokens copies O(n) numbers rather than O(n²).
    """
    if cache[layer] is None:
        cache[layer] = (k.new_empty(*k.shape[:2], 0, k.shape[3]), v.new_empty(*v.shape[:2], 0, v.shape[3]), 0)
    keys, values, used = cache[layer]
    new_used = used + k.shape[2]
    if new_used > keys.shape[2]:
        grown = [t.new_empty(*t.shape[:2], max(2 * t.shape[2], new_used), t.shape[3]) for t in (keys, values)]
        grown[0][:, :, :used], grown[1][:, :, :used] = keys[:, :, :used], values[:, :, :used]
        keys, values = grown
    keys[:, :, used:new_used], values[:, :, used:new_used] = k, v
    cache[layer] = (keys, values, new_used)
    return keys[:, :, :new_used], values[:, :, :new_used]


class TinyTransformer(nn.Module):
    """A small causal transformer with ALiBi positions (no position embedding), so it runs on any length.

    ALiBi adds ``-slope × distance`` to each attention score, one slope per head: what a head sees depends
    only on how far back a token is, never on its absolute position, so lengths beyond training are defined.
    Pass ``cache=[None] * n_layers`` and feed tokens a few at a time to decode with a key–value cache.
    """

    def __init__(self, vocab_size: int, d_model: int = 64, n_layers: int = 2, n_heads: int = 4,
                 output_size: int | None = None, mlp_ratio: int = 4):
        super().__init__()
        self.d_model, self.n_layers, self.n_heads, self.mlp_ratio = d_model, n_layers, n_heads, mlp_ratio
        self.embed = nn.Embedding(vocab_size, d_model)
        self.blocks = nn.ModuleList(_AttentionBlock(d_model, n_heads, mlp_ratio) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        self.readout = nn.Linear(d_model, output_size or vocab_size)
        slopes = 2.0 ** (-8.0 * torch.arange(1, n_heads + 1) / n_heads)
        self.register_buffer("slopes", slopes, persistent=False)

    def attention_bias(self, past: int, length: int, device: torch.device) -> torch.Tensor:
        """The bias added to every attention score: ALiBi's −slope × distance per head, −inf on future tokens."""
        distance = (torch.arange(past, past + length, device=device)[:, None]
                    - torch.arange(past + length, device=device)[None, :])
        bias = -self.slopes[:, None, None] * distance.clamp(min=0)
        return bias.masked_fill(distance < 0, float("-inf"))  # causal: never look ahead

    def forward(self, tokens: torch.Tensor, cache: list | None = None, return_residual: bool = False):
        """Logits of shape (batch, length, outputs); a given ``cache`` list is extended in place.

        With ``return_residual`` also the residual stream: a list of ``n_layers + 1`` tensors (batch, length,
        d_model), the token embeddings and then the stream after each block (before the final norm).
        """
        past = cache[0][2] if cache is not None and cache[0] is not None else 0
        bias = self.attention_bias(past, tokens.shape[1], tokens.device)
        h = self.embed(tokens)
        residual = [h]
        for layer, block in enumerate(self.blocks):
            h = block(h, bias, cache, layer)
            residual.append(h)
        logits = self.readout(self.norm(h))
        return (logits, residual) if return_residual else logits
