#!/usr/bin/python3
"""Tiny checkpoints with random weights and their reference logits, computed by PyTorch.

The modelling code below is written from the architectures' definitions (Llama: RMSNorm, rotary
positions rotating the two halves of each head, grouped-query causal attention, SwiGLU; Qwen2:
Llama with q/k/v biases; GPT-2: learned positions, LayerNorm, biases everywhere, the tanh GELU,
Conv1D weights stored [in][out]), not taken from any library, and runs in float64 on the weights as stored (so BF16 checkpoints are
computed from their rounded values). Each model is written the way Hugging Face writes one:
config.json plus model.safetensors, or shards with model.safetensors.index.json.

One more model is written as GGUF (llama.cpp's format: q and k rows in the adjacent-pair rotary
layout, F32, F16 and Q8_0 tensors, the reference computed from the dequantized values) with the
SentencePiece tokenizer given by --sentencepiece (fortunes2M's), and OUT_DIR/gguf_llama/
tokenizer.json holds python3-sentencepiece's ids for a few texts.

With --gpt2-tokenizer (GPT-2's real tokenizer.json), OUT_DIR/bpe_{gpt2,llama3,qwen2}/ get a tiny
GPT-2 with that vocabulary and the GPT-2, Llama 3 or Qwen2 pre-tokenizer, and the ids that
tests/reference/bpe_reference.py (GPT-2's published algorithm on Python's regex engine) gives for
a few texts.

Usage: /usr/bin/python3 tests/reference/make_models.py OUT_DIR [--sentencepiece tokenizer.model]
           [--gpt2-tokenizer tokenizer.json]
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ggml_blocks import GGUF_TYPES, WRITERS, q4_0, q8_0  # noqa: E402

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
    ("qwen3_f32", {
        "model_type": "qwen3", "hidden_size": 64, "intermediate_size": 144, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 272,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "attention_bias": False,
        "tie_word_embeddings": True, "hidden_act": "silu", "bos_token_id": None, "eos_token_id": [6, 5],
        "sliding_window": None, "use_sliding_window": False,
    }, "F32", 1),
    ("mistral_f32", {
        "model_type": "mistral", "hidden_size": 64, "intermediate_size": 176, "num_hidden_layers": 2,
        "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 288, "max_position_embeddings": 128,
        "rms_norm_eps": 1e-5, "rope_theta": 1000000.0, "sliding_window": None, "tie_word_embeddings": False,
        "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
    }, "F32", 1),
    ("phi3_f32", {
        "model_type": "phi3", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 264, "max_position_embeddings": 256,
        "original_max_position_embeddings": 32, "partial_rotary_factor": 0.75, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "sliding_window": 48, "tie_word_embeddings": False, "hidden_act": "silu",
        "rope_scaling": {"type": "longrope", "short_factor": [1.0, 1.1, 1.3, 1.8, 2.5, 3.0],
                         "long_factor": [1.0, 1.5, 2.5, 4.0, 7.0, 11.0]},
        "bos_token_id": 1, "eos_token_id": 32000 % 264,
    }, "F32", 1),
    ("mistral_sw_f32", {
        "model_type": "mistral", "hidden_size": 48, "intermediate_size": 120, "num_hidden_layers": 3,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 280, "max_position_embeddings": 128,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "sliding_window": 16, "tie_word_embeddings": False,
        "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
    }, "F32", 1),
    ("gemma2_f32", {
        "model_type": "gemma2", "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 3,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 24, "vocab_size": 320,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "sliding_window": 20,
        "query_pre_attn_scalar": 32, "attn_logit_softcapping": 8.0, "final_logit_softcapping": 30.0,
        "hidden_activation": "gelu_pytorch_tanh", "hidden_act": "gelu_pytorch_tanh", "attention_bias": False,
        "tie_word_embeddings": True, "bos_token_id": 2, "eos_token_id": [1, 107],
    }, "F32", 1),
    ("gemma3_f32", {
        "model_type": "gemma3_text", "hidden_size": 64, "intermediate_size": 144, "num_hidden_layers": 4,
        "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 32, "vocab_size": 288,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
        "rope_local_base_freq": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 4.0},
        "sliding_window": 12, "sliding_window_pattern": 3, "query_pre_attn_scalar": 24,
        "attn_logit_softcapping": None, "final_logit_softcapping": None, "hidden_activation": "gelu_pytorch_tanh",
        "attention_bias": False, "tie_word_embeddings": True, "bos_token_id": 2, "eos_token_id": [1, 106],
    }, "F32", 1),
    ("gemma3_layer_types_f16", {
        "model_type": "gemma3_text", "hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 3,
        "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 272,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
        "rope_local_base_freq": 10000.0, "rope_scaling": None, "sliding_window": 10,
        "layer_types": ["full_attention", "sliding_attention", "sliding_attention"], "query_pre_attn_scalar": 16,
        "hidden_activation": "gelu_pytorch_tanh", "tie_word_embeddings": True, "bos_token_id": 2, "eos_token_id": 1,
    }, "F16", 1),
    # As llama.cpp runs Gemma from GGUF: queries scaled by 1/sqrt(head_dim), Gemma 3's default
    # pattern of 6 and local base 10000 (written as GGUF too, below).
    ("gemma2_gguf_f32", {
        "model_type": "gemma2", "hidden_size": 48, "intermediate_size": 112, "num_hidden_layers": 3,
        "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16, "vocab_size": 264,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "sliding_window": 14,
        "query_pre_attn_scalar": 16, "attn_logit_softcapping": 6.0, "final_logit_softcapping": 20.0,
        "hidden_activation": "gelu_pytorch_tanh", "tie_word_embeddings": True, "bos_token_id": 2, "eos_token_id": 1,
    }, "F32", 1),
    ("gemma3_gguf_f32", {
        "model_type": "gemma3_text", "hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 7,
        "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16, "vocab_size": 256,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
        "rope_local_base_freq": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 2.0},
        "sliding_window": 10, "query_pre_attn_scalar": 16, "hidden_activation": "gelu_pytorch_tanh",
        "tie_word_embeddings": True, "bos_token_id": 2, "eos_token_id": [1, 106],
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
GGUF_CHAT_TEMPLATE = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"


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


def qwen3_weights(c, gen):
    """Llama's weights plus the per-head RMSNorm scales of q and k."""
    w = llama_weights(c, gen)
    hd = c.get("head_dim", c["hidden_size"] // c["num_attention_heads"])
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}.self_attn."
        w[p + "q_norm.weight"] = 1.0 + 0.3 * torch.randn(hd, generator=gen, dtype=torch.float64)
        w[p + "k_norm.weight"] = 1.0 + 0.3 * torch.randn(hd, generator=gen, dtype=torch.float64)
    return w


def phi3_weights(c, gen):
    """Llama's weights with q, k, v in one qkv_proj and gate, up in one gate_up_proj (Phi-3's)."""
    w = llama_weights(c, gen)
    for l in range(c["num_hidden_layers"]):
        a, m = f"model.layers.{l}.self_attn.", f"model.layers.{l}.mlp."
        w[a + "qkv_proj.weight"] = torch.cat([w.pop(a + "q_proj.weight"), w.pop(a + "k_proj.weight"),
                                              w.pop(a + "v_proj.weight")])
        w[m + "gate_up_proj.weight"] = torch.cat([w.pop(m + "gate_proj.weight"), w.pop(m + "up_proj.weight")])
    return w


def gemma_weights(c, gen):
    """Llama's weights, tied, with Gemma's sandwich norms (pre- and post-norm of both blocks; the
    checkpoint stores w of the (1 + w) scale) and, Gemma 3, the q and k norms."""
    w = llama_weights(c, gen)
    d = c["hidden_size"]
    hd = c.get("head_dim", d // c["num_attention_heads"])

    def scale(n):
        return 0.2 * torch.randn(n, generator=gen, dtype=torch.float64)

    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        for name in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                     "post_feedforward_layernorm"):
            w[p + name + ".weight"] = scale(d)
        if c["model_type"] == "gemma3_text":
            w[p + "self_attn.q_norm.weight"] = scale(hd)
            w[p + "self_attn.k_norm.weight"] = scale(hd)
    w["model.norm.weight"] = scale(d)
    # The embedding is scaled by sqrt(d) on the way in: keep the tied classifier's logits in range.
    w["model.embed_tokens.weight"] = w["model.embed_tokens.weight"] / math.sqrt(d) * 1.5
    return w


def gemma_sliding(c, layer):
    """Whether a Gemma layer is a local (sliding-window) one: layer_types when given; else Gemma 2's
    even layers, Gemma 3's all but every sliding_window_pattern-th."""
    if c.get("layer_types"):
        return c["layer_types"][layer] == "sliding_attention"
    if c["model_type"] == "gemma2":
        return layer % 2 == 0
    return (layer + 1) % c.get("sliding_window_pattern", 6) != 0


def gemma_forward(c, w, tokens):
    """Gemma 2 and 3 (Gemma Team 2024, 2025; Hugging Face's Gemma2/Gemma3 modelling): the embedding
    times sqrt(d); per layer RMSNorm(x) * (1 + w) before and after the attention and the GeGLU
    (tanh GELU) feed-forward; scores scaled by query_pre_attn_scalar^-0.5, soft-capped (Gemma 2),
    causal, and within the window on local layers; Gemma 3's q and k RMS-normalized per head, its
    local layers rotating with rope_local_base_freq and its global ones with rope_theta (linear
    scaling: frequencies / factor); the tied classifier, soft-capped (Gemma 2)."""
    d = c["hidden_size"]
    nh, nkv = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
    hd = c.get("head_dim", d // nh)
    eps = c.get("rms_norm_eps", 1e-6)
    t = len(tokens)
    gemma3 = c["model_type"] == "gemma3_text"

    def rms(x, g):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * (1.0 + g)

    def gelu_tanh(x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    def cap(x, value):
        return torch.tanh(x / value) * value if value else x

    pos = torch.arange(t)
    causal = pos[None, :] <= pos[:, None]
    x = w["model.embed_tokens.weight"][torch.tensor(tokens)] * math.sqrt(d)
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        sliding = gemma_sliding(c, l)
        theta = c["rope_local_base_freq"] if gemma3 and sliding else c.get("rope_theta", 10000.0)
        inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        scaling = c.get("rope_scaling")
        if scaling and not (gemma3 and sliding):
            inv = inv / scaling["factor"]
        angles = torch.arange(t, dtype=torch.float64)[:, None] * inv[None, :]
        cos = torch.cat([angles.cos(), angles.cos()], -1)[:, None, :]
        sin = torch.cat([angles.sin(), angles.sin()], -1)[:, None, :]
        allowed = causal & (pos[None, :] > pos[:, None] - c["sliding_window"]) if sliding else causal
        mask = torch.zeros(t, t, dtype=torch.float64).masked_fill(~allowed, float("-inf"))
        h = rms(x, w[p + "input_layernorm.weight"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(t, nh, hd)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(t, nkv, hd)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(t, nkv, hd)
        if gemma3:
            q, k = rms(q, w[p + "self_attn.q_norm.weight"]), rms(k, w[p + "self_attn.k_norm.weight"])
        q, k = rotate_halves(q, cos, sin), rotate_halves(k, cos, sin)
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        scores = torch.einsum("qhd,khd->hqk", q, k) * c["query_pre_attn_scalar"] ** -0.5
        scores = cap(scores, c.get("attn_logit_softcapping")) + mask
        att = torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(t, nh * hd)
        x = x + rms(att @ w[p + "self_attn.o_proj.weight"].T, w[p + "post_attention_layernorm.weight"])
        h = rms(x, w[p + "pre_feedforward_layernorm.weight"])
        m = (gelu_tanh(h @ w[p + "mlp.gate_proj.weight"].T) * (h @ w[p + "mlp.up_proj.weight"].T))
        x = x + rms(m @ w[p + "mlp.down_proj.weight"].T, w[p + "post_feedforward_layernorm.weight"])
    x = rms(x, w["model.norm.weight"])
    return cap(x @ w["model.embed_tokens.weight"].T, c.get("final_logit_softcapping"))


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
    if c.get("sliding_window") and c["sliding_window"] < c["max_position_embeddings"]:
        # Mistral's window (Hugging Face's sliding_window_overlay): keys (p - window, p] only.
        mask = mask.masked_fill(torch.ones(t, t, dtype=torch.bool).tril(-c["sliding_window"]), float("-inf"))
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


def rope_frequencies(c, hd, seq_len=0):
    """Inverse frequencies of the rotated dims (hd of them), and the factor cos and sin are scaled by."""
    theta = c.get("rope_theta", 10000.0)
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    s = c.get("rope_scaling")
    if s and s.get("rope_type", s.get("type")) == "longrope":
        # Phi-3's LongRoPE (Hugging Face's _compute_longrope_parameters): the long factors once the
        # sequence passes the original context; cos and sin scaled by the attention factor.
        original = c["original_max_position_embeddings"]
        ext = torch.tensor(s["long_factor"] if seq_len > original else s["short_factor"], dtype=torch.float64)
        ratio = c["max_position_embeddings"] / original
        mscale = 1.0 if ratio <= 1.0 else math.sqrt(1 + math.log(ratio) / math.log(original))
        return 1.0 / (ext * theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)), mscale
    if s:
        assert s["rope_type"] == "llama3"
        factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
        old = s["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        smooth = (old / wavelen - low) / (high - low)
        blended = (1 - smooth) * inv / factor + smooth * inv
        inv = torch.where(wavelen < old / high, inv, torch.where(wavelen > old / low, inv / factor, blended))
    return inv, 1.0


def rotate_halves(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def quantize_rows(x, limit):
    """Per row of the last axis: scale = max|x| / limit in float32, q = x / scale rounded to nearest
    even; returns (q, scale) as float64 (q = 0 and scale 0 for an all-zero row)."""
    x32 = x.to(torch.float32)
    scale = x32.abs().amax(-1, keepdim=True) / limit
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    q = torch.clamp(torch.round(x32 / safe), -limit, limit)
    return torch.where(scale > 0, q, torch.zeros_like(q)).to(torch.float64), scale.to(torch.float64)


def int8_attention(q, k, v, mask, nh, nkv):
    """Attention over edgeformer's int8 KV cache as ops::Attention computes it (ops.h,
    AttentionArgs): keys and values per position and kv head as StoreKv writes them (limit 127);
    the query head as int16 with limit
    min(32767, (2^31 - 1) // (128 hd)); each softmax weight times its value's scale, p, as
    round(p / w_scale) * w_scale with w_scale = max(max p / 32767, sum p / 2^23) per query head."""
    hd = q.shape[-1]
    k8, k_scale = quantize_rows(k, 127.0)
    v8, v_scale = quantize_rows(v, 127.0)
    q16, q_scale = quantize_rows(q, float(min(32767, (2**31 - 1) // (128 * hd))))
    k8, k_scale = k8.repeat_interleave(nh // nkv, dim=1), k_scale.repeat_interleave(nh // nkv, dim=1)
    v8, v_scale = v8.repeat_interleave(nh // nkv, dim=1), v_scale.repeat_interleave(nh // nkv, dim=1)
    dots = torch.einsum("qhd,khd->hqk", q16, k8)
    scores = dots * q_scale.permute(1, 0, 2) * k_scale[..., 0].T[:, None, :] / math.sqrt(hd) + mask
    p = scores.softmax(-1) * v_scale[..., 0].T[:, None, :]
    w_scale = torch.maximum(p.amax(-1, keepdim=True) / 32767.0, p.sum(-1, keepdim=True) / 2.0**23)
    w = torch.round(p / w_scale)
    return torch.einsum("hqk,khd->qhd", w, v8) * w_scale.permute(1, 0, 2)


def llama_forward(c, w, tokens, kv_int8=False):
    d = c["hidden_size"]
    nh, nkv = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
    hd = c.get("head_dim", d // nh)
    rd = int(hd * c.get("partial_rotary_factor", 1.0))  # Phi-3/4: only the first rd dims rotate
    eps = c.get("rms_norm_eps", 1e-6)
    t = len(tokens)

    def rms(x, g):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * g

    inv, mscale = rope_frequencies(c, rd, t)
    angles = torch.arange(t, dtype=torch.float64)[:, None] * inv[None, :]
    cos = torch.cat([angles.cos(), angles.cos()], -1)[:, None, :] * mscale
    sin = torch.cat([angles.sin(), angles.sin()], -1)[:, None, :] * mscale
    mask = torch.full((t, t), float("-inf"), dtype=torch.float64).triu(1)
    if c.get("sliding_window") and c["sliding_window"] < c["max_position_embeddings"]:
        # Mistral's window (Hugging Face's sliding_window_overlay): keys (p - window, p] only.
        mask = mask.masked_fill(torch.ones(t, t, dtype=torch.bool).tril(-c["sliding_window"]), float("-inf"))
    x = w["model.embed_tokens.weight"][torch.tensor(tokens)]
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        xb = rms(x, w[p + "input_layernorm.weight"])
        def proj(name, heads):  # with its bias when the model has one (Qwen2)
            y = xb @ w[p + name + ".weight"].T
            if p + name + ".bias" in w:
                y = y + w[p + name + ".bias"]
            return y.view(t, heads, hd)

        if p + "self_attn.qkv_proj.weight" in w:  # Phi-3: one projection, split q | k | v
            qkv = xb @ w[p + "self_attn.qkv_proj.weight"].T
            q, k, v = (part.reshape(t, -1, hd) for part in qkv.split([nh * hd, nkv * hd, nkv * hd], dim=-1))
        else:
            q, k, v = proj("self_attn.q_proj", nh), proj("self_attn.k_proj", nkv), proj("self_attn.v_proj", nkv)
        if p + "self_attn.q_norm.weight" in w:  # Qwen3: each head's q and k RMS-normalized, then rotated
            q, k = rms(q, w[p + "self_attn.q_norm.weight"]), rms(k, w[p + "self_attn.k_norm.weight"])
        q = torch.cat([rotate_halves(q[..., :rd], cos, sin), q[..., rd:]], -1)
        k = torch.cat([rotate_halves(k[..., :rd], cos, sin), k[..., rd:]], -1)
        if kv_int8:
            att = int8_attention(q, k, v, mask, nh, nkv).reshape(t, nh * hd)
        else:
            k = k.repeat_interleave(nh // nkv, dim=1)
            v = v.repeat_interleave(nh // nkv, dim=1)
            scores = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd) + mask
            att = torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(t, nh * hd)
        x = x + att @ w[p + "self_attn.o_proj.weight"].T
        xb = rms(x, w[p + "post_attention_layernorm.weight"])
        if p + "mlp.gate_up_proj.weight" in w:  # Phi-3: gate | up in one projection
            gate, up = (xb @ w[p + "mlp.gate_up_proj.weight"].T).chunk(2, dim=-1)
        else:
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


def gguf_string(text):
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_value(value, kind):
    codes = {"u32": (4, "<I"), "i32": (5, "<i"), "f32": (6, "<f"), "bool": (7, "<?")}
    if kind == "str":
        return struct.pack("<I", 8) + gguf_string(value)
    if kind.startswith("arr_"):
        element = kind[4:]
        if element == "str":
            return struct.pack("<IIQ", 9, 8, len(value)) + b"".join(gguf_string(v) for v in value)
        code, fmt = codes[element]
        return struct.pack("<IIQ", 9, code, len(value)) + b"".join(struct.pack(fmt, v) for v in value)
    code, fmt = codes[kind]
    return struct.pack("<I", code) + struct.pack(fmt, value)


def write_gguf(path, metadata, tensors, alignment=32):
    """metadata: [(key, kind, value)]; tensors: [(name, ggml type name, bytes, [rows, cols] or [n])]."""
    out = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(metadata))
    for key, kind, value in metadata:
        out += gguf_string(key) + gguf_value(value, kind)
    offset, blobs = 0, []
    for name, kind, blob, shape in tensors:
        dims = list(reversed(shape))  # ggml order: the contiguous dimension first
        out += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", GGUF_TYPES[kind], offset)
        blobs.append(blob + b"\0" * (-len(blob) % alignment))
        offset += len(blobs[-1])
    out += b"\0" * (-len(out) % alignment)
    with open(path, "wb") as f:
        f.write(out + b"".join(blobs))


# GGUF's names for the Hugging Face tensors of the qwen2, qwen3, gemma2 and gemma3 architectures
# (llama.cpp's convert_hf_to_gguf.py); q and k stay in halves (NEOX rotary).
GGUF_LAYER_NAMES = {
    "input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "self_attn.q_norm": "attn_q_norm",
    "self_attn.k_norm": "attn_k_norm", "pre_feedforward_layernorm": "ffn_norm",
    "post_feedforward_layernorm": "post_ffw_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "self_attn.qkv_proj": "attn_qkv", "mlp.gate_up_proj": "ffn_up",
}


def write_family_gguf(path, c, weights):
    """The checkpoint as llama.cpp converts it (F32, no tokenizer): Gemma's norms stored as 1 + w,
    its post_attention_layernorm as post_attention_norm (the others' as ffn_norm); Llama's q and k
    in adjacent pairs and its llama3 scaling as rope_freqs (each frequency's divisor); Phi-3's
    fused projections as they are, its LongRoPE factors as tensors."""
    family = c["model_type"]
    arch = {"gemma3_text": "gemma3"}.get(family, family)
    gemma = arch.startswith("gemma")
    d, nh = c["hidden_size"], c["num_attention_heads"]
    nkv = c.get("num_key_value_heads", nh)
    hd = c.get("head_dim", d // nh)
    rd = int(hd * c.get("partial_rotary_factor", 1.0))
    tensors = []
    scaling = c.get("rope_scaling") or {}
    scaling_type = scaling.get("rope_type", scaling.get("type"))
    if scaling_type == "llama3":
        base = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        scaled, _ = rope_frequencies(c, hd)
        tensors.append(("rope_freqs.weight", "F32", tensor_bytes(base / scaled, "F32"), [hd // 2]))
    elif scaling_type == "longrope":
        for which in ("long", "short"):
            factors = torch.tensor(scaling[which + "_factor"], dtype=torch.float64)
            tensors.append((f"rope_factors_{which}.weight", "F32", tensor_bytes(factors, "F32"), [rd // 2]))
    for name, t in weights.items():
        if name.startswith("model.layers."):
            l, rest = name[len("model.layers."):].split(".", 1)
            base, kind = rest.rsplit(".", 1)
            if base == "post_attention_layernorm":
                gname = "post_attention_norm" if gemma else "ffn_norm"
            else:
                gname = GGUF_LAYER_NAMES[base]
            gname = f"blk.{l}.{gname}.{kind}"
        else:
            gname = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
                     "lm_head.weight": "output.weight"}[name]
        if gemma and name.endswith("norm.weight"):
            t = t + 1.0
        if arch == "llama" and name.endswith("q_proj.weight"):
            t = halves_to_pairs(t, nh, hd)
        elif arch == "llama" and name.endswith("k_proj.weight"):
            t = halves_to_pairs(t, nkv, hd)
        tensors.append((gname, "F32", tensor_bytes(t, "F32"), list(t.shape)))
    metadata = [
        ("general.architecture", "str", arch), (f"{arch}.context_length", "u32", c["max_position_embeddings"]),
        (f"{arch}.embedding_length", "u32", d), (f"{arch}.block_count", "u32", c["num_hidden_layers"]),
        (f"{arch}.feed_forward_length", "u32", c["intermediate_size"]), (f"{arch}.attention.head_count", "u32", nh),
        (f"{arch}.attention.head_count_kv", "u32", nkv), (f"{arch}.rope.dimension_count", "u32", rd),
        (f"{arch}.attention.key_length", "u32", hd), (f"{arch}.attention.value_length", "u32", hd),
        (f"{arch}.attention.layer_norm_rms_epsilon", "f32", c["rms_norm_eps"]),
        (f"{arch}.rope.freq_base", "f32", c.get("rope_theta", 10000.0)),
    ]
    if scaling_type == "longrope":
        original = c["original_max_position_embeddings"]
        ratio = c["max_position_embeddings"] / original
        metadata += [(f"{arch}.rope.scaling.original_context_length", "u32", original),
                     (f"{arch}.rope.scaling.attn_factor", "f32",
                      1.0 if ratio <= 1.0 else math.sqrt(1 + math.log(ratio) / math.log(original)))]
    if gemma or (c.get("sliding_window") and c["sliding_window"] < c["max_position_embeddings"]):
        metadata.append((f"{arch}.attention.sliding_window", "u32", c["sliding_window"]))
    for key in ("attn_logit_softcapping", "final_logit_softcapping"):
        if c.get(key):
            metadata.append((f"{arch}.{key}", "f32", c[key]))
    if scaling_type == "linear":
        metadata += [(f"{arch}.rope.scaling.type", "str", "linear"),
                     (f"{arch}.rope.scaling.factor", "f32", c["rope_scaling"]["factor"])]
    write_gguf(path, metadata, tensors)


def make_quantized_gguf(out, folder_name, layer_types, embedding_type="F32", hidden=64, intermediate=160,
                        head_dim=32):
    """A tiny Qwen3 written as GGUF with quantized layer matrices (q and k in halves, as llama.cpp
    writes qwen3): the i-th layer matrix in the type layer_types[i % len], the token embedding in
    embedding_type; the reference computed from their dequantized values, and the same dequantized
    weights as a Hugging Face checkpoint beside it (config.json, model.safetensors)."""
    c = {"model_type": "qwen3", "hidden_size": hidden, "intermediate_size": intermediate, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": head_dim, "vocab_size": 288,
         "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
         "tie_word_embeddings": True, "hidden_act": "silu", "bos_token_id": None, "eos_token_id": 5}
    gen = torch.Generator().manual_seed(77)
    w = qwen3_weights(c, gen)
    w = {k: v.to(torch.float32).to(torch.float64) for k, v in w.items()}
    tensors, stored, matrices, kinds = [], {}, 0, set()
    for name, t in w.items():
        if name.startswith("model.layers."):
            l, rest = name[len("model.layers."):].split(".", 1)
            base, kind = rest.rsplit(".", 1)
            gname = "ffn_norm" if base == "post_attention_layernorm" else GGUF_LAYER_NAMES[base]
            gname = f"blk.{l}.{gname}.{kind}"
        else:
            gname = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}[name]
        kind = None
        if t.dim() == 2 and name.startswith("model.layers."):
            kind = layer_types[matrices % len(layer_types)]
            matrices += 1
        elif name == "model.embed_tokens.weight" and embedding_type != "F32":
            kind = embedding_type
        if kind is not None:
            blob, deq = WRITERS[kind](t)
            tensors.append((gname, kind, blob, list(t.shape)))
            stored[name] = deq
            kinds.add(kind)
        else:
            tensors.append((gname, "F32", tensor_bytes(t, "F32"), list(t.shape)))
            stored[name] = t
    d, nh = c["hidden_size"], c["num_attention_heads"]
    metadata = [
        ("general.architecture", "str", "qwen3"), ("qwen3.context_length", "u32", c["max_position_embeddings"]),
        ("qwen3.embedding_length", "u32", d), ("qwen3.block_count", "u32", c["num_hidden_layers"]),
        ("qwen3.feed_forward_length", "u32", c["intermediate_size"]), ("qwen3.attention.head_count", "u32", nh),
        ("qwen3.attention.head_count_kv", "u32", c["num_key_value_heads"]),
        ("qwen3.attention.key_length", "u32", c["head_dim"]), ("qwen3.attention.value_length", "u32", c["head_dim"]),
        ("qwen3.attention.layer_norm_rms_epsilon", "f32", c["rms_norm_eps"]),
        ("qwen3.rope.freq_base", "f32", c["rope_theta"]),
    ]
    folder = os.path.join(out, folder_name)
    os.makedirs(folder, exist_ok=True)
    write_gguf(os.path.join(folder, "model.gguf"), metadata, tensors)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    write_safetensors(os.path.join(folder, "model.safetensors"), stored, "F32")
    tokens = torch.randint(0, c["vocab_size"], (N_TOKENS,), generator=gen).tolist()
    logits = llama_forward(c, stored, tokens)
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump({"tokens": tokens, "vocab_size": c["vocab_size"]}, f)
    with open(os.path.join(folder, "logits.f32"), "wb") as f:
        f.write(logits.to(torch.float32).numpy().astype("<f4").tobytes())
    print(f"{folder_name}: {len(tensors)} tensors ({', '.join(sorted(kinds))}), {len(tokens)} reference positions")


def halves_to_pairs(w, heads, hd):
    """HF's rotate-half rows to the adjacent-pair layout llama.cpp's GGUF files use."""
    return w.reshape(heads, 2, hd // 2, -1).transpose(1, 2).reshape(heads * hd, -1)


def make_gguf(out, sp_path):
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=sp_path)
    vocab = sp.vocab_size()
    types_of = []
    for i in range(vocab):
        types_of.append(6 if sp.is_byte(i) else 2 if sp.is_unknown(i) else 3 if sp.is_control(i)
                        else 5 if sp.is_unused(i) else 1)
    tokenizer = [
        ("tokenizer.ggml.model", "str", "llama"),
        ("tokenizer.ggml.tokens", "arr_str", [sp.id_to_piece(i) for i in range(vocab)]),
        ("tokenizer.ggml.scores", "arr_f32", [sp.get_score(i) for i in range(vocab)]),
        ("tokenizer.ggml.token_type", "arr_i32", types_of),
        ("tokenizer.ggml.bos_token_id", "u32", sp.bos_id()), ("tokenizer.ggml.eos_token_id", "u32", sp.eos_id()),
        ("tokenizer.ggml.unknown_token_id", "u32", sp.unk_id()), ("tokenizer.ggml.add_space_prefix", "bool", True),
        ("tokenizer.chat_template", "str", GGUF_CHAT_TEMPLATE),
    ]
    d = write_llama_gguf(out, "gguf_llama", vocab, tokenizer, 77)
    texts = ["Hello world! The quick brown fox, jumps over 13 lazy dogs.",
             "Ünïcödé àccents, 你好世界, emoji 🙂🚀, digits 0123456789",
             "  leading spaces,\ttabs\tand\nnew\n\nlines  ", "", "a"]
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        json.dump([{"text": t, "ids": [sp.bos_id()] + sp.encode(t)} for t in texts], f, ensure_ascii=False)
    print(f"gguf_llama: F32, F16 and Q8_0 tensors, SentencePiece vocabulary of {vocab}")

    # The same vocabulary as Hugging Face's tokenizer.json writes a SentencePiece BPE model
    # (Llama 2 style): merges from every split of every piece, ordered by the merged piece's score.
    pieces = {sp.id_to_piece(i): i for i in range(vocab)}
    merges = []
    for piece, pid in pieces.items():
        if sp.is_control(pid) or sp.is_unknown(pid) or sp.is_byte(pid):
            continue
        local = [(piece[:k], piece[k:], sp.get_score(pid)) for k in range(1, len(piece))
                 if piece[:k] in pieces and piece[k:] in pieces]
        merges.extend(sorted(local, key=lambda m: (pieces[m[0]], pieces[m[1]])))
    merges.sort(key=lambda m: m[2], reverse=True)
    special = [{"id": i, "content": sp.id_to_piece(i), "special": True, "single_word": False, "lstrip": False,
                "rstrip": False, "normalized": False} for i in (sp.unk_id(), sp.bos_id(), sp.eos_id())]
    tokenizer_json = {
        "version": "1.0", "added_tokens": special,
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                            {"type": "Replace", "pattern": {"String": " "},
                                                             "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                                                    {"Sequence": {"id": "A", "type_id": 0}}]},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
            {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": True, "fuse_unk": True,
                  "vocab": pieces, "merges": [f"{a} {b}" for a, b, _ in merges]},
    }
    c = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
         "num_attention_heads": 2, "vocab_size": vocab, "max_position_embeddings": 64, "tie_word_embeddings": True}
    d = os.path.join(out, "sp_json")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f)
    write_safetensors(os.path.join(d, "model.safetensors"), llama_weights(c, torch.Generator().manual_seed(9)), "F32")
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json, f, ensure_ascii=False)
    with open(os.path.join(d, "tokenizer_reference.json"), "w", encoding="utf-8") as f:
        json.dump([{"text": t, "ids": [sp.bos_id()] + sp.encode(t)} for t in texts + TOKENIZER_TEXTS[:5]], f,
                  ensure_ascii=False)
    print(f"sp_json: the same vocabulary as a Hugging Face tokenizer.json ({len(merges)} merges)")


def write_llama_gguf(out, folder, vocab, tokenizer, seed):
    """A tiny Llama as llama.cpp writes it, with the given tokenizer metadata; returns its folder."""
    c = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": vocab, "max_position_embeddings": 128,
         "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False}
    gen = torch.Generator().manual_seed(seed)
    w = llama_weights(c, gen)
    hd, nh, nkv = 16, 4, 2
    # Tensor types: a mix of all three; the reference uses the values as stored.
    types = {"model.embed_tokens.weight": "F16", "lm_head.weight": "Q8_0", "model.norm.weight": "F32"}
    names = {"model.embed_tokens.weight": "token_embd.weight", "lm_head.weight": "output.weight",
             "model.norm.weight": "output_norm.weight"}
    hf_to_gguf = {"input_layernorm": ("attn_norm", "F32"), "self_attn.q_proj": ("attn_q", "Q8_0"),
                  "self_attn.k_proj": ("attn_k", "F16"), "self_attn.v_proj": ("attn_v", "Q8_0"),
                  "self_attn.o_proj": ("attn_output", "Q8_0"), "post_attention_layernorm": ("ffn_norm", "F32"),
                  "mlp.gate_proj": ("ffn_gate", "Q8_0"), "mlp.up_proj": ("ffn_up", "F32"),
                  "mlp.down_proj": ("ffn_down", "Q8_0")}
    tensors, stored = [], {}
    for name, t in w.items():
        if name.startswith("model.layers."):
            l, rest = name[len("model.layers."):].split(".", 1)
            base = rest.rsplit(".", 1)[0]
            gname, kind = hf_to_gguf[base]
            gname = f"blk.{l}.{gname}.weight"
        else:
            gname, kind = names[name], types[name]
        g = t
        if name.endswith("q_proj.weight"):
            g = halves_to_pairs(t, nh, hd)
        elif name.endswith("k_proj.weight"):
            g = halves_to_pairs(t, nkv, hd)
        if kind == "Q8_0":
            blob, deq = q8_0(g)
        else:
            deq = g.to(TORCH_DTYPES[kind]).to(torch.float64)
            blob = tensor_bytes(g, kind)
        tensors.append((gname, kind, blob, list(g.shape)))
        # Back to HF's layout for the reference forward pass.
        if name.endswith("q_proj.weight"):
            deq = pairs_to_halves(deq, nh, hd)
        elif name.endswith("k_proj.weight"):
            deq = pairs_to_halves(deq, nkv, hd)
        stored[name] = deq
    metadata = [
        ("general.architecture", "str", "llama"), ("general.name", "str", "edgeformer reference"),
        ("llama.context_length", "u32", 128), ("llama.embedding_length", "u32", 64), ("llama.block_count", "u32", 2),
        ("llama.feed_forward_length", "u32", 128), ("llama.attention.head_count", "u32", 4),
        ("llama.attention.head_count_kv", "u32", 2), ("llama.attention.layer_norm_rms_epsilon", "f32", 1e-5),
        ("llama.rope.freq_base", "f32", 10000.0), ("llama.rope.dimension_count", "u32", hd),
    ] + tokenizer
    d = os.path.join(out, folder)
    os.makedirs(d, exist_ok=True)
    write_gguf(os.path.join(d, "model.gguf"), metadata, tensors)
    tokens = torch.randint(0, vocab, (N_TOKENS,), generator=gen).tolist()
    logits = llama_forward(c, stored, tokens)
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump({"tokens": tokens, "vocab_size": vocab}, f)
    with open(os.path.join(d, "logits.f32"), "wb") as f:
        f.write(logits.to(torch.float32).numpy().astype("<f4").tobytes())
    return d


TOKENIZER_TEXTS = [
    "Hello world! It's a test: we'll see, they've done it, I'm sure, you'd agree.",
    "Ünïcödé àccents — café, naïve; 你好，世界！ こんにちは 안녕하세요 Привет мир",
    "emoji 🙂🚀👍🏽 and digits 0123456789, 3.14159, 1,000,000 and 12345678901",
    "  leading spaces\tand tabs\n\nnew lines\r\nwindows   trailing   ",
    "CAPS DON'T SHOUT'LL 'S 'Re mixed'Ve",
    "special <|endoftext|> in the middle<|endoftext|>",
    "", "a", " ", "\n",
]


def make_bpe_tokenizers(out, gpt2_json):
    """A GPT-2 model with the real GPT-2 tokenizer.json, and two with the same vocabulary and
    merges but Llama 3's and Qwen2's pre-tokenizers, plus the reference ids of each."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bpe_reference

    base = json.load(open(gpt2_json, encoding="utf-8"))
    patterns = {
        "llama3": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                  "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        "qwen2": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                 "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    }
    for split in ["gpt2", "llama3", "qwen2"]:
        t = json.loads(json.dumps(base))
        if split != "gpt2":
            t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": patterns[split]}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
        c = {"model_type": "gpt2", "n_embd": 32, "n_layer": 1, "n_head": 2, "n_positions": 64,
             "vocab_size": len(t["model"]["vocab"]), "bos_token_id": 50256, "eos_token_id": 50256}
        gen = torch.Generator().manual_seed(5)
        weights = gpt2_weights(c, gen, "transformer.")
        d = os.path.join(out, f"bpe_{split}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f)
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(t, f, ensure_ascii=False)
        write_safetensors(os.path.join(d, "model.safetensors"), weights, "F32")
        enc = bpe_reference.Encoder(os.path.join(d, "tokenizer.json"), split)
        with open(os.path.join(d, "tokenizer_reference.json"), "w", encoding="utf-8") as f:
            json.dump([{"text": x, "ids": enc.encode(x)} for x in TOKENIZER_TEXTS], f, ensure_ascii=False)
        print(f"bpe_{split}: GPT-2's vocabulary with the {split} pre-tokenizer, {len(TOKENIZER_TEXTS)} reference texts")
    # The same vocabulary in a GGUF file ("gpt2" tokenizer, Qwen2's split), as llama.cpp stores Qwen2 models.
    vocab = len(base["model"]["vocab"])
    by_id = {i: t for t, i in base["model"]["vocab"].items()}
    special = {a["id"] for a in base["added_tokens"] if a.get("special")}
    tokenizer = [
        ("tokenizer.ggml.model", "str", "gpt2"), ("tokenizer.ggml.pre", "str", "qwen2"),
        ("tokenizer.ggml.tokens", "arr_str", [by_id[i] for i in range(vocab)]),
        ("tokenizer.ggml.token_type", "arr_i32", [3 if i in special else 1 for i in range(vocab)]),
        ("tokenizer.ggml.merges", "arr_str", [m if isinstance(m, str) else " ".join(m) for m in base["model"]["merges"]]),
        ("tokenizer.ggml.bos_token_id", "u32", 50256), ("tokenizer.ggml.eos_token_id", "u32", 50256),
        ("tokenizer.ggml.add_bos_token", "bool", False),
    ]
    d = write_llama_gguf(out, "gguf_bpe", vocab, tokenizer, 78)
    enc = bpe_reference.Encoder(gpt2_json, "qwen2")
    with open(os.path.join(d, "tokenizer_reference.json"), "w", encoding="utf-8") as f:
        json.dump([{"text": x, "ids": enc.encode(x)} for x in TOKENIZER_TEXTS], f, ensure_ascii=False)
    print("gguf_bpe: a GGUF Llama with a gpt2 (byte-level) tokenizer and Qwen2's split")


def pairs_to_halves(w, heads, hd):
    return w.reshape(heads, hd // 2, 2, -1).transpose(1, 2).reshape(heads * hd, -1)


def missing(what):
    """A real model the fixture needs is absent: skipped, or an error under EDGEFORMER_REQUIRE_SHARED=1 (CI)."""
    if os.environ.get("EDGEFORMER_REQUIRE_SHARED") == "1":
        sys.exit(f"{what} (EDGEFORMER_REQUIRE_SHARED=1)")
    print(what)


def main():
    out = sys.argv[1]
    options = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    if "--sentencepiece" in options:
        if os.path.exists(options["--sentencepiece"]):
            make_gguf(out, options["--sentencepiece"])
        else:
            missing(f"{options['--sentencepiece']} is missing: no GGUF reference model")
    if "--gpt2-tokenizer" in options:
        if os.path.exists(options["--gpt2-tokenizer"]):
            make_bpe_tokenizers(out, options["--gpt2-tokenizer"])
        else:
            missing(f"{options['--gpt2-tokenizer']} is missing: no byte-level BPE reference")
    make_quantized_gguf(out, "gguf_q4_0", ["Q4_0"])
    # Every block type llama.cpp's files use for weights, hidden sizes a multiple of the K types'
    # 256-value super-blocks.
    make_quantized_gguf(out, "gguf_blocks", ["Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "BF16", "F16",
                                             "Q4_0"], embedding_type="Q6_K", hidden=256, intermediate=256,
                        head_dim=64)
    for index, (name, config, dtype, shards) in enumerate(MODELS):
        gen = torch.Generator().manual_seed(1000 + index)
        family = config["model_type"]
        prefix = "" if name.endswith("unprefixed") else "transformer."
        if family == "gpt2":
            weights = gpt2_weights(config, gen, prefix)
        else:
            weights = {"qwen2": qwen2_weights, "qwen3": qwen3_weights, "phi3": phi3_weights,
                       "gemma2": gemma_weights, "gemma3_text": gemma_weights}.get(family, llama_weights)(config, gen)
        # The reference computes with the values as stored.
        weights = {k: v.to(TORCH_DTYPES[dtype]).to(torch.float64) for k, v in weights.items()}
        tokens = torch.randint(0, config["vocab_size"], (N_TOKENS,), generator=gen).tolist()
        if family == "gpt2":
            logits = gpt2_forward(config, weights, tokens, prefix)
        elif family.startswith("gemma"):
            logits = gemma_forward(config, weights, tokens)
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
        if name == "qwen3_f32":
            # The same with edgeformer's int8 KV cache (int8_attention).
            with open(os.path.join(d, "logits_kv_int8.f32"), "wb") as f:
                f.write(llama_forward(config, weights, tokens, kv_int8=True).to(torch.float32).numpy().astype("<f4").tobytes())
        if family == "phi3":
            # A sequence within the original context: LongRoPE's short factors.
            short = llama_forward(config, weights, tokens[:config["original_max_position_embeddings"]])
            with open(os.path.join(d, "logits_short.f32"), "wb") as f:
                f.write(short.to(torch.float32).numpy().astype("<f4").tobytes())
        if name in ("llama3_bf16_tied_sharded", "qwen2_f32", "qwen3_f32", "phi3_f32", "gemma2_gguf_f32",
                    "gemma3_gguf_f32"):
            write_family_gguf(os.path.join(d, "model.gguf"), config, weights)
        own = sum(int(logits[i].argmax()) == tokens[i] for i in range(len(tokens)))
        print(f"{name}: {len(names)} tensors ({dtype}, {shards} file(s)), {len(tokens)} reference positions, "
              f"top-1 is the position's own token at {own}")


if __name__ == "__main__":
    main()
