#!/usr/bin/python3
"""The greedy exact-match accuracy of the trained numbers encoder-decoder (tests/data/
numbers-seq2seq, made by scripts/train_seq2seq_numbers.py) on numbers it never saw, computed by
PyTorch in float32 with the training script's module (MarianMTModel's function), with the ids
the C++ test (tests/seq2seq_trained_test.cc) feeds the runtime.

The held-out numbers are the training script's held_out_cases(). Sources and targets are
tokenized as MarianTokenizer does, with the checkpoint's source.spm / target.spm and vocab.json
(pieces through the vocabulary, then </s>). Greedy decoding starts from <pad>, never chooses
<pad>, and stops after </s> or 32 ids.

Usage: /usr/bin/python3 tests/reference/eval_seq2seq.py CHECKPOINT_DIR OUT.json
OUT.json: {"accuracy": decoded text == target words (fraction), "id_accuracy": ids == target_ids
(fraction), "max_new_tokens": 32, "cases": [{"source": digits, "source_ids": [...], "target":
words, "target_ids": [... </s>], "ids": greedy ids (start id not included, </s> included when
produced), "text": their decoded text, "margin": the smallest gap between the best and the
second-best logit over the greedy steps}]}
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import train_seq2seq_numbers as numbers  # noqa: E402


def main():
    ckpt, out = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    start = time.time()
    model, tok = numbers.load_checkpoint(ckpt)
    cases = []
    for n in numbers.held_out_cases():
        source, target = numbers.source_text(n), numbers.words(n)
        source_ids = tok.encode_source(source)
        ids, margin = numbers.greedy(model, source_ids)
        cases.append({"source": source, "source_ids": source_ids, "target": target,
                      "target_ids": tok.encode_target(target), "ids": ids, "text": tok.decode(ids),
                      "margin": margin})
    accuracy = sum(c["text"] == c["target"] for c in cases) / len(cases)
    id_accuracy = sum(c["ids"] == c["target_ids"] for c in cases) / len(cases)
    with open(out, "w") as f:
        json.dump({"accuracy": accuracy, "id_accuracy": id_accuracy, "max_new_tokens": numbers.MAX_NEW,
                   "cases": cases}, f)
    print(f"greedy exact match {100 * accuracy:.2f}% (ids: {100 * id_accuracy:.2f}%) on {len(cases)} held-out "
          f"numbers, smallest margin {min(c['margin'] for c in cases):.3g} ({time.time() - start:.1f} s)")


if __name__ == "__main__":
    main()
