"""One LoRA training step of a pre-LN transformer block in PyTorch: the reference for bench/block.ts.

Same shapes, same deterministic initial tensors (sin(0.37*i + seed)*scale, as bench/stats.ts), same
loss and AdamW, so the first loss doubles as a cross-check. Prints one JSON line.

    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/torch_block.py --threads 1 [--reps 10] [--warmup 2]
"""
import argparse, json, math, os, time
import numpy as np
import torch
import torch.nn.functional as F

d, heads, T, batch, mlp, r, alpha = 256, 4, 128, 8, 1024, 8, 16
dh, N, SCALE = d // heads, batch * T, alpha / r


def pattern(n, seed, scale):
    return torch.from_numpy((np.sin(0.37 * np.arange(n) + seed) * scale).astype(np.float32))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    w = 1 / math.sqrt(d)
    f = {
        "Wq": pattern(d * d, 1, w).view(d, d), "Wk": pattern(d * d, 2, w).view(d, d),
        "Wv": pattern(d * d, 3, w).view(d, d), "Wo": pattern(d * d, 4, w).view(d, d),
        "W1": pattern(mlp * d, 5, w).view(mlp, d), "b1": pattern(mlp, 6, 0.1),
        "W2": pattern(d * mlp, 7, 1 / math.sqrt(mlp)).view(d, mlp), "b2": pattern(d, 8, 0.1),
        "g1": 1 + pattern(d, 9, 0.1), "be1": pattern(d, 10, 0.1),
        "g2": 1 + pattern(d, 11, 0.1), "be2": pattern(d, 12, 0.1),
    }
    lora = {}
    for i, m in enumerate("qkvo"):
        lora[m + "A"] = pattern(r * d, 20 + i, w).view(r, d).requires_grad_()
        lora[m + "B"] = pattern(d * r, 30 + i, 0.05).view(d, r).requires_grad_()
    x = pattern(N * d, 40, 1).view(N, d)
    target = pattern(N * d, 41, 1).view(N, d)
    mask = torch.triu(torch.full((T, T), -1e9), diagonal=1)
    opt = torch.optim.AdamW(lora.values(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

    def lin(h, W, A, B):
        return h @ W.t() + (h @ A.t()) @ B.t() * SCALE  # [N,d]·[d,d] + ([N,d]·[d,r])·[r,d]

    def split(t):
        return t.view(batch, T, heads, dh).transpose(1, 2)  # [N,d] → [B,H,T,dh]

    def loss_fn():
        h = F.layer_norm(x, (d,), f["g1"], f["be1"], 1e-5)
        q = split(lin(h, f["Wq"], lora["qA"], lora["qB"]))
        k = split(lin(h, f["Wk"], lora["kA"], lora["kB"]))
        v = split(lin(h, f["Wv"], lora["vA"], lora["vB"]))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + mask, -1) @ v  # [B,H,T,dh]
        x1 = x + lin(att.transpose(1, 2).reshape(N, d), f["Wo"], lora["oA"], lora["oB"])
        h2 = F.layer_norm(x1, (d,), f["g2"], f["be2"], 1e-5)
        y = x1 + F.gelu(h2 @ f["W1"].t() + f["b1"], approximate="tanh") @ f["W2"].t() + f["b2"]
        return ((y - target) ** 2).mean()

    times, losses = [], []
    for step in range(a.warmup + a.reps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({
        "bench": "block", "stack": "torch", "threads": a.threads,
        "blasThreads": int(os.environ.get("OPENBLAS_NUM_THREADS", "0")),
        "msPerStep": float(np.median(times)), "times": times, "loss1": losses[0], "lossLast": losses[-1],
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
