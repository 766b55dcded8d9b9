#include "core/status.h"

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
  }
  return "unknown status";
}

}  // namespace edgeformer
