#include "converter/writer.h"

#include <cstdio>

#include "core/checksum.h"
#include "converter/stack.h"
#include "model/format.h"

namespace edgeformer {
namespace convert {
namespace {

uint64_t AlignUp(uint64_t v) { return (v + kSegmentAlignment - 1) / kSegmentAlignment * kSegmentAlignment; }

// Builds the header with the segments placed one after another from `data_start`, each aligned.
void BuildHeader(const ModelData& model, uint64_t data_start, uint64_t file_size,
                     flatbuffers::FlatBufferBuilder* fbb) {
  fbb->Clear();
  fbb->ForceDefaults(true);  // every field present, so the header's size does not depend on values
  uint64_t at = data_start;
  auto place = [&](const Bytes& b) {
    const schema::Segment s(b.size() ? at : 0, b.size());
    at = AlignUp(at + b.size());
    return s;
  };
  std::vector<flatbuffers::Offset<schema::Tensor>> tensors;
  for (const TensorData& t : model.tensors) {
    const schema::Segment data = place(t.data), scales = place(t.scales), row_sums = place(t.row_sums);
    uint64_t checksum = Fnv1a64(t.data.data(), t.data.size());
    checksum = Fnv1a64(t.scales.data(), t.scales.size(), checksum);
    checksum = Fnv1a64(t.row_sums.data(), t.row_sums.size(), checksum);
    tensors.push_back(schema::CreateTensor(*fbb, fbb->CreateString(t.name), t.role, t.layer,
                                           fbb->CreateVector(t.shape), t.dtype, t.layout,
                                           &data, t.quant, t.group_size, &scales, &row_sums, checksum));
  }
  auto arch = schema::Architecture::Pack(*fbb, &model.architecture);
  const auto tok = model.has_tokenizer ? schema::Tokenizer::Pack(*fbb, &model.tokenizer)
                                       : flatbuffers::Offset<schema::Tokenizer>();
  auto root = schema::CreateModel(*fbb, kFormatVersion, fbb->CreateString(model.producer), file_size, arch, tok,
                                  fbb->CreateVector(tensors));
  schema::FinishSizePrefixedModelBuffer(*fbb, root);
}

}  // namespace

Error WriteModelFile(const ModelData& model, const std::string& path) {
  EF_RETURN_IF_ERROR(CheckModelData(model));
  flatbuffers::FlatBufferBuilder fbb;
  // Pass 1 measures the header; pass 2 writes the real offsets (same size, all fields forced).
  BuildHeader(model, 0, 0, &fbb);
  const uint64_t data_start = AlignUp(fbb.GetSize());
  // The file ends right after the last segment's bytes (no padding after it).
  uint64_t file_size = data_start;
  for (const TensorData& t : model.tensors) {
    for (const Bytes* b : {&t.data, &t.scales, &t.row_sums}) {
      if (b->size()) file_size = AlignUp(file_size) + b->size();
    }
  }
  BuildHeader(model, data_start, file_size, &fbb);
  if (AlignUp(fbb.GetSize()) != data_start) return Error(Status::kInternal, "header size changed between passes");

  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Error(Status::kIoError, "cannot create " + tmp);
  bool ok = std::fwrite(fbb.GetBufferPointer(), 1, fbb.GetSize(), f) == fbb.GetSize();
  uint64_t at = fbb.GetSize();
  static const uint8_t kZeros[kSegmentAlignment] = {};
  auto put = [&](const Bytes& b) {
    if (b.size() == 0) return;
    const uint64_t pad = AlignUp(at) - at;
    ok = ok && std::fwrite(kZeros, 1, pad, f) == pad;
    ok = ok && std::fwrite(b.data(), 1, b.size(), f) == b.size();
    at += pad + b.size();
  };
  for (const TensorData& t : model.tensors) {
    put(t.data);
    put(t.scales);
    put(t.row_sums);
  }
  ok = (std::fclose(f) == 0) && ok && at == file_size;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(Status::kIoError, "cannot write " + path);
  }
  return Error::Ok();
}

}  // namespace convert
}  // namespace edgeformer
