"""Byte-level BPE as published with GPT-2 (openai/gpt-2 encoder.py: the bytes-to-unicode
alphabet, merges by rank), with the pre-tokenizer patterns of GPT-2, Llama 3 and Qwen2 run by
Python's own regular-expression engine: \\p{L} and \\p{N} become explicit character classes
built from unicodedata, \\s the Unicode White_Space set. Independent of edgeformer's C++
(runtime/src/model/pretokenize.cc, tokenizer.cc), which must give the same ids.
"""
import json
import re
import sys
import unicodedata

WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
              "\u2028\u2029\u202f\u205f\u3000"


def category_class(prefix):
    parts, start = [], None
    for cp in range(sys.maxunicode + 2):
        inside = cp <= sys.maxunicode and unicodedata.category(chr(cp)).startswith(prefix)
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            parts.append(re.escape(chr(start)) + ("-" + re.escape(chr(cp - 1)) if cp - 1 > start else ""))
            start = None
    return "".join(parts)


def patterns():
    L, N = category_class("L"), category_class("N")
    S = "".join(re.escape(c) for c in WHITE_SPACE)
    s, ns = f"[{S}]", f"[^{S}]"
    gpt2 = rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{L}]+| ?[{N}]+| ?[^{S}{L}{N}]+|{s}+(?!{ns})|{s}+"
    tail = rf"| ?[^{S}{L}{N}]+[\r\n]*|{s}*[\r\n]+|{s}+(?!{ns})|{s}+"
    llama3 = rf"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n{L}{N}]?[{L}]+|[{N}]{{1,3}}" + tail
    qwen2 = rf"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n{L}{N}]?[{L}]+|[{N}]" + tail
    return {"gpt2": re.compile(gpt2), "llama3": re.compile(llama3), "qwen2": re.compile(qwen2)}


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class Encoder:
    def __init__(self, tokenizer_json, split):
        t = json.load(open(tokenizer_json, encoding="utf-8"))
        self.vocab = t["model"]["vocab"]
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in t["model"]["merges"]]
        self.ranks = dict(zip(merges, range(len(merges))))
        self.byte_encoder = bytes_to_unicode()
        self.pattern = patterns()[split]
        self.specials = {a["content"]: a["id"] for a in t.get("added_tokens", []) if a.get("special")}

    def bpe(self, word):
        word = list(word)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        return word

    def encode(self, text):
        ids = []
        pieces = [text]
        if self.specials:
            splitter = "(" + "|".join(re.escape(s) for s in sorted(self.specials, key=len, reverse=True)) + ")"
            pieces = re.split(splitter, text)
        for piece in pieces:
            if piece in self.specials:
                ids.append(self.specials[piece])
                continue
            for chunk in self.pattern.findall(piece):
                mapped = "".join(self.byte_encoder[b] for b in chunk.encode("utf-8"))
                ids.extend(self.vocab[t] for t in self.bpe(mapped))
        return ids
