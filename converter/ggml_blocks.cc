#include "converter/ggml_blocks.h"

#include <cstring>

#include "platforms/common/f16.h"

namespace edgeformer {
namespace convert {
namespace {

constexpr uint32_t kQK = 32;    // values per block of the Q4_0..Q8_0 types
constexpr uint32_t kQKK = 256;  // values per super-block of the K types

float Half(const uint8_t* p) { return F16ToF32(static_cast<uint16_t>(p[0] | (p[1] << 8))); }

uint32_t U32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

void F32(const uint8_t* b, float* y) { std::memcpy(y, b, 4); }

void F16(const uint8_t* b, float* y) { *y = Half(b); }

void BF16(const uint8_t* b, float* y) {
  const uint32_t bits = static_cast<uint32_t>(b[0]) << 16 | static_cast<uint32_t>(b[1]) << 24;
  std::memcpy(y, &bits, 4);
}

// d (f16), then 16 bytes: value j's nibble is the low one of byte j (j < 16), else the high one
// of byte j - 16.
void Q4_0(const uint8_t* b, float* y) {
  const float d = Half(b);
  const uint8_t* qs = b + 2;
  for (uint32_t j = 0; j < kQK / 2; ++j) {
    y[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
    y[j + kQK / 2] = static_cast<float>((qs[j] >> 4) - 8) * d;
  }
}

// d, m (f16), nibbles as Q4_0: q * d + m.
void Q4_1(const uint8_t* b, float* y) {
  const float d = Half(b), m = Half(b + 2);
  const uint8_t* qs = b + 4;
  for (uint32_t j = 0; j < kQK / 2; ++j) {
    y[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
    y[j + kQK / 2] = static_cast<float>(qs[j] >> 4) * d + m;
  }
}

// d (f16), qh (32 bits: bit j is value j's fifth bit), nibbles as Q4_0: (q - 16) * d.
void Q5_0(const uint8_t* b, float* y) {
  const float d = Half(b);
  const uint32_t qh = U32(b + 2);
  const uint8_t* qs = b + 6;
  for (uint32_t j = 0; j < kQK / 2; ++j) {
    const int x0 = ((qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10)) - 16;
    const int x1 = ((qs[j] >> 4) | ((qh >> (j + 12)) & 0x10)) - 16;
    y[j] = static_cast<float>(x0) * d;
    y[j + kQK / 2] = static_cast<float>(x1) * d;
  }
}

// d, m (f16), qh, nibbles: q * d + m.
void Q5_1(const uint8_t* b, float* y) {
  const float d = Half(b), m = Half(b + 2);
  const uint32_t qh = U32(b + 4);
  const uint8_t* qs = b + 8;
  for (uint32_t j = 0; j < kQK / 2; ++j) {
    const int x0 = (qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10);
    const int x1 = (qs[j] >> 4) | ((qh >> (j + 12)) & 0x10);
    y[j] = static_cast<float>(x0) * d + m;
    y[j + kQK / 2] = static_cast<float>(x1) * d + m;
  }
}

// d (f16), 32 int8: q * d.
void Q8_0(const uint8_t* b, float* y) {
  const float d = Half(b);
  for (uint32_t j = 0; j < kQK; ++j) y[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
}

// The 6-bit scale and min of sub-block j (< 8) of a Q4_K/Q5_K super-block's 12 scale bytes.
void ScaleMinK4(uint32_t j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// d, dmin (f16), 12 bytes of 6-bit scales and mins for 8 sub-blocks of 32, 128 bytes of nibbles:
// each 64 values take 32 bytes, the low nibbles for the first 32, the high for the next.
void Q4_K(const uint8_t* b, float* y) {
  const float d = Half(b), dmin = Half(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  for (uint32_t j = 0, is = 0; j < kQKK; j += 64, is += 2, q += 32) {
    uint8_t sc, m;
    ScaleMinK4(is, scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    ScaleMinK4(is + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (uint32_t l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
    for (uint32_t l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
  }
}

// As Q4_K with 32 bytes of fifth bits after the scales: the 64 values from 64c take bits 2c and
// 2c + 1 of qh[l].
void Q5_K(const uint8_t* b, float* y) {
  const float d = Half(b), dmin = Half(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* ql = b + 48;
  uint8_t u1 = 1, u2 = 2;
  for (uint32_t j = 0, is = 0; j < kQKK; j += 64, is += 2, ql += 32) {
    uint8_t sc, m;
    ScaleMinK4(is, scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    ScaleMinK4(is + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (uint32_t l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
    for (uint32_t l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
    u1 = static_cast<uint8_t>(u1 << 2);
    u2 = static_cast<uint8_t>(u2 << 2);
  }
}

// 128 bytes of low nibbles, 64 of 2-bit highs, 16 int8 scales (one per 16 values), d (f16):
// d * scale * (q - 32), in two halves of 128 values.
void Q6_K(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = Half(b + 208);
  for (uint32_t n = 0; n < kQKK; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
    for (uint32_t l = 0; l < 32; ++l) {
      const uint32_t is = l / 16;
      const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
  }
}

constexpr GgmlType kTypes[] = {
    {0, "F32", 1, 4, F32},           {1, "F16", 1, 2, F16},           {30, "BF16", 1, 2, BF16},
    {2, "Q4_0", kQK, 18, Q4_0},      {3, "Q4_1", kQK, 20, Q4_1},      {6, "Q5_0", kQK, 22, Q5_0},
    {7, "Q5_1", kQK, 24, Q5_1},      {8, "Q8_0", kQK, 34, Q8_0},      {12, "Q4_K", kQKK, 144, Q4_K},
    {13, "Q5_K", kQKK, 176, Q5_K},   {14, "Q6_K", kQKK, 210, Q6_K},
};

}  // namespace

const GgmlType* FindGgmlType(uint32_t id) {
  for (const GgmlType& t : kTypes) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

const char* GgmlTypeName(uint32_t id) {
  static const char* const kNames[] = {
      "F32",    "F16",   "Q4_0",   "Q4_1",    "Q4_2",  "Q4_3", "Q5_0",  "Q5_1",  "Q8_0",   "Q8_1",
      "Q2_K",   "Q3_K",  "Q4_K",   "Q5_K",    "Q6_K",  "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
      "IQ4_NL", "IQ3_S", "IQ2_S",  "IQ4_XS",  "I8",    "I16",  "I32",   "I64",   "F64",    "IQ1_M",
      "BF16",   "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0"};
  return id < sizeof(kNames) / sizeof(kNames[0]) ? kNames[id] : "unknown";
}

const char* GgmlTypesRead() { return "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K and Q6_K"; }

}  // namespace convert
}  // namespace edgeformer
