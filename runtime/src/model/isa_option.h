// ISA names from callers and the environment (platforms/isa.h), as Results with the messages
// the C API and the tools give.
#pragma once

#include <cstdlib>
#include <string>

#include "core/status.h"
#include "platforms/isa.h"

namespace edgeformer {

inline Result<Isa> IsaByName(const std::string& name) {
  Isa isa;
  if (ParseIsa(name, &isa)) return isa;
  return Error(Status::kInvalidArgument, "unknown ISA '" + name + "' (this build has: " + IsaNames() + ")");
}

inline Result<Isa> IsaCapFromEnvironment() {
  Isa isa;
  std::string value;
  if (MaxIsaFromEnvironment(&isa, &value)) return isa;
  return Error(Status::kInvalidArgument,
               "EDGEFORMER_MAX_ISA: unknown ISA '" + value + "' (this build has: " + IsaNames() + ")");
}

}  // namespace edgeformer
