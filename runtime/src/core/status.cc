#include "core/status.h"

#include <cstdio>
#include <cstdlib>

namespace edgeformer {

const char* StatusName(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kInvalidArgument: return "invalid argument";
    case Status::kIoError: return "I/O error";
    case Status::kInvalidModel: return "invalid model file";
    case Status::kUnsupported: return "unsupported";
    case Status::kOutOfMemory: return "out of memory";
    case Status::kContextFull: return "context full";
    case Status::kCancelled: return "cancelled";
    case Status::kInternal: return "internal error";
    case Status::kBusy: return "busy";
  }
  return "unknown status";
}

}  // namespace edgeformer

namespace edgeformer {

void ResultHasNoValue(const Error& error) {
  std::fprintf(stderr, "edgeformer: internal error: the value of a failed Result was used (%s: %s)\n",
               StatusName(error.status()), error.message().c_str());
  std::abort();
}

}  // namespace edgeformer
