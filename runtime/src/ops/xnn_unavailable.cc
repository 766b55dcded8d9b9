// The XNNPACK backend of a build without XNNPACK (EDGEFORMER_XNNPACK=OFF): sessions asking for
// it are refused with kUnsupported; AUTO runs everything natively (session.cc asks XnnAvailable).
#include "ops/xnn_linear.h"

namespace edgeformer {
namespace ops {
namespace {

Error Unavailable() {
  return Error(Status::kUnsupported, "this build of edgeformer has no XNNPACK backend (EDGEFORMER_XNNPACK=OFF)");
}

}  // namespace

bool XnnAvailable() { return false; }

Result<std::unique_ptr<XnnLinear>> XnnLinear::Create(const Weight&) { return Unavailable(); }

XnnLinear::~XnnLinear() = default;

Error XnnLinear::Run(size_t, const float*, float*, pthreadpool*) const { return Unavailable(); }

void FailXnnRunsForTesting(bool) {}

Result<std::unique_ptr<XnnOperators>> XnnOperators::Create(const std::vector<const Weight*>&) { return Unavailable(); }

uint64_t XnnOperators::PlannedBytes(const std::vector<const Weight*>&) { return 0; }

}  // namespace ops
}  // namespace edgeformer
