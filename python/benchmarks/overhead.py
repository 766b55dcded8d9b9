"""The Python binding's cost per generated token: edgeformer_generate of N tokens through
Session.generate_ids (a ctypes callback per token, collecting the id and its piece) against the
same call with no callback (the C library alone), interleaved, medians of the repetitions.

    python3 python/benchmarks/overhead.py MODEL [--tokens N] [--repetitions R]
"""

import argparse
import ctypes
import statistics
import sys
import time
import pathlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import edgeformer  # noqa: E402
from edgeformer import _capi  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--repetitions", type=int, default=21)
    args = parser.parse_args()
    lib = edgeformer._library()
    with edgeformer.Model(args.model) as model, model.session() as session:
        prompt = model.tokenize("Once upon a time")

        def bare():
            session.reset()
            session.prefill(prompt)
            params = lib.edgeformer_generate_default_params()
            params.max_tokens = args.tokens
            params.stop_at_end_of_text = 0
            params.sampler.temperature = 0
            n = ctypes.c_size_t()
            t0 = time.perf_counter()
            status = lib.edgeformer_generate(session._h(), ctypes.byref(params), _capi.TokenCallback(), None,
                                             ctypes.byref(n), None)
            elapsed = time.perf_counter() - t0
            assert status == 0 and n.value == args.tokens
            return elapsed

        def bound():
            session.reset()
            session.prefill(prompt)
            t0 = time.perf_counter()
            out = session.generate_ids(None, max_tokens=args.tokens, temperature=0, stop_at_end_of_text=False)
            elapsed = time.perf_counter() - t0
            assert len(out) == args.tokens
            return elapsed

        bare(), bound()  # warm-up
        c, py = [], []
        for _ in range(args.repetitions):
            c.append(bare())
            py.append(bound())
        per_c = statistics.median(c) / args.tokens * 1e6
        per_py = statistics.median(py) / args.tokens * 1e6
        diffs = sorted((b - a) / args.tokens * 1e6 for a, b in zip(c, py))
        print(f"C alone {per_c:.2f} us/token, through Python {per_py:.2f} us/token: "
              f"binding overhead {statistics.median(diffs):.2f} us/token (median of {args.repetitions} pairs)")


if __name__ == "__main__":
    main()
