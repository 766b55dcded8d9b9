#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

MappedFile::~MappedFile() {
  if (owned_ && data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace edgeformer
