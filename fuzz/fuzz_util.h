// Helpers of the fuzz targets: the converter's readers take paths, so an input is written to a
// file in memory-backed /dev/shm (or $TMPDIR) first, one per process.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace edgeformer {
namespace fuzz {

// The path of this process's scratch file `name` (created on first write).
inline std::string ScratchPath(const std::string& name) {
  static const std::string dir = [] {
    const char* shm = "/dev/shm";
    if (access(shm, W_OK) == 0) return std::string(shm);
    const char* tmp = std::getenv("TMPDIR");
    return std::string(tmp != nullptr ? tmp : "/tmp");
  }();
  return dir + "/edgeformer-fuzz-" + std::to_string(getpid()) + "-" + name;
}

// Writes data to the scratch file `name`; returns its path.
inline std::string WriteScratch(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = ScratchPath(name);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();  // the harness itself is broken, not the input
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace fuzz
}  // namespace edgeformer
