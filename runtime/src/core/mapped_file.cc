#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

namespace edgeformer {

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<int> OpenRegularFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; it is refused below.
  // Reading a regular file is not affected by the flag.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Error(Status::kIoError, "cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Error(Status::kIoError, "cannot stat '" + path + "': " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    const char* kind = S_ISFIFO(st.st_mode)                        ? "a FIFO"
                       : S_ISDIR(st.st_mode)                       ? "a directory"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                   : "a special file";
    return Error(Status::kIoError, "'" + path + "' is not a regular file (it is " + kind + ")");
  }
  return fd;
}

Result<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  Result<int> opened = OpenRegularFile(path);
  if (!opened.ok()) return opened.error();
  const int fd = opened.value();
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Error(Status::kIoError, "cannot stat '" + path + "': " + std::strerror(e));
  }
  if (static_cast<uint64_t>(st.st_size) > std::numeric_limits<size_t>::max()) {
    ::close(fd);
    return Error(Status::kIoError, "'" + path + "' is " + std::to_string(st.st_size) +
                                       " bytes, more than this 32-bit build can address");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return std::unique_ptr<MappedFile>(new MappedFile(nullptr, 0, false));
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  ::close(fd);
  if (p == MAP_FAILED) {
    return Error(Status::kIoError, "cannot map '" + path + "': " + std::strerror(e));
  }
  return std::unique_ptr<MappedFile>(new MappedFile(static_cast<const uint8_t*>(p), size, true));
}

std::unique_ptr<MappedFile> MappedFile::Borrow(const void* data, size_t size) {
  return std::unique_ptr<MappedFile>(new MappedFile(static_cast<const uint8_t*>(data), size, false));
}

void MappedFile::Release(const void* p, size_t n) const {
  const uint8_t* begin = static_cast<const uint8_t*>(p);
  if (!owned_ || data_ == nullptr || n == 0 || begin < data_ || begin >= data_ + size_ ||
      n > size_ - static_cast<size_t>(begin - data_)) {
    return;
  }
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  // Whole pages only: a page shared with a neighbour is dropped too, and read again if touched.
  const uintptr_t lo = reinterpret_cast<uintptr_t>(begin) / page * page;
  const uintptr_t hi = reinterpret_cast<uintptr_t>(begin + n);
  ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (owned_ && data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace edgeformer
