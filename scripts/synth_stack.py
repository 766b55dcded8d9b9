#!/usr/bin/python3
"""Writes a checkpoint in edgeformer's own config format (model_type "edgeformer",
converter/convert_generic.cc) with random weights at a given shape: the same layers as a
BERT-base encoder (post-norm LayerNorm, GELU, biases, learned positions) as an encoder or as a
causal decoder, so benchmarks can compare the two on the very same work. Random weights: speed
only, never accuracy.

Usage: /usr/bin/python3 scripts/synth_stack.py OUT_DIR --family encoder|decoder
           [--dim 768] [--hidden 3072] [--layers 12] [--heads 12] [--vocab 30522] [--context 512] [--seed 1]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from make_models import write_safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--family", choices=["encoder", "decoder"], required=True)
    for name, default in [("dim", 768), ("hidden", 3072), ("layers", 12), ("heads", 12), ("vocab", 30522),
                          ("context", 512), ("seed", 1)]:
        ap.add_argument("--" + name, type=int, default=default)
    a = ap.parse_args()
    gen = torch.Generator().manual_seed(a.seed)
    d, h = a.dim, a.hidden

    def rnd(*shape, scale=0.02):
        return (torch.randn(*shape, generator=gen) * scale).to(torch.float64)

    w = {"token_embedding.weight": rnd(a.vocab, d), "position_embedding.weight": rnd(a.context, d),
         "embed_norm.weight": 1.0 + rnd(d), "embed_norm_bias.weight": rnd(d)}
    for l in range(a.layers):
        p = f"layers.{l}."
        for name, rows, cols in [("wq", d, d), ("wk", d, d), ("wv", d, d), ("wo", d, d), ("w_up", h, d), ("w_down", d, h)]:
            w[p + name + ".weight"] = rnd(rows, cols)
        for name, n in [("bq", d), ("bk", d), ("bv", d), ("bo", d), ("b_up", h), ("b_down", d)]:
            w[p + name + ".weight"] = rnd(n)
        for name in ["attn_norm", "ffn_norm"]:
            w[p + name + ".weight"], w[p + name + "_bias.weight"] = 1.0 + rnd(d), rnd(d)
    encoder = a.family == "encoder"
    config = {"model_type": "edgeformer", "family": a.family, "hidden_size": d, "intermediate_size": h,
              "num_hidden_layers": a.layers, "num_attention_heads": a.heads, "vocab_size": a.vocab,
              "max_position_embeddings": a.context, "norm": "layernorm", "norm_eps": 1e-12, "norm_placement": "post",
              "positions": "learned", "activation": "gelu", "attention_bias": True, "mlp_bias": True,
              "embedding_norm": True, "final_norm": False, "tie_word_embeddings": True,
              "classifier": not encoder, "pooling": "cls" if encoder else "none"}
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    write_safetensors(os.path.join(a.out, "model.safetensors"), w, "F32")
    print(f"wrote {a.out}: a {a.family} of {sum(t.numel() for t in w.values()) / 1e6:.1f}M random parameters")


if __name__ == "__main__":
    main()
