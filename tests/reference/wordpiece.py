"""BERT's WordPiece tokenizer written from its published definition (the original BERT
tokenization.py and Hugging Face tokenizers' BertNormalizer, BertPreTokenizer and WordPiece
model), on Python's unicodedata, as an independent reference for edgeformer's C++ one; and a
small vocabulary builder for the test models and the trained encoder.

Normalizer: clean_text drops NUL, U+FFFD and every character of category C* (Cc, Cf, Cs, Co,
Cn) except tab, newline and carriage return, and maps whitespace (those three and Unicode
White_Space) to a space; handle_chinese_chars surrounds CJK ideographs with spaces;
strip_accents decomposes (NFD) and drops Mn marks; lowercase maps each character by itself
(str.lower() of one character: the full mapping, without context rules).
Pre-tokenizer: split at whitespace; every punctuation character (ASCII punctuation or category
P*) is a word of its own. Model: greedy longest-match-first from each word's start, later pieces
prefixed "##"; a word longer than max_input_chars_per_word characters, or one that cannot be
spelled, becomes [UNK].
"""
import collections
import unicodedata

# Unicode White_Space (what Rust's char::is_whitespace, used by Hugging Face tokenizers, tests).
WHITE_SPACE = set([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
                  + list(range(0x2000, 0x200B)))


def is_whitespace(ch):
    return ord(ch) in WHITE_SPACE


def is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_chinese(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B920 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF
            or 0x2F800 <= cp <= 0x2FA1F)


def normalize(text, clean_text=True, chinese=True, strip_accents=True, lowercase=True):
    if clean_text:
        out = []
        for ch in text:
            if ord(ch) == 0 or ord(ch) == 0xFFFD or is_control(ch):
                continue
            out.append(" " if is_whitespace(ch) or ch in "\t\n\r" else ch)
        text = "".join(out)
    if chinese:
        text = "".join(f" {ch} " if is_chinese(ord(ch)) else ch for ch in text)
    if strip_accents:
        text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    if lowercase:
        # Character by character, as Hugging Face's normalizer (Rust's char::to_lowercase): no
        # context rules (str.lower() would end a word's sigma in a final sigma).
        text = "".join(ch.lower() for ch in text)
    return text


def words(text):
    out, cur = [], []
    for ch in text:
        if is_whitespace(ch):
            if cur:
                out.append("".join(cur))
            cur = []
        elif is_punctuation(ch):
            if cur:
                out.append("".join(cur))
            out.append(ch)
            cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


class WordPiece:
    def __init__(self, vocab, unk="[UNK]", prefix="##", max_chars=100, specials=(), **normalizer):
        self.vocab, self.unk, self.prefix, self.max_chars = vocab, unk, prefix, max_chars
        self.specials = sorted(specials, key=len, reverse=True)
        self.normalizer = normalizer

    def word_ids(self, word):
        if len(word) > self.max_chars:
            return [self.vocab[self.unk]]
        ids, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = (self.prefix if start > 0 else "") + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.vocab[self.unk]]
            ids.append(found)
            start = end
        return ids

    def encode_plain(self, text):
        ids = []
        for w in words(normalize(text, **self.normalizer)):
            ids.extend(self.word_ids(w))
        return ids

    def encode(self, text, cls="[CLS]", sep="[SEP]"):
        """[CLS] + ids + [SEP], special tokens in the text matched first (as added tokens are)."""
        ids, start, i = [], 0, 0
        while i < len(text):
            match = next((s for s in self.specials if text.startswith(s, i)), None)
            if match is None:
                i += 1
                continue
            ids.extend(self.encode_plain(text[start:i]))
            ids.append(self.vocab[match])
            i += len(match)
            start = i
        ids.extend(self.encode_plain(text[start:]))
        return [self.vocab[cls]] + ids + [self.vocab[sep]]


SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_vocab(texts, size, min_count=2):
    """A WordPiece vocabulary from normalized words: the specials, every character seen (and its
    "##" form), then the most frequent whole words and word pieces (prefixes as words, suffixes
    as "##" pieces) until `size` entries."""
    counts, pieces = collections.Counter(), collections.Counter()
    chars = set()
    for text in texts:
        for w in words(normalize(text)):
            counts[w] += 1
            chars.update(w)
            for k in range(2, min(len(w), 8)):
                pieces[w[:k]] += 1
                pieces["##" + w[-k:]] += 1
    vocab = list(SPECIALS)
    for ch in sorted(chars):
        vocab.append(ch)
        vocab.append("##" + ch)
    seen = set(vocab)
    ranked = sorted(((c, w) for w, c in counts.items() if c >= min_count), reverse=True)
    ranked += sorted(((c, p) for p, c in pieces.items() if c >= min_count), reverse=True)
    for _, w in sorted(ranked, reverse=True):
        if len(vocab) >= size:
            break
        if w not in seen:
            vocab.append(w)
            seen.add(w)
    return {w: i for i, w in enumerate(vocab)}


def tokenizer_json(vocab, lowercase=True, strip_accents=None, max_chars=100):
    """Hugging Face's tokenizer.json for a BERT WordPiece vocabulary."""
    added = [{"id": vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for s in SPECIALS]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": strip_accents, "lowercase": lowercase},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", vocab["[SEP]"]], "cls": ["[CLS]", vocab["[CLS]"]]},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": max_chars, "vocab": vocab},
    }
