// A read-only view of a whole file, mapped with mmap, or of a caller-owned memory buffer.
//
// Ownership: a mapped file unmaps itself on destruction; a borrowed buffer is never freed and
// must outlive the MappedFile. Thread safety: immutable after Open*, safe to share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace edgeformer {

// Opens `path` read-only as a file descriptor (close-on-exec) and checks it is a regular file,
// without waiting: a FIFO, device or directory is refused with kIoError naming what it is, never
// blocked on. The caller owns (closes) the descriptor.
Result<int> OpenRegularFile(const std::string& path);

// Whether something exists at `path` (stat only: nothing is opened, so a FIFO never blocks).
bool PathExists(const std::string& path);

class MappedFile {
 public:
  // Maps `path` read-only. Empty files are returned as a zero-length view (callers reject them).
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);
  // Wraps `size` bytes at `data`, which the caller owns and keeps alive.
  static std::unique_ptr<MappedFile> Borrow(const void* data, size_t size);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  // Drops the pages that cover [p, p + n) from the process's resident set: the bytes stay
  // readable (touched again, they are read again from the file). For a reader that is done with a
  // part of a large file (the converter, one tensor at a time). A no-op for a borrowed buffer or a
  // range outside the mapping. Safe to call from any thread; it changes no visible byte.
  void Release(const void* p, size_t n) const;

 private:
  MappedFile(const uint8_t* data, size_t size, bool owned) : data_(data), size_(size), owned_(owned) {}
  const uint8_t* data_;
  size_t size_;
  bool owned_;
};

}  // namespace edgeformer
