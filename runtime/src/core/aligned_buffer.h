// A 64-byte-aligned heap block of fixed size, zero-filled unless asked not to (untouched pages
// of a large buffer, such as a KV cache, then cost no resident memory until used). Allocation failure is reported, not
// thrown. On request a block of at least 1 MiB is laid on 2 MiB pages where the OS has them
// (Linux transparent huge pages in madvise or always mode): a stream over it then misses the
// TLB once per 2 MiB instead of once per 4 KiB; it becomes resident 2 MiB at a time. Elsewhere
// the request changes nothing. Ownership: owns its block; movable, not copyable.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "core/status.h"

namespace edgeformer {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;
  static constexpr size_t kHugePage = size_t{2} << 20;

  // Whether the OS lays advised blocks on 2 MiB pages: Linux with transparent huge pages not
  // "never" (read once; thread-safe).
  static bool HugePagesAvailable() {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    static const bool available = [] {
      std::FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
      if (f == nullptr) return false;
      char line[128] = {};
      const bool read = std::fgets(line, sizeof(line), f) != nullptr;
      std::fclose(f);
      return read && std::strstr(line, "[never]") == nullptr;
    }();
    return available;
#else
    return false;
#endif
  }

  // Whether Allocate(size, _, huge_pages) lays the block on 2 MiB pages: asked, at least 1 MiB,
  // and HugePagesAvailable.
  static bool OnHugePages(size_t size, bool huge_pages) {
    return huge_pages && size >= kHugePage / 2 && HugePagesAvailable();
  }

  // The bytes Allocate(size, _, huge_pages) takes: size rounded up to the alignment, or to whole
  // 2 MiB pages for a block OnHugePages. 0 when the rounding overflows.
  static size_t Footprint(size_t size, bool huge_pages) {
    const size_t unit = OnHugePages(size, huge_pages) ? kHugePage : kAlignment;
    const size_t rounded = (size + unit - 1) / unit * unit;
    return rounded < size ? 0 : rounded;
  }

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

  // Replaces the contents with `size` bytes, zero unless zero_fill is false; on 2 MiB pages when
  // huge_pages, size >= 1 MiB and HugePagesAvailable (advice: the contents are the same either
  // way).
  Error Allocate(size_t size, bool zero_fill = true, bool huge_pages = false) {
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
    if (size == 0) return Error::Ok();
    const size_t rounded = Footprint(size, huge_pages);
    if (rounded == 0) return Error(Status::kOutOfMemory, "allocation size overflows");
    const bool huge = OnHugePages(size, huge_pages);
    void* p = std::aligned_alloc(huge ? kHugePage : kAlignment, rounded);
    if (p == nullptr) {
      return Error(Status::kOutOfMemory, "cannot allocate " + std::to_string(size) + " bytes");
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (huge) ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: a refusal changes nothing
#endif
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
