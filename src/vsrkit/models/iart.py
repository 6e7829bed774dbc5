"""IART: implicit resampling-based alignment on a PSRT-recurrent backbone (Xu et al., CVPR 2024).

Per specs/architectures.md §5 with the official ``kai422/IART`` parameter names, so
``IART_*.pth`` converts by name (``vsrkit convert --from basicsr``). ×4, RGB in and out.

Size: 13,410,503 parameters for the published config (options/IART_*.yml: E=120, 3 groups × 6 blocks,
heads 6, window (3, 8, 8), mlp ratio 2): SPyNet 1,440,300, 4 × SwinIRFM 2,880,004 (of which 141,784
never called), implicit warp 43,560, conv_first and the upsampler 406,627. The parameter names and
shapes equal the official ``IART`` one for one (tests/models/test_iart.py rebuilds the official
inventory from the official constructors). specs §5.2's "13,393,223 [derived]" is that total minus
72 × 240: one 240-parameter tensor short in every Swin block. Each official block has three such
tensors (``norm1``, ``norm2``: LayerNorm(120) weight + bias; ``mlp.fc1.bias``), all created and
used in its forward. The Vimeo config fine-tunes from ``IART_REDS_N16_600000.pth`` (the file
``demo.py`` loads as the REDS model) with ``strict_load_g: true``, so that checkpoint carries all
three: the spec's figure undercounts. The paper's "13.4 M" (Table 2) fits 13,410,503.
Official quirk: ``IART.__init__`` builds the four SwinIRFM branches only when CUDA is available, so
the official model built on a CPU-only machine has 1,890,487 parameters; counts taken that way are
not the model's.

* ``conv_first`` 3→E gives the spatial features; SPyNet (or frozen DIS; ``dis_finest_scale=0`` at full LR resolution) flows between neighbours;
* four branches in sequence, backward_1 → forward_1 → backward_2 → forward_2; each branch's
  "current" feature is the previous branch's output (spatial → b1 → f1 → b2);
* step ``t`` of a branch: ``cond_n1 = ImplicitWarp(prop[t-1], current[t], flow_n1)``,
  ``cond_n2 = ImplicitWarp(prop[t-2], current[t], flow_n1 ∘ flow_n2)`` (zeros at the second step),
  ``prop[t] = SwinIRFM([cond_n1, current, cond_n2])``; at the first step the stack is
  ``[current] * 3``;
* :class:`ImplicitWarp`: for each target pixel ``p`` the source position ``q = p + flow(p)`` is split
  into ``floor(q)`` and ``d = q - floor(q)``; the 2×2 source features at ``floor(q) + {0,1}²``
  (clamped to the frame) plus a fixed sinusoidal encoding of their window position are keys and
  values; the target feature plus a sinusoidal encoding of ``d`` is the query; one-query multi-head
  cross-attention (no output projection) gives the aligned feature. The encodings are built on the
  input's device (the official code hard-codes CUDA);
* :class:`SwinIRFM`: LayerNorm embed, ``num_layers`` residual groups of ``depth`` Swin blocks with 3-D
  windows ``(3, 8, 8)`` over the 3 stacked frames, shifted by ``(3, 4, 4)`` on odd blocks with the
  attention mask, a conv per group, final LayerNorm and ``conv_after_body`` on the centre frame plus
  the centre input. Gradient checkpointing per block with ``use_checkpoint``;
* upsampling from forward_2 only: conv E→64, 2× (conv, PixelShuffle 2, LeakyReLU), conv_hr,
  conv_last, plus bilinear ×4 of the LR frame (``lr_skip="bicubic"``: MATLAB bicubic instead; the
  tiny preset uses it so that its small head starts from the bicubic baseline rather than below it).

``unused_layers=True`` (full preset) registers the official SwinIRFM's never-called
``conv_first``/``conv_first_feat``/``conv_before_upsample`` so official checkpoints load strictly;
they get no gradient, so tiny/trainable presets leave them out.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from ..layers.classical_flow import DISFlow
from ..layers.resize import imresize
from ..layers.spynet import SPyNet
from ..layers.warp import compose_flows, neighbour_flows
from ._registry import register_model, shipped_weights
from .base import VSRModel


def _sine_encoding(y: Tensor, x: Tensor, num_feats: int, temperature: float) -> Tensor:
    """DETR-style encoding of already normalised coordinates: ``(..., 2 * num_feats)``, y then x.

    Within each half, channels are ``sin(c / T^(2i/n)), cos(c / T^(2i/n))`` pairs.
    """
    i = torch.arange(num_feats, device=y.device, dtype=torch.float32)
    dim_t = temperature ** (2 * torch.div(i, 2, rounding_mode="floor") / num_feats)

    def enc(c: Tensor) -> Tensor:
        pos = c.float().unsqueeze(-1) / dim_t
        return torch.stack((pos[..., 0::2].sin(), pos[..., 1::2].cos()), dim=-1).flatten(-2)

    return torch.cat((enc(y), enc(x)), dim=-1)


class ImplicitWarp(nn.Module):
    """Cross-attention resampling of ``src`` onto ``tgt`` along ``flow`` (tgt→src, vsrkit convention)."""

    def __init__(self, dim: int = 120, *, num_heads: int = 6, pe_temperature: float = 0.01, window: int = 2) -> None:
        super().__init__()
        if dim % num_heads or dim % 4:
            raise ValueError(f"dim {dim} must be divisible by num_heads {num_heads} and by 4")
        self.dim = dim
        self.num_heads = num_heads
        self.window = window
        self.pe_temperature = pe_temperature
        self.scale = (dim // num_heads) ** -0.5
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        wy, wx = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
        offsets = torch.stack((wy, wx), dim=-1).reshape(-1, 2)  # (window², 2) as (row, col)
        self.register_buffer("window_offsets", offsets, persistent=False)
        # Window positions {0, .., w-1} normalised by their last index: {0, 2π} for w = 2.
        norm = offsets.float() / (window - 1 + 1e-6) * 2 * math.pi
        pe = _sine_encoding(norm[:, 0], norm[:, 1], dim // 2, pe_temperature)
        self.register_buffer("window_encoding", pe, persistent=False)

    def forward(self, src: Tensor, tgt: Tensor, flow: Tensor) -> Tensor:
        n, c, h, w = tgt.shape
        if src.shape != tgt.shape or flow.shape != (n, 2, h, w):
            raise ValueError(f"src {tuple(src.shape)}, tgt {tuple(tgt.shape)}, flow {tuple(flow.shape)} do not match")
        # Positions in float32 whatever the compute dtype: bf16 cannot hold 180.3.
        flow = flow.to(torch.promote_types(flow.dtype, torch.float32))
        ys = torch.arange(h, device=flow.device, dtype=flow.dtype).reshape(1, h, 1)
        xs = torch.arange(w, device=flow.device, dtype=flow.dtype).reshape(1, 1, w)
        qy, qx = ys + flow[:, 1], xs + flow[:, 0]
        fy, fx = torch.floor(qy), torch.floor(qx)
        dy, dx = qy - fy, qx - fx  # fractional offsets: the query's encoding, and the flow's gradient path
        k2 = self.window * self.window
        rows = (fy.long().reshape(n, h * w, 1) + self.window_offsets[:, 0]).clamp(0, h - 1)
        cols = (fx.long().reshape(n, h * w, 1) + self.window_offsets[:, 1]).clamp(0, w - 1)
        idx = (rows * w + cols).reshape(n, 1, h * w * k2).expand(n, c, h * w * k2)
        keys = src.reshape(n, c, h * w).gather(2, idx).reshape(n, c, h * w, k2).permute(0, 2, 3, 1)
        keys = keys + self.window_encoding.to(keys.dtype)  # (n, hw, k2, c)
        norm_y = dy.reshape(n, h * w) / (self.window + 1e-6) * 2 * math.pi
        norm_x = dx.reshape(n, h * w) / (self.window + 1e-6) * 2 * math.pi
        query = tgt.flatten(2).transpose(1, 2) + _sine_encoding(norm_y, norm_x, c // 2, self.pe_temperature).to(tgt.dtype)
        heads, hd = self.num_heads, self.dim // self.num_heads
        q = self.q(query).reshape(n * h * w, heads, 1, hd)
        k = self.k(keys).reshape(n * h * w, k2, heads, hd).transpose(1, 2)
        v = self.v(keys).reshape(n * h * w, k2, heads, hd).transpose(1, 2)
        attn = torch.softmax((q * self.scale) @ k.transpose(-2, -1), dim=-1)
        out = (attn @ v).reshape(n, h, w, self.dim)
        return out.permute(0, 3, 1, 2).contiguous()


# ---- PSRT multi-frame Swin blocks ----------------------------------------------------------------

def _window_partition(x: Tensor, ws: tuple[int, int, int]) -> Tensor:
    b, d, h, w, c = x.shape
    x = x.reshape(b, d // ws[0], ws[0], h // ws[1], ws[1], w // ws[2], ws[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, ws[0] * ws[1] * ws[2], c)


def _window_reverse(windows: Tensor, ws: tuple[int, int, int], b: int, d: int, h: int, w: int) -> Tensor:
    x = windows.reshape(b, d // ws[0], h // ws[1], w // ws[2], ws[0], ws[1], ws[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, d, h, w, -1)


@lru_cache(maxsize=32)
def _shift_mask(d: int, h: int, w: int, ws: tuple[int, int, int], shift: tuple[int, int, int], device: torch.device) -> Tensor:
    """Swin attention mask for padded size ``(d, h, w)``: -100 between tokens of different regions."""
    img = torch.zeros(1, d, h, w, 1, device=device)
    region = 0
    for sd in (slice(-ws[0]), slice(-ws[0], -shift[0]), slice(-shift[0], None)):
        for sh in (slice(-ws[1]), slice(-ws[1], -shift[1]), slice(-shift[1], None)):
            for sw in (slice(-ws[2]), slice(-ws[2], -shift[2]), slice(-shift[2], None)):
                img[:, sd, sh, sw, :] = region
                region += 1
    win = _window_partition(img, ws).squeeze(-1)
    diff = win.unsqueeze(1) - win.unsqueeze(2)
    return diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)


class WindowAttention3D(nn.Module):
    def __init__(self, dim: int, window: tuple[int, int, int], num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        wd, wh, ww = window
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * wd - 1) * (2 * wh - 1) * (2 * ww - 1), num_heads))
        coords = torch.stack(torch.meshgrid(torch.arange(wd), torch.arange(wh), torch.arange(ww), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        rel[..., 0] += wd - 1
        rel[..., 1] += wh - 1
        rel[..., 2] += ww - 1
        index = rel[..., 0] * (2 * wh - 1) * (2 * ww - 1) + rel[..., 1] * (2 * ww - 1) + rel[..., 2]
        self.register_buffer("relative_position_index", index, persistent=False)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index[:n, :n].reshape(-1)]
        attn = attn + bias.reshape(n, n, -1).permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.reshape(b // nw, nw, self.num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.reshape(-1, self.num_heads, n, n)
        attn = torch.softmax(attn, dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class SwinBlock3D(nn.Module):
    def __init__(
        self, dim: int, num_heads: int, window: tuple[int, int, int], shift: tuple[int, int, int],
        mlp_ratio: float, drop_path: float,
    ) -> None:
        super().__init__()
        self.window = window
        self.shift = shift
        self.drop_path = drop_path
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention3D(dim, window, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def _drop(self, x: Tensor) -> Tensor:
        # Stochastic depth per sample, as timm's DropPath.
        if not self.training or self.drop_path == 0.0:
            return x
        keep = 1.0 - self.drop_path
        return x / keep * torch.rand(x.shape[0], *([1] * (x.ndim - 1)), device=x.device, dtype=x.dtype).add_(keep).floor_()

    def forward(self, x: Tensor) -> Tensor:
        b, t, h, w, _ = x.shape
        ws = self.window
        shortcut = x
        x = self.norm1(x)
        pd, ph, pw = (-t) % ws[0], (-h) % ws[1], (-w) % ws[2]
        x = F.pad(x, (0, 0, 0, pw, 0, ph, 0, pd))
        _, dp, hp, wp, _ = x.shape
        shifted = any(s > 0 for s in self.shift)
        if shifted:
            x = torch.roll(x, shifts=tuple(-s for s in self.shift), dims=(1, 2, 3))
            mask = _shift_mask(dp, hp, wp, ws, self.shift, x.device).to(x.dtype)
        else:
            mask = None
        windows = self.attn(_window_partition(x, ws), mask)
        x = _window_reverse(windows, ws, b, dp, hp, wp)
        if shifted:
            x = torch.roll(x, shifts=self.shift, dims=(1, 2, 3))
        x = x[:, :t, :h, :w].contiguous()
        x = shortcut + self._drop(x)
        return x + self._drop(self.mlp(self.norm2(x)))


class _BlockList(nn.Module):
    # Holds ``blocks`` so parameter names match the official ``residual_group.blocks.{j}``.
    def __init__(self, blocks: list[SwinBlock3D]) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)


class RSTB3D(nn.Module):
    """Residual group: Swin blocks, then a per-frame 3×3 conv, plus the group input."""

    def __init__(self, dim: int, depth: int, num_heads: int, window: tuple[int, int, int],
                 mlp_ratio: float, drop_paths: list[float], use_checkpoint: bool) -> None:
        super().__init__()
        shift = (window[0], window[1] // 2, window[2] // 2)
        self.residual_group = _BlockList([
            SwinBlock3D(dim, num_heads, window, (0, 0, 0) if j % 2 == 0 else shift, mlp_ratio, drop_paths[j])
            for j in range(depth)
        ])
        self.conv = nn.Conv2d(dim, dim, 3, 1, 1)
        self.use_checkpoint = use_checkpoint

    def forward(self, x: Tensor) -> Tensor:  # x: (n, t, h, w, c)
        n, t, h, w, c = x.shape
        y = x
        for blk in self.residual_group.blocks:
            if self.use_checkpoint and self.training and torch.is_grad_enabled():
                y = checkpoint(blk, y, use_reentrant=False)
            else:
                y = blk(y)
        y = self.conv(y.permute(0, 1, 4, 2, 3).reshape(n * t, c, h, w))
        return y.reshape(n, t, c, h, w).permute(0, 1, 3, 4, 2) + x


class _PatchNorm(nn.Module):
    # Official ``patch_embed.norm``: a LayerNorm over channels.
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)


class SwinIRFM(nn.Module):
    """PSRT multi-frame block stack on ``(n, 3, E, h, w)``; returns the refined centre frame ``(n, E, h, w)``."""

    def __init__(self, dim: int, *, num_layers: int, depth: int, num_heads: int, window: tuple[int, int, int],
                 mlp_ratio: float, drop_path_rate: float, use_checkpoint: bool, unused_layers: bool) -> None:
        super().__init__()
        if unused_layers:
            self.conv_first = nn.Conv2d(3, dim, 3, 1, 1)
            self.conv_first_feat = nn.Conv2d(64, dim, 3, 1, 1)
        self.patch_embed = _PatchNorm(dim)
        total = num_layers * depth
        # Linear 0 → drop_path_rate over all blocks, in Python (models are also built on the meta device).
        rates = [drop_path_rate * i / (total - 1) if total > 1 else 0.0 for i in range(total)]
        self.layers = nn.ModuleList([
            RSTB3D(dim, depth, num_heads, window, mlp_ratio, rates[i * depth : (i + 1) * depth], use_checkpoint)
            for i in range(num_layers)
        ])
        self.norm = nn.LayerNorm(dim)
        self.conv_after_body = nn.Conv2d(dim, dim, 3, 1, 1)
        if unused_layers:
            self.conv_before_upsample = nn.Conv2d(dim, 64, 3, 1, 1)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        t = x.shape[1]
        centre = x[:, t // 2]
        y = self.patch_embed.norm(x.permute(0, 1, 3, 4, 2))  # (n, t, h, w, c)
        for layer in self.layers:
            y = layer(y)
        y = self.norm(y)[:, t // 2].permute(0, 3, 1, 2)
        return self.conv_after_body(y) + centre


class IART(VSRModel):
    """IART ×4; ``(B, T, 3, H, W)`` RGB → ``(B, T, 3, 4H, 4W)``; any H, W (windows are padded)."""

    arch = "iart"
    kind = "bidirectional"
    supports_gradient_checkpointing = True
    output = "RGB"
    # Four chained recurrent branches: influence decays over roughly ten frames (BasicVSR++-like).
    chunk_warmup = 10

    def __init__(
        self,
        *,
        embed_dim: int = 120,
        num_layers: int = 3,
        depth: int = 6,
        num_heads: int = 6,
        window_frames: int = 3,
        window_size: int = 8,
        mlp_ratio: float = 2.0,
        drop_path_rate: float = 0.1,
        mid_channels: int = 64,
        hr_channels: int = 64,
        pe_temperature: float = 0.01,
        flow: Literal["spynet", "dis"] = "spynet",
        dis_finest_scale: int = 1,
        use_checkpoint: bool = False,
        unused_layers: bool = True,
        lr_skip: Literal["bilinear", "bicubic"] = "bilinear",
        scale: int = 4,
    ) -> None:
        super().__init__()
        if scale != 4:
            raise ValueError(f"the architecture is fixed at x4 (two PixelShuffle x2 stages), got scale={scale}")
        if flow not in ("spynet", "dis"):
            raise ValueError(f"flow must be 'spynet' or 'dis', got {flow!r}")
        if lr_skip not in ("bilinear", "bicubic"):
            raise ValueError(f"lr_skip must be 'bilinear' or 'bicubic', got {lr_skip!r}")
        if window_frames != 3:
            raise ValueError(f"the propagation stacks 3 frames, so window_frames must be 3, got {window_frames}")
        self.scale = scale
        self.embed_dim = embed_dim
        self.lr_skip = lr_skip
        self.spynet: nn.Module = SPyNet() if flow == "spynet" else DISFlow(finest_scale=dis_finest_scale)
        self.conv_first = nn.Conv2d(3, embed_dim, 3, 1, 1)
        window = (window_frames, window_size, window_size)
        self.swin_backbone = nn.ModuleDict({
            name: SwinIRFM(embed_dim, num_layers=num_layers, depth=depth, num_heads=num_heads, window=window,
                           mlp_ratio=mlp_ratio, drop_path_rate=drop_path_rate, use_checkpoint=use_checkpoint,
                           unused_layers=unused_layers)
            for name in ("backward_1", "forward_1", "backward_2", "forward_2")
        })
        self.implicit_warp = ImplicitWarp(embed_dim, num_heads=num_heads, pe_temperature=pe_temperature)
        self.conv_before_upsample = nn.Conv2d(embed_dim, mid_channels, 3, 1, 1)
        self.upconv1 = nn.Conv2d(mid_channels, mid_channels * 4, 3, 1, 1)
        self.upconv2 = nn.Conv2d(mid_channels, hr_channels * 4, 3, 1, 1)
        self.pixel_shuffle = nn.PixelShuffle(2)
        self.conv_hr = nn.Conv2d(hr_channels, hr_channels, 3, 1, 1)
        self.conv_last = nn.Conv2d(hr_channels, 3, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.1, inplace=True)

    def compute_flow(self, lr: Tensor) -> tuple[Tensor, Tensor]:
        """``(forward, backward)`` flows ``(B, T-1, 2, H, W)``: forward[k] is k+1→k, backward[k] is k→k+1."""
        return neighbour_flows(lambda a, b: self.checkpointed(self.spynet, a, b), lr)

    def _branch(self, source: list[Tensor], flows_f: Tensor, flows_b: Tensor, name: str) -> list[Tensor]:
        t = len(source)
        backward = name.startswith("backward")
        order = list(range(t - 1, -1, -1)) if backward else list(range(t))
        swin = self.swin_backbone[name]
        out: list[Tensor | None] = [None] * t
        prop = source[0]
        for i, idx in enumerate(order):
            current = source[idx]
            if i == 0:
                prop = self.checkpointed(swin, torch.stack([current, current, current], dim=1))
            else:
                flow_n1 = flows_b[:, idx] if backward else flows_f[:, idx - 1]
                cond_n1 = self.checkpointed(self.implicit_warp, prop, current, flow_n1)
                if i > 1:
                    flow_n2 = flows_b[:, idx + 1] if backward else flows_f[:, idx - 2]
                    cond_n2 = self.checkpointed(self.implicit_warp, out[order[i - 2]], current,
                                                compose_flows(flow_n1, flow_n2))
                else:
                    cond_n2 = torch.zeros_like(cond_n1)
                prop = self.checkpointed(swin, torch.stack([cond_n1, current, cond_n2], dim=1))
            out[idx] = prop
        return out  # type: ignore[return-value]

    def _upsample_lr(self, frame: Tensor) -> Tensor:
        if self.lr_skip == "bicubic":
            return imresize(frame, scale=self.scale)
        return F.interpolate(frame, scale_factor=self.scale, mode="bilinear", align_corners=False)

    def forward(self, lr: Tensor) -> Tensor:
        if lr.ndim != 5 or lr.shape[2] != 3:
            raise ValueError(f"expected (B, T, 3, H, W), got {tuple(lr.shape)}")
        b, t, c, h, w = lr.shape
        spatial = self.conv_first(lr.reshape(b * t, c, h, w)).reshape(b, t, -1, h, w)
        if t > 1:
            flows_f, flows_b = self.compute_flow(lr)
        else:
            flows_f = flows_b = lr.new_zeros(b, 0, 2, h, w)
        feats = list(spatial.unbind(1))
        for name in ("backward_1", "forward_1", "backward_2", "forward_2"):
            feats = self._branch(feats, flows_f, flows_b, name)
        return torch.stack([self.checkpointed(self._reconstruct, feats[i], lr[:, i]) for i in range(t)], dim=1)

    def _reconstruct(self, feat: Tensor, lr: Tensor) -> Tensor:
        """One frame's HR output from its last branch's features and its LR frame."""
        hr = self.conv_before_upsample(feat)
        hr = self.lrelu(self.pixel_shuffle(self.upconv1(hr)))
        hr = self.lrelu(self.pixel_shuffle(self.upconv2(hr)))
        hr = self.conv_last(self.lrelu(self.conv_hr(hr)))
        return hr + self._upsample_lr(lr)


register_model(
    "iart", IART,
    description="IART (CVPR 2024) full: SPyNet, implicit 2x2 cross-attention alignment, 4 PSRT Swin branches",
)
register_model(
    "iart-tiny", IART,
    description="IART tiny: E=24, 1 group of 2 Swin blocks, frozen DIS flow, MATLAB-bicubic LR skip; trained by vsrkit (BI x4)",
    weights=shipped_weights("iart_tiny.safetensors"),
    embed_dim=24, num_layers=1, depth=2, num_heads=2, mid_channels=16, hr_channels=16, drop_path_rate=0.0,
    flow="dis", unused_layers=False, lr_skip="bicubic",
)
