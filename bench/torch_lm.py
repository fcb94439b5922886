"""The language-model benchmark of bench/lm.ts in PyTorch (transformers' LlamaForCausalLM, PEFT LoRA).

    --model stories260K FOLDER   the converted stories260K folder (bench/run.ts writes it with
                                 `lorascope convert llama2c` before the rounds)
    --model llama15m             a random Llama of stories15M's shape (dim 288, 6 layers, 6 heads,
                                 hidden 768, vocab 32000, 256 positions, tied head)
    --mode train                 LoRA r 8, lora_alpha 16 on q/k/v/o_proj (PEFT's init: B = 0), AdamW
                                 lr 1e-3, weight decay 0.01, causal-LM loss with labels = ids on the
                                 [batch, 256] batch (1 + 37·i) mod vocab; tokens/s = 256·batch / median step time
    --mode gen                   greedy decoding of 128 new tokens from BOS with the KV cache
                                 (model.generate, do_sample=False); tokens/s = 128 / median wall time
    --threads N --reps R --warmup W --batch B (train; default 4)

One JSON line: tokensPerSecond, the per-repeat numbers, the first loss (train) or first tokens (gen)
and the peak RSS. Run with /work/venv/bin/python (torch 2.13, transformers 5.18, peft 0.21).
"""
import argparse
import json
import resource
import statistics
import time

import torch
import transformers
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

SEQ, NEW = 256, 128


def load(name, folder):
    if name == "stories260K":
        return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=32000, hidden_size=288, intermediate_size=768, num_hidden_layers=6,
                      num_attention_heads=6, num_key_value_heads=6, max_position_embeddings=256,
                      rms_norm_eps=1e-5, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)
    return LlamaForCausalLM(cfg)


def train(model, reps, warmup, batch):
    V = model.config.vocab_size
    ids = ((1 + 37 * torch.arange(batch * SEQ)) % V).reshape(batch, SEQ)
    peft = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0,
                                            target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]))
    peft.train()
    opt = torch.optim.AdamW([p for p in peft.parameters() if p.requires_grad], lr=1e-3, weight_decay=0.01)
    times, loss1 = [], None
    for i in range(warmup + reps):
        t0 = time.perf_counter()
        loss = peft(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        value = float(loss)
        if i == 0:
            loss1 = value
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return {"tokensPerSecond": batch * SEQ / statistics.median(times), "secondsPerStep": times, "loss1": loss1,
            "batch": batch}


def gen(model, reps, warmup):
    model.eval()
    ids = torch.tensor([[1]])
    rates, first = [], []
    with torch.no_grad():
        for i in range(warmup + reps):
            t0 = time.perf_counter()
            out = model.generate(ids, max_new_tokens=NEW, min_new_tokens=NEW, do_sample=False, use_cache=True,
                                 pad_token_id=0)
            seconds = time.perf_counter() - t0
            first = out[0, 1:9].tolist()
            if i >= warmup:
                rates.append((out.shape[1] - 1) / seconds)
    return {"tokensPerSecond": statistics.median(rates), "rates": rates, "firstTokens": first}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", nargs="+", required=True)
    ap.add_argument("--mode", choices=["train", "gen"], required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--batch", type=int, default=4)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    name = a.model[0]
    model = load(name, a.model[1] if len(a.model) > 1 else None)
    result = train(model, a.reps, a.warmup, a.batch) if a.mode == "train" else gen(model, a.reps, a.warmup)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"model": name, "mode": a.mode, "threads": a.threads, **result, "peakRssMiB": peak,
                      "torch": torch.__version__, "transformers": transformers.__version__}))


if __name__ == "__main__":
    main()
