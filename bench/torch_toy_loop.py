"""The toy sweep as a PEFT user would write it in PyTorch: one run at a time, an nn.Module student with a
LoRA layer, autograd, torch.optim.Adam, full batch. Each step runs the whole student forward, so the
frozen x → relu(W_in x) → W_h h part (2·N·n² FLOPs) is recomputed every step; --cache-frozen instead
feeds precomputed h and W_h h (what lorascope does, per run) to isolate the cost of batching.

    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/torch_toy_loop.py --width 1024 --runs 24 --steps 50
    ... --spec default --measure 2   # whole default grid, timed on 2 runs per width, extrapolated

Prints one JSON line (bench/stats.ts protocol).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch_toy_common import N, S, args, adapter_init, default_grid_runs, frozen, lr_grid, r, report, timed


class LoraLinear(nn.Module):
    """y = h·Wᵀ + s·(h·Aᵀ)·Bᵀ, W frozen (PEFT's lora.Linear, no dropout)."""

    def __init__(self, W, A0, B0):
        super().__init__()
        n_out, n_in = W.shape
        self.base_layer = nn.Linear(n_in, n_out, bias=False).requires_grad_(False)
        self.base_layer.weight.copy_(W)
        self.lora_A = nn.Linear(n_in, r, bias=False)
        self.lora_B = nn.Linear(r, n_out, bias=False)
        with torch.no_grad():
            self.lora_A.weight.copy_(A0)  # [r,n]
            self.lora_B.weight.copy_(B0)  # [n,r]

    def forward(self, h, base=None):
        base = self.base_layer(h) if base is None else base  # [N,n]·[n,n]ᵀ, unless cached
        return base + self.lora_B(self.lora_A(h)) * S


class Student(nn.Module):
    def __init__(self, Win, Wh, w, A0, B0):
        super().__init__()
        self.fc_in = nn.Linear(Win.shape[1], Win.shape[0], bias=False).requires_grad_(False)
        self.fc_in.weight.copy_(Win)
        self.hidden = LoraLinear(Wh, A0, B0)
        self.register_buffer("readout", w)

    def forward(self, x):
        h = torch.relu(self.fc_in(x))
        return torch.relu(self.hidden(h)) @ self.readout

    def forward_cached(self, h, C):
        return torch.relu(self.hidden(h, C)) @ self.readout


def one_run(fz, n, seed, init, lr, steps, cache):
    x, y, Win, Wh, w, h, C = fz
    A0, B0 = adapter_init(n, seed, init)
    with torch.no_grad():
        model = Student(Win, Wh, w, A0, B0)
    opt = torch.optim.Adam([model.hidden.lora_A.weight, model.hidden.lora_B.weight], lr=lr, betas=(0.9, 0.999), eps=1e-8)
    losses = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        yhat = model.forward_cached(h, C) if cache else model(x)
        loss = F.mse_loss(yhat, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def setup(n, seed, cache):
    xB, yB, Win, Wh, w = frozen(n, seed)
    x, y = xB[:N], yB[:N]
    with torch.no_grad():
        h = torch.relu(x @ Win.T) if cache else None
        C = h @ Wh.T if cache else None
    return (x, y, Win, Wh, w, h, C)


def main():
    a = args(lambda ap: (ap.add_argument("--cache-frozen", action="store_true"),
                         ap.add_argument("--measure", type=int, default=0, help="time only this many runs and extrapolate (0 = all)")))
    cache = a.cache_frozen
    if a.spec == "default":
        # Every (width, seed) job has the same shapes for all seeds and runs: time `measure` runs of
        # seed 0 per width (and its setup once) and scale to 3 seeds × 32 runs.
        grid = default_grid_runs()
        k = a.measure or len(grid)
        picks = [grid[i * len(grid) // k] for i in range(k)]
        total, measured, per_width = 0.0, 0.0, {}
        for n in a.widths:
            ts, fz = timed(lambda: setup(n, 0, cache))
            tr = sum(timed(lambda: one_run(fz, n, 0, init, lr, a.steps, cache))[0] for init, lr in picks)
            measured += ts + tr
            est = len(a.seeds) * (ts + tr * len(grid) / k)
            per_width[n] = est
            total += est
        report({"bench": "toy-spec", "stack": "torch-loop" + ("-cached" if cache else ""), "wallS": total,
                "extrapolated": k < len(grid) or len(a.seeds) > 1, "measuredS": measured, "runsTimedPerWidth": k,
                "perWidthS": per_width}, a)
        return
    runs = lr_grid(a.runs)
    k = a.measure or len(runs)
    picks = [runs[i * len(runs) // k] for i in range(k)]
    setup_s, fz = timed(lambda: setup(a.width, 0, cache))
    times, last = [], []
    for _ in range(a.reps):
        t, losses = timed(lambda: [one_run(fz, a.width, 0, init, lr, a.steps, cache) for init, lr in picks])
        times.append(t * len(runs) / k)
        last = [l[-1] for l in losses]
    warm = sorted(times[1:] or times)  # the first rep warms torch's allocator and kernels
    report({"bench": "toy", "stack": "torch-loop" + ("-cached" if cache else ""), "width": a.width, "runs": a.runs, "steps": a.steps,
            "setupS": setup_s, "trainS": warm[len(warm) // 2], "trainTimes": times, "extrapolated": k < len(runs),
            "runsTimed": k, "lossLast": last[:4]}, a)


if __name__ == "__main__":
    main()
