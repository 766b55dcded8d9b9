#!/usr/bin/env python3
"""Instructions per decoded token of the aarch64 build, counted under qemu-user at each ISA cap.

qemu timings are not speed, but instruction counts are exact and repeatable. qemu logs every
translated block (-d in_asm: its instructions) and every executed block (-d exec, with nochain so
that none is skipped); the count is the sum over executed blocks of their sizes. Two runs that
decode N1 and N2 tokens after the same 1-token prompt give (count2 - count1) / (N2 - N1)
instructions per token, without load and start-up. Blocks of edgeformer-run itself are attributed
to functions through its symbol table (aarch64-linux-gnu-nm). With --prefill, the two runs
prefill prompts of N1 and N2 tokens instead (and decode none): instructions per prompt token.

Usage: scripts/arm-instructions.py ARM_BUILD_DIR MODEL.edgf [--isa neon,neondot,i8mm]
           [--tokens 4,12] [--prefill] [--cpu max] [--kv-type f32]
Prints a markdown table. Needs qemu-user and binutils-aarch64-linux-gnu; the log of one run can
take a few hundred MB in $TMPDIR.
"""
import argparse
import bisect
import collections
import os
import re
import subprocess
import sys
import tempfile

TRACE = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
INSN = re.compile(r"^0x([0-9a-f]+):\s")
# (column, substrings of the functions it counts); the first match wins. Kernels are found by
# their names, or by the driver templates they are inlined into (QGemmColumnTile, SGemmDot16).
GROUPS = (("int8 matmul", ("qgemm_s8_", "QGemm")), ("f32 matmul", ("sgemm_f32_", "SGemm")),
          ("attention", ("attn_", "ops::Attention", "ops::Softmax")),
          ("quantize", ("QuantizeRows", "quantize_rows_")), ("other edgeformer", ("edgeformer::",)))


def symbols(exe):
    out = subprocess.run(["aarch64-linux-gnu-nm", "-C", "--defined-only", exe], check=True,
                         capture_output=True, text=True).stdout
    table = []
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tTwW":
            table.append((int(parts[0], 16), parts[2]))
    table.sort()
    entry = subprocess.run(["aarch64-linux-gnu-readelf", "-h", exe], check=True, capture_output=True,
                           text=True).stdout
    entry = int(re.search(r"Entry point address:\s+0x([0-9a-f]+)", entry).group(1), 16)
    return table, entry


def count(exe, args, env):
    """Returns {block pc: executions} and {block pc: instructions} of one run."""
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "qemu.log")
        subprocess.run(["qemu-aarch64", "-d", "nochain,exec,in_asm", "-D", log, exe] + args, check=True,
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        executed = collections.Counter()
        size = {}
        block, n = None, 0
        with open(log, errors="replace") as f:
            for line in f:
                m = TRACE.match(line)
                if m:
                    executed[int(m.group(1), 16)] += 1
                    continue
                m = INSN.match(line)
                if m:
                    if block is None:
                        block, n = int(m.group(1), 16), 0
                    n += 1
                elif block is not None:
                    size[block] = n
                    block = None
        if block is not None:
            size[block] = n
        return executed, size


def attribute(executed, size, table, entry):
    """Instructions by group. The program's load base is the page offset at which both its entry
    point and main ran."""
    main = next(a for a, name in table if name == "main")
    base = None
    for pc in executed:
        if pc >= entry and (pc - entry) % 0x1000 == 0 and (pc - entry + main) in executed:
            base = pc - entry
            break
    addrs = [a for a, _ in table]
    total = collections.Counter()
    by_name = collections.Counter()
    for pc, times in executed.items():
        insns = times * size.get(pc, 0)
        group = "libraries (libc, libstdc++, pthreadpool)"
        if base is not None and base <= pc < base + (1 << 32):
            i = bisect.bisect_right(addrs, pc - base) - 1
            name = table[i][1] if i >= 0 else ""
            by_name[name] += insns
            group = "other"
            for label, keys in GROUPS:
                if any(key in name for key in keys):
                    group = label
                    break
        total[group] += insns
        total["total"] += insns
    return total, by_name


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("build")
    p.add_argument("model")
    p.add_argument("--isa", default="reference,neon,neondot,i8mm")
    p.add_argument("--tokens", default="4,12")
    p.add_argument("--cpu", default="max")
    p.add_argument("--kv-type", default="f32")
    p.add_argument("--prefill", action="store_true", help="count prompt tokens instead of decoded ones")
    p.add_argument("--top", type=int, default=0, help="print the N functions with most instructions per run")
    a = p.parse_args()
    exe = os.path.join(a.build, "tools", "edgeformer-run")
    table, entry = symbols(exe)
    n1, n2 = (int(v) for v in a.tokens.split(","))
    env = dict(os.environ, QEMU_CPU=a.cpu)
    rows = []
    for isa in a.isa.split(","):
        counts = []
        for n in (n1, n2):
            if a.prefill:
                prompt, gen = ",".join(str(1 + (7 * i) % 200) for i in range(n)), 0
            else:
                prompt, gen = "1", n
            args = [a.model, "--prompt-ids", prompt, "-n", str(gen), "--temperature", "0", "--ignore-eos",
                    "--print-ids", "--max-isa", isa, "--kv-type", a.kv_type, "-t", "1"]
            total, by_name = attribute(*count(exe, args, env), table, entry)
            counts.append(total)
            if a.top:
                for name, insns in by_name.most_common(a.top):
                    print(f"  {insns:>12,}  {name[:150]}", file=sys.stderr)
            print(f"{isa}: {n} tokens: {counts[-1]['total']:,} instructions", file=sys.stderr)
        per = {k: (counts[1][k] - counts[0][k]) / (n2 - n1) for k in counts[1]}
        rows.append((isa, per))
    labels = [label for label, _ in GROUPS] + ["other", "libraries (libc, libstdc++, pthreadpool)"]
    print("| ISA cap | instructions per " + ("prompt" if a.prefill else "decoded") + " token | " + " | ".join(labels) + " |")
    print("| --- | ---: |" + " ---: |" * len(labels))
    for isa, per in rows:
        total = per["total"]
        cells = [f"{per.get(l, 0) / 1e6:.2f} M ({100 * per.get(l, 0) / total:.0f}%)" for l in labels]
        print(f"| {isa} | {total / 1e6:.2f} M | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
