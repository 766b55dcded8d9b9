#!/usr/bin/python3
"""Trains the tiny real encoder-decoder of the tests: a Marian translation model (Hugging Face
MarianMTModel layout, as OPUS-MT) that spells out numbers, written in OUT_DIR as config.json,
model.safetensors (float32), source.spm, target.spm and vocab.json.

The task: the source is an integer 0..999999 in digits, written with thousands separators
("40,217") for about half of those >= 1000 (chosen by crc32, so each number has one source
text); the target is its English words, American style: no "and", tens and units joined by a
hyphen, "zero" only for 0, nothing for zero groups ("40217" -> "forty thousand two hundred
seventeen", "1,005" -> "one thousand five", "90,000" -> "ninety thousand", "21" -> "twenty-one").
The number of digits is uniform in 1..6, then the number uniform among those with that many.

Tokenizers as OPUS-MT ships them: SentencePiece Unigram models for the sources (source.spm) and
the targets (target.spm), trained here on 20000 training pairs, and vocab.json, the joint
vocabulary: "</s>" 0, "<unk>" 1, the source pieces, the target pieces not among them, "<pad>"
last. A text is encoded as MarianTokenizer does: its pieces (sp.encode(text, out_type=str))
through vocab.json (missing pieces: <unk>), then </s>. The decoder starts from <pad>, which is
never generated.

The model computes make_seq2seq.bart_forward(..., marian=True) (checked after training, in
float64): post-norm layers with biases, sinusoidal positions in [sin | cos] halves, embeddings
times sqrt(d_model), SiLU feed-forwards, one embedding shared by the encoder, the decoder and the
classifier, final_logits_bias zero.

Deterministic: a number is held out (never trained on) when the crc32 of its digits is 0 mod 20;
the evaluation set (held_out_cases: EVAL_CASES distinct held-out numbers), the tokenizers'
corpus, the initialization and the batches follow from fixed seeds and --seed. CPU, one thread.

Usage: /usr/bin/python3 scripts/train_seq2seq_numbers.py [OUT_DIR] [--steps 900] [--batch 64] [--seed 1]
OUT_DIR defaults to tests/data/numbers-seq2seq. tests/reference/eval_seq2seq.py measures the
greedy exact-match accuracy on the held-out numbers.
"""
import argparse
import io
import json
import math
import os
import struct
import sys
import time
import zlib

import sentencepiece as spm
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
from make_models import write_safetensors  # noqa: E402
from make_seq2seq import bart_forward, marian_positions  # noqa: E402

DEFAULT_OUT = os.path.join(HERE, "..", "tests", "data", "numbers-seq2seq")
SHAPE = {"d_model": 64, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4,
         "decoder_attention_heads": 4, "encoder_ffn_dim": 128, "decoder_ffn_dim": 128, "max_position_embeddings": 64}
SOURCE_PIECES, TARGET_PIECES = 80, 64
SPM_CORPUS, SPM_SEED = 20000, 12345
EVAL_CASES, EVAL_SEED = 400, 2026
MAX_NEW = 32  # greedy decoding stops after this many ids without </s>
EOS, UNK = 0, 1

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen").split()
TENS = "- - twenty thirty forty fifty sixty seventy eighty ninety".split()


def below_thousand(n):
    """The words of 1 <= n <= 999."""
    out = []
    if n >= 100:
        out.append(ONES[n // 100] + " hundred")
        n %= 100
    if n >= 20:
        out.append(TENS[n // 10] + ("-" + ONES[n % 10] if n % 10 else ""))
    elif n > 0:
        out.append(ONES[n])
    return " ".join(out)


def words(n):
    """The canonical English words of 0 <= n <= 999999 (see the docstring)."""
    if n == 0:
        return "zero"
    out = []
    if n >= 1000:
        out.append(below_thousand(n // 1000) + " thousand")
    if n % 1000:
        out.append(below_thousand(n % 1000))
    return " ".join(out)


def source_text(n):
    """n in digits; with a comma before each group of three for about half of n >= 1000."""
    digits = str(n)
    return f"{n:,}" if n >= 1000 and zlib.crc32(b"," + digits.encode()) % 2 == 0 else digits


def held_out(n):
    return zlib.crc32(str(n).encode()) % 20 == 0


def draw(gen, count):
    """count numbers: a digit count uniform in 1..6, then a number uniform among those."""
    k = torch.randint(1, 7, (count,), generator=gen)
    u = torch.rand(count, generator=gen, dtype=torch.float64)
    lo = torch.where(k == 1, torch.zeros_like(k), 10 ** (k - 1))
    hi = 10 ** k
    return (lo + (u * (hi - lo).double()).long()).tolist()


def training_numbers(gen, count):
    out = []
    while len(out) < count:
        out.extend(n for n in draw(gen, count) if not held_out(n))
    return out[:count]


def held_out_cases():
    """The evaluation set: EVAL_CASES distinct held-out numbers, in drawing order."""
    gen, seen, out = torch.Generator().manual_seed(EVAL_SEED), set(), []
    while len(out) < EVAL_CASES:
        for n in draw(gen, 4096):
            if held_out(n) and n not in seen and len(out) < EVAL_CASES:
                seen.add(n)
                out.append(n)
    return out


def train_spm(texts, pieces):
    """A SentencePiece Unigram model (serialized) of `pieces` pieces over texts, in their order.
    Its normalizer is the identity: OPUS-MT's nmt_nfkc leaves these ASCII texts as they are, and
    its table would add 237 KB to each model. Not every size is reachable (spm fails then)."""
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(texts), model_writer=buf, vocab_size=pieces,
                                   model_type="unigram", character_coverage=1.0, num_threads=1, eos_id=EOS,
                                   unk_id=UNK, bos_id=-1, pad_id=-1, normalization_rule_name="identity",
                                   minloglevel=2)
    return buf.getvalue()


def joint_vocab(source, target):
    """vocab.json's mapping: </s>, <unk>, the source pieces, the new target pieces, <pad>."""
    vocab = {"</s>": EOS, "<unk>": UNK}
    for sp in (source, target):
        for i in range(sp.get_piece_size()):
            if not (sp.is_control(i) or sp.is_unknown(i)) and sp.id_to_piece(i) not in vocab:
                vocab[sp.id_to_piece(i)] = len(vocab)
    vocab["<pad>"] = len(vocab)
    return vocab


class Tokenizers:
    """MarianTokenizer's encoding with the checkpoint's source.spm, target.spm and vocab.json."""

    def __init__(self, source_model, target_model, vocab):
        self.source = spm.SentencePieceProcessor(model_proto=source_model)
        self.target = spm.SentencePieceProcessor(model_proto=target_model)
        self.vocab = vocab
        self.pieces = {i: p for p, i in vocab.items()}
        self.pad = vocab["<pad>"]

    @classmethod
    def load(cls, d):
        def read(name):
            with open(os.path.join(d, name), "rb") as f:
                return f.read()
        return cls(read("source.spm"), read("target.spm"), json.loads(read("vocab.json")))

    def _ids(self, sp, text):
        return [self.vocab.get(p, UNK) for p in sp.encode(text, out_type=str)] + [EOS]

    def encode_source(self, text):
        return self._ids(self.source, text)

    def encode_target(self, text):
        return self._ids(self.target, text)

    def decode(self, ids):
        """The text of target ids (special ids skipped), as the target spm decodes its pieces."""
        pieces = [self.pieces[i] for i in ids if i not in (EOS, UNK, self.pad)]
        return "".join(pieces).replace("\u2581", " ").strip()


def config(vocab_size, pad):
    """MarianConfig as OPUS-MT checkpoints write it, with SHAPE's dimensions."""
    return dict(SHAPE, model_type="marian", architectures=["MarianMTModel"], activation_function="swish",
                vocab_size=vocab_size, decoder_vocab_size=vocab_size, pad_token_id=pad, eos_token_id=EOS,
                decoder_start_token_id=pad, forced_eos_token_id=EOS, bad_words_ids=[[pad]],
                num_hidden_layers=SHAPE["encoder_layers"], scale_embedding=True,
                share_encoder_decoder_embeddings=True, static_position_embeddings=True, normalize_before=False,
                normalize_embedding=False, add_final_layer_norm=False, add_bias_logits=False,
                is_encoder_decoder=True, tie_word_embeddings=True, dropout=0.0, attention_dropout=0.0,
                activation_dropout=0.0, encoder_layerdrop=0.0, decoder_layerdrop=0.0, init_std=0.02,
                max_length=MAX_NEW + 1, num_beams=1, use_cache=True, torch_dtype="float32")


class Marian(torch.nn.Module):
    """MarianMTModel's function (make_seq2seq.bart_forward with marian=True) on padded batches:
    pad positions of a source are masked as keys; targets are right-padded (their padded rows
    are garbage, ignored by the loss)."""

    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.c = c
        self.shared = torch.nn.Embedding(c["vocab_size"], d)
        self.positions = marian_positions(c["max_position_embeddings"], d)  # float64, not a buffer
        self.register_buffer("final_logits_bias", torch.zeros(1, c["vocab_size"]))

        def layer(ffn, cross):
            m = {"self_attn": self.attention(d), "self_attn_layer_norm": torch.nn.LayerNorm(d),
                 "fc1": torch.nn.Linear(d, ffn), "fc2": torch.nn.Linear(ffn, d),
                 "final_layer_norm": torch.nn.LayerNorm(d)}
            if cross:
                m.update(encoder_attn=self.attention(d), encoder_attn_layer_norm=torch.nn.LayerNorm(d))
            return torch.nn.ModuleDict(m)

        self.encoder = torch.nn.ModuleList(layer(c["encoder_ffn_dim"], False) for _ in range(c["encoder_layers"]))
        self.decoder = torch.nn.ModuleList(layer(c["decoder_ffn_dim"], True) for _ in range(c["decoder_layers"]))
        for m in self.modules():
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.normal_(m.weight, std=c["init_std"])
                torch.nn.init.zeros_(m.bias)
        torch.nn.init.normal_(self.shared.weight, std=d ** -0.5)

    @staticmethod
    def attention(d):
        return torch.nn.ModuleDict({n: torch.nn.Linear(d, d) for n in ("q_proj", "k_proj", "v_proj", "out_proj")})

    def attend(self, a, x, kv, mask, heads):
        """a's multi-head attention of x [b, t, d] over kv [b, s, d]; mask additive, [.., t or 1, s]."""
        b, t, d = x.shape
        s, hd = kv.shape[1], d // heads
        q = (a["q_proj"](x) * hd ** -0.5).view(b, t, heads, hd).transpose(1, 2)
        k = a["k_proj"](kv).view(b, s, heads, hd).transpose(1, 2)
        v = a["v_proj"](kv).view(b, s, heads, hd).transpose(1, 2)
        y = ((q @ k.transpose(-1, -2) + mask).softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        return a["out_proj"](y)

    def embed(self, ids):
        x = self.shared(ids) * math.sqrt(self.c["d_model"])
        return x + self.positions[: ids.shape[1]].to(x.dtype)

    @staticmethod
    def feed_forward(L, x):
        return L["final_layer_norm"](x + L["fc2"](torch.nn.functional.silu(L["fc1"](x))))

    def encode(self, src):
        """The encoder's output [b, s, d] and the key mask of the source's pads."""
        mask = torch.where(src == self.c["pad_token_id"], float("-inf"), 0.0)[:, None, None, :]
        x, heads = self.embed(src), self.c["encoder_attention_heads"]
        mask = mask.to(x.dtype)
        for L in self.encoder:
            x = L["self_attn_layer_norm"](x + self.attend(L["self_attn"], x, x, mask, heads))
            x = self.feed_forward(L, x)
        return x, mask

    def decode(self, memory, mask, tgt):
        """The logits [b, t, vocab] of the decoder input tgt (start id first)."""
        heads, t = self.c["decoder_attention_heads"], tgt.shape[1]
        y = self.embed(tgt)
        causal = torch.full((t, t), float("-inf"), dtype=y.dtype).triu(1)
        for L in self.decoder:
            y = L["self_attn_layer_norm"](y + self.attend(L["self_attn"], y, y, causal, heads))
            y = L["encoder_attn_layer_norm"](y + self.attend(L["encoder_attn"], y, memory, mask, heads))
            y = self.feed_forward(L, y)
        return y @ self.shared.weight.T + self.final_logits_bias[0]

    def forward(self, src, tgt):
        memory, mask = self.encode(src)
        return self.decode(memory, mask, tgt)

    def hf_tensors(self):
        """The trained tensors under MarianMTModel's names, as save_pretrained writes them (the
        tied classifier and the static position tables left out)."""
        w = {"model.shared.weight": self.shared.weight, "final_logits_bias": self.final_logits_bias}
        for stack, layers in (("encoder", self.encoder), ("decoder", self.decoder)):
            for i, L in enumerate(layers):
                for name, p in L.named_parameters():
                    w[f"model.{stack}.layers.{i}.{name}"] = p
        return w

    def hf_weights(self):
        return {k: v.detach().clone() for k, v in self.hf_tensors().items()}

    def load_hf_weights(self, w):
        """Copies in w, which must hold exactly hf_tensors' names and shapes."""
        own = self.hf_tensors()
        if set(w) != set(own):
            raise ValueError(f"checkpoint tensors differ: missing {sorted(set(own) - set(w))}, "
                             f"unexpected {sorted(set(w) - set(own))}")
        with torch.no_grad():
            for k, v in w.items():
                if v.shape != own[k].shape:
                    raise ValueError(f"{k}: shape {list(v.shape)}, expected {list(own[k].shape)}")
                own[k].copy_(v)


def read_safetensors(path):
    """A safetensors file's F32 tensors."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{name}: {info['dtype']} (F32 expected)")
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(info["shape"]).clone()
    return out


def load_checkpoint(d):
    """(model in float32, eval mode; Tokenizers) of a checkpoint directory."""
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    model = Marian(c)
    model.load_hf_weights(read_safetensors(os.path.join(d, "model.safetensors")))
    return model.eval(), Tokenizers.load(d)


@torch.no_grad()
def greedy(model, src):
    """Greedy decoding of one source (ids ending in </s>): from <pad>, one full decoder pass per
    id, <pad> never chosen, until </s> (included) or MAX_NEW ids. Returns (ids, margin): margin is
    the smallest gap between the best and second-best logits over the steps."""
    pad = model.c["pad_token_id"]
    memory, mask = model.encode(torch.tensor([src]))
    ids, margin = [pad], float("inf")
    while len(ids) <= MAX_NEW:
        last = model.decode(memory, mask, torch.tensor([ids]))[0, -1].clone()
        last[pad] = float("-inf")
        top = last.topk(2).values
        margin = min(margin, float(top[0] - top[1]))
        ids.append(int(last.argmax()))
        if ids[-1] == EOS:
            break
    return ids[1:], margin


def accuracy(model, tok, numbers):
    model.eval()
    right = sum(tok.decode(greedy(model, tok.encode_source(source_text(n)))[0]) == words(n) for n in numbers)
    model.train()
    return right / len(numbers)


def batch(tok, numbers):
    """(source ids [b, s], decoder input [b, t], labels [b, t] with -100 at pads), right-padded."""
    pad = tok.pad
    srcs = [tok.encode_source(source_text(n)) for n in numbers]
    tgts = [tok.encode_target(words(n)) for n in numbers]
    s, t = max(map(len, srcs)), max(map(len, tgts))
    src = torch.tensor([x + [pad] * (s - len(x)) for x in srcs])
    dec = torch.tensor([[pad] + y[:-1] + [pad] * (t - len(y)) for y in tgts])
    labels = torch.tensor([y + [-100] * (t - len(y)) for y in tgts])
    return src, dec, labels


def check_against_reference(model, tok, numbers):
    """The largest |logit difference| between the model and make_seq2seq.bart_forward (float64)
    on teacher-forced targets of `numbers`."""
    m64 = Marian(model.c).double()
    m64.load_hf_weights({k: v.double() for k, v in model.hf_weights().items()})
    m64.eval()
    w = {k: v.double() for k, v in model.hf_weights().items()}
    worst = 0.0
    with torch.no_grad():
        for n in numbers:
            src = tok.encode_source(source_text(n))
            tgt = [tok.pad] + tok.encode_target(words(n))
            _, want = bart_forward(model.c, w, src, tgt, True)
            have = m64(torch.tensor([src]), torch.tensor([tgt]))[0]
            worst = max(worst, float((want - have).abs().max()))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    corpus = training_numbers(torch.Generator().manual_seed(SPM_SEED), SPM_CORPUS)
    source_model = train_spm([source_text(n) for n in corpus], SOURCE_PIECES)
    target_model = train_spm([words(n) for n in corpus], TARGET_PIECES)
    vocab = joint_vocab(spm.SentencePieceProcessor(model_proto=source_model),
                        spm.SentencePieceProcessor(model_proto=target_model))
    tok = Tokenizers(source_model, target_model, vocab)
    evaluation = held_out_cases()
    c = config(len(tok.vocab), tok.pad)
    model = Marian(c)
    params = sum(p.numel() for p in model.parameters())
    print(f"vocabulary {len(tok.vocab)}, {params} parameters, {len(evaluation)} held-out numbers", flush=True)
    gen = torch.Generator().manual_seed(args.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.98), weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 300) * max(0.02, 1.0 - s / args.steps))
    start, losses = time.time(), []
    for step in range(args.steps):
        src, dec, labels = batch(tok, training_numbers(gen, args.batch))
        logits = model(src, dec)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if (step + 1) % 500 == 0:
            print(f"step {step + 1}: loss {sum(losses[-500:]) / 500:.4f}, held-out accuracy (first 100) "
                  f"{100 * accuracy(model, tok, evaluation[:100]):.0f}% ({time.time() - start:.0f} s)", flush=True)
    seconds = time.time() - start
    model.eval()
    worst = check_against_reference(model, tok, evaluation[:8])
    if worst > 1e-9:
        sys.exit(f"the module differs from make_seq2seq.bart_forward by {worst:g}: the checkpoint would be misread")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    write_safetensors(os.path.join(args.out, "model.safetensors"), model.hf_weights(), "F32")
    for name, blob in (("source.spm", source_model), ("target.spm", target_model)):
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(blob)
    with open(os.path.join(args.out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(tok.vocab, f, ensure_ascii=False, indent=1)
    final, _ = load_checkpoint(args.out)
    print(f"{params} parameters, {args.steps} steps in {seconds:.0f} s, final training loss "
          f"{sum(losses[-500:]) / 500:.4f}; float64 logits within {worst:.1e} of bart_forward; held-out "
          f"exact match {100 * accuracy(final, tok, evaluation):.2f}% of {len(evaluation)} (float32 greedy)")


if __name__ == "__main__":
    main()
