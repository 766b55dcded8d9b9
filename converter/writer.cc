#include "converter/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <cstdio>

#include "core/checksum.h"
#include "converter/stack.h"
#include "model/format.h"

namespace edgeformer {
namespace convert {
namespace {

uint64_t AlignUp(uint64_t v) { return (v + kSegmentAlignment - 1) / kSegmentAlignment * kSegmentAlignment; }

// The checksum of a tensor's segments in memory (the header's Tensor.checksum).
uint64_t Checksum(const TensorData& t) {
  uint64_t checksum = Fnv1a64(t.data.data(), t.data.size());
  checksum = Fnv1a64(t.scales.data(), t.scales.size(), checksum);
  return Fnv1a64(t.row_sums.data(), t.row_sums.size(), checksum);
}

const uint8_t kZeros[kSegmentAlignment] = {};

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
    const uint64_t checksum = t.checksum;
    tensors.push_back(schema::CreateTensor(*fbb, fbb->CreateString(t.name), t.role, t.layer,
                                           fbb->CreateVector(t.shape), t.dtype, t.layout,
                                           &data, t.quant, t.group_size, &scales, &row_sums, checksum, t.stack));
  }
  auto arch = schema::Architecture::Pack(*fbb, &model.architecture);
  const auto tok = model.has_tokenizer ? schema::Tokenizer::Pack(*fbb, &model.tokenizer)
                                       : flatbuffers::Offset<schema::Tokenizer>();
  const auto source_tok = model.has_tokenizer && model.source_tokenizer != nullptr
                              ? schema::Tokenizer::Pack(*fbb, model.source_tokenizer.get())
                              : flatbuffers::Offset<schema::Tokenizer>();
  auto root = schema::CreateModel(*fbb, kFormatVersion, fbb->CreateString(model.producer), file_size, arch, tok,
                                  fbb->CreateVector(tensors), source_tok);
  schema::FinishSizePrefixedModelBuffer(*fbb, root);
}

}  // namespace

Result<std::unique_ptr<SegmentSpool>> SegmentSpool::Create(const std::string& path) {
  // A unique name, unlinked at once: the open file holds the bytes, and nothing is left behind
  // however the process ends.
  std::string name = path + ".XXXXXX";
  const int fd = ::mkstemp(&name[0]);
  if (fd < 0) return Error(Status::kIoError, "cannot create a temporary file beside " + path + ": " + std::strerror(errno));
  ::unlink(name.c_str());
  std::FILE* f = ::fdopen(fd, "w+b");
  if (f == nullptr) {
    ::close(fd);
    return Error(Status::kIoError, "cannot open a temporary file beside " + path);
  }
  return std::unique_ptr<SegmentSpool>(new SegmentSpool(f, path));
}

SegmentSpool::~SegmentSpool() { std::fclose(file_); }

Error SegmentSpool::Take(TensorData* t) {
  if (failed_) return Error(Status::kIoError, "cannot write the segments spooled beside " + path_);
  uint64_t at = end_;
  bool ok = true;
  for (const Bytes* b : {&t->data, &t->scales, &t->row_sums}) {
    if (b->size() == 0) continue;
    const uint64_t pad = AlignUp(at) - at;
    ok = ok && std::fwrite(kZeros, 1, pad, file_) == pad;
    ok = ok && std::fwrite(b->data(), 1, b->size(), file_) == b->size();
    at += pad + b->size();
  }
  if (!ok) {
    failed_ = true;  // the file no longer matches end_: every later Take and the write fail
    return Error(Status::kIoError, "cannot write the segments spooled beside " + path_ + " (is the disk full?)");
  }
  end_ = at;
  t->checksum = Checksum(*t);
  for (Bytes* b : {&t->data, &t->scales, &t->row_sums}) {
    const uint64_t n = b->size();
    *b = Bytes();
    b->spooled_size = n;
  }
  return Error::Ok();
}

Error SegmentSpool::CopyTo(std::FILE* out) {
  if (failed_ || std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0) {
    return Error(Status::kIoError, "cannot read back " + path_);
  }
  std::vector<uint8_t> chunk(uint64_t{4} << 20);
  for (uint64_t left = end_; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
    if (std::fread(chunk.data(), 1, n, file_) != n) return Error(Status::kIoError, "cannot read back " + path_);
    if (std::fwrite(chunk.data(), 1, n, out) != n) return Error(Status::kIoError, "cannot write the model file");
    left -= n;
  }
  return Error::Ok();
}

Error WriteModelFile(const ModelData& model, const std::string& path) {
  EF_RETURN_IF_ERROR(CheckModelData(model));
  // The Builder adds a tensor only once its segments are in the spool.
  if (model.spool == nullptr) return Error(Status::kInternal, "converter bug: the model has no segment spool");
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
  // Every tensor is in the spool, in the order the header places them, from data_start on.
  const uint64_t pad = data_start - fbb.GetSize();
  ok = ok && std::fwrite(kZeros, 1, pad, f) == pad;
  ok = ok && model.spool->size() == file_size - data_start && model.spool->CopyTo(f).ok();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(Status::kIoError, "cannot write " + path);
  }
  return Error::Ok();
}

}  // namespace convert
}  // namespace edgeformer
