#!/usr/bin/python3
"""The SentencePiece side of the unigram_test oracle: trains small unigram models with Google's
sentencepiece (Debian's python3-sentencepiece) on Debian's fortunes plus the hard texts, and
writes, in OUT_DIR:
  <name>/model.spm        the ModelProto, as spm writes it
  <name>/tokenizer.json   the same model as Hugging Face's T5 converter writes it (Unigram with
                          Precompiled + Replace " {2,}", WhitespaceSplit + Metaspace, "$A </s>");
                          <name>/tokenizer_metaspace.json with Metaspace alone (newer files)
  spm_cases.json          per model and text: spm's ids and pieces (encode), its decoded text,
                          and MarianTokenizer's ids through a shuffled vocab.json with some
                          pieces missing and two language codes (vocab.json, and the model as
                          source.spm and target.spm, written beside it)
The models: "nmt" (nmt_nfkc, dummy prefix, extra whitespace removed, rare characters unknown),
"bytes" (byte_fallback, user-defined symbols, nfkc_cf), "raw" (identity normalization, no
dummy prefix, whitespace kept). Deterministic: one thread, fixed input order.

Usage: /usr/bin/python3 tests/reference/unigram_reference.py OUT_DIR
"""
import base64
import json
import os
import random
import re
import shutil
import sys

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
FORTUNES = "/usr/share/games/fortunes"
MODELS = {
    "nmt": dict(vocab_size=700, character_coverage=0.995, normalization_rule_name="nmt_nfkc"),
    "bytes": dict(vocab_size=600, byte_fallback=True, user_defined_symbols=["<sep>", "@@", "ab", "qwertyuiop"],
                  normalization_rule_name="nfkc_cf", character_coverage=0.99),
    "raw": dict(vocab_size=500, normalization_rule_name="identity", add_dummy_prefix=False,
                remove_extra_whitespaces=False, character_coverage=1.0, split_by_whitespace=False),
}
EXTRA = ["  two  spaces  ", "\ttab\tand\nnewline\r\n", "ＡＢＣ ｶﾀｶﾅ ﬁne ①②③ ™ …", "e\u0301 a\u0308 n\u0303 A\u030a",
         "<sep>a<sep> @@b@@ ab abab", "xqwertyuiopx qwertyuiop", ">>fr<< Hello world", ">>de<<Hallo", "\u2581marker \u2581", "丂丄丅 𠀀𠀁 ꙮ", "x" * 40 + " " + "ab" * 30,
         "Zürich\u00a0straße ÆØÅ", "mixed\u3000ideographic\u2003spaces", "CAPS lower MiXeD",
         "\u0000nul\u0001ctl\u007fdel", "½ ² ℃ ㎏ Ⅻ ﬀ", "", " ", "a", "▁"]


def corpus(texts):
    lines = []
    for name in sorted(os.listdir(FORTUNES)):
        path = os.path.join(FORTUNES, name)
        if "." in name or os.path.isdir(path) or os.path.islink(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            lines += [ln.strip() for ln in f if ln.strip() and ln.strip() != "%"]
        if len(lines) > 30000:
            break
    return lines[:30000] + [t for t in texts if t.strip()] * 3


def hf_json(model_path, sp, metaspace_only):
    pieces = [[sp.id_to_piece(i), sp.get_score(i)] for i in range(sp.get_piece_size())]
    charsmap = read_charsmap(model_path)
    normalizers = []
    if charsmap:
        normalizers.append({"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode()})
    normalizers.append({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "})
    metaspace = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    pre = metaspace if metaspace_only else {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, metaspace]}
    specials = [i for i in range(sp.get_piece_size()) if sp.is_control(i) or sp.is_unknown(i)]
    eos = sp.id_to_piece(sp.eos_id())
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": sp.id_to_piece(i), "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i in specials],
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": pre,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": eos, "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": eos, "type_id": 0}},
                                    {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": eos, "type_id": 0}}],
                           "special_tokens": {eos: {"id": eos, "ids": [sp.eos_id()], "tokens": [eos]}}},
        "decoder": decoder(sp),
        "model": {"type": "Unigram", "unk_id": sp.unk_id(), "vocab": pieces, "byte_fallback": any(sp.is_byte(i) for i in range(sp.get_piece_size()))},
    }


def decoder(sp):
    """T5's Metaspace decoder; with byte fallback Llama's sequence, which turns byte pieces into text."""
    if not any(sp.is_byte(i) for i in range(sp.get_piece_size())):
        return {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    return {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
        {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def read_charsmap(path):
    """NormalizerSpec.precompiled_charsmap (field 3 -> field 2) of a ModelProto, by hand."""
    b = open(path, "rb").read()
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(b, i)
        elif wire == 5:
            i += 4
        elif wire == 1:
            i += 8
        else:
            n, i = varint(b, i)
            if field == 3:
                sub, j = b[i:i + n], 0
                while j < len(sub):
                    k, j = varint(sub, j)
                    if k & 7 == 2:
                        m, j = varint(sub, j)
                        if k >> 3 == 2:
                            return sub[j:j + m]
                        j += m
                    elif k & 7 == 0:
                        _, j = varint(sub, j)
                    else:
                        j += 4 if k & 7 == 5 else 8
            i += n
    return b""


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(HERE, "..", "data", "tokenizer_texts.json"), encoding="utf-8") as f:
        texts = json.load(f)["texts"] + EXTRA
    train = os.path.join(out, "train.txt")
    with open(train, "w", encoding="utf-8") as f:
        f.write("\n".join(t.replace("\n", " ").replace("\r", " ") for t in corpus(texts)) + "\n")
    cases = {}
    for name, options in MODELS.items():
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        prefix = os.path.join(d, "model")
        spm.SentencePieceTrainer.train(input=train, model_prefix=prefix, model_type="unigram", num_threads=1,
                                       shuffle_input_sentence=False, minloglevel=2, **options)
        os.replace(prefix + ".model", os.path.join(d, "model.spm"))
        os.remove(prefix + ".vocab")
        sp = spm.SentencePieceProcessor(model_file=os.path.join(d, "model.spm"))
        for file, only in (("tokenizer.json", False), ("tokenizer_metaspace.json", True)):
            with open(os.path.join(d, file), "w", encoding="utf-8") as f:
                json.dump(hf_json(os.path.join(d, "model.spm"), sp, only), f, ensure_ascii=False)
        # A Marian-style joint vocabulary: the pieces shuffled to other ids, every 7th left out.
        rng = random.Random(7)
        kept = [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if i % 7 != 3 or sp.is_unknown(i)]
        kept += ["</s>", "<pad>", "only_in_vocab", ">>fr<<", ">>de<<", "\ua66e", "\u4e02"]  # two characters spm lacks
        kept = list(dict.fromkeys(kept))
        rng.shuffle(kept)
        vocab = {p: i for i, p in enumerate(kept)}
        with open(os.path.join(d, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)
        for side in ("source.spm", "target.spm"):  # Marian's names: one model for both sides
            shutil.copyfile(os.path.join(d, "model.spm"), os.path.join(d, side))
        entry = {"path": os.path.join(d, "model.spm"), "vocab_size": sp.get_piece_size(), "marian_vocab_size": len(kept),
                 "cases": []}
        for text in texts:
            ids = sp.encode(text)
            # MarianTokenizer._tokenize: a leading language code split off whole, then spm.
            code = re.match(">>.+<<", text)
            pieces = ([code.group(0)] if code else []) + sp.encode(re.sub(">>.+<<", "", text), out_type=str)
            entry["cases"].append({"text": text, "ids": ids, "decoded": sp.decode(ids),
                                   "marian": [vocab.get(p, vocab["<unk>"]) for p in pieces] + [vocab["</s>"]]})
        cases[name] = entry
    with open(os.path.join(out, "spm_cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False)
    os.remove(train)


if __name__ == "__main__":
    main()
