#!/usr/bin/python3
"""Tiny checkpoints with random weights and their reference logits, computed by PyTorch.

The modelling code below is written from the architectures' definitions (Llama: RMSNorm, rotary
positions rotating the two halves of each head, grouped-query causal attention, SwiGLU; Qwen2:
Llama with q/k/v biases; GPT-2: learned positions, LayerNorm, biases everywhere, the tanh GELU,
Conv1D weights stored [in][out]), not taken from any library, and runs in float64 on the weights as stored (so BF16 checkpoints are
computed from their rounded values). Each model is written the way Hugging Face writes one:
config.json plus model.safetensors, or shards with model.safetensors.index.json.

Usage: /usr/bin/python3 tests/reference/make_models.py OUT_DIR
For each model, OUT_DIR/<name>/ gets the checkpoint, reference.json ({"tokens": [...],
"vocab_size": V}) and logits.f32 (float32 little-endian, [len(tokens)][V], the logits after
every position).
"""
import json
import math
import os
import struct
import sys

import torch

# (name, config, safetensors dtype, shards): shapes chosen to be awkward (head_dim unlike
# hidden_size / heads, odd hidden sizes, grouped-query attention) but fast.
MODELS = [
    ("llama_f32", {
        "model_type": "llama", "hidden_size": 64, "intermediate_size": 176, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 24, "vocab_size": 320,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "tie_word_embeddings": False, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
    }, "F32", 1),
    ("llama3_bf16_tied_sharded", {
        "model_type": "llama", "hidden_size": 48, "intermediate_size": 136, "num_hidden_layers": 3,
        "num_attention_heads": 3, "num_key_value_heads": 1, "vocab_size": 300,
        "max_position_embeddings": 256, "rms_norm_eps": 1e-6, "rope_theta": 500000.0,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 32},
        "tie_word_embeddings": True, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": [2, 3],
    }, "BF16", 2),
    ("llama_f16", {
        "model_type": "llama", "hidden_size": 80, "intermediate_size": 200, "num_hidden_layers": 2,
        "num_attention_heads": 5, "vocab_size": 256, "max_position_embeddings": 96,
        "tie_word_embeddings": False,
    }, "F16", 1),
    ("qwen2_f32", {
        "model_type": "qwen2", "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 256,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
        "tie_word_embeddings": True, "hidden_act": "silu", "bos_token_id": None, "eos_token_id": 5,
    }, "F32", 1),
    ("gpt2_f32", {
        "model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 128,
        "vocab_size": 300, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "n_inner": None,
        "bos_token_id": 299, "eos_token_id": 299,
    }, "F32", 1),
    ("gpt2_f16_unprefixed", {
        "model_type": "gpt2", "n_embd": 48, "n_layer": 3, "n_head": 3, "n_positions": 100,
        "vocab_size": 260, "n_inner": 200,
    }, "F16", 1),
]

N_TOKENS = 96


def llama_weights(c, gen):
    """Random weights at variance-preserving scales. Random logits over a whole vocabulary are
    nearly tied at the top, unlike a trained model's; so the classifier is the token embedding
    (tied, or untied as the embedding plus noise), to which the layers add at the same scale:
    each position has a favourite, often but not always its own token (main prints how often),
    and int8 agreement measures quantization error rather than coin flips between near-ties."""
    d, h = c["hidden_size"], c["intermediate_size"]
    hd = c.get("head_dim", d // c["num_attention_heads"])
    nh, nkv = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])

    def mat(rows, cols, gain=1.0):
        return torch.randn(rows, cols, generator=gen, dtype=torch.float64) * gain / math.sqrt(cols)

    def norm(n):
        return 1.0 + 0.2 * torch.randn(n, generator=gen, dtype=torch.float64)

    w = {"model.embed_tokens.weight": torch.randn(c["vocab_size"], d, generator=gen, dtype=torch.float64)}
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = norm(d)
        w[p + "self_attn.q_proj.weight"] = mat(nh * hd, d, 2.0)
        w[p + "self_attn.k_proj.weight"] = mat(nkv * hd, d, 2.0)
        w[p + "self_attn.v_proj.weight"] = mat(nkv * hd, d)
        w[p + "self_attn.o_proj.weight"] = mat(d, nh * hd)
        w[p + "post_attention_layernorm.weight"] = norm(d)
        w[p + "mlp.gate_proj.weight"] = mat(h, d)
        w[p + "mlp.up_proj.weight"] = mat(h, d)
        w[p + "mlp.down_proj.weight"] = mat(d, h)
    w["model.norm.weight"] = norm(d)
    if not c.get("tie_word_embeddings", False):
        w["lm_head.weight"] = w["model.embed_tokens.weight"] + 0.5 * torch.randn(
            c["vocab_size"], d, generator=gen, dtype=torch.float64)
    return w


def qwen2_weights(c, gen):
    """Llama's weights plus q/k/v biases."""
    w = llama_weights(c, gen)
    hd = c.get("head_dim", c["hidden_size"] // c["num_attention_heads"])
    nh, nkv = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}.self_attn."
        w[p + "q_proj.bias"] = 0.5 * torch.randn(nh * hd, generator=gen, dtype=torch.float64)
        w[p + "k_proj.bias"] = 0.5 * torch.randn(nkv * hd, generator=gen, dtype=torch.float64)
        w[p + "v_proj.bias"] = 0.5 * torch.randn(nkv * hd, generator=gen, dtype=torch.float64)
    return w


def gpt2_weights(c, gen, prefix):
    """GPT-2's names and Conv1D layout ([in][out]); the classifier is wte."""
    d, layers = c["n_embd"], c["n_layer"]
    h = c.get("n_inner") or 4 * d

    def conv(n_in, n_out):
        return torch.randn(n_in, n_out, generator=gen, dtype=torch.float64) / math.sqrt(n_in)

    def vec(n, scale=0.2, mean=0.0):
        return mean + scale * torch.randn(n, generator=gen, dtype=torch.float64)

    t = prefix
    w = {t + "wte.weight": torch.randn(c["vocab_size"], d, generator=gen, dtype=torch.float64),
         t + "wpe.weight": 0.3 * torch.randn(c["n_positions"], d, generator=gen, dtype=torch.float64)}
    for l in range(layers):
        p = f"{t}h.{l}."
        w[p + "ln_1.weight"], w[p + "ln_1.bias"] = vec(d, 0.2, 1.0), vec(d)
        w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"] = conv(d, 3 * d) * 2.0, vec(3 * d)
        w[p + "attn.c_proj.weight"], w[p + "attn.c_proj.bias"] = conv(d, d), vec(d)
        w[p + "ln_2.weight"], w[p + "ln_2.bias"] = vec(d, 0.2, 1.0), vec(d)
        w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"] = conv(d, h), vec(h)
        w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"] = conv(h, d), vec(d)
        if not prefix:
            # The causal-mask buffer that original checkpoints carry: not a weight, to be ignored.
            w[p + "attn.bias"] = torch.ones(1, 1, c["n_positions"], c["n_positions"], dtype=torch.float64).tril()
    w[t + "ln_f.weight"], w[t + "ln_f.bias"] = vec(d, 0.2, 1.0), vec(d)
    return w


def gpt2_forward(c, w, tokens, prefix):
    d, nh = c["n_embd"], c["n_head"]
    hd, t, eps = d // nh, len(tokens), c.get("layer_norm_epsilon", 1e-5)

    def ln(x, name):
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + eps) * w[name + ".weight"] + w[name + ".bias"]

    def gelu_tanh(x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    mask = torch.full((t, t), float("-inf"), dtype=torch.float64).triu(1)
    x = w[prefix + "wte.weight"][torch.tensor(tokens)] + w[prefix + "wpe.weight"][:t]
    for l in range(c["n_layer"]):
        p = f"{prefix}h.{l}."
        qkv = ln(x, p + "ln_1") @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (part.view(t, nh, hd) for part in qkv.split(d, dim=-1))
        scores = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd) + mask
        att = torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(t, d)
        x = x + att @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        hidden = gelu_tanh(ln(x, p + "ln_2") @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + hidden @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    return ln(x, prefix + "ln_f") @ w[prefix + "wte.weight"].T


def rope_frequencies(c, hd):
    theta = c.get("rope_theta", 10000.0)
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    s = c.get("rope_scaling")
    if s:
        assert s["rope_type"] == "llama3"
        factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
        old = s["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        smooth = (old / wavelen - low) / (high - low)
        blended = (1 - smooth) * inv / factor + smooth * inv
        inv = torch.where(wavelen < old / high, inv, torch.where(wavelen > old / low, inv / factor, blended))
    return inv


def rotate_halves(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def llama_forward(c, w, tokens):
    d = c["hidden_size"]
    nh, nkv = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
    hd = c.get("head_dim", d // nh)
    eps = c.get("rms_norm_eps", 1e-6)
    t = len(tokens)

    def rms(x, g):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * g

    angles = torch.arange(t, dtype=torch.float64)[:, None] * rope_frequencies(c, hd)[None, :]
    cos = torch.cat([angles.cos(), angles.cos()], -1)[:, None, :]
    sin = torch.cat([angles.sin(), angles.sin()], -1)[:, None, :]
    mask = torch.full((t, t), float("-inf"), dtype=torch.float64).triu(1)
    x = w["model.embed_tokens.weight"][torch.tensor(tokens)]
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        xb = rms(x, w[p + "input_layernorm.weight"])
        def proj(name, heads):  # with its bias when the model has one (Qwen2)
            y = xb @ w[p + name + ".weight"].T
            if p + name + ".bias" in w:
                y = y + w[p + name + ".bias"]
            return y.view(t, heads, hd)

        q, k, v = proj("self_attn.q_proj", nh), proj("self_attn.k_proj", nkv), proj("self_attn.v_proj", nkv)
        q, k = rotate_halves(q, cos, sin), rotate_halves(k, cos, sin)
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        scores = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd) + mask
        att = torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(t, nh * hd)
        x = x + att @ w[p + "self_attn.o_proj.weight"].T
        xb = rms(x, w[p + "post_attention_layernorm.weight"])
        gate = xb @ w[p + "mlp.gate_proj.weight"].T
        up = xb @ w[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T
    x = rms(x, w["model.norm.weight"])
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x @ head.T


TORCH_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def tensor_bytes(t, dtype):
    t = t.to(TORCH_DTYPES[dtype]).contiguous()
    if dtype == "F32":
        return t.numpy().tobytes()
    return t.view(torch.int16).numpy().tobytes()  # the raw 16-bit patterns


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        blob = tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    out = sys.argv[1]
    for index, (name, config, dtype, shards) in enumerate(MODELS):
        gen = torch.Generator().manual_seed(1000 + index)
        family = config["model_type"]
        prefix = "" if name.endswith("unprefixed") else "transformer."
        if family == "gpt2":
            weights = gpt2_weights(config, gen, prefix)
        else:
            weights = (qwen2_weights if family == "qwen2" else llama_weights)(config, gen)
        # The reference computes with the values as stored.
        weights = {k: v.to(TORCH_DTYPES[dtype]).to(torch.float64) for k, v in weights.items()}
        tokens = torch.randint(0, config["vocab_size"], (N_TOKENS,), generator=gen).tolist()
        if family == "gpt2":
            logits = gpt2_forward(config, weights, tokens, prefix)
        else:
            logits = llama_forward(config, weights, tokens)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        names = list(weights)
        if shards == 1:
            write_safetensors(os.path.join(d, "model.safetensors"), weights, dtype)
        else:
            weight_map = {}
            for s in range(shards):
                part = names[s::shards]
                file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
                write_safetensors(os.path.join(d, file), {k: weights[k] for k in part}, dtype)
                weight_map.update({k: file for k in part})
            with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
                json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump({"tokens": tokens, "vocab_size": config["vocab_size"]}, f)
        with open(os.path.join(d, "logits.f32"), "wb") as f:
            f.write(logits.to(torch.float32).numpy().astype("<f4").tobytes())
        own = sum(int(logits[i].argmax()) == tokens[i] for i in range(len(tokens)))
        print(f"{name}: {len(names)} tensors ({dtype}, {shards} file(s)), {len(tokens)} reference positions, "
              f"top-1 is the position's own token at {own}")


if __name__ == "__main__":
    main()
