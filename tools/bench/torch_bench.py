#!/usr/bin/env python3
"""PyTorch CPU mirror of the course's bench workloads, for `npm run bench -- --vs-torch`.

The same architectures and sizes as lib/src/nets (mlp.ts, unet.ts, layers.ts,
timeEmbedding.ts): the 3x256 SiLU MLP denoiser with a 64-wide sinusoidal time embedding,
and the 16x16 class-conditional U-Net with channels 32-64-64 (Ronneberger et al. 2015;
Ho et al. 2020; Dhariwal & Nichol 2021: GroupNorm(8) -> SiLU -> conv -> +emb -> GroupNorm ->
SiLU -> conv residual blocks, one embedding projection for all blocks, nearest upsampling).
The parameter counts are printed so the caller can check they match lib's.

Workloads (median of repeats after warm-up, milliseconds):
  mlp_step       MLP train step, batch 512, Adam, DSM (MSE on eps)
  unet_step      U-Net train step, batch 128, Adam, DSM
  unet_fwd       U-Net forward, batch 256, no grad
  cfg_sample     classifier-free guided DDIM, 64 images x 50 steps, one batched 2B pass a step

Usage: python3 tools/bench/torch_bench.py [--threads 2] [--quick]  -> one JSON object on stdout.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_embedding(t, dim, max_period=10000.0):
    """cos first, then sin (lib/src/nets/timeEmbedding.ts)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=1)
    return emb


class Mlp(nn.Module):
    def __init__(self, data_dim=2, hidden=256, depth=3, time_dim=64):
        super().__init__()
        self.time_dim = time_dim
        widths = [data_dim + time_dim] + [hidden] * depth
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.out = nn.Linear(hidden, data_dim)

    def forward(self, x, t):
        h = torch.cat([x, timestep_embedding(t, self.time_dim)], dim=1)
        for layer in self.layers:
            h = F.silu(layer(h))
        return self.out(h)


class ResBlock(nn.Module):
    def __init__(self, ci, co, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, ci)
        self.conv1 = nn.Conv2d(ci, co, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, co)
        self.conv2 = nn.Conv2d(co, co, 3, padding=1)
        self.skip = nn.Conv2d(ci, co, 1) if ci != co else None
        self.groups = groups

    def forward(self, x, e):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + e[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.skip(x) if self.skip is not None else x) + h


class UNet(nn.Module):
    def __init__(self, image_size=16, in_ch=1, channels=(32, 64, 64), groups=8, num_classes=10):
        super().__init__()
        c = list(channels)
        self.levels = len(c)
        self.time_dim = c[0]
        emb = 4 * c[0]
        self.time0 = nn.Linear(self.time_dim, emb)
        self.time1 = nn.Linear(emb, emb)
        self.class_table = nn.Parameter(torch.randn(num_classes + 1, emb))
        self.conv_in = nn.Conv2d(in_ch, c[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.resample = nn.ModuleList()
        widths = []
        for l in range(self.levels):
            self.down.append(ResBlock(c[0] if l == 0 else c[l - 1], c[l], groups))
            widths.append(c[l])
            if l + 1 < self.levels:
                self.resample.append(nn.Conv2d(c[l], c[l], 3, stride=2, padding=1))
        self.mid = ResBlock(c[-1], c[-1], groups)
        widths.append(c[-1])
        self.up = nn.ModuleList()
        for l in range(self.levels - 1, -1, -1):
            self.up.append(ResBlock((c[l] if l == self.levels - 1 else c[l + 1]) + c[l], c[l], groups))
            widths.append(c[l])
        self.widths = widths
        self.emb_proj = nn.Linear(emb, sum(widths))
        self.out_norm = nn.GroupNorm(groups, c[0])
        self.conv_out = nn.Conv2d(c[0], in_ch, 3, padding=1)

    def forward(self, x, t, y):
        emb = self.time1(F.silu(self.time0(timestep_embedding(t, self.time_dim))))
        emb = emb + F.one_hot(y, self.class_table.shape[0]).float() @ self.class_table
        es = torch.split(self.emb_proj(F.silu(emb)), self.widths, dim=1)
        k = 0
        h = self.conv_in(x)
        skips = []
        for l in range(self.levels):
            h = self.down[l](h, es[k]); k += 1
            skips.append(h)
            if l + 1 < self.levels:
                h = self.resample[l](h)
        h = self.mid(h, es[k]); k += 1
        for i, l in enumerate(range(self.levels - 1, -1, -1)):
            h = torch.cat([h, skips[l]], dim=1)
            h = self.up[i](h, es[k]); k += 1
            if l > 0:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
        return self.conv_out(F.silu(self.out_norm(h)))


def median_ms(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def cosine_alpha_bars(T=1000, s=0.008, max_beta=0.999):
    f = lambda t: math.cos(((t / T) + s) / (1 + s) * math.pi / 2) ** 2
    ab, prod = [], 1.0
    for i in range(T):
        beta = min(1 - f(i + 1) / f(i), max_beta)
        prod *= 1 - beta
        ab.append(prod)
    return ab


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    reps = 3 if a.quick else 10
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}

    mlp = Mlp()
    out["mlp_params"] = sum(p.numel() for p in mlp.parameters())
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-3)
    x = torch.randn(512, 2); eps = torch.randn(512, 2); t = torch.randint(0, 1000, (512,))

    def mlp_step():
        opt.zero_grad()
        loss = F.mse_loss(mlp(x, t), eps)
        loss.backward()
        opt.step()
        loss.item()

    out["mlp_step"] = median_ms(mlp_step, 5, reps * 4)

    net = UNet()
    out["unet_params"] = sum(p.numel() for p in net.parameters())
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xb = torch.randn(128, 1, 16, 16); eb = torch.randn(128, 1, 16, 16)
    tb = torch.randint(0, 1000, (128,)); yb = torch.arange(128) % 10

    def unet_step():
        opt.zero_grad()
        loss = F.mse_loss(net(xb, tb, yb), eb)
        loss.backward()
        opt.step()
        loss.item()

    out["unet_step"] = median_ms(unet_step, 1, max(2, reps // 2))

    x256 = torch.randn(256, 1, 16, 16); t256 = torch.full((256,), 500); y256 = torch.full((256,), 10)
    with torch.no_grad():
        out["unet_fwd"] = median_ms(lambda: net(x256, t256, y256), 1, reps)

    ab = cosine_alpha_bars()
    ts = [round(999 * (49 - i) / 49) for i in range(50)]
    labels = torch.arange(64) % 10
    null = torch.full((64,), 10)

    def cfg_sample(s=3.0):
        g = torch.Generator().manual_seed(1)
        z = torch.randn(64, 1, 16, 16, generator=g)
        with torch.no_grad():
            for i, tt in enumerate(ts):
                tp = ts[i + 1] if i + 1 < len(ts) else -1
                a, ap_ = ab[tt], (ab[tp] if tp >= 0 else 1.0)
                both = net(torch.cat([z, z]), torch.full((128,), tt), torch.cat([labels, null]))
                ec, eu = both[:64], both[64:]
                e = eu + s * (ec - eu)
                x0 = ((z - math.sqrt(1 - a) * e) / math.sqrt(a)).clamp(-1, 1)
                e = (z - math.sqrt(a) * x0) / math.sqrt(1 - a)
                z = math.sqrt(ap_) * x0 + math.sqrt(1 - ap_) * e
        return z

    out["cfg_sample"] = median_ms(cfg_sample, 0, 1 if a.quick else 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
