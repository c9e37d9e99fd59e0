"""Binary sigmoid: exactly 0/1 forward, sigmoid gradient backward (straight-through).

A generator whose last layer is this op is trained on the very grids it emits: the
forward pass is ``x > 0`` (no rounding of a soft output afterwards), the backward
pass uses the derivative of ``sigmoid(x / temperature)`` so gradients still flow.
Lower temperatures give sharper, larger gradients near 0 and smaller ones far away.

Import this module only where torch is wanted (it imports torch at top level).
"""

from __future__ import annotations

import torch


class BinarySigmoid(torch.autograd.Function):
    """``y = (x > 0)``; ``dy/dx = sigmoid'(x / T) / T``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        ctx.save_for_backward(x)
        ctx.temperature = float(temperature)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (x,) = ctx.saved_tensors
        t = ctx.temperature
        s = torch.sigmoid(x / t)
        return grad_output * s * (1.0 - s) / t, None


def binary_sigmoid(x: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Exactly 0/1 in the forward pass; sigmoid(x/temperature) gradient backward."""
    return BinarySigmoid.apply(x, temperature)
