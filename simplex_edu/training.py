"""One training loop for every lesson: seeded, device-aware, with a progress bar and a loss history."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm


@dataclass
class TrainConfig:
    """Everything that decides a training run; two runs with the same config give the same model."""

    steps: int = 500
    lr: float = 3e-3
    batch_size: int = 256
    weight_decay: float = 0.0
    seed: int = 0
    lr_drop_at: float | None = None  # fraction of the steps after which the learning rate falls tenfold
    progress: bool = True
    description: str = "training"


@dataclass
class History:
    """What a training run leaves behind: the loss at every step and the wall time it took."""

    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final_loss(self) -> float:
        """Mean loss over the last tenth of training (less noisy than the last step)."""
        tail = self.losses[-max(1, len(self.losses) // 10):]
        return float(np.mean(tail))


class AdamW:
    """torch.optim.AdamW's update, step for step (its single-tensor path, the one it takes on the CPU).

    Why not torch.optim: its optimizers import torch.compile's machinery (torch._dynamo: ~800 modules, ~70 MB
    in every kernel, measured) on first use, and the course never compiles. Tests pin this to torch's results.
    """

    def __init__(self, params, lr: float, weight_decay: float = 0.0, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.weight_decay, self.betas, self.eps, self.steps = lr, weight_decay, betas, eps, 0
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]

    def zero_grad(self) -> None:
        """Drop every gradient (as ``set_to_none=True``)."""
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One AdamW step on every parameter that has a gradient."""
        beta1, beta2 = self.betas
        self.steps += 1
        step_size = self.lr / (1 - beta1 ** float(self.steps))
        correction2_sqrt = (1 - beta2 ** float(self.steps)) ** 0.5
        for param, exp_avg, exp_avg_sq in zip(self.params, self.exp_avg, self.exp_avg_sq):
            if param.grad is None:
                continue
            grad = param.grad
            if self.weight_decay != 0:
                param.mul_(1 - self.lr * self.weight_decay)
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            param.addcdiv_(exp_avg, (exp_avg_sq.sqrt() / correction2_sqrt).add_(self.eps), value=-step_size)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch; return a torch generator to draw training data from."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def default_device() -> torch.device:
    """CUDA when present, else the CPU: the course never requires a GPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train(
    model: torch.nn.Module,
    make_batch: Callable[[int, torch.Generator], tuple],
    loss_fn: Callable[..., torch.Tensor],
    config: TrainConfig,
    on_step: Callable[[int, torch.nn.Module], None] | None = None,
) -> History:
    """Train ``model`` for ``config.steps`` AdamW steps on ``loss_fn(model, *make_batch(batch_size, gen))``.

    ``on_step(step, model)``, if given, runs before each step (e.g. to record a validation error).
    """
    generator = seed_everything(config.seed)
    device = next(model.parameters()).device
    optimizer = AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history = History()
    start = time.perf_counter()
    model.train()
    bar = tqdm(range(config.steps), desc=config.description, disable=not config.progress, leave=False)
    drop_step = config.steps if config.lr_drop_at is None else int(config.lr_drop_at * config.steps)
    for step in bar:
        if step == drop_step:  # a lower rate at the end stops the answers jittering from step to step
            optimizer.lr = config.lr / 10
        if on_step is not None:
            on_step(step, model)
            model.train()
        batch = tuple(t.to(device) if isinstance(t, torch.Tensor) else t
                      for t in make_batch(config.batch_size, generator))
        loss = loss_fn(model, *batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.losses.append(loss.item())
        if step % 50 == 0:
            bar.set_postfix(loss=f"{history.losses[-1]:.3f}")
    model.eval()
    history.seconds = time.perf_counter() - start
    return history
