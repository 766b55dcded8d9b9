#!/usr/bin/python3
"""Trains the draft model of speculative decoding's tests and benchmarks: a Llama-architecture
model of dim 64 and 2 layers on the English fortune files Debian ships (/usr/share/games/fortunes,
as fortunes2M was: every file but ascii-art), with fortunes2M's own SentencePiece tokenizer
(../shared/models/fortunes2M/tokenizer.model, vocabulary 1024), written as a legacy llama2.c
checkpoint (version 0, the classifier tied to the embedding, RoPE on adjacent pairs as run.c) so
edgeformer-convert reads it with fortunes2M's tokenizer.bin.

Deterministic: the split (a fortune is held out when crc32 of its text is 0 mod 20), the
initialization and the batches all follow from --seed; CPU only, one thread (the same floats on
any machine with the same PyTorch). About 15 minutes (Debian's PyTorch multiplies at 2-3 GFLOPS).

Usage: /usr/bin/python3 scripts/train_draft_fortunes.py TOKENIZER_MODEL OUT.bin [--steps 1500] [--batch 16] [--seed 1]
It prints the held-out loss of the draft; docs/performance.md has the acceptance it gets as
fortunes2M's draft.
"""
import argparse
import math
import os
import struct
import sys
import zlib

import sentencepiece
import torch

FORTUNES = "/usr/share/games/fortunes"
DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ = 64, 176, 2, 4, 2, 1024, 256
TRAIN_SEQ = 128


def fortunes():
    """Every fortune of the English files, in file-name order (ascii-art holds pictures)."""
    docs = []
    for name in sorted(os.listdir(FORTUNES)):
        path = os.path.join(FORTUNES, name)
        if "." in name or name == "ascii-art" or os.path.isdir(path) or os.path.islink(path):
            continue
        text = open(path, encoding="utf-8", errors="replace").read()
        docs.extend(d.strip() for d in text.split("\n%\n") if d.strip())
    return docs


def rope_tables(head_dim, seq, theta=10000.0):
    freqs = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64)[: head_dim // 2] / head_dim)
    angles = torch.outer(torch.arange(seq, dtype=torch.float64), freqs)
    return torch.cos(angles).float(), torch.sin(angles).float()


def rope(x, cos, sin):
    """llama2.c's rotation: adjacent pairs (0,1), (2,3)... of each head. x: [B, T, H, D]."""
    t = x.shape[1]
    pairs = x.reshape(*x.shape[:-1], -1, 2)
    a, b = pairs[..., 0], pairs[..., 1]
    c, s = cos[:t, None, :], sin[:t, None, :]
    return torch.stack([a * c - b * s, a * s + b * c], dim=-1).reshape(x.shape)


class Llama(torch.nn.Module):
    """Llama 2 as llama2.c's run.c computes it: RMSNorm (eps 1e-5), GQA, SwiGLU, no biases."""

    def __init__(self):
        super().__init__()
        hd = DIM // HEADS
        self.embed = torch.nn.Embedding(VOCAB, DIM)
        lin = lambda i, o: torch.nn.Linear(i, o, bias=False)  # noqa: E731
        self.layers = torch.nn.ModuleList()
        for _ in range(LAYERS):
            layer = torch.nn.Module()
            layer.att_norm = torch.nn.Parameter(torch.ones(DIM))
            layer.wq, layer.wk, layer.wv, layer.wo = lin(DIM, DIM), lin(DIM, KV_HEADS * hd), lin(DIM, KV_HEADS * hd), lin(DIM, DIM)
            layer.ffn_norm = torch.nn.Parameter(torch.ones(DIM))
            layer.w1, layer.w2, layer.w3 = lin(DIM, HIDDEN), lin(HIDDEN, DIM), lin(DIM, HIDDEN)
            self.layers.append(layer)
        self.norm = torch.nn.Parameter(torch.ones(DIM))
        cos, sin = rope_tables(hd, SEQ)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)

    @staticmethod
    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def forward(self, ids):
        b, t = ids.shape
        hd = DIM // HEADS
        x = self.embed(ids)
        mask = torch.full((t, t), float("-inf")).triu(1)
        for layer in self.layers:
            h = self.rms(x, layer.att_norm)
            q = rope(layer.wq(h).view(b, t, HEADS, hd), self.cos, self.sin)
            k = rope(layer.wk(h).view(b, t, KV_HEADS, hd), self.cos, self.sin)
            v = layer.wv(h).view(b, t, KV_HEADS, hd)
            k = k.repeat_interleave(HEADS // KV_HEADS, dim=2)  # query head h uses kv head h / group
            v = v.repeat_interleave(HEADS // KV_HEADS, dim=2)
            att = (q.transpose(1, 2) @ k.transpose(1, 2).transpose(-1, -2)) / math.sqrt(hd) + mask
            out = (att.softmax(-1) @ v.transpose(1, 2)).transpose(1, 2).reshape(b, t, DIM)
            x = x + layer.wo(out)
            h = self.rms(x, layer.ffn_norm)
            x = x + layer.w2(torch.nn.functional.silu(layer.w1(h)) * layer.w3(h))
        return self.rms(x, self.norm) @ self.embed.weight.T


def export(model, path):
    """llama2.c's legacy format (version 0): the header, then float32 tensors in run.c's order."""
    hd = DIM // HEADS
    with open(path, "wb") as f:
        f.write(struct.pack("<7i", DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ))

        def put(t):
            f.write(t.detach().contiguous().float().numpy().tobytes())

        put(model.embed.weight)
        for name in ["att_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w1", "w2", "w3"]:
            for layer in model.layers:
                p = getattr(layer, name)
                put(p if isinstance(p, torch.nn.Parameter) else p.weight)
        put(model.norm)
        cos, sin = rope_tables(hd, SEQ)
        put(cos)
        put(sin)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("tokenizer_model")
    p.add_argument("out")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    sp = sentencepiece.SentencePieceProcessor(model_file=a.tokenizer_model)
    if sp.get_piece_size() != VOCAB:
        sys.exit(f"{a.tokenizer_model}: {sp.get_piece_size()} pieces, expected {VOCAB}")
    docs = fortunes()
    train = [d for d in docs if zlib.crc32(d.encode()) % 20 != 0]
    held = [d for d in docs if zlib.crc32(d.encode()) % 20 == 0]

    def stream(texts):
        ids = []
        for t in texts:
            ids.append(sp.bos_id())
            ids.extend(sp.encode(t))
        return torch.tensor(ids, dtype=torch.long)

    train_ids, held_ids = stream(train), stream(held)
    print(f"{len(train)} training fortunes ({len(train_ids)} tokens), {len(held)} held out ({len(held_ids)} tokens)")
    model = Llama()
    for name, w in model.named_parameters():
        if w.dim() == 2:
            torch.nn.init.normal_(w, std=0.02)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01, betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(a.seed)

    def batch(ids, n):
        starts = torch.randint(0, len(ids) - TRAIN_SEQ - 1, (n,), generator=gen)
        x = torch.stack([ids[s : s + TRAIN_SEQ] for s in starts.tolist()])
        y = torch.stack([ids[s + 1 : s + TRAIN_SEQ + 1] for s in starts.tolist()])
        return x, y

    for step in range(a.steps):
        lr = 3e-3 * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / a.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch(train_ids, a.batch)
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 500 == 0 or step == a.steps - 1:
            print(f"step {step}: loss {loss.item():.3f}")
    with torch.no_grad():
        n = (len(held_ids) - 1) // TRAIN_SEQ
        x = held_ids[: n * TRAIN_SEQ].view(n, TRAIN_SEQ)
        y = held_ids[1 : n * TRAIN_SEQ + 1].view(n, TRAIN_SEQ)
        held_loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1)).item()
    print(f"held-out loss {held_loss:.3f} (perplexity {math.exp(held_loss):.1f})")
    export(model, a.out)
    print(f"wrote {a.out} ({os.path.getsize(a.out)} bytes)")


if __name__ == "__main__":
    main()
