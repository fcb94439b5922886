"""Shared pieces of bench/torch_toy_loop.py and bench/torch_toy_batched.py: the toy protocol's data and
frozen student (docs toy-protocol.md "Model and protocol"; src/models/toy.ts), the default reproduce
grid (src/experiments/toy/spec.ts), argument parsing and the one-JSON-line report.

The numbers are not lorascope's (torch's own RNG), only the shapes, the algorithm and the work are.
"""
import argparse, json, math, os, time
import numpy as np
import torch

d, m, N, NT, r, ALPHA = 5, 64, 1000, 100, 4, 4
S = ALPHA / r
DEFAULT_WIDTHS = [64, 128, 256, 512, 1024, 2048, 4096]
DEFAULT_SEEDS = [0, 1, 2]
DEFAULT_LRS = [math.exp(math.log(2 ** -14) + (math.log(2 ** -1) - math.log(2 ** -14)) * i / 15) for i in range(16)]
MAX_CHUNK_ELEMS = 2 ** 25  # lorascope's default maxChunkElems: same [K,N,n] working set per chunk


def args(extra=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=24, help="runs: init-a/init-b × runs/2 learning rates")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--spec", default="", help="'default': the whole default reproduce grid")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--spec-widths", default="", help="with --spec default: replace its widths (quick checks only)")
    ap.add_argument("--spec-seeds", type=int, default=0, help="with --spec default: replace its seed count (quick checks only)")
    if extra:
        extra(ap)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    a.widths = [int(w) for w in a.spec_widths.split(",")] if a.spec_widths else DEFAULT_WIDTHS
    a.seeds = list(range(a.spec_seeds)) if a.spec_seeds else DEFAULT_SEEDS
    return a


def lr_grid(runs):
    """init-a/init-b × runs/2 log-spaced lrs 2^-11…2^-1 (the bench's 24-run sweep uses 12)."""
    half = max(1, runs // 2)
    lrs = [math.exp(math.log(2 ** -11) + (math.log(2 ** -1) - math.log(2 ** -11)) * i / max(1, half - 1)) for i in range(half)]
    return [(init, lr) for init in ("init-a", "init-b") for lr in lrs][:runs]


def default_grid_runs():
    return [(init, lr) for init in ("init-a", "init-b") for lr in DEFAULT_LRS]


def frozen(n, seed):
    """Teacher, task-B data and the width-n frozen student with its ridge-fitted readout, as toy.py.
    Returns x [N+NT,d], y [N+NT], W_in [n,d], W_h [n,n], w [n]."""
    g = torch.Generator().manual_seed(1000 + seed)
    rn = lambda *sh: torch.randn(*sh, generator=g)
    tWin, tWh, tw = rn(m, d) / d ** .5, rn(m, m) / m ** .5, rn(m) / m ** .5
    net = lambda X, Win, Wh, w: torch.relu(torch.relu(X @ Win.T) @ Wh.T) @ w
    XA, XB = rn(N + NT, d), rn(N + NT, d)
    yA = net(XA, tWin, tWh, tw); mu, sd = yA.mean(), yA.std(); yA = (yA - mu) / sd
    P, Q = rn(m, r) / r ** .5, rn(r, m) / m ** .5
    yB = (net(XB, tWin, tWh + P @ Q, tw) - mu) / sd
    gs = torch.Generator().manual_seed(7919 * seed + n)
    Win = torch.randn(n, d, generator=gs) / d ** .5
    Wh = torch.randn(n, n, generator=gs) / n ** .5
    w0 = torch.randn(n, generator=gs) / n ** .5
    G = torch.relu(torch.relu(XA[:N] @ Win.T) @ Wh.T).double()  # [N,n]
    K = G @ G.T  # [N,N]
    lam = 0.01 * K.trace() / N
    w = (w0.double() + G.T @ torch.linalg.solve(K + lam * torch.eye(N, dtype=torch.float64), yA[:N].double() - G @ w0.double())).float()
    return XB, yB, Win, Wh, w


def adapter_init(n, seed, init):
    """PEFT layout: A [r,n], B [n,r]; init-a: B = 0, A ~ U(±1/√n); init-b: A = 0, B ~ U(±1/√r)."""
    gi = torch.Generator().manual_seed(31 * seed + n + (0 if init == "init-a" else 1))
    if init == "init-a":
        return (torch.rand(r, n, generator=gi) * 2 - 1) / n ** .5, torch.zeros(n, r)
    return torch.zeros(r, n), (torch.rand(n, r, generator=gi) * 2 - 1) / r ** .5


def report(obj, a):
    obj.update({"threads": a.threads, "blasThreads": int(os.environ.get("OPENBLAS_NUM_THREADS", "0")), "torch": torch.__version__})
    print(json.dumps(obj))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out
