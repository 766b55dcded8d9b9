#!/usr/bin/python3
"""The masked-token accuracy of the trained fortunes encoder (tests/data/fortunes-mlm, made by
scripts/train_fortunes_mlm.py) on fortunes it never saw, computed by PyTorch in float64 from
BERT's definition (make_stacks.bert_forward), with the inputs the C++ test feeds the runtime.

Held-out fortunes are the training script's split; the first 300 are used. Each is tokenized
(tests/reference/wordpiece.py, the reference tokenizer) as in training ([CLS] text [SEP], cut to
64 tokens), and position i (not [CLS] or [SEP]) of fortune d is masked when
(d * 1000003 + i * 7919) mod 100 < 15.

Usage: /usr/bin/python3 tests/reference/eval_mlm.py CHECKPOINT_DIR OUT.json
OUT.json: {"accuracy": a, "masked": n, "cases": [{"text", "ids", "input", "positions", "targets",
"predictions"}]}
"""
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import wordpiece  # noqa: E402
from make_stacks import bert_forward  # noqa: E402
import train_fortunes_mlm  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32"
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(info["shape"]).to(torch.float64)
    return out


def main():
    ckpt, out = sys.argv[1], sys.argv[2]
    if not os.path.isdir(train_fortunes_mlm.FORTUNES):
        sys.exit(f"{train_fortunes_mlm.FORTUNES} is missing: install Debian's fortunes package "
                 "(scripts/install-deps.sh does)")
    c = json.load(open(os.path.join(ckpt, "config.json")))
    vocab = json.load(open(os.path.join(ckpt, "tokenizer.json"), encoding="utf-8"))["model"]["vocab"]
    tok = wordpiece.WordPiece(vocab, specials=wordpiece.SPECIALS)
    w = read_safetensors(os.path.join(ckpt, "model.safetensors"))
    _, held = train_fortunes_mlm.split(train_fortunes_mlm.fortunes())
    cases, right, total = [], 0, 0
    special = {vocab["[CLS]"], vocab["[SEP]"]}
    for d, text in enumerate(held[:300]):
        ids = train_fortunes_mlm.encode_all(tok, [text])[0]
        positions = [i for i in range(len(ids)) if ids[i] not in special and (d * 1000003 + i * 7919) % 100 < 15]
        if not positions:
            continue
        inputs = list(ids)
        for i in positions:
            inputs[i] = vocab["[MASK]"]
        _, _, logits = bert_forward(c, w, "bert.", inputs, [0] * len(inputs))
        predictions = [int(logits[i].argmax()) for i in positions]
        targets = [ids[i] for i in positions]
        right += sum(p == t for p, t in zip(predictions, targets))
        total += len(positions)
        cases.append({"text": text, "ids": ids, "input": inputs, "positions": positions, "targets": targets,
                      "predictions": predictions})
    with open(out, "w") as f:
        json.dump({"accuracy": right / total, "masked": total, "cases": cases}, f)
    print(f"masked-token accuracy {100 * right / total:.2f}% on {total} tokens of {len(cases)} held-out fortunes")


if __name__ == "__main__":
    main()
