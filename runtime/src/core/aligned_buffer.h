// A 64-byte-aligned heap block of fixed size, zero-filled unless asked not to (untouched pages
// of a large buffer, such as a KV cache, then cost no resident memory until used). Allocation failure is reported, not
// thrown. Ownership: owns its block; movable, not copyable.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "core/status.h"

namespace edgeformer {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;

  AlignedBuffer() = default;
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  // Replaces the contents with `size` bytes, zero unless zero_fill is false.
  Error Allocate(size_t size, bool zero_fill = true) {
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
    if (size == 0) return Error::Ok();
    const size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
    if (rounded < size) return Error(Status::kOutOfMemory, "allocation size overflows");
    void* p = std::aligned_alloc(kAlignment, rounded);
    if (p == nullptr) {
      return Error(Status::kOutOfMemory, "cannot allocate " + std::to_string(size) + " bytes");
    }
    if (zero_fill) std::memset(p, 0, rounded);
    data_ = p;
    size_ = size;
    return Error::Ok();
  }

  template <typename T>
  T* as() const { return static_cast<T*>(data_); }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace edgeformer
