"""Target attention lays queries out per request; each impression must still see only its request."""

from __future__ import annotations

import math

import torch

from adrank_pipelines.models.layers import TargetAttention


def _one_by_one(layer: TargetAttention, target, states, padding, request_rows) -> torch.Tensor:
    """Plain per-impression multi-head attention over its own request's non-padding slots."""
    n_heads, d_model = layer.n_heads, target.shape[1]
    head_dim = d_model // n_heads
    keys, values = layer.key_value(states).chunk(2, dim=-1)
    rows = []
    for impression, request in enumerate(request_rows.tolist()):
        query = layer.query(target[impression])
        kept = ~padding[request]
        heads = []
        for head in range(n_heads):
            part = slice(head * head_dim, (head + 1) * head_dim)
            weights = torch.softmax(keys[request, kept, part] @ query[part] / math.sqrt(head_dim), dim=0)
            heads.append(weights @ values[request, kept, part])
        rows.append(layer.output(torch.cat(heads)))
    return torch.stack(rows)


def test_grouped_queries_equal_per_impression_attention_and_its_gradients():
    torch.manual_seed(0)
    layer = TargetAttention(d_model=8, n_heads=2, dropout=0.0).eval()
    states = torch.randn(5, 6, 8)
    padding = torch.rand(5, 6) < 0.4
    padding[:, 0] = False  # the sequence encoder's null token is never padding
    # Unsorted rows, requests with 0, 1 and many impressions.
    request_rows = torch.tensor([3, 0, 3, 3, 1, 0, 3, 4, 3, 3, 1])
    target = torch.randn(len(request_rows), 8, requires_grad=True)

    grouped = layer(target, states, padding, request_rows)
    reference = _one_by_one(layer, target, states, padding, request_rows)
    torch.testing.assert_close(grouped, reference, rtol=1e-5, atol=1e-6)
    grouped_grads = torch.autograd.grad(grouped.square().sum(), [target, layer.query.weight, layer.key_value.weight])
    reference_grads = torch.autograd.grad(
        reference.square().sum(), [target, layer.query.weight, layer.key_value.weight]
    )
    for got, expected in zip(grouped_grads, reference_grads, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)


def test_an_empty_batch_gives_no_rows():
    layer = TargetAttention(d_model=8, n_heads=2, dropout=0.0).eval()
    out = layer(
        torch.zeros(0, 8), torch.randn(0, 6, 8), torch.zeros(0, 6, dtype=torch.bool), torch.zeros(0, dtype=torch.long)
    )
    assert out.shape == (0, 8)
