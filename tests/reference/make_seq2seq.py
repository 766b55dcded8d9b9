#!/usr/bin/python3
"""Tiny encoder-decoder checkpoints in edgeformer's own config format (model_type "edgeformer",
family "encoder-decoder", converter/convert_generic.cc) with random weights, and their reference
outputs computed by PyTorch in float64, written here from the papers (Vaswani et al. 2017: the
encoder reads the source once; each decoder layer has a causal self-attention, a cross-attention
over the encoder's output with no mask and no positions, and a feed-forward):

  encdec_pre    pre-norm RMSNorm stacks with rotary positions in both, GQA in the decoder, a
                gated SiLU feed-forward, an encoder with its own vocabulary, dims and heads,
                two decoder start ids.
  encdec_post   the original Transformer's post-norm LayerNorm layers with biases: sinusoidal
                positions in the encoder, learned ones in the decoder, embeddings scaled by
                sqrt(d), the encoder sharing the decoder's embedding, a tied classifier, a
                suppressed id that greedy decoding never produces.
  encdec_t5     T5's layout: RMSNorm without mean subtraction, relative position buckets
                (bidirectional in the encoder, causal in the decoder, one table per stack),
                attention scores not scaled (also in the cross-attention), gated GELU (tanh),
                a shared embedding, decoder start id 0.

and Hugging Face checkpoints, named and configured as transformers writes them, with forwards
written here from transformers' modeling code:

  t5_v1_0       T5ForConditionalGeneration as T5 v1.0: ReLU feed-forward, tied embeddings (the
                decoder's output times d_model^-0.5 before the shared embedding), d_kv * heads !=
                d_model.
  t5_v1_1       as T5 v1.1 / flan-t5: "gated-gelu" (tanh GELU) feed-forward, an untied lm_head,
                more encoder than decoder layers.
  bart          BartForConditionalGeneration: post-norm LayerNorm layers with biases, learned
                positions offset by 2, the embedding LayerNorm, erf GELU, final_logits_bias,
                decoder start EOS then the forced BOS.
  marian        MarianMTModel (OPUS-MT): sinusoidal positions in [sin | cos] halves, embeddings
                scaled by sqrt(d_model), "swish" (SiLU), the pad id as decoder start and never
                generated, its own source vocabulary (share_encoder_decoder_embeddings false).

Each folder gets config.json, model.safetensors and reference.json: per source, the encoder's
final hidden states, the decoder's logits at every position of a teacher-forced target (start
ids first), greedy ids (one full forward pass per token, suppressed ids masked), and beam search
results (beam_search below, written from transformers' BeamSearchScorer semantics). beam_llama
is a Llama decoder (make_models.py's) with beam search results after a prompt.

Usage: /usr/bin/python3 tests/reference/make_seq2seq.py OUT_DIR
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import llama_forward, llama_weights, write_safetensors  # noqa: E402
from make_stacks import (F64, as_f32_list, attend, causal, gelu_erf, gelu_tanh, layer_norm, mat, rms_norm,  # noqa: E402
                         rnd, sinusoidal, t5_bucket)

GREEDY_TOKENS = 10


def dims(c):
    nh = c["num_attention_heads"]
    return c["hidden_size"], nh, c.get("num_key_value_heads", nh), c.get("head_dim", c["hidden_size"] // nh)


def stack_weights(c, gen, prefix, cross, token_embedding):
    """Weights named by the runtime's role table; `c` is one stack's config."""
    d, nh, nkv, hd = dims(c)
    h, ln, bias = c["intermediate_size"], c["norm"] == "layernorm", c.get("attention_bias", False)
    # Unscaled scores (T5) come with queries initialized smaller by 1 / sqrt(head_dim), as T5's are.
    q_gain = 2.0 / math.sqrt(hd) if c.get("attention_scale") == 1.0 else 2.0
    w = {}

    def norm(name):
        w[prefix + name + ".weight"] = rnd(gen, d, scale=0.2, mean=1.0)
        if ln:
            w[prefix + name + "_bias.weight"] = rnd(gen, d, scale=0.2)

    if token_embedding:
        w[prefix + "token_embedding.weight"] = rnd(gen, c["vocab_size"], d, scale=0.7)
    if c.get("positions") == "learned":
        w[prefix + "position_embedding.weight"] = rnd(gen, c["max_position_embeddings"], d, scale=0.3)
    if c.get("positions") == "t5":
        w[prefix + "relative_bias.weight"] = rnd(gen, c["relative_buckets"], nh)
    if c.get("final_norm", True):
        norm("final_norm")
    for l in range(c["num_hidden_layers"]):
        p = f"{prefix}layers.{l}."
        blocks = [("", "attn_norm")] + ([("cross_", "cross_norm")] if cross else [])
        for kind, norm_name in blocks:
            norm(f"layers.{l}.{norm_name}")
            w[p + kind + "wq.weight"], w[p + kind + "wk.weight"] = mat(gen, nh * hd, d, q_gain), mat(gen, nkv * hd, d, 2.0)
            w[p + kind + "wv.weight"], w[p + kind + "wo.weight"] = mat(gen, nkv * hd, d), mat(gen, d, nh * hd)
            if bias:
                for n, size in [("bq", nh * hd), ("bk", nkv * hd), ("bv", nkv * hd), ("bo", d)]:
                    w[p + kind + n + ".weight"] = rnd(gen, size, scale=0.2)
        norm(f"layers.{l}.ffn_norm")
        if c["activation"] in ("swiglu", "geglu_tanh"):
            w[p + "w_gate.weight"] = mat(gen, h, d)
        w[p + "w_up.weight"], w[p + "w_down.weight"] = mat(gen, h, d), mat(gen, d, h)
        if c.get("mlp_bias", False):
            w[p + "b_up.weight"], w[p + "b_down.weight"] = rnd(gen, h, scale=0.2), rnd(gen, d, scale=0.2)
    return w


def rotate_pairs(v, pos, theta=10000.0):
    """Rotary positions on adjacent pairs (0, 1), (2, 3), .. of each head: v [t, heads, hd]."""
    hd = v.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=F64) / hd))
    ang = torch.tensor(pos, dtype=F64)[:, None] * inv[None, :]
    cos, sin = ang.cos()[:, None, :], ang.sin()[:, None, :]
    a, b = v[..., 0::2].clone(), v[..., 1::2].clone()
    out = v.clone()
    out[..., 0::2], out[..., 1::2] = a * cos - b * sin, a * sin + b * cos
    return out


def stack_forward(c, w, prefix, ids, embedding, memory=None, mem_c=None):
    """One stack over ids [t]: the encoder when memory is None (bidirectional), else the decoder
    (causal self-attention, then cross-attention over memory [s, d]). Returns the hidden states
    after the final norm."""
    d, nh, nkv, hd = dims(c)
    t, eps = len(ids), c.get("norm_eps", 1e-6)
    ln, pre = c["norm"] == "layernorm", c.get("norm_placement", "pre") == "pre"
    decoder = memory is not None
    x = embedding[torch.tensor(ids)] * c.get("embedding_scale", 1.0)
    if c.get("positions") == "learned":
        x = x + w[prefix + "position_embedding.weight"][:t]
    elif c.get("positions") == "sinusoidal":
        x = x + sinusoidal(t, d)
    mask = causal(t) if decoder else torch.zeros(t, t, dtype=F64)
    bias = None
    if c.get("positions") == "t5":
        pos = torch.arange(t)
        b = t5_bucket(pos[None, :] - pos[:, None], not decoder, c["relative_buckets"], c["relative_max_distance"])
        bias = w[prefix + "relative_bias.weight"][b].permute(2, 0, 1)
    scale = c.get("attention_scale") or 1.0 / math.sqrt(hd)

    def norm(name, y):
        if ln:
            return layer_norm(y, w[prefix + name + ".weight"], w[prefix + name + "_bias.weight"], eps)
        return rms_norm(y, w[prefix + name + ".weight"], eps)

    def lin(name, y):
        out = y @ w[prefix + name + ".weight"].T
        bias_name = prefix + name.replace("wq", "bq").replace("wk", "bk").replace("wv", "bv").replace("wo", "bo")
        bias_name = bias_name.replace("w_up", "b_up").replace("w_down", "b_down") + ".weight"
        return out + w[bias_name] if bias_name in w and bias_name != prefix + name + ".weight" else out

    def block(l, norm_name, f):
        nonlocal x
        if pre:
            x = x + f(norm(f"layers.{l}.{norm_name}", x))
        else:
            x = norm(f"layers.{l}.{norm_name}", x + f(x))

    for l in range(c["num_hidden_layers"]):
        p = f"layers.{l}."

        def self_attention(y):
            q = lin(p + "wq", y).view(t, nh, hd)
            k = lin(p + "wk", y).view(t, nkv, hd)
            v = lin(p + "wv", y).view(t, nkv, hd)
            if c.get("positions") == "rotary":
                q, k = rotate_pairs(q, list(range(t))), rotate_pairs(k, list(range(t)))
            k, v = k.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
            return lin(p + "wo", attend(q, k, v, mask, scale, bias))

        def cross_attention(y):
            s = memory.shape[0]
            q = lin(p + "cross_wq", y).view(t, nh, hd)
            k = lin(p + "cross_wk", memory).view(s, nkv, hd).repeat_interleave(nh // nkv, 1)
            v = lin(p + "cross_wv", memory).view(s, nkv, hd).repeat_interleave(nh // nkv, 1)
            return lin(p + "cross_wo", attend(q, k, v, torch.zeros(t, s, dtype=F64), scale))

        def feed_forward(y):
            act = c["activation"]
            up = lin(p + "w_up", y)
            if act == "swiglu":
                return lin(p + "w_down", torch.nn.functional.silu(y @ w[prefix + p + "w_gate.weight"].T) * up)
            if act == "geglu_tanh":
                return lin(p + "w_down", gelu_tanh(y @ w[prefix + p + "w_gate.weight"].T) * up)
            return lin(p + "w_down", torch.relu(up) if act == "relu" else gelu_tanh(up))

        block(l, "attn_norm", self_attention)
        if decoder:
            block(l, "cross_norm", cross_attention)
        block(l, "ffn_norm", feed_forward)
    if c.get("final_norm", True):
        x = norm("final_norm", x)
    return x


def greedy(step, start, suppress=()):
    """GREEDY_TOKENS ids after `start`, one full forward pass each: step(ids) gives the last
    position's logits; suppressed ids are never chosen."""
    ids = list(start)
    for _ in range(GREEDY_TOKENS):
        last = step(ids)
        last[list(suppress)] = float("-inf")
        ids.append(int(last.argmax()))
    return ids[len(start):]


def beam_search(step, start, k, max_new, lp, early, eos, suppress=(), forced=0, forced_eos=None):
    """transformers' beam search (generate(num_beams=k), BeamSearchScorer of 4.38 and later),
    independently of the runtime: each step adds the running beams' log-softmax (suppressed ids
    after it, at -inf) to their scores and ranks beams x vocabulary (equal scores: lower beam,
    then lower id; at the first step only beam 0, every beam being the prompt); of the best 2k,
    an ending id within the first k finishes a hypothesis (score sum / generated_len^lp, the
    ending id counted, not kept), the others fill the k next beams. Done once k hypotheses exist
    and: "always"; "heuristic": the best candidate's sum over the current length cannot beat the
    worst hypothesis; "never": the same at max_new when lp > 0. At max_new tokens the running
    beams become hypotheses. Lengths count the last `forced` start ids (tokens generate() forces,
    BART's BOS); with forced_eos, the last step's only choice is it, at log-probability 0
    (transformers' ForcedEOSTokenLogitsProcessor). Returns [(score, tokens)], best first."""
    hyps, worst = [], 1e9

    def add(tokens, total, length):
        nonlocal worst
        score = total / length ** lp
        if len(hyps) < k or score > worst:
            hyps.append((score, tokens))
            if len(hyps) > k:
                low = min(range(len(hyps)), key=lambda i: (hyps[i][0], i))
                del hyps[low]
                worst = min(h[0] for h in hyps)
            else:
                worst = min(score, worst)

    running = [([], 0.0)] * k
    length, done = 0, False
    while True:
        cands = []
        for j, (toks, total) in enumerate(running[:1] if length == 0 else running):
            lps = torch.log_softmax(step(list(start) + toks).to(F64), -1)
            lps[list(suppress)] = float("-inf")
            if forced_eos is not None and length + 1 == max_new:
                lps[:] = float("-inf")
                lps[forced_eos] = 0.0
            cands += [(total + float(lps[v]), j, v) for v in range(lps.shape[0])]
        cands.sort(key=lambda c: (-c[0], c[1], c[2]))
        cands = cands[: 2 * k]
        nxt = []
        for rank, (total, j, v) in enumerate(cands):
            if v in eos or v == forced_eos:
                if rank < k:
                    add(running[j][0], total, length + 1 + forced)
                continue
            nxt.append((running[j][0] + [v], total))
            if len(nxt) == k:
                break
        if len(hyps) >= k:
            if early == "always":
                done = True
            else:
                n = (max_new if early == "never" and lp > 0 else length + 1) + forced
                done = worst >= cands[0][0] / n ** lp
        if done:
            break
        running, length = nxt, length + 1
        if length >= max_new:
            break
    if not done:
        for toks, total in running:
            add(toks, total, length + forced)
    return sorted(hyps, key=lambda h: -h[0])


BEAM_SETTINGS = [(4, 12, 1.0, "heuristic"), (3, 9, 0.6, "always"), (2, 7, 1.5, "never")]


def beams(step, start, eos, suppress=(), forced=0, forced_eos=None):
    """The beam references of one source or prompt: every BEAM_SETTINGS entry, all hypotheses."""
    out = []
    for k, max_new, lp, early in BEAM_SETTINGS:
        hyps = beam_search(step, start, k, max_new, lp, early, eos, suppress, forced, forced_eos)
        out.append({"beams": k, "max_tokens": max_new, "length_penalty": lp, "early_stopping": early,
                    "tokens": [h[1] for h in hyps], "scores": [h[0] for h in hyps]})
    return out


def save(out, name, config, weights, dim, vocab, start, cases):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    write_safetensors(os.path.join(d, "model.safetensors"), weights, "F32")
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump({"dim": dim, "vocab_size": vocab, "start": start, "cases": cases}, f)


def encoder_config(c):
    e = dict(c["encoder"])
    for key in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size",
                "max_position_embeddings", "norm_eps"):
        e.setdefault(key, c[key])
    return e


def make(out, name, c, seed, sources, target_len):
    gen = torch.Generator().manual_seed(seed)
    e = encoder_config(c)
    shared = e.get("shared_embedding", False)
    w = stack_weights(c, gen, "", True, True)
    w.update(stack_weights(e, gen, "encoder.", False, not shared))
    if not c.get("tie_word_embeddings", False):
        w["classifier.weight"] = w["token_embedding.weight"] + rnd(gen, c["vocab_size"], c["hidden_size"], scale=0.5)
    classifier = w["token_embedding.weight" if c.get("tie_word_embeddings", False) else "classifier.weight"]
    enc_embedding = w["token_embedding.weight" if shared else "encoder.token_embedding.weight"]
    start, suppress = c["decoder_start_ids"], c.get("suppress_ids", [])
    cases = []
    for n in sources:
        src = torch.randint(0, e["vocab_size"], (n,), generator=gen).tolist()
        memory = stack_forward(e, w, "encoder.", src, enc_embedding)
        target = start + torch.randint(0, c["vocab_size"], (target_len,), generator=gen).tolist()
        logits = stack_forward(c, w, "", target, w["token_embedding.weight"], memory) @ classifier.T
        step = lambda t: stack_forward(c, w, "", t, w["token_embedding.weight"], memory)[-1] @ classifier.T  # noqa: E731
        cases.append({"source": src, "encoder_hidden": as_f32_list(memory), "target": target,
                      "logits": as_f32_list(logits), "greedy": greedy(step, start, suppress),
                      "beams": beams(step, start, [c["eos_token_id"]] if "eos_token_id" in c else [], suppress)})
    save(out, name, c, w, c["hidden_size"], c["vocab_size"], start, cases)
    print(f"{name}: {len(cases)} sources, {target_len}-token targets, {GREEDY_TOKENS} greedy ids each")


def t5_model(c, gen):
    """T5ForConditionalGeneration's weights by their Hugging Face names."""
    d, inner, ff, nh = c["d_model"], c["num_heads"] * c["d_kv"], c["d_ff"], c["num_heads"]
    gated = c["feed_forward_proj"] == "gated-gelu"
    w = {"shared.weight": rnd(gen, c["vocab_size"], d, scale=0.7)}
    for s, layers in [("encoder", c["num_layers"]), ("decoder", c["num_decoder_layers"])]:
        w[f"{s}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"] = rnd(gen, c["relative_attention_num_buckets"], nh)
        w[f"{s}.final_layer_norm.weight"] = rnd(gen, d, scale=0.2, mean=1.0)
        for i in range(layers):
            p = f"{s}.block.{i}.layer."
            blocks = ["SelfAttention", "EncDecAttention"] if s == "decoder" else ["SelfAttention"]
            for j, sub in enumerate(blocks):
                w[f"{p}{j}.layer_norm.weight"] = rnd(gen, d, scale=0.2, mean=1.0)
                # T5's initialization: queries by (d_model * d_kv)^-0.5, as scores are not scaled.
                w[f"{p}{j}.{sub}.q.weight"] = mat(gen, inner, d, 2.0 / math.sqrt(c["d_kv"]))
                w[f"{p}{j}.{sub}.k.weight"] = mat(gen, inner, d, 2.0)
                w[f"{p}{j}.{sub}.v.weight"] = mat(gen, inner, d)
                w[f"{p}{j}.{sub}.o.weight"] = mat(gen, d, inner)
            f = f"{p}{len(blocks)}."
            w[f + "layer_norm.weight"] = rnd(gen, d, scale=0.2, mean=1.0)
            if gated:
                w[f + "DenseReluDense.wi_0.weight"], w[f + "DenseReluDense.wi_1.weight"] = mat(gen, ff, d), mat(gen, ff, d)
            else:
                w[f + "DenseReluDense.wi.weight"] = mat(gen, ff, d)
            w[f + "DenseReluDense.wo.weight"] = mat(gen, d, ff)
    if not c.get("tie_word_embeddings", True):
        w["lm_head.weight"] = w["shared.weight"] + rnd(gen, c["vocab_size"], d, scale=0.5)
    return w


def t5_forward(c, w, src, tgt):
    """transformers' T5ForConditionalGeneration: returns (encoder output, decoder logits)."""
    nh, dkv, eps = c["num_heads"], c["d_kv"], c["layer_norm_epsilon"]
    gated = c["feed_forward_proj"] == "gated-gelu"

    def norm(x, name):  # T5LayerNorm: no mean subtraction, no bias
        return w[name] * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))

    def attention(x, kv, p, mask):
        t, s = x.shape[0], kv.shape[0]
        q = (x @ w[p + "q.weight"].T).view(t, nh, dkv)
        k = (kv @ w[p + "k.weight"].T).view(s, nh, dkv)
        v = (kv @ w[p + "v.weight"].T).view(s, nh, dkv)
        scores = torch.einsum("qhd,khd->hqk", q, k) + mask  # no 1 / sqrt(d_kv)
        return torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(t, -1) @ w[p + "o.weight"].T

    def position_bias(stack, t, bidirectional):
        pos = torch.arange(t)
        b = t5_bucket(pos[None, :] - pos[:, None], bidirectional, c["relative_attention_num_buckets"],
                      c["relative_attention_max_distance"])
        return w[f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"][b].permute(2, 0, 1)

    def feed_forward(x, p):
        if gated:
            h = gelu_tanh(x @ w[p + "DenseReluDense.wi_0.weight"].T) * (x @ w[p + "DenseReluDense.wi_1.weight"].T)
        else:
            h = torch.relu(x @ w[p + "DenseReluDense.wi.weight"].T)
        return h @ w[p + "DenseReluDense.wo.weight"].T

    x = w["shared.weight"][torch.tensor(src)]
    bias = position_bias("encoder", len(src), True)
    for i in range(c["num_layers"]):
        p = f"encoder.block.{i}.layer."
        x = x + attention(norm(x, p + "0.layer_norm.weight"), norm(x, p + "0.layer_norm.weight"), p + "0.SelfAttention.", bias)
        x = x + feed_forward(norm(x, p + "1.layer_norm.weight"), p + "1.")
    memory = norm(x, "encoder.final_layer_norm.weight")
    y = w["shared.weight"][torch.tensor(tgt)]
    t = len(tgt)
    bias = position_bias("decoder", t, False) + causal(t)
    for i in range(c["num_decoder_layers"]):
        p = f"decoder.block.{i}.layer."
        h = norm(y, p + "0.layer_norm.weight")
        y = y + attention(h, h, p + "0.SelfAttention.", bias)
        y = y + attention(norm(y, p + "1.layer_norm.weight"), memory, p + "1.EncDecAttention.",
                          torch.zeros(t, memory.shape[0], dtype=F64))
        y = y + feed_forward(norm(y, p + "2.layer_norm.weight"), p + "2.")
    y = norm(y, "decoder.final_layer_norm.weight")
    if c.get("tie_word_embeddings", True):
        return memory, (y * c["d_model"] ** -0.5) @ w["shared.weight"].T
    return memory, y @ w["lm_head.weight"].T


def bart_model(c, gen, marian):
    """BartForConditionalGeneration / MarianMTModel weights by their Hugging Face names."""
    d, vocab = c["d_model"], c.get("decoder_vocab_size", c["vocab_size"])
    shared = c.get("share_encoder_decoder_embeddings", True)
    w = {"model.shared.weight": rnd(gen, vocab, d, scale=0.7 if not marian else 0.12),
         "final_logits_bias": rnd(gen, 1, vocab, scale=0.3)}
    if not shared:
        w["model.decoder.embed_tokens.weight"] = w.pop("model.shared.weight")
        w["model.encoder.embed_tokens.weight"] = rnd(gen, c["vocab_size"], d, scale=0.12)
    for s in ("encoder", "decoder"):
        layers, ffn = c[f"{s}_layers"], c[f"{s}_ffn_dim"]
        if not marian:
            w[f"model.{s}.embed_positions.weight"] = rnd(gen, c["max_position_embeddings"] + 2, d, scale=0.3)
            w[f"model.{s}.layernorm_embedding.weight"] = rnd(gen, d, scale=0.2, mean=1.0)
            w[f"model.{s}.layernorm_embedding.bias"] = rnd(gen, d, scale=0.2)
        for i in range(layers):
            p = f"model.{s}.layers.{i}."
            for att in (["self_attn", "encoder_attn"] if s == "decoder" else ["self_attn"]):
                for n, gain in [("q_proj", 2.0), ("k_proj", 2.0), ("v_proj", 1.0), ("out_proj", 1.0)]:
                    w[f"{p}{att}.{n}.weight"], w[f"{p}{att}.{n}.bias"] = mat(gen, d, d, gain), rnd(gen, d, scale=0.2)
                w[f"{p}{att}_layer_norm.weight"] = rnd(gen, d, scale=0.2, mean=1.0)
                w[f"{p}{att}_layer_norm.bias"] = rnd(gen, d, scale=0.2)
            w[p + "fc1.weight"], w[p + "fc1.bias"] = mat(gen, ffn, d), rnd(gen, ffn, scale=0.2)
            w[p + "fc2.weight"], w[p + "fc2.bias"] = mat(gen, d, ffn), rnd(gen, d, scale=0.2)
            w[p + "final_layer_norm.weight"] = rnd(gen, d, scale=0.2, mean=1.0)
            w[p + "final_layer_norm.bias"] = rnd(gen, d, scale=0.2)
    return w


def marian_positions(n, d):
    """MarianSinusoidalPositionalEmbedding._init_weight, in float64."""
    enc = torch.tensor([[pos / (10000 ** (2 * (j // 2) / d)) for j in range(d)] for pos in range(n)], dtype=F64)
    out = torch.zeros(n, d, dtype=F64)
    out[:, : d // 2] = torch.sin(enc[:, 0::2])
    out[:, d // 2:] = torch.cos(enc[:, 1::2])
    return out


def bart_forward(c, w, src, tgt, marian):
    """transformers' BartForConditionalGeneration / MarianMTModel: (encoder output, logits)."""
    d, eps = c["d_model"], 1e-5
    scale = math.sqrt(d) if c.get("scale_embedding", False) else 1.0
    act = {"gelu": gelu_erf, "swish": torch.nn.functional.silu, "relu": torch.relu}[c["activation_function"]]
    shared = c.get("share_encoder_decoder_embeddings", True)

    def ln(x, name):
        return layer_norm(x, w[name + ".weight"], w[name + ".bias"], eps)

    def lin(x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    def attention(x, kv, p, heads, mask):
        t, s, hd = x.shape[0], kv.shape[0], d // heads
        q = (lin(x, p + "q_proj") * hd ** -0.5).view(t, heads, hd)
        k, v = lin(kv, p + "k_proj").view(s, heads, hd), lin(kv, p + "v_proj").view(s, heads, hd)
        return lin(attend(q, k, v, mask, 1.0), p + "out_proj")

    def embed(stack, ids):
        table = w["model.shared.weight"] if shared else w[f"model.{stack}.embed_tokens.weight"]
        x = table[torch.tensor(ids)] * scale
        if marian:
            x = x + marian_positions(len(ids), d)
        else:
            x = ln(x + w[f"model.{stack}.embed_positions.weight"][2: 2 + len(ids)], f"model.{stack}.layernorm_embedding")
        return x

    x = embed("encoder", src)
    zero = torch.zeros(len(src), len(src), dtype=F64)
    for i in range(c["encoder_layers"]):
        p = f"model.encoder.layers.{i}."
        x = ln(x + attention(x, x, p + "self_attn.", c["encoder_attention_heads"], zero), p + "self_attn_layer_norm")
        x = ln(x + lin(act(lin(x, p + "fc1")), p + "fc2"), p + "final_layer_norm")
    memory = x
    y = embed("decoder", tgt)
    t = len(tgt)
    for i in range(c["decoder_layers"]):
        p = f"model.decoder.layers.{i}."
        y = ln(y + attention(y, y, p + "self_attn.", c["decoder_attention_heads"], causal(t)), p + "self_attn_layer_norm")
        y = ln(y + attention(y, memory, p + "encoder_attn.", c["decoder_attention_heads"],
                             torch.zeros(t, len(src), dtype=F64)), p + "encoder_attn_layer_norm")
        y = ln(y + lin(act(lin(y, p + "fc1")), p + "fc2"), p + "final_layer_norm")
    table = w["model.shared.weight"] if shared else w["model.decoder.embed_tokens.weight"]
    return memory, y @ table.T + w["final_logits_bias"][0]


def make_bart(out, name, c, seed, sources, target_len):
    marian = c["model_type"] == "marian"
    gen = torch.Generator().manual_seed(seed)
    w = bart_model(c, gen, marian)
    start = [c["decoder_start_token_id"]] + ([c["forced_bos_token_id"]] if c.get("forced_bos_token_id") is not None else [])
    vocab, src_vocab = c.get("decoder_vocab_size", c["vocab_size"]), c["vocab_size"]
    suppress = [c["pad_token_id"]] if marian else []
    cases = []
    for n in sources:
        src = torch.randint(3, src_vocab, (n,), generator=gen).tolist() + [c["eos_token_id"]]
        target = start + torch.randint(3, vocab, (target_len,), generator=gen).tolist()
        memory, logits = bart_forward(c, w, src, target, marian)
        step = lambda t: bart_forward(c, w, src, t, marian)[1][-1]  # noqa: E731
        cases.append({"source": src, "encoder_hidden": as_f32_list(memory), "target": target,
                      "logits": as_f32_list(logits), "greedy": greedy(step, start, suppress),
                      "beams": beams(step, start, [c["eos_token_id"]], suppress,
                                     1 if c.get("forced_bos_token_id") is not None else 0,
                                     c.get("forced_eos_token_id"))})
    save(out, name, c, w, c["d_model"], vocab, start, cases)
    print(f"{name}: {c['model_type']}, {len(cases)} sources")


def make_t5(out, name, c, seed, sources, target_len):
    gen = torch.Generator().manual_seed(seed)
    w = t5_model(c, gen)
    start = [c["decoder_start_token_id"]]
    cases = []
    for n in sources:
        src = torch.randint(2, c["vocab_size"], (n,), generator=gen).tolist() + [c["eos_token_id"]]
        target = start + torch.randint(2, c["vocab_size"], (target_len,), generator=gen).tolist()
        memory, logits = t5_forward(c, w, src, target)
        step = lambda t: t5_forward(c, w, src, t)[1][-1]  # noqa: E731
        cases.append({"source": src, "encoder_hidden": as_f32_list(memory), "target": target,
                      "logits": as_f32_list(logits), "greedy": greedy(step, start),
                      "beams": beams(step, start, [c["eos_token_id"]])})
    save(out, name, c, w, c["d_model"], c["vocab_size"], start, cases)
    print(f"{name}: T5ForConditionalGeneration, {len(cases)} sources")


def make_beam_llama(out):
    """A Llama decoder with beam search references after two prompts (EOS = a frequent id)."""
    c = {"model_type": "llama", "hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 12, "vocab_size": 90,
         "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False,
         "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2}
    gen = torch.Generator().manual_seed(88)
    w = llama_weights(c, gen)
    prompts = [[1] + torch.randint(3, c["vocab_size"], (n - 1,), generator=gen).tolist() for n in (5, 23)]
    step = lambda t: llama_forward(c, w, t)[-1]  # noqa: E731
    # EOS: the id greedy decoding picks third after the first prompt, so hypotheses end on the way.
    c["eos_token_id"] = greedy(step, prompts[0])[2]
    cases = [{"prompt": p, "beams": beams(step, p, [c["eos_token_id"]])} for p in prompts]
    save(out, "beam_llama", c, w, c["hidden_size"], c["vocab_size"], [], cases)
    print(f"beam_llama: a Llama decoder, beam search after {len(cases)} prompts")


def main():
    out = sys.argv[1]
    base = {"model_type": "edgeformer", "family": "encoder-decoder", "norm_eps": 1e-6}
    pre = dict(base, hidden_size=32, intermediate_size=72, num_hidden_layers=2, num_attention_heads=4,
               num_key_value_heads=2, head_dim=8, vocab_size=97, max_position_embeddings=48, norm="rmsnorm",
               norm_placement="pre", positions="rotary", activation="swiglu", tie_word_embeddings=False,
               decoder_start_ids=[3, 5], eos_token_id=4,
               encoder={"num_hidden_layers": 3, "num_attention_heads": 2, "head_dim": 16, "intermediate_size": 56,
                        "vocab_size": 113, "max_position_embeddings": 40, "norm": "rmsnorm", "positions": "rotary",
                        "activation": "swiglu"})
    post = dict(base, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                vocab_size=90, max_position_embeddings=48, norm="layernorm", norm_eps=1e-5, norm_placement="post",
                positions="learned", activation="relu", attention_bias=True, mlp_bias=True,
                embedding_scale=math.sqrt(32), final_norm=False, tie_word_embeddings=True, decoder_start_ids=[2],
                suppress_ids=[1],
                encoder={"num_hidden_layers": 2, "norm": "layernorm", "norm_placement": "post",
                         "positions": "sinusoidal", "activation": "gelu_tanh", "attention_bias": True,
                         "mlp_bias": True, "embedding_scale": math.sqrt(32), "final_norm": False,
                         "shared_embedding": True})
    t5 = dict(base, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, head_dim=12,
              vocab_size=100, max_position_embeddings=64, norm="rmsnorm", positions="t5", activation="geglu_tanh",
              attention_scale=1.0, relative_buckets=16, relative_max_distance=40, relative_shared=True,
              tie_word_embeddings=False, decoder_start_ids=[0],
              encoder={"num_hidden_layers": 2, "num_attention_heads": 4, "head_dim": 12, "norm": "rmsnorm",
                       "positions": "t5", "activation": "geglu_tanh", "attention_scale": 1.0, "relative_buckets": 16,
                       "relative_max_distance": 40, "relative_bidirectional": True, "relative_shared": True,
                       "shared_embedding": True})
    make(out, "encdec_pre", pre, 81, [11, 1, 40], 14)
    make(out, "encdec_post", post, 82, [9, 30], 12)
    make(out, "encdec_t5", t5, 83, [23, 5, 64], 16)
    t5_base = {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "is_encoder_decoder": True,
               "d_model": 32, "d_kv": 12, "num_heads": 4, "vocab_size": 120, "relative_attention_num_buckets": 16,
               "relative_attention_max_distance": 40, "layer_norm_epsilon": 1e-6, "pad_token_id": 0,
               "eos_token_id": 1, "decoder_start_token_id": 0, "dropout_rate": 0.1, "initializer_factor": 1.0}
    make_t5(out, "t5_v1_0", dict(t5_base, d_ff=64, num_layers=2, num_decoder_layers=2, feed_forward_proj="relu",
                                 tie_word_embeddings=True), 84, [12, 1, 47], 14)
    make_t5(out, "t5_v1_1", dict(t5_base, d_ff=72, num_layers=3, num_decoder_layers=2,
                                 feed_forward_proj="gated-gelu", tie_word_embeddings=False), 85, [20, 6], 12)
    bart = {"architectures": ["BartForConditionalGeneration"], "model_type": "bart", "is_encoder_decoder": True,
            "d_model": 32, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4,
            "decoder_attention_heads": 2, "encoder_ffn_dim": 64, "decoder_ffn_dim": 72, "vocab_size": 110,
            "max_position_embeddings": 48, "activation_function": "gelu", "scale_embedding": False,
            "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "decoder_start_token_id": 2,
            "forced_bos_token_id": 0, "forced_eos_token_id": 2, "tie_word_embeddings": True}
    make_bart(out, "bart", bart, 86, [15, 1, 40], 12)
    marian = {"architectures": ["MarianMTModel"], "model_type": "marian", "is_encoder_decoder": True, "d_model": 32,
              "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4, "decoder_attention_heads": 4,
              "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "vocab_size": 130, "decoder_vocab_size": 101,
              "share_encoder_decoder_embeddings": False, "max_position_embeddings": 64,
              "activation_function": "swish", "scale_embedding": True, "pad_token_id": 100, "eos_token_id": 0,
              "decoder_start_token_id": 100, "forced_eos_token_id": 0, "tie_word_embeddings": True}
    make_bart(out, "marian", marian, 87, [18, 50], 12)
    make_beam_llama(out)


if __name__ == "__main__":
    main()
