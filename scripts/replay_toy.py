#!/usr/bin/env python3
"""Replay one saved toy run (`lorascope reproduce --save-state`) in PyTorch, step for step.

Usage: OPENBLAS_NUM_THREADS=1 python3 scripts/replay_toy.py OUT/state/<run id> [--float64]

Loads the frozen student, the data and A0/B0 named in run.json, trains lora_A/lora_B with the
run's optimizer (torch.optim.Adam for "adam") on the full train set for `steps` steps, applying
the same stop rule, and prints the final train loss next to the one in run.json, plus the largest
difference from the saved final adapter. Needs only torch (1.13); the file format is docs/replay.md.
"""
import json
import math
import os
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16}


def load_safetensors(path):
    """Minimal safetensors reader: 8-byte little-endian header size, JSON header, raw data."""
    with open(path, "rb") as f:
        raw = f.read()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    body = raw[8 + size :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[start:end]), dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"]).float()
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dtype = torch.float64 if "--float64" in sys.argv else torch.float32
    if len(args) != 1:
        sys.exit("usage: replay_toy.py OUT/state/<run id> [--float64]")
    run_dir = args[0]
    spec = json.load(open(os.path.join(run_dir, "run.json")))
    files = spec["files"]
    base = load_safetensors(os.path.join(run_dir, files["base"]))
    data = load_safetensors(os.path.join(run_dir, files["data"]))
    init = load_safetensors(os.path.join(run_dir, files["adapter_init"]))
    final = load_safetensors(os.path.join(run_dir, files["adapter_final"]))
    mod = "base_model.model." + spec["model"]["lora_module"]
    s = spec["model"]["scaling"]

    W_in = base["input.weight"].to(dtype)  # [n, d]
    W_h = base["hidden.weight"].to(dtype)  # [n, n]
    w = base["readout.weight"].to(dtype)  # [1, n]
    x, y = data["train.x"].to(dtype), data["train.y"].to(dtype)  # [N, d], [N]
    A = torch.nn.Parameter(init[mod + ".lora_A.weight"].to(dtype).clone())  # [r, n]
    B = torch.nn.Parameter(init[mod + ".lora_B.weight"].to(dtype).clone())  # [n, r]

    def loss_of():
        h = torch.relu(x @ W_in.T)  # [N, d]·[d, n] → [N, n]
        u = h @ W_h.T + s * (h @ A.T) @ B.T  # [N, n] + ([N, n]·[n, r])·[r, n] → [N, n]
        yhat = (torch.relu(u) @ w.T).squeeze(1)  # [N, n]·[n, 1] → [N]
        return torch.mean((yhat - y) ** 2)  # mean squared error, no 1/2

    o = spec["optimizer"]
    if o["name"] == "adam":
        opt = torch.optim.Adam([A, B], lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"])
    elif o["name"] == "sgd":
        opt = torch.optim.SGD([A, B], lr=o["lr"])
    else:
        opt = None  # signsgd, below

    steps = spec["training"]["steps"]
    factor = spec["training"]["divergeFactor"]
    loss0 = None
    stopped_at = None
    for t in range(1, steps + 1):
        opt and opt.zero_grad()
        A.grad = B.grad = None
        loss = loss_of()
        if loss0 is None:
            loss0 = loss.item()
        if not math.isfinite(loss.item()) or loss.item() > factor * loss0:
            stopped_at = t
            break
        loss.backward()
        keep = (A.detach().clone(), B.detach().clone())
        if opt is not None:
            opt.step()
        else:
            with torch.no_grad():
                for p in (A, B):
                    p -= o["lr"] * torch.sign(p.grad)
        if not (torch.isfinite(A).all() and torch.isfinite(B).all()):
            with torch.no_grad():
                A.copy_(keep[0])
                B.copy_(keep[1])
            stopped_at = t
            break

    with torch.no_grad():
        replayed = loss_of().item()
    saved = spec["final"]["trainLoss"]
    saved = float("nan") if saved is None else float(saved)
    dA = (A.detach().float() - final[mod + ".lora_A.weight"]).abs().max().item()
    dB = (B.detach().float() - final[mod + ".lora_B.weight"]).abs().max().item()
    print(f"run            {spec['runId']}")
    print(f"steps          {steps} (stopped at {stopped_at}; saved divergedAt {spec['final']['divergedAt']})")
    print(f"train loss     replay {replayed:.8g}   run.json {saved:.8g}   rel diff {abs(replayed - saved) / abs(saved):.3g}")
    print(f"final adapter  max |A - A_saved| {dA:.3g}   max |B - B_saved| {dB:.3g}")


if __name__ == "__main__":
    main()
