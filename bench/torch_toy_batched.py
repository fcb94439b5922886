"""lorascope's batched toy algorithm in PyTorch (the docs' toy.py step, with its [K,N,n] buffer reused): per (width, seed), the frozen
H = relu(W_in x) and C = H·W_hᵀ are computed once; the K adapters are stacked [K,…] with their own
learning rates and trained together with hand-written gradients and Adam, in chunks of K·N·n ≤ 2^25
floats like lorascope. Per step it also returns the loss of every adapter (not the RMS/δ metrics
lorascope records, which add about one [K·r,n]·[n,N] product per step).

    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/torch_toy_batched.py --width 1024 --runs 24 --steps 50
    ... --spec default

Prints one JSON line (bench/stats.ts protocol).
"""
import torch
from torch_toy_common import MAX_CHUNK_ELEMS, N, S, args, adapter_init, default_grid_runs, frozen, lr_grid, r, report, timed


def setup(n, seed):
    xB, yB, Win, Wh, w = frozen(n, seed)
    H = torch.relu(xB[:N] @ Win.T)  # [N,n]
    C = H @ Wh.T  # [N,n]·[n,n] → [N,n], once per job
    return H, C, yB[:N], w


def train_chunk(fz, n, seed, runs, steps):
    H, C, y, w = fz
    K = len(runs)
    inits = {i: adapter_init(n, seed, i) for i in {init for init, _ in runs}}
    A = torch.stack([inits[i][0] for i, _ in runs])  # [K,r,n]
    B = torch.stack([inits[i][1] for i, _ in runs])  # [K,n,r]
    LR = torch.tensor([lr for _, lr in runs]).view(K, 1, 1)
    mA, vA, mB, vB = (torch.zeros_like(t) for t in (A, A, B, B))
    Cx = C.expand(K, N, n)
    # One preallocated [K,N,n] buffer, filled in place: a fresh 100 MB+ tensor per step costs page
    # faults (measured 536 ms for baddbmm into a new tensor vs 17 ms into this buffer, n = 1024, K = 24),
    # and baddbmm with the stride-0 expanded C as input was as slow; copy_ then baddbmm_ is not.
    U = torch.empty(K, N, n)
    loss = None
    for t in range(1, steps + 1):
        ZA = torch.einsum("bn,lrn->lbr", H, A)  # [K,N,r]
        U.copy_(Cx).baddbmm_(ZA, B.transpose(1, 2), alpha=S)  # C + s·Z_A·Bᵀ → [K,N,n]
        U.clamp_(min=0)
        err = U @ w - y  # [K,N]
        loss = (err ** 2).mean(1)
        e = err * (2 / N)  # ∂loss/∂ŷ
        U.gt_(0)  # U → relu mask, in place
        gB = S * w[:, None] * torch.bmm(U.transpose(1, 2), e[:, :, None] * ZA)  # [K,n,N]·[K,N,r] → [K,n,r]
        gA = torch.einsum("lbr,bn->lrn", S * e[:, :, None] * torch.bmm(U, w[:, None] * B), H)  # [K,r,n]
        for p, g, mm, vv in ((A, gA, mA, vA), (B, gB, mB, vB)):
            mm.mul_(0.9).add_(g, alpha=0.1)
            vv.mul_(0.999).addcmul_(g, g, value=0.001)
            p.sub_(LR * (mm / (1 - 0.9 ** t)) / ((vv / (1 - 0.999 ** t)).sqrt() + 1e-8))
    return loss.tolist()


def train(fz, n, seed, runs, steps):
    cap = max(1, MAX_CHUNK_ELEMS // (N * n))
    chunks = -(-len(runs) // cap)
    size = -(-len(runs) // chunks)
    out = []
    for i in range(0, len(runs), size):
        out += train_chunk(fz, n, seed, runs[i:i + size], steps)
    return out


def main():
    a = args()
    if a.spec == "default":
        grid = default_grid_runs()
        per_width, t0 = {}, 0.0
        for n in a.widths:
            tw = 0.0
            for seed in a.seeds:
                ts, fz = timed(lambda: setup(n, seed))
                tt, _ = timed(lambda: train(fz, n, seed, grid, a.steps))
                tw += ts + tt
            per_width[n] = tw
            t0 += tw
        report({"bench": "toy-spec", "stack": "torch-batched", "wallS": t0, "extrapolated": False, "perWidthS": per_width}, a)
        return
    runs = lr_grid(a.runs)
    setup_s, fz = timed(lambda: setup(a.width, 0))
    times, last = [], []
    for _ in range(a.reps):
        t, last = timed(lambda: train(fz, a.width, 0, runs, a.steps))
        times.append(t)
    warm = sorted(times[1:] or times)  # the first rep warms torch's allocator and kernels
    report({"bench": "toy", "stack": "torch-batched", "width": a.width, "runs": a.runs, "steps": a.steps, "setupS": setup_s,
            "trainS": warm[len(warm) // 2], "trainTimes": times, "extrapolated": False, "lossLast": last[:4]}, a)


if __name__ == "__main__":
    main()
