"""A Llama decoder in plain torch with exactly the semantics of Hugging Face LlamaForCausalLM.

Our TypeScript runtime implements the HF semantics, so this file must match them: RMSNorm computed
in float32 (x * rsqrt(mean(x^2) + eps) * w), rotary embeddings in the rotate-half layout of
LlamaRotaryEmbedding (cos/sin duplicated over the two halves of D), grouped-query attention by
repeating k/v heads, a SiLU-gated MLP, a tied output head. Parameter names are the HF tensor names.

Dimension letters: B batch, T tokens, C channels, H query heads, Hkv key/value heads, D head size,
F feed-forward width, V vocabulary, L layers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F_
from torch import nn


@dataclass(frozen=True)
class LlamaConfig:
    V: int
    C: int = 192
    L: int = 4
    H: int = 6
    Hkv: int = 2
    F: int = 512
    S: int = 512  # max_position_embeddings
    eps: float = 1e-5
    rope_theta: float = 10000.0

    @property
    def D(self) -> int:
        return self.C // self.H


class RMSNorm(nn.Module):
    def __init__(self, C: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(C))  # (C)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def rope_cos_sin(cfg: LlamaConfig, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of shape (T, D): HF LlamaRotaryEmbedding, the D/2 frequencies repeated twice."""
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, cfg.D, 2, dtype=torch.int64).float() / cfg.D))  # (D/2)
    freqs = positions.float()[:, None] * inv_freq[None, :]  # (T, D/2)
    emb = torch.cat((freqs, freqs), dim=-1)  # (T, D)
    return emb.cos(), emb.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        self.q_proj = nn.Linear(cfg.C, cfg.H * cfg.D, bias=False)  # weight (H*D, C)
        self.k_proj = nn.Linear(cfg.C, cfg.Hkv * cfg.D, bias=False)  # weight (Hkv*D, C)
        self.v_proj = nn.Linear(cfg.C, cfg.Hkv * cfg.D, bias=False)  # weight (Hkv*D, C)
        self.o_proj = nn.Linear(cfg.H * cfg.D, cfg.C, bias=False)  # weight (C, H*D)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        c = self.cfg
        q = self.q_proj(x).view(B, T, c.H, c.D).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(x).view(B, T, c.Hkv, c.D).transpose(1, 2)  # (B, Hkv, T, D)
        v = self.v_proj(x).view(B, T, c.Hkv, c.D).transpose(1, 2)  # (B, Hkv, T, D)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # grouped-query attention: query head h reads key/value head h // (H / Hkv), as repeat_kv
        k = k.repeat_interleave(c.H // c.Hkv, dim=1)  # (B, H, T, D)
        v = v.repeat_interleave(c.H // c.Hkv, dim=1)  # (B, H, T, D)
        # scores = mask + q k^T / sqrt(D) in one baddbmm: on this CPU the elementwise passes over
        # (B, H, T, T) cost more than the matmuls (profiled: div + masked_fill ~25% of a step)
        att = torch.baddbmm(mask, q.reshape(B * c.H, T, c.D), k.reshape(B * c.H, T, c.D).transpose(1, 2),
                            alpha=1.0 / math.sqrt(c.D)).view(B, c.H, T, T).softmax(dim=-1)  # (B, H, T, T)
        y = (att @ v).transpose(1, 2).reshape(B, T, c.H * c.D)  # (B, T, H*D)
        return self.o_proj(y)


class Mlp(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.C, cfg.F, bias=False)  # weight (F, C)
        self.up_proj = nn.Linear(cfg.C, cfg.F, bias=False)  # weight (F, C)
        self.down_proj = nn.Linear(cfg.F, cfg.C, bias=False)  # weight (C, F)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F_.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.C, cfg.eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.C, cfg.eps)
        self.mlp = Mlp(cfg)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Body(nn.Module):
    """The `model.` prefix of LlamaForCausalLM."""

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.V, cfg.C)  # (V, C), also the output head (tied)
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg.L))
        self.norm = RMSNorm(cfg.C, cfg.eps)


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        self.model = Body(cfg)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                # GPT-2 init: residual-writing projections scaled down by depth
                std = 0.02 / math.sqrt(2 * cfg.L) if name.endswith(('o_proj.weight', 'down_proj.weight')) else 0.02
                nn.init.normal_(p, mean=0.0, std=std)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, T) -> logits (B, T, V); positions start at 0 (no KV cache: training and scoring)."""
        B, T = ids.shape
        cos, sin = rope_cos_sin(self.cfg, torch.arange(T))  # (T, D)
        mask = torch.full((T, T), float('-inf')).triu(1)  # (T, T) additive causal mask
        x = self.model.embed_tokens(ids)  # (B, T, C)
        for layer in self.model.layers:
            x = layer(x, cos, sin, mask)
        x = self.model.norm(x)
        return x @ self.model.embed_tokens.weight.t()  # (B, T, V)
