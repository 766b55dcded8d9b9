"""Generates a continuation of a prompt with edgeformer's Python binding, streaming it as it comes.

    python3 python/examples/generate.py MODEL "Once upon a time" [MAX_TOKENS]
"""

import sys

import edgeformer

path, prompt = sys.argv[1], sys.argv[2]
max_tokens = int(sys.argv[3]) if len(sys.argv) > 3 else 64
with edgeformer.Model(path) as model:
    print(prompt, end="", flush=True)
    for piece in model.stream(prompt, max_tokens=max_tokens, temperature=0):
        print(piece, end="", flush=True)
    print()
