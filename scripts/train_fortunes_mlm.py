#!/usr/bin/python3
"""Trains the tiny real encoder of the tests: a BERT masked-language model on the English fortune
files Debian ships (package `fortunes`, /usr/share/games/fortunes), with a WordPiece vocabulary
built from its training split, written as a Hugging Face BertForMaskedLM checkpoint
(config.json, model.safetensors, tokenizer.json) in OUT_DIR.

Deterministic: the split (a fortune is held out when crc32 of its text is 0 mod 20), the
vocabulary, the initialization and the batches all follow from --seed. CPU only.

Usage: /usr/bin/python3 scripts/train_fortunes_mlm.py OUT_DIR [--steps 4000] [--batch 32] [--seed 1]
tests/reference/eval_mlm.py measures the masked-token accuracy on the held-out fortunes.
"""
import argparse
import json
import math
import os
import sys
import time
import zlib

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import wordpiece  # noqa: E402
from make_models import write_safetensors  # noqa: E402

FORTUNES = "/usr/share/games/fortunes"
CONFIG = {"model_type": "bert", "architectures": ["BertForMaskedLM"], "hidden_size": 64, "intermediate_size": 128,
          "num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 64, "type_vocab_size": 2,
          "layer_norm_eps": 1e-12, "hidden_act": "gelu", "position_embedding_type": "absolute", "pad_token_id": 0}
VOCAB = 2000
SEQ = 64


def fortunes():
    """Every fortune of the English files, in file-name order."""
    docs = []
    for name in sorted(os.listdir(FORTUNES)):
        path = os.path.join(FORTUNES, name)
        if "." in name or os.path.isdir(path) or os.path.islink(path):
            continue
        text = open(path, encoding="utf-8", errors="replace").read()
        docs.extend(d.strip() for d in text.split("\n%\n") if d.strip())
    return docs


def split(docs):
    held = [d for d in docs if zlib.crc32(d.encode()) % 20 == 0]
    train = [d for d in docs if zlib.crc32(d.encode()) % 20 != 0]
    return train, held


class Bert(torch.nn.Module):
    """BertForMaskedLM, written from its definition: post-norm layers, erf GELU, tied decoder."""

    def __init__(self, c):
        super().__init__()
        d, h = c["hidden_size"], c["intermediate_size"]
        self.c = c
        self.word = torch.nn.Embedding(c["vocab_size"], d)
        self.pos = torch.nn.Embedding(c["max_position_embeddings"], d)
        self.types = torch.nn.Embedding(c["type_vocab_size"], d)
        self.emb_ln = torch.nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.layers = torch.nn.ModuleList()
        for _ in range(c["num_hidden_layers"]):
            self.layers.append(torch.nn.ModuleDict({
                "q": torch.nn.Linear(d, d), "k": torch.nn.Linear(d, d), "v": torch.nn.Linear(d, d),
                "o": torch.nn.Linear(d, d), "ln1": torch.nn.LayerNorm(d, eps=c["layer_norm_eps"]),
                "up": torch.nn.Linear(d, h), "down": torch.nn.Linear(h, d),
                "ln2": torch.nn.LayerNorm(d, eps=c["layer_norm_eps"])}))
        self.head = torch.nn.Linear(d, d)
        self.head_ln = torch.nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.bias = torch.nn.Parameter(torch.zeros(c["vocab_size"]))
        for m in self.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Embedding)):
                torch.nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.zeros_(m.bias)

    def forward(self, ids, pad):
        b, t = ids.shape
        nh = self.c["num_attention_heads"]
        hd = self.c["hidden_size"] // nh
        x = self.word(ids) + self.pos(torch.arange(t))[None] + self.types(torch.zeros_like(ids))
        x = self.emb_ln(x)
        mask = torch.where(pad, float("-inf"), 0.0)[:, None, None, :]
        for L in self.layers:
            q, k, v = (L[n](x).view(b, t, nh, hd).transpose(1, 2) for n in ("q", "k", "v"))
            att = ((q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask).softmax(-1) @ v
            x = L["ln1"](x + L["o"](att.transpose(1, 2).reshape(b, t, -1)))
            x = L["ln2"](x + L["down"](torch.nn.functional.gelu(L["up"](x))))
        return x

    def logits(self, x):
        """The masked-LM head on hidden states x [..., d]."""
        y = self.head_ln(torch.nn.functional.gelu(self.head(x)))
        return y @ self.word.weight.T + self.bias

    def state_for_hf(self):
        """The weights under BertForMaskedLM's names."""
        w = {"bert.embeddings.word_embeddings.weight": self.word.weight,
             "bert.embeddings.position_embeddings.weight": self.pos.weight,
             "bert.embeddings.token_type_embeddings.weight": self.types.weight,
             "bert.embeddings.LayerNorm.weight": self.emb_ln.weight, "bert.embeddings.LayerNorm.bias": self.emb_ln.bias,
             "cls.predictions.transform.dense.weight": self.head.weight,
             "cls.predictions.transform.dense.bias": self.head.bias,
             "cls.predictions.transform.LayerNorm.weight": self.head_ln.weight,
             "cls.predictions.transform.LayerNorm.bias": self.head_ln.bias, "cls.predictions.bias": self.bias}
        names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
                 "o": "attention.output.dense", "ln1": "attention.output.LayerNorm", "up": "intermediate.dense",
                 "down": "output.dense", "ln2": "output.LayerNorm"}
        for i, L in enumerate(self.layers):
            for short, long in names.items():
                w[f"bert.encoder.layer.{i}.{long}.weight"] = L[short].weight
                w[f"bert.encoder.layer.{i}.{long}.bias"] = L[short].bias
        return {k: v.detach().to(torch.float64) for k, v in w.items()}


def encode_all(tok, docs):
    """[CLS] fortune [SEP], cut to SEQ tokens (still ending in [SEP])."""
    out = []
    for d in docs:
        ids = tok.encode(d)
        out.append(ids[:SEQ - 1] + [tok.vocab["[SEP]"]] if len(ids) > SEQ else ids)
    return out


def mask_batch(seqs, vocab, gen):
    """BERT's masking: 15% of the non-special tokens; of those 80% [MASK], 10% random, 10% kept."""
    t = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), t, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
    pad = ids == vocab["[PAD]"]
    special = pad | (ids == vocab["[CLS]"]) | (ids == vocab["[SEP]"])
    chosen = (torch.rand(ids.shape, generator=gen) < 0.15) & ~special
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    r = torch.rand(ids.shape, generator=gen)
    inputs = ids.clone()
    inputs[chosen & (r < 0.8)] = vocab["[MASK]"]
    random_ids = torch.randint(len(wordpiece.SPECIALS), len(vocab), ids.shape, generator=gen)
    swap = chosen & (r >= 0.8) & (r < 0.9)
    inputs[swap] = random_ids[swap]
    return inputs, pad, labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    train, held = split(fortunes())
    vocab = wordpiece.build_vocab(train, VOCAB)
    tok = wordpiece.WordPiece(vocab, specials=wordpiece.SPECIALS)
    seqs = encode_all(tok, train)
    print(f"{len(train)} training fortunes, {len(held)} held out, vocabulary {len(vocab)}", flush=True)
    c = dict(CONFIG, vocab_size=len(vocab))
    model = Bert(c)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 300) * max(0.05, 1.0 - s / args.steps))
    start, losses = time.time(), []
    for step in range(args.steps):
        batch = [seqs[int(i)] for i in torch.randint(0, len(seqs), (args.batch,), generator=gen)]
        inputs, pad, labels = mask_batch(batch, vocab, gen)
        hidden = model(inputs, pad)
        picked = labels != -100  # the head runs on the masked positions only (the vocabulary is the cost)
        loss = torch.nn.functional.cross_entropy(model.logits(hidden[picked]), labels[picked])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if (step + 1) % 500 == 0:
            print(f"step {step + 1}: loss {sum(losses[-500:]) / 500:.3f} ({time.time() - start:.0f} s)", flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    write_safetensors(os.path.join(args.out, "model.safetensors"), model.state_for_hf(), "F32")
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(wordpiece.tokenizer_json(vocab), f, ensure_ascii=False)
    print(f"{params} parameters, {args.steps} steps in {time.time() - start:.0f} s, "
          f"final training loss {sum(losses[-500:]) / 500:.3f}")


if __name__ == "__main__":
    main()
