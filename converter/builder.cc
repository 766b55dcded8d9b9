#include "converter/builder.h"

#include <cinttypes>
#include <cmath>
#include <cstring>

#include "converter/quantize.h"
#include "platforms/common/f16.h"
#include "platforms/layout.h"

namespace edgeformer {
namespace convert {
namespace {

using schema::TensorRole;

template <typename T>
Bytes OwnedBytes(const std::vector<T>& v) {
  Bytes b;
  b.owned.resize(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.owned.data(), v.data(), b.owned.size());
  return b;
}

Bytes Borrowed(const float* p, uint64_t count) {
  Bytes b;
  b.borrowed = reinterpret_cast<const uint8_t*>(p);
  b.borrowed_size = count * sizeof(float);
  return b;
}

TensorData Header(const std::string& name, TensorRole role, int32_t layer, std::vector<uint64_t> shape) {
  TensorData t;
  t.name = layer >= 0 ? "layers." + std::to_string(layer) + "." + name : name;
  t.role = role;
  t.layer = layer;
  t.shape = std::move(shape);
  return t;
}

// Quantizes w [rows][cols] into t (int8 per output channel, Blocked16x4); returns the SNR.
double QuantizeInto(const float* w, uint64_t rows, uint64_t cols, TensorData* t) {
  QuantizedInt8 q = QuantizePerChannelInt8(w, rows, cols);
  t->dtype = schema::DType::I8;
  t->quant = schema::QuantScheme::PerChannelSymmetric;
  t->layout = schema::WeightLayout::Blocked16x4;
  std::vector<int8_t> packed(BlockedBytes(rows, cols));
  PackBlocked16x4(q.values.data(), rows, cols, cols, packed.data());
  q.scales.resize(BlockedRows(rows), 0.0f);
  q.row_sums.resize(BlockedRows(rows), 0);
  t->data = OwnedBytes(packed);
  t->scales = OwnedBytes(q.scales);
  t->row_sums = OwnedBytes(q.row_sums);
  return q.snr_db;
}

}  // namespace

void Progress::Next() {
  ++done_;
  if (out_ == nullptr) return;
  std::fprintf(out_, "\rconverting tensor %llu of %llu (%llu%%)", static_cast<unsigned long long>(done_),
               static_cast<unsigned long long>(total_),
               static_cast<unsigned long long>(total_ ? 100 * done_ / total_ : 100));
  std::fflush(out_);
}

void Progress::Done(const std::string& output) const {
  if (out_ != nullptr) std::fprintf(out_, "\rconverted %llu tensors; writing %s\n", static_cast<unsigned long long>(done_), output.c_str());
}

Builder::Builder(ModelData* model, const ConvertOptions& options)
    : model_(model), report_(options.report), group_size_(options.group_size), choose_(options.choose) {
  if (model_->spool) return;
  Result<std::unique_ptr<SegmentSpool>> spool = SegmentSpool::Create(options.output);
  if (spool.ok()) {
    model_->spool = spool.take();
  } else {
    status_ = spool.error();
  }
}

double Builder::HalvesInto(const float* w, uint64_t rows, uint64_t cols, TensorData* t) {
  std::vector<uint16_t> halves(rows * cols);
  double signal = 0.0, noise = 0.0;
  for (uint64_t i = 0; i < rows * cols; ++i) {
    halves[i] = F32ToF16(w[i]);
    const float back = F16ToF32(halves[i]);
    if (std::isinf(back) && !std::isinf(w[i]) && status_.ok()) {
      status_ = Error(Status::kInvalidArgument, "tensor '" + t->name + "': value " + std::to_string(w[i]) +
                                                    " at index " + std::to_string(i) +
                                                    " is past the f16 range (65504); use --quant none or int8");
    }
    signal += double{w[i]} * w[i];
    noise += (double{w[i]} - back) * (double{w[i]} - back);
  }
  t->dtype = schema::DType::F16;
  t->data = OwnedBytes(halves);
  return noise > 0.0 ? 10.0 * std::log10(signal / noise) : INFINITY;
}

double Builder::Int4Into(const float* w, uint64_t rows, uint64_t cols, TensorData* t) {
  if (!Int4GroupSupported(group_size_) && status_.ok()) {
    status_ = Error(Status::kInvalidArgument, "int4 group size " + std::to_string(group_size_) +
                                                  " is not supported (32, 64 or 128)");
  }
  if (t->role == TensorRole::TokenEmbedding && status_.ok()) {
    status_ = Error(Status::kInvalidArgument, "tensor '" + t->name + "': the token embedding cannot be int4 (its rows "
                                                  "are looked up one by one): use --quant-embedding int8, f16 or none");
  }
  if (!status_.ok()) return 0.0;
  QuantizedInt4 q = QuantizeGroupInt4(w, rows, cols, group_size_);
  PackInt4Into(q.values, q.scales, rows, cols, group_size_, t);
  return q.snr_db;
}

void Builder::PackInt4Into(const std::vector<int8_t>& q, const std::vector<uint16_t>& row_scales, uint64_t rows,
                           uint64_t cols, size_t group, TensorData* t) {
  const size_t groups = Int4Groups(cols, group);
  std::vector<uint16_t> scales(Int4ScaleCount(rows, cols, group), 0);
  for (uint64_t r = 0; r < rows; ++r) {
    for (size_t g = 0; g < groups; ++g) {
      const uint16_t s = row_scales[r * groups + g];
      if (!std::isfinite(F16ToF32(s)) && status_.ok()) {
        status_ = Error(Status::kInvalidArgument, "tensor '" + t->name + "': a group's scale is not a finite f16 "
                                                      "number; use --quant int8");
      }
      scales[Int4ScaleIndex(r, g, cols, group)] = s;
    }
  }
  std::vector<uint8_t> packed(Int4Bytes(rows, cols, group));
  PackInt4(q.data(), rows, cols, cols, group, packed.data());
  t->dtype = schema::DType::I4;
  t->quant = schema::QuantScheme::GroupSymmetric;
  t->layout = schema::WeightLayout::BlockedInt4;
  t->group_size = static_cast<uint32_t>(group);
  t->data = OwnedBytes(packed);
  t->scales = OwnedBytes(scales);
}

void Builder::Int4Matrix(const std::string& name, TensorRole role, int32_t layer, const std::vector<int8_t>& q,
                         const std::vector<uint16_t>& scales, uint64_t rows, uint64_t cols) {
  TensorData t = Header(name, role, layer, {rows, cols});
  if (role == TensorRole::TokenEmbedding && status_.ok()) {
    status_ = Error(Status::kInvalidArgument, "tensor '" + t.name + "': the token embedding cannot be int4");
  }
  PackInt4Into(q, scales, rows, cols, 32, &t);
  Add(std::move(t), INFINITY);  // stored exactly as the checkpoint has it
}

void Builder::Matrix(const std::string& name, TensorRole role, int32_t layer, const float* w, uint64_t rows,
                     uint64_t cols, Quant quant) {
  TensorData t = Header(name, role, layer, {rows, cols});
  if (choose_) quant = choose_(t.name, role, rows, cols, quant);
  double snr = INFINITY;
  if (quant == Quant::kInt4) {
    snr = Int4Into(w, rows, cols, &t);
  } else if (quant == Quant::kInt8) {
    snr = QuantizeInto(w, rows, cols, &t);
  } else if (quant == Quant::kF16) {
    snr = HalvesInto(w, rows, cols, &t);
  } else {
    t.data = Borrowed(w, rows * cols);
  }
  Add(std::move(t), snr);
  if (source_file_ != nullptr) source_file_->Release(w, rows * cols * sizeof(float));
}

void Builder::Matrix(const std::string& name, TensorRole role, int32_t layer, std::vector<float>&& w, uint64_t rows,
                     uint64_t cols, Quant quant) {
  TensorData t = Header(name, role, layer, {rows, cols});
  if (choose_) quant = choose_(t.name, role, rows, cols, quant);
  double snr = INFINITY;
  if (quant == Quant::kInt4) {
    snr = Int4Into(w.data(), rows, cols, &t);
  } else if (quant == Quant::kInt8) {
    snr = QuantizeInto(w.data(), rows, cols, &t);
  } else if (quant == Quant::kF16) {
    snr = HalvesInto(w.data(), rows, cols, &t);
  } else {
    t.data = OwnedBytes(w);
  }
  std::vector<float>().swap(w);
  Add(std::move(t), snr);
}

void Builder::Vector(const std::string& name, TensorRole role, int32_t layer, const float* v, uint64_t n) {
  TensorData t = Header(name, role, layer, {n});
  t.data = Borrowed(v, n);
  Add(std::move(t), INFINITY);
  if (source_file_ != nullptr) source_file_->Release(v, n * sizeof(float));
}

void Builder::Vector(const std::string& name, TensorRole role, int32_t layer, std::vector<float>&& v) {
  TensorData t = Header(name, role, layer, {v.size()});
  t.data = OwnedBytes(v);
  std::vector<float>().swap(v);
  Add(std::move(t), INFINITY);
}

void Builder::Add(TensorData&& t, double snr) {
  t.stack = stack_;
  if (stack_ == 1) t.name = "encoder." + t.name;
  if (report_ != nullptr) {
    std::string shape;
    for (uint64_t d : t.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    const uint64_t bytes = t.data.size() + t.scales.size() + t.row_sums.size();
    const std::string from = source_.empty() ? "" : "  (from " + source_ + ")";
    if (std::isinf(snr)) {
      std::fprintf(report_, "%-28s %-12s %-4s %12" PRIu64 " bytes  exact%s\n", t.name.c_str(), shape.c_str(),
                   schema::EnumNameDType(t.dtype), bytes, from.c_str());
    } else {
      std::fprintf(report_, "%-28s %-12s %-4s %12" PRIu64 " bytes  SNR %6.2f dB%s\n", t.name.c_str(),
                   shape.c_str(), schema::EnumNameDType(t.dtype), bytes, snr, from.c_str());
    }
  }
  // After an error nothing more is kept (the converter reports it once it is done reading), so
  // memory stays at one tensor.
  if (!status_.ok()) return;
  const Error spooled = model_->spool->Take(&t);
  if (!spooled.ok()) {
    status_ = spooled;
    return;
  }
  model_->tensors.push_back(std::move(t));
}

}  // namespace convert
}  // namespace edgeformer
