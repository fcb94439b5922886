"""USE-lite in PyTorch: the reference for bench/use-forward.ts and bench/use-train.ts.

Reads what bench/use_export.ts wrote (the encoder's params in PyTorch layout, the graph constants,
a batch of real sentiment sentences as x0 rows with mask and labels, and lorascope's embeddings of
that batch) and runs the same encoder (src/models/use-lite/model.ts):

    per layer (pre-norm): h = residual(x) + o_proj(attention(LN_att(x)));  x' = h + fc2(relu(fc1(LN_ffn(h))))
    out = l2normalize(tanh(pooler.dense(masked_mean(x))))

    --check OUTDIR   max |Δ| and min cosine between torch's embeddings and lorascope's
    --bench OUTDIR --batch 32 --len 32 --reps 5 --threads 1
                     (a) the frozen forward under no_grad, (b) the LoRA train step (r 8, alpha 8 on
                     q/k/v/o_proj, fc1, fc2 of both layers; PEFT init: A kaiming-uniform(a=√5), B 0;
                     a head `classifier` [2, 512] trained in full; AdamW lr 1e-3, wd 0.01;
                     cross-entropy), as in src/experiments/encoder/finetune.ts. One JSON line.

The export is read with numpy alone (safetensors: u64 little-endian header length, JSON header, raw
little-endian data). Run with Debian's /usr/bin/python3 (torch 1.13) and OPENBLAS_NUM_THREADS=1.
"""
import argparse, json, math, os, time
import numpy as np
import torch
import torch.nn.functional as F

HEADS, R, ALPHA = 4, 8, 8
TARGETS = ("attention.q_proj", "attention.k_proj", "attention.v_proj", "attention.o_proj", "ffn.fc1", "ffn.fc2")
DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U8": "u1"}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        arr = np.frombuffer(raw, dtype=DTYPES[e["dtype"]], count=(end - begin) // np.dtype(DTYPES[e["dtype"]]).itemsize, offset=8 + n + begin)
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(e["shape"]))
    return out


def load(outdir):
    t = read_safetensors(os.path.join(outdir, "use-lite.safetensors"))
    with open(os.path.join(outdir, "use-lite.json")) as f:
        c = json.load(f)
    return t, c


def linear(p, name, h, lora=None):
    """x·Wᵀ + b (+ s·(x·Aᵀ)·Bᵀ when `name` carries LoRA factors)."""
    y = F.linear(h, p[name + ".weight"], p[name + ".bias"])  # [..., in]·[in, out] = [..., out]
    if lora is not None and name in lora:
        A, B = lora[name]
        y = y + (h @ A.t()) @ B.t() * (ALPHA / R)  # ([..., in]·[in, r])·[r, out]
    return y


def encode(p, c, x, mask, lora=None):
    """Unit-norm sentence embeddings [B, 512] of x0 [B, L, 256] with mask [B, L]."""
    B, L = mask.shape
    eps = c["layerNormEps"]
    bias = ((1 - mask) * c["paddingBias"]).view(B, 1, 1, L)  # [B, 1, 1, L] over keys
    for i in range(2):
        pre = f"layers.{i}."
        n = F.layer_norm(x, (x.shape[-1],), p[pre + "attention_norm.weight"], p[pre + "attention_norm.bias"], eps)
        split = lambda t: t.view(B, L, HEADS, -1).transpose(1, 2)  # [B, L, d] → [B, H, L, dh]
        q = split(linear(p, pre + "attention.q_proj", n, lora)) * c["attentionScale"][i]
        k = split(linear(p, pre + "attention.k_proj", n, lora))
        v = split(linear(p, pre + "attention.v_proj", n, lora))
        w = torch.softmax(q @ k.transpose(-1, -2) + bias, -1)  # [B, H, L, L]
        heads = (w @ v).transpose(1, 2).reshape(B, L, -1)  # [B, H, L, dh] → [B, L, H·dh]
        attended = linear(p, pre + "attention.o_proj", heads, lora)
        residual = linear(p, pre + "residual_proj", x) if pre + "residual_proj.weight" in p else x
        h = residual + attended  # [B, L, 512]
        n2 = F.layer_norm(h, (h.shape[-1],), p[pre + "ffn_norm.weight"], p[pre + "ffn_norm.bias"], eps)
        x = h + linear(p, pre + "ffn.fc2", torch.relu(linear(p, pre + "ffn.fc1", n2, lora)), lora)
    count = torch.clamp(mask.sum(1, keepdim=True), min=1)  # [B, 1]
    pooled = (x * mask.unsqueeze(-1)).sum(1) / count  # [B, 512]
    dense = torch.tanh(linear(p, "pooler.dense", pooled))
    return dense / torch.sqrt(torch.clamp((dense * dense).sum(1, keepdim=True), min=c["l2Eps"]))


def check(outdir):
    t, c = load(outdir)
    with torch.no_grad():
        e = encode(t, c, t["input.x"], t["input.mask"])
    ref = t["output.embedding"]
    cos = (e * ref).sum(1) / (e.norm(dim=1) * ref.norm(dim=1))
    print(json.dumps({"check": "use-lite", "batch": int(e.shape[0]), "maxAbsDiff": float((e - ref).abs().max()),
                      "minCosine": float(cos.min()), "torch": torch.__version__}))


def tile(t, batch, length):
    """The exported batch repeated/cut to [batch, length] (timing only; shapes matter, not values)."""
    B, L = t["input.mask"].shape
    idx = torch.arange(batch) % B
    x = torch.zeros(batch, length, t["input.x"].shape[-1])
    mask = torch.zeros(batch, length)
    keep = min(L, length)
    x[:, :keep] = t["input.x"][idx, :keep]
    mask[:, :keep] = t["input.mask"][idx, :keep]
    return x, mask, t["input.labels"][idx].long()


def timed(fn, reps, warmup):
    times = []
    for i in range(warmup + reps):
        t0 = time.perf_counter()
        fn()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    return times


def bench(outdir, a):
    torch.manual_seed(0)
    t, c = load(outdir)
    p = {k: v for k, v in t.items() if not k.startswith(("input.", "output."))}  # requires_grad False
    x, mask, labels = tile(t, a.batch, a.len)

    def forward():
        with torch.no_grad():
            encode(p, c, x, mask)

    # PEFT's LoRA Linear.reset_lora_parameters: A kaiming-uniform(a=√5), B zeros. Head: nn.Linear init.
    lora = {}
    for i in range(2):
        for m in TARGETS:
            name = f"layers.{i}.{m}"
            out_f, in_f = p[name + ".weight"].shape
            A = torch.empty(R, in_f)
            torch.nn.init.kaiming_uniform_(A, a=math.sqrt(5))
            lora[name] = (A.requires_grad_(), torch.zeros(out_f, R, requires_grad=True))
    head = torch.nn.Linear(512, 2)
    trainable = [w for ab in lora.values() for w in ab] + list(head.parameters())
    opt = torch.optim.AdamW(trainable, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    losses = []

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(head(encode(p, c, x, mask, lora)), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())

    fwd = timed(forward, a.reps, a.warmup)
    train = timed(step, a.reps, a.warmup)
    fm, tm = float(np.median(fwd)), float(np.median(train))
    print(json.dumps({
        "bench": "use", "stack": "torch", "batch": a.batch, "len": a.len, "threads": a.threads,
        "blasThreads": int(os.environ.get("OPENBLAS_NUM_THREADS", "0")),
        "forwardMsPerBatch": fm, "trainMsPerStep": tm,
        "sentencesPerSecForward": a.batch / (fm / 1000), "examplesPerSecTrain": a.batch / (tm / 1000),
        "forwardTimes": fwd, "trainTimes": train, "loss1": losses[0], "lossLast": losses[-1],
        "torch": torch.__version__,
    }))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", metavar="OUTDIR")
    ap.add_argument("--bench", metavar="OUTDIR")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--len", type=int, default=32)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.check:
        check(a.check)
    elif a.bench:
        bench(a.bench, a)
    else:
        ap.error("give --check OUTDIR or --bench OUTDIR")


if __name__ == "__main__":
    main()
