#!/usr/bin/python3
"""Tiny checkpoints of the Transformer family beyond Llama and GPT-2, with random weights and
their reference outputs computed by PyTorch in float64 from the models' definitions:

  bert_mlm        BertForMaskedLM: post-norm encoder, learned positions, token types, embedding
                  LayerNorm, erf GELU, masked-LM head tied to the word embeddings; WordPiece
                  tokenizer.json (tests/reference/wordpiece.py builds the vocabulary).
  bert_sentence   BertModel with a pooler, and sentence-transformers' 1_Pooling (mean) and
                  Normalize modules: embeddings.
  bloom           BLOOM: ALiBi with 6 heads (not a power of two), embedding LayerNorm, fused
                  query_key_value, GELU tanh; logits and greedy ids.
  post_ln_sinusoidal  the original Transformer's layer (post-norm, sinusoidal positions, ReLU,
                  embeddings scaled by sqrt(d)) as a causal decoder; the oracle is
                  torch.nn.TransformerEncoderLayer(norm_first=False) with a causal mask.
  prefix_lm       a decoder whose first 5 positions attend both ways: RMSNorm, GQA, rotary on
                  half of each head in the half-split form, GeGLU (erf).
  t5_decoder      T5-style relative position buckets (unidirectional, one table shared by all
                  layers, scores not scaled), T5's RMSNorm, gated GELU (tanh).
  t5_encoder      the same, bidirectional buckets, ReLU, an encoder with mean pooling.
  wordpiece       WordPiece vocabularies and the ids the reference gives for hard texts.

The last four are edgeformer's own config format (model_type "edgeformer", converter/
convert_generic.cc). Each folder gets config.json, model.safetensors, tokenizer.json where the
model has one, and reference.json: the inputs and the outputs (floats as lists).

Usage: /usr/bin/python3 tests/reference/make_stacks.py OUT_DIR
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wordpiece  # noqa: E402
from make_models import write_safetensors  # noqa: E402

F64 = torch.float64


def rnd(gen, *shape, scale=1.0, mean=0.0):
    return mean + scale * torch.randn(*shape, generator=gen, dtype=F64)


def mat(gen, rows, cols, gain=1.0):
    return rnd(gen, rows, cols, scale=gain / math.sqrt(cols))


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def attend(q, k, v, mask, scale, bias=None):
    """q [t, h, d], k and v [s, h, d] (heads already repeated), mask [t, s] additive."""
    scores = torch.einsum("qhd,khd->hqk", q, k) * scale + mask
    if bias is not None:
        scores = scores + bias
    return torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(q.shape[0], -1)


def causal(t):
    return torch.full((t, t), float("-inf"), dtype=F64).triu(1)


def save(out, name, config, weights, reference, tokenizer=None, extra_files=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    write_safetensors(os.path.join(d, "model.safetensors"), weights, "F32")
    if tokenizer is not None:
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer, f, ensure_ascii=False)
    for rel, content in (extra_files or {}).items():
        os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
        with open(os.path.join(d, rel), "w") as f:
            json.dump(content, f)
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(reference, f)
    return d


def as_f32_list(t):
    return t.to(torch.float32).reshape(-1).tolist()


# ---- BERT -------------------------------------------------------------------------------------

BERT_TEXTS = ["the quick brown fox jumps over the lazy dog.", "Hello, World! Ünïcödé àccents.", "a"]


def bert_weights(c, gen, prefix, pooler, mlm):
    d, h, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    w = {prefix + "embeddings.word_embeddings.weight": rnd(gen, v, d),
         prefix + "embeddings.position_embeddings.weight": rnd(gen, c["max_position_embeddings"], d, scale=0.3),
         prefix + "embeddings.token_type_embeddings.weight": rnd(gen, c["type_vocab_size"], d, scale=0.3),
         prefix + "embeddings.LayerNorm.weight": rnd(gen, d, scale=0.2, mean=1.0),
         prefix + "embeddings.LayerNorm.bias": rnd(gen, d, scale=0.2)}
    for l in range(c["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{l}."
        for name, rows, cols, gain in [("attention.self.query", d, d, 2.0), ("attention.self.key", d, d, 2.0),
                                       ("attention.self.value", d, d, 1.0), ("attention.output.dense", d, d, 1.0),
                                       ("intermediate.dense", h, d, 1.0), ("output.dense", d, h, 1.0)]:
            w[p + name + ".weight"] = mat(gen, rows, cols, gain)
            w[p + name + ".bias"] = rnd(gen, rows, scale=0.2)
        for ln in ["attention.output.LayerNorm", "output.LayerNorm"]:
            w[p + ln + ".weight"] = rnd(gen, d, scale=0.2, mean=1.0)
            w[p + ln + ".bias"] = rnd(gen, d, scale=0.2)
    if pooler:
        w[prefix + "pooler.dense.weight"] = mat(gen, d, d)
        w[prefix + "pooler.dense.bias"] = rnd(gen, d, scale=0.2)
    if mlm:
        w["cls.predictions.transform.dense.weight"] = mat(gen, d, d)
        w["cls.predictions.transform.dense.bias"] = rnd(gen, d, scale=0.2)
        w["cls.predictions.transform.LayerNorm.weight"] = rnd(gen, d, scale=0.2, mean=1.0)
        w["cls.predictions.transform.LayerNorm.bias"] = rnd(gen, d, scale=0.2)
        w["cls.predictions.bias"] = rnd(gen, v, scale=0.2)
    return w


def bert_forward(c, w, prefix, ids, types):
    """Returns (hidden [t][d], pooled [d] or None, mlm logits [t][v] or None)."""
    d, nh, eps = c["hidden_size"], c["num_attention_heads"], c["layer_norm_eps"]
    hd, t = d // nh, len(ids)
    e = prefix + "embeddings."
    x = w[e + "word_embeddings.weight"][torch.tensor(ids)] + w[e + "position_embeddings.weight"][:t] + \
        w[e + "token_type_embeddings.weight"][torch.tensor(types)]
    x = layer_norm(x, w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], eps)
    zero = torch.zeros(t, t, dtype=F64)
    for l in range(c["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{l}."

        def lin(name, y):
            return y @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        q, k, v = (lin(f"attention.self.{n}", x).view(t, nh, hd) for n in ("query", "key", "value"))
        a = lin("attention.output.dense", attend(q, k, v, zero, 1.0 / math.sqrt(hd)))
        x = layer_norm(x + a, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        f = lin("output.dense", gelu_erf(lin("intermediate.dense", x)))
        x = layer_norm(x + f, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    pooled = None
    if prefix + "pooler.dense.weight" in w:
        pooled = torch.tanh(x[0] @ w[prefix + "pooler.dense.weight"].T + w[prefix + "pooler.dense.bias"])
    logits = None
    if "cls.predictions.bias" in w:
        y = gelu_erf(x @ w["cls.predictions.transform.dense.weight"].T + w["cls.predictions.transform.dense.bias"])
        y = layer_norm(y, w["cls.predictions.transform.LayerNorm.weight"], w["cls.predictions.transform.LayerNorm.bias"], eps)
        logits = y @ w[e + "word_embeddings.weight"].T + w["cls.predictions.bias"]
    return x, pooled, logits


def make_bert(out):
    vocab = wordpiece.build_vocab(
        BERT_TEXTS + ["the world over, dogs and foxes jump. hello again; quick quick brown."] * 3, 160)
    tok = wordpiece.WordPiece(vocab, specials=wordpiece.SPECIALS)
    for name, prefix, pooler, mlm, seed in [("bert_mlm", "bert.", False, True, 31), ("bert_sentence", "", True, False, 32)]:
        c = {"model_type": "bert", "hidden_size": 48, "intermediate_size": 112, "num_hidden_layers": 2,
             "num_attention_heads": 4, "vocab_size": len(vocab), "max_position_embeddings": 64, "type_vocab_size": 2,
             "layer_norm_eps": 1e-12, "hidden_act": "gelu", "position_embedding_type": "absolute", "pad_token_id": 0}
        gen = torch.Generator().manual_seed(seed)
        w = bert_weights(c, gen, prefix, pooler, mlm)
        texts = []
        for text in BERT_TEXTS:
            ids = tok.encode(text)
            types = [0] * len(ids)
            if mlm and len(ids) > 4:
                types[-3:] = [1, 1, 1]  # a second segment's type ids, as a sentence pair has
            hidden, pooled, logits = bert_forward(c, w, prefix, ids, types)
            entry = {"text": text, "ids": ids, "types": types, "hidden": as_f32_list(hidden)}
            if pooled is not None:
                entry["pooled"] = as_f32_list(pooled)
            if logits is not None:
                entry["logits"] = as_f32_list(logits)
            # sentence-transformers: mean of the token states, L2-normalized.
            mean = hidden.mean(0)
            entry["mean_normalized"] = as_f32_list(mean / mean.norm())
            texts.append(entry)
        extra = {}
        if name == "bert_sentence":
            extra = {"1_Pooling/config.json": {"word_embedding_dimension": 48, "pooling_mode_cls_token": False,
                                               "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                                               "pooling_mode_mean_sqrt_len_tokens": False},
                     "modules.json": [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                                      {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                                      {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]}
        save(out, name, c, w, {"dim": c["hidden_size"], "vocab_size": len(vocab), "texts": texts},
             wordpiece.tokenizer_json(vocab), extra)
        print(f"{name}: a {len(vocab)}-token WordPiece BERT, {len(texts)} reference texts")


# ---- BLOOM ------------------------------------------------------------------------------------

def alibi_slopes(n):
    closest = 2 ** math.floor(math.log2(n))
    base = 2 ** (-(2 ** -(math.log2(closest) - 3)))
    slopes = [base ** (i + 1) for i in range(closest)]
    if closest != n:
        extra = 2 ** (-(2 ** -(math.log2(2 * closest) - 3)))
        slopes += [extra ** (2 * i + 1) for i in range(min(closest, n - closest))]
    return torch.tensor(slopes, dtype=F64)


def bloom_forward(c, w, ids):
    d, nh, eps = c["hidden_size"], c["n_head"], c["layer_norm_epsilon"]
    hd, t = d // nh, len(ids)
    x = layer_norm(w["word_embeddings.weight"][torch.tensor(ids)], w["word_embeddings_layernorm.weight"],
                   w["word_embeddings_layernorm.bias"], eps)
    alibi = alibi_slopes(nh)[:, None, None] * torch.arange(t, dtype=F64)[None, None, :]  # slope * key position
    for l in range(c["n_layer"]):
        p = f"h.{l}."
        y = layer_norm(x, w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], eps)
        qkv = (y @ w[p + "self_attention.query_key_value.weight"].T + w[p + "self_attention.query_key_value.bias"])
        qkv = qkv.view(t, nh, 3, hd)
        a = attend(qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2], causal(t), 1.0 / math.sqrt(hd), alibi)
        x = x + a @ w[p + "self_attention.dense.weight"].T + w[p + "self_attention.dense.bias"]
        y = layer_norm(x, w[p + "post_attention_layernorm.weight"], w[p + "post_attention_layernorm.bias"], eps)
        y = gelu_tanh(y @ w[p + "mlp.dense_h_to_4h.weight"].T + w[p + "mlp.dense_h_to_4h.bias"])
        x = x + y @ w[p + "mlp.dense_4h_to_h.weight"].T + w[p + "mlp.dense_4h_to_h.bias"]
    x = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps)
    return x @ w["word_embeddings.weight"].T


def make_bloom(out):
    c = {"model_type": "bloom", "hidden_size": 48, "n_layer": 2, "n_head": 6, "vocab_size": 250,
         "layer_norm_epsilon": 1e-5, "seq_length": 128, "apply_residual_connection_post_layernorm": False}
    d = c["hidden_size"]
    gen = torch.Generator().manual_seed(41)
    w = {"word_embeddings.weight": rnd(gen, c["vocab_size"], d),
         "word_embeddings_layernorm.weight": rnd(gen, d, scale=0.2, mean=1.0),
         "word_embeddings_layernorm.bias": rnd(gen, d, scale=0.2)}
    for l in range(c["n_layer"]):
        p = f"h.{l}."
        w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"] = rnd(gen, d, scale=0.2, mean=1.0), rnd(gen, d, scale=0.2)
        w[p + "self_attention.query_key_value.weight"] = mat(gen, 3 * d, d, 2.0)
        w[p + "self_attention.query_key_value.bias"] = rnd(gen, 3 * d, scale=0.2)
        w[p + "self_attention.dense.weight"], w[p + "self_attention.dense.bias"] = mat(gen, d, d), rnd(gen, d, scale=0.2)
        w[p + "post_attention_layernorm.weight"] = rnd(gen, d, scale=0.2, mean=1.0)
        w[p + "post_attention_layernorm.bias"] = rnd(gen, d, scale=0.2)
        w[p + "mlp.dense_h_to_4h.weight"], w[p + "mlp.dense_h_to_4h.bias"] = mat(gen, 4 * d, d), rnd(gen, 4 * d, scale=0.2)
        w[p + "mlp.dense_4h_to_h.weight"], w[p + "mlp.dense_4h_to_h.bias"] = mat(gen, d, 4 * d), rnd(gen, d, scale=0.2)
    w["ln_f.weight"], w["ln_f.bias"] = rnd(gen, d, scale=0.2, mean=1.0), rnd(gen, d, scale=0.2)
    tokens = torch.randint(0, c["vocab_size"], (40,), generator=gen).tolist()
    logits = bloom_forward(c, w, tokens)
    # Greedy continuation of a prompt, one full forward pass per token.
    prompt = tokens[:7]
    greedy = list(prompt)
    for _ in range(12):
        greedy.append(int(bloom_forward(c, w, greedy)[-1].argmax()))
    save(out, "bloom", c, w, {"tokens": tokens, "vocab_size": c["vocab_size"], "logits": as_f32_list(logits),
                              "prompt": prompt, "greedy": greedy[len(prompt):]})
    print("bloom: ALiBi with 6 heads, logits and 12 greedy ids")


# ---- edgeformer's own stacks -------------------------------------------------------------------

def sinusoidal(t, d):
    pe = torch.zeros(t, d, dtype=F64)
    pos = torch.arange(t, dtype=F64)[:, None]
    div = torch.exp(torch.arange(0, d, 2, dtype=F64) * (-math.log(10000.0) / d))
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


def make_post_ln(out):
    """The original Transformer's layer as a causal decoder; torch.nn.TransformerEncoderLayer
    (norm_first=False, ReLU) is the oracle."""
    d, nh, h, layers, vocab, ctx = 32, 4, 72, 2, 120, 64
    torch.manual_seed(51)
    blocks = [torch.nn.TransformerEncoderLayer(d, nh, h, dropout=0.0, activation="relu", norm_first=False,
                                               batch_first=True, dtype=F64) for _ in range(layers)]
    gen = torch.Generator().manual_seed(52)
    w = {"token_embedding.weight": rnd(gen, vocab, d, scale=0.5), "classifier.weight": rnd(gen, vocab, d)}
    for l, b in enumerate(blocks):
        for p in b.parameters():  # away from the default init, so biases and norms matter
            with torch.no_grad():
                p.add_(rnd(gen, *p.shape, scale=0.1))
        p = f"layers.{l}."
        qkv, qkv_b = b.self_attn.in_proj_weight.detach(), b.self_attn.in_proj_bias.detach()
        for i, n in enumerate(["wq", "wk", "wv"]):
            w[p + n + ".weight"] = qkv[i * d:(i + 1) * d]
            w[p + "b" + n[1] + ".weight"] = qkv_b[i * d:(i + 1) * d]
        w[p + "wo.weight"], w[p + "bo.weight"] = b.self_attn.out_proj.weight.detach(), b.self_attn.out_proj.bias.detach()
        w[p + "w_up.weight"], w[p + "b_up.weight"] = b.linear1.weight.detach(), b.linear1.bias.detach()
        w[p + "w_down.weight"], w[p + "b_down.weight"] = b.linear2.weight.detach(), b.linear2.bias.detach()
        w[p + "attn_norm.weight"], w[p + "attn_norm_bias.weight"] = b.norm1.weight.detach(), b.norm1.bias.detach()
        w[p + "ffn_norm.weight"], w[p + "ffn_norm_bias.weight"] = b.norm2.weight.detach(), b.norm2.bias.detach()
    c = {"model_type": "edgeformer", "family": "decoder", "hidden_size": d, "intermediate_size": h,
         "num_hidden_layers": layers, "num_attention_heads": nh, "vocab_size": vocab, "max_position_embeddings": ctx,
         "norm": "layernorm", "norm_eps": 1e-5, "norm_placement": "post", "positions": "sinusoidal",
         "activation": "relu", "attention_bias": True, "mlp_bias": True, "embedding_scale": math.sqrt(d),
         "final_norm": False, "tie_word_embeddings": False}
    tokens = torch.randint(0, vocab, (48,), generator=gen).tolist()
    t = len(tokens)
    x = w["token_embedding.weight"][torch.tensor(tokens)] * math.sqrt(d) + sinusoidal(t, d)
    mask = causal(t)
    with torch.no_grad():
        for b in blocks:
            x = b(x[None], src_mask=mask)[0]
    logits = x @ w["classifier.weight"].T
    save(out, "post_ln_sinusoidal", c, w, {"tokens": tokens, "vocab_size": vocab, "logits": as_f32_list(logits)})
    print("post_ln_sinusoidal: torch.nn.TransformerEncoderLayer (norm_first=False) as the oracle")


def t5_bucket(rel, bidirectional, buckets, max_distance):
    """T5's _relative_position_bucket, in float32 as PyTorch computes it."""
    n, out = buckets, torch.zeros_like(rel)
    if bidirectional:
        n //= 2
        out += (rel > 0).long() * n
        rel = rel.abs()
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    exact = n // 2
    large = exact + (torch.log(rel.float() / exact) / math.log(max_distance / exact) * (n - exact)).long()
    large = torch.min(large, torch.full_like(large, n - 1))
    return out + torch.where(rel < exact, rel, large)


def generic_weights(c, gen):
    d, h, nh = c["hidden_size"], c["intermediate_size"], c["num_attention_heads"]
    nkv = c.get("num_key_value_heads", nh)
    hd = c.get("head_dim", d // nh)
    gated = c["activation"] in ("swiglu", "geglu", "geglu_tanh")
    w = {"token_embedding.weight": rnd(gen, c["vocab_size"], d), "final_norm.weight": rnd(gen, d, scale=0.2, mean=1.0)}
    if not c.get("tie_word_embeddings", False) and c.get("classifier", True):
        w["classifier.weight"] = w["token_embedding.weight"] + rnd(gen, c["vocab_size"], d, scale=0.5)
    if c.get("relative_buckets"):
        w["relative_bias.weight"] = rnd(gen, c["relative_buckets"], nh, scale=1.0)
    for l in range(c["num_hidden_layers"]):
        p = f"layers.{l}."
        w[p + "attn_norm.weight"] = rnd(gen, d, scale=0.2, mean=1.0)
        w[p + "wq.weight"], w[p + "wk.weight"] = mat(gen, nh * hd, d, 2.0), mat(gen, nkv * hd, d, 2.0)
        w[p + "wv.weight"], w[p + "wo.weight"] = mat(gen, nkv * hd, d), mat(gen, d, nh * hd)
        w[p + "ffn_norm.weight"] = rnd(gen, d, scale=0.2, mean=1.0)
        if gated:
            w[p + "w_gate.weight"] = mat(gen, h, d)
        w[p + "w_up.weight"], w[p + "w_down.weight"] = mat(gen, h, d), mat(gen, d, h)
    return w


def generic_forward(c, w, ids, rel_bias_fn=None):
    """Pre-norm RMSNorm stacks of the generic configs: rotary (pairs or halves, partial), GQA,
    causal / prefix-LM / bidirectional masks, T5 relative biases, the gated and plain FFNs."""
    d, nh = c["hidden_size"], c["num_attention_heads"]
    nkv, hd = c.get("num_key_value_heads", nh), c.get("head_dim", d // nh)
    t, eps = len(ids), c.get("norm_eps", 1e-6)
    x = w["token_embedding.weight"][torch.tensor(ids)]
    mask = causal(t)
    if c.get("mask") == "prefix_lm":
        mask[:, : c["prefix_len"]] = 0.0
    elif c.get("mask") == "bidirectional" or c.get("family") == "encoder":
        mask = torch.zeros(t, t, dtype=F64)
    bias = rel_bias_fn(t) if rel_bias_fn else None
    rot = c.get("rotary_dim", hd) if c.get("positions") == "rotary" else 0
    if rot:
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, rot, 2, dtype=F64) / rot))
        ang = torch.arange(t, dtype=F64)[:, None] * inv[None, :]
        cos, sin = ang.cos()[:, None, :], ang.sin()[:, None, :]

    def rope(v):
        v = v.clone()
        if c.get("rotary_style") == "half":
            a, b = v[..., : rot // 2].clone(), v[..., rot // 2: rot].clone()
            v[..., : rot // 2], v[..., rot // 2: rot] = a * cos - b * sin, a * sin + b * cos
        else:
            a, b = v[..., 0:rot:2].clone(), v[..., 1:rot:2].clone()
            v[..., 0:rot:2], v[..., 1:rot:2] = a * cos - b * sin, a * sin + b * cos
        return v

    act = c["activation"]
    scale = c.get("attention_scale") or 1.0 / math.sqrt(hd)
    for l in range(c["num_hidden_layers"]):
        p = f"layers.{l}."
        y = rms_norm(x, w[p + "attn_norm.weight"], eps)
        q = (y @ w[p + "wq.weight"].T).view(t, nh, hd)
        k = (y @ w[p + "wk.weight"].T).view(t, nkv, hd)
        v = (y @ w[p + "wv.weight"].T).view(t, nkv, hd)
        if rot:
            q, k = rope(q), rope(k)
        k, v = k.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
        x = x + attend(q, k, v, mask, scale, bias) @ w[p + "wo.weight"].T
        y = rms_norm(x, w[p + "ffn_norm.weight"], eps)
        up = y @ w[p + "w_up.weight"].T
        if act in ("swiglu", "geglu", "geglu_tanh"):
            g = y @ w[p + "w_gate.weight"].T
            g = torch.nn.functional.silu(g) if act == "swiglu" else gelu_erf(g) if act == "geglu" else gelu_tanh(g)
            y = g * up
        else:
            y = torch.relu(up) if act == "relu" else gelu_erf(up) if act == "gelu" else gelu_tanh(up)
        x = x + y @ w[p + "w_down.weight"].T
    x = rms_norm(x, w["final_norm.weight"], eps)
    return x


def make_generic(out):
    base = {"model_type": "edgeformer", "norm": "rmsnorm", "norm_eps": 1e-6, "norm_placement": "pre",
            "tie_word_embeddings": False}
    prefix_lm = dict(base, family="decoder", hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2, head_dim=16, vocab_size=130,
                     max_position_embeddings=64, mask="prefix_lm", prefix_len=5, positions="rotary", rotary_dim=8,
                     rotary_style="half", activation="geglu", rope_theta=10000.0)
    t5_dec = dict(base, family="decoder", hidden_size=32, intermediate_size=80, num_hidden_layers=2,
                  num_attention_heads=4, vocab_size=110, max_position_embeddings=96, positions="t5",
                  activation="geglu_tanh", attention_scale=1.0, relative_buckets=16, relative_max_distance=40,
                  relative_bidirectional=False, relative_shared=True)
    t5_enc = dict(t5_dec, family="encoder", activation="relu", relative_bidirectional=True, pooling="mean",
                  classifier=False)
    for name, c, seed in [("prefix_lm", prefix_lm, 61), ("t5_decoder", t5_dec, 62), ("t5_encoder", t5_enc, 63)]:
        gen = torch.Generator().manual_seed(seed)
        w = generic_weights(c, gen)
        rel = None
        if c.get("positions") == "t5":
            def rel(t, c=c, w=w):
                pos = torch.arange(t)
                b = t5_bucket(pos[None, :] - pos[:, None], c["relative_bidirectional"], c["relative_buckets"],
                              c["relative_max_distance"])
                return w["relative_bias.weight"][b].permute(2, 0, 1)  # [heads, q, k]
        tokens = torch.randint(0, c["vocab_size"], (70 if name.startswith("t5") else 40,), generator=gen).tolist()
        hidden = generic_forward(c, w, tokens, rel)
        reference = {"tokens": tokens, "vocab_size": c["vocab_size"], "dim": c["hidden_size"]}
        if c.get("classifier", True):
            reference["logits"] = as_f32_list(hidden @ w["classifier.weight"].T)
        reference["hidden"] = as_f32_list(hidden)
        reference["mean"] = as_f32_list(hidden.mean(0))
        if name == "prefix_lm":
            # The prefix attends both ways: its first position already sees the fifth token.
            changed = list(tokens)
            changed[4] = (changed[4] + 1) % c["vocab_size"]
            reference["logits_prefix_changed"] = as_f32_list(generic_forward(c, w, changed, rel)[:1] @ w["classifier.weight"].T)
        save(out, name, c, w, reference)
        print(f"{name}: edgeformer's own config, {len(tokens)} reference positions")


# ---- WordPiece ------------------------------------------------------------------------------------

WORDPIECE_TEXTS = [
    "Hello, World! It's a TEST: don't panic...",
    "Ünïcödé àccents — café, naïve; Ångström ÉCOLE",
    "你好，世界！ こんにちは 안녕하세요 Привет мир",
    "emoji 🙂🚀 and digits 0123456789, 3.14159",
    "  leading spaces\tand tabs\n\nnew lines\r\n   trailing   ",
    "supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "a [MASK] in the middle [SEP] and [UNKNOWN] brackets",
    "control\x00chars\x07and\u200bzero\ufeffwidth\ufffd",
    "İstanbul ΣΊΣΥΦΟΣ ǅemal ﬁnance Ⅻ ⒜",
    "", "a", "?!",
]


def make_wordpiece(out):
    corpus = WORDPIECE_TEXTS + ["hello world, the test of accents and cafe naive words", "panic and digits"] * 2
    for name, lowercase, strip, max_chars in [("wordpiece_uncased", True, None, 12), ("wordpiece_cased", False, False, 100)]:
        vocab = wordpiece.build_vocab(corpus, 260, min_count=1)
        tok = wordpiece.WordPiece(vocab, max_chars=max_chars, specials=wordpiece.SPECIALS, lowercase=lowercase,
                                  strip_accents=lowercase if strip is None else strip)
        c = {"model_type": "bert", "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
             "num_attention_heads": 2, "vocab_size": len(vocab), "max_position_embeddings": 512, "type_vocab_size": 2,
             "layer_norm_eps": 1e-12, "hidden_act": "gelu"}
        w = bert_weights(c, torch.Generator().manual_seed(71), "", False, False)
        cases = [{"text": t, "ids": tok.encode(t)} for t in WORDPIECE_TEXTS]
        save(out, name, c, w, {"cases": cases}, wordpiece.tokenizer_json(vocab, lowercase, strip, max_chars))
        print(f"{name}: {len(vocab)} pieces, {len(cases)} reference texts")


def main():
    out = sys.argv[1]
    make_bert(out)
    make_bloom(out)
    make_post_ln(out)
    make_generic(out)
    make_wordpiece(out)


if __name__ == "__main__":
    main()
