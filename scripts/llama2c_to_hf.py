#!/usr/bin/python3
"""Rewrites a llama2.c checkpoint (version 0 model.bin) as a Hugging Face Llama checkpoint:
config.json and model.safetensors (F32, or BF16 rounded to nearest even).

llama2.c rotates adjacent pairs of each head's dimensions; Hugging Face rotates the two halves,
so the rows of wq and wk are permuted the other way round from what edgeformer-convert undoes.
Converting the result with edgeformer-convert must give the same model file contents as
converting the llama2.c checkpoint directly (tests/hf_test.cc checks this on aidreams260K), and
the script makes the large safetensors checkpoints for timing the converter (docs/performance.md).

Streams tensor by tensor through numpy memory maps, so checkpoints larger than memory work.

Usage: /usr/bin/python3 scripts/llama2c_to_hf.py MODEL.bin OUT_DIR [--dtype F32|BF16]
A missing MODEL.bin is reported and skipped (exit 0) when --skip-missing is given, unless
EDGEFORMER_REQUIRE_SHARED=1 (CI): then it is an error.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np


def pairs_to_halves(w, heads, head_dim):
    rows = w.reshape(heads, head_dim // 2, 2, -1)
    return rows.transpose(0, 2, 1, 3).reshape(heads * head_dim, -1)


def bf16_bits(x):
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint")
    p.add_argument("out")
    p.add_argument("--dtype", default="F32", choices=["F32", "BF16"])
    p.add_argument("--skip-missing", action="store_true")
    a = p.parse_args()
    if not os.path.exists(a.checkpoint):
        if a.skip_missing and os.environ.get("EDGEFORMER_REQUIRE_SHARED") != "1":
            print(f"{a.checkpoint} is missing: skipped")
            return
        sys.exit(f"{a.checkpoint} is missing")
    with open(a.checkpoint, "rb") as f:
        dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack("<7i", f.read(28))
    shared = vocab > 0
    vocab = abs(vocab)
    hd = dim // heads
    kv_dim = kv_heads * hd
    data = np.memmap(a.checkpoint, dtype=np.float32, mode="r", offset=28)
    at = 0

    def take(*shape):
        nonlocal at
        n = int(np.prod(shape))
        t = data[at:at + n].reshape(shape)
        at += n
        return t

    embed = take(vocab, dim)
    rms_att = take(layers, dim)
    wq = take(layers, dim, dim)
    wk = take(layers, kv_dim, dim)
    wv = take(layers, kv_dim, dim)
    wo = take(layers, dim, dim)
    rms_ffn = take(layers, dim)
    w1 = take(layers, hidden, dim)
    w2 = take(layers, dim, hidden)
    w3 = take(layers, hidden, dim)
    rms_final = take(dim)
    take(seq_len, hd // 2)  # freq_cis_real
    take(seq_len, hd // 2)  # freq_cis_imag
    classifier = embed if shared else take(vocab, dim)

    tensors = [("model.embed_tokens.weight", lambda: embed)]
    for l in range(layers):
        p = f"model.layers.{l}."
        tensors += [
            (p + "input_layernorm.weight", lambda l=l: rms_att[l]),
            (p + "self_attn.q_proj.weight", lambda l=l: pairs_to_halves(wq[l], heads, hd)),
            (p + "self_attn.k_proj.weight", lambda l=l: pairs_to_halves(wk[l], kv_heads, hd)),
            (p + "self_attn.v_proj.weight", lambda l=l: wv[l]),
            (p + "self_attn.o_proj.weight", lambda l=l: wo[l]),
            (p + "post_attention_layernorm.weight", lambda l=l: rms_ffn[l]),
            (p + "mlp.gate_proj.weight", lambda l=l: w1[l]),
            (p + "mlp.down_proj.weight", lambda l=l: w2[l]),
            (p + "mlp.up_proj.weight", lambda l=l: w3[l]),
        ]
    tensors.append(("model.norm.weight", lambda: rms_final))
    if not shared:
        tensors.append(("lm_head.weight", lambda: classifier))

    elem = 4 if a.dtype == "F32" else 2
    header, offset, shapes = {"__metadata__": {"format": "pt"}}, 0, {}
    for name, get in tensors:
        shape = list(get().shape)
        size = int(np.prod(shape)) * elem
        header[name] = {"dtype": a.dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, get in tensors:
            t = get()
            f.write((np.ascontiguousarray(t, dtype=np.float32) if a.dtype == "F32" else bf16_bits(t)).tobytes())
    config = {
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": dim,
        "intermediate_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
        "num_key_value_heads": kv_heads, "vocab_size": vocab, "max_position_embeddings": seq_len,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": shared, "hidden_act": "silu",
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32" if a.dtype == "F32" else "bfloat16",
    }
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print(f"wrote {a.out}: {len(tensors)} tensors, {offset / 2**20:.1f} MiB of {a.dtype}")


if __name__ == "__main__":
    main()
