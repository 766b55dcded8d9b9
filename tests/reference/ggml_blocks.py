"""ggml's tensor block formats, written from llama.cpp's published layouts (ggml-common.h's block
structs and the dequantize_row_* functions of ggml-quants.c), for the GGUF reference files.

Each writer takes a [rows][cols] matrix (cols a multiple of the block: 32, or 256 for the K types)
and returns (the blocks' bytes, the dequantized values as float64 [rows][cols]). The encoders are
simple (round to nearest, no search for the best scales as llama.cpp's quantizers do): a reader
has to decode any valid block, and the tests compare it with these dequantized values. The
dequantized values are computed in float32 in the order ggml computes them.
"""
import torch

GGUF_TYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q8_0": 8, "Q4_K": 12,
              "Q5_K": 13, "Q6_K": 14, "BF16": 30}


def _half_bytes(v):
    """f16 values (a float16 tensor [n]) as [n][2] little-endian bytes."""
    return v.contiguous().view(torch.int16).view(torch.uint8).reshape(-1, 2)


def _safe_inv(d):
    return torch.where(d != 0, 1.0 / torch.where(d != 0, d, torch.ones_like(d)), torch.zeros_like(d))


def _round(x):
    """Round half away from zero (C's roundf / nearest_int up to ties)."""
    return torch.sign(x) * torch.floor(x.abs() + 0.5)


def _pack_nibbles(lo, hi):
    return (lo.to(torch.int32) & 0xF | (hi.to(torch.int32) & 0xF) << 4).to(torch.uint8)


def _qh32(q):
    """The fifth bits of 32 values per row of q [n][32] as 4 little-endian bytes: bit i is q[i]'s."""
    bits = ((q.to(torch.int64) >> 4) & 1) << torch.arange(32, dtype=torch.int64)
    word = bits.sum(dim=1)
    return torch.stack([(word >> (8 * i)) & 0xFF for i in range(4)], dim=1).to(torch.uint8)


def q8_0(w):
    """Per block of 32: the f16 scale max|x| / 127 and round(x / d)."""
    x = w.to(torch.float32).reshape(-1, 32)
    d = x.abs().max(dim=1).values / 127.0
    q = _round(x * _safe_inv(d)[:, None]).to(torch.int8)
    d16 = d.to(torch.float16)
    blocks = torch.cat([_half_bytes(d16), q.view(torch.uint8)], dim=1)
    return blocks.numpy().tobytes(), (q.to(torch.float32) * d16.to(torch.float32)[:, None]).to(torch.float64).reshape(w.shape)


def q4_0(w):
    """Per block of 32: d = m / -8 for the value m of largest magnitude (the first such),
    q = min(15, trunc(x / d + 8.5)) in float32, then 2 bytes of f16 d and 16 bytes holding value j's
    q in the low nibble of byte j (j < 16) or the high nibble of byte j - 16: d16 * (q - 8)."""
    x = w.to(torch.float32).reshape(-1, 32)
    idx = x.abs().argmax(dim=1)
    m = x.gather(1, idx[:, None]).squeeze(1)
    d = m / -8.0
    q = torch.clamp((x * _safe_inv(d)[:, None] + 8.5).to(torch.int32), max=15)
    d16 = d.to(torch.float16)
    blocks = torch.cat([_half_bytes(d16), _pack_nibbles(q[:, :16], q[:, 16:])], dim=1)
    deq = (q - 8).to(torch.float32) * d16.to(torch.float32)[:, None]
    return blocks.numpy().tobytes(), deq.to(torch.float64).reshape(w.shape)


def q4_1(w):
    """Per block of 32: f16 d = (max - min) / 15 and m = min, q = round((x - m) / d) in [0, 15]:
    q * d + m."""
    x = w.to(torch.float32).reshape(-1, 32)
    mn, mx = x.min(dim=1).values, x.max(dim=1).values
    d16, m16 = ((mx - mn) / 15.0).to(torch.float16), mn.to(torch.float16)
    d, m = d16.to(torch.float32), m16.to(torch.float32)
    q = torch.clamp(_round((x - m[:, None]) * _safe_inv(d)[:, None]), 0, 15).to(torch.int32)
    blocks = torch.cat([_half_bytes(d16), _half_bytes(m16), _pack_nibbles(q[:, :16], q[:, 16:])], dim=1)
    deq = q.to(torch.float32) * d[:, None] + m[:, None]
    return blocks.numpy().tobytes(), deq.to(torch.float64).reshape(w.shape)


def q5_0(w):
    """Per block of 32: d = m / -16 for the value m of largest magnitude, q = min(31, trunc(x / d +
    16.5)); the low nibbles as Q4_0, the fifth bits in 4 bytes: (q - 16) * d."""
    x = w.to(torch.float32).reshape(-1, 32)
    idx = x.abs().argmax(dim=1)
    d = x.gather(1, idx[:, None]).squeeze(1) / -16.0
    q = torch.clamp((x * _safe_inv(d)[:, None] + 16.5).to(torch.int32), max=31)
    d16 = d.to(torch.float16)
    blocks = torch.cat([_half_bytes(d16), _qh32(q), _pack_nibbles(q[:, :16], q[:, 16:])], dim=1)
    deq = (q - 16).to(torch.float32) * d16.to(torch.float32)[:, None]
    return blocks.numpy().tobytes(), deq.to(torch.float64).reshape(w.shape)


def q5_1(w):
    """Per block of 32: f16 d = (max - min) / 31 and m = min, q in [0, 31]: q * d + m."""
    x = w.to(torch.float32).reshape(-1, 32)
    mn, mx = x.min(dim=1).values, x.max(dim=1).values
    d16, m16 = ((mx - mn) / 31.0).to(torch.float16), mn.to(torch.float16)
    d, m = d16.to(torch.float32), m16.to(torch.float32)
    q = torch.clamp(_round((x - m[:, None]) * _safe_inv(d)[:, None]), 0, 31).to(torch.int32)
    blocks = torch.cat([_half_bytes(d16), _half_bytes(m16), _qh32(q), _pack_nibbles(q[:, :16], q[:, 16:])],
                       dim=1)
    deq = q.to(torch.float32) * d[:, None] + m[:, None]
    return blocks.numpy().tobytes(), deq.to(torch.float64).reshape(w.shape)


def _k_scales(x, levels):
    """Q4_K/Q5_K: per super-block of 256 (x [n][8][32]), 8 sub-blocks with 6-bit scale sc and min m
    (value = d * sc * q - dmin * m, q in [0, levels]). Returns d16, dmin16, sc, m, q, deq."""
    mn = torch.clamp(x.min(dim=2).values, max=0.0)
    scale = (x.max(dim=2).values - mn) / levels
    d16 = (scale.max(dim=1).values / 63.0).to(torch.float16)
    dmin16 = ((-mn).max(dim=1).values / 63.0).to(torch.float16)
    d, dmin = d16.to(torch.float32), dmin16.to(torch.float32)
    sc = torch.clamp(_round(scale * _safe_inv(d)[:, None]), 0, 63).to(torch.int32)
    m = torch.clamp(_round(-mn * _safe_inv(dmin)[:, None]), 0, 63).to(torch.int32)
    D = d[:, None] * sc.to(torch.float32)   # ggml: const float d1 = d * sc
    M = dmin[:, None] * m.to(torch.float32)
    q = torch.clamp(_round((x + M[:, :, None]) * _safe_inv(D)[:, :, None]), 0, levels).to(torch.int32)
    deq = D[:, :, None] * q.to(torch.float32) - M[:, :, None]
    return d16, dmin16, sc, m, q, deq


def _k_scale_bytes(sc, m):
    """The 12 bytes get_scale_min_k4 reads: sub-blocks 0-3 in the low 6 bits of bytes 0-3 (scale)
    and 4-7 (min); sub-blocks 4-7 in the nibbles of bytes 8-11 and the top 2 bits of bytes 0-7."""
    out = torch.zeros(sc.shape[0], 12, dtype=torch.int32)
    for j in range(4):
        out[:, j] = (sc[:, j] & 63) | ((sc[:, j + 4] >> 4) << 6)
        out[:, j + 4] = (m[:, j] & 63) | ((m[:, j + 4] >> 4) << 6)
        out[:, j + 8] = (sc[:, j + 4] & 0xF) | ((m[:, j + 4] & 0xF) << 4)
    return out.to(torch.uint8)


def q4_k(w):
    """Super-blocks of 256: f16 d and dmin, 12 bytes of scales and mins, 128 bytes of nibbles (each
    64 values: low nibbles the first 32, high nibbles the next 32)."""
    x = w.to(torch.float32).reshape(-1, 8, 32)
    d16, dmin16, sc, m, q, deq = _k_scales(x, 15)
    q = q.reshape(-1, 4, 2, 32)
    qs = _pack_nibbles(q[:, :, 0], q[:, :, 1]).reshape(-1, 128)
    blocks = torch.cat([_half_bytes(d16), _half_bytes(dmin16), _k_scale_bytes(sc, m), qs], dim=1)
    return blocks.numpy().tobytes(), deq.to(torch.float64).reshape(w.shape)


def q5_k(w):
    """Q4_K's layout with 5-bit values: 32 bytes of fifth bits after the scales (the 64 values from
    64c set bits 2c and 2c + 1 of qh[l]), then the low nibbles."""
    x = w.to(torch.float32).reshape(-1, 8, 32)
    d16, dmin16, sc, m, q, deq = _k_scales(x, 31)
    q = q.reshape(-1, 4, 2, 32)
    qs = _pack_nibbles(q[:, :, 0], q[:, :, 1]).reshape(-1, 128)
    qh = torch.zeros(q.shape[0], 32, dtype=torch.int32)
    for c in range(4):
        qh |= ((q[:, c, 0] >> 4) & 1) << (2 * c)
        qh |= ((q[:, c, 1] >> 4) & 1) << (2 * c + 1)
    blocks = torch.cat([_half_bytes(d16), _half_bytes(dmin16), _k_scale_bytes(sc, m), qh.to(torch.uint8), qs], dim=1)
    return blocks.numpy().tobytes(), deq.to(torch.float64).reshape(w.shape)


def q6_k(w):
    """Super-blocks of 256: 128 bytes of low nibbles, 64 of 2-bit highs, 16 int8 scales (one per 16
    values), f16 d; value = d * scale * (q - 32). Per half of 128 values and l < 32, values l,
    l + 32, l + 64, l + 96 take ql[l] low, ql[l + 32] low, ql[l] high, ql[l + 32] high and bits 0-1,
    2-3, 4-5, 6-7 of qh[l]."""
    x = w.to(torch.float32).reshape(-1, 16, 16)
    idx = x.abs().argmax(dim=2)
    scale = x.gather(2, idx[:, :, None]).squeeze(2) / -32.0
    d16 = (scale.abs().max(dim=1).values / 127.0).to(torch.float16)
    d = d16.to(torch.float32)
    sc = torch.clamp(_round(scale * _safe_inv(d)[:, None]), -127, 127).to(torch.int32)
    D = d[:, None] * sc.to(torch.float32)  # ggml: d * sc[is] * q
    q = torch.clamp(_round(x * _safe_inv(D)[:, :, None]), -32, 31).to(torch.int32)
    deq = D[:, :, None] * q.to(torch.float32)
    u = (q + 32).reshape(-1, 2, 4, 32)  # [block][half][k][l]: value 128 half + 32 k + l
    ql = torch.cat([_pack_nibbles(u[:, :, 0], u[:, :, 2]), _pack_nibbles(u[:, :, 1], u[:, :, 3])], dim=2)
    qh = ((u[:, :, 0] >> 4) | ((u[:, :, 1] >> 4) << 2) | ((u[:, :, 2] >> 4) << 4) | ((u[:, :, 3] >> 4) << 6))
    blocks = torch.cat([ql.reshape(-1, 128), qh.to(torch.uint8).reshape(-1, 64),
                        sc.to(torch.int8).view(torch.uint8), _half_bytes(d16)], dim=1)
    return blocks.numpy().tobytes(), deq.to(torch.float64).reshape(w.shape)


def bf16(w):
    v = w.to(torch.bfloat16)
    return v.contiguous().view(torch.int16).numpy().tobytes(), v.to(torch.float64)


def f16(w):
    v = w.to(torch.float16)
    return v.contiguous().view(torch.int16).numpy().tobytes(), v.to(torch.float64)


WRITERS = {"Q4_0": q4_0, "Q4_1": q4_1, "Q5_0": q5_0, "Q5_1": q5_1, "Q8_0": q8_0, "Q4_K": q4_k, "Q5_K": q5_k,
           "Q6_K": q6_k, "BF16": bf16, "F16": f16}
