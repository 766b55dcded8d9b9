// The C API's handles and what every c_api*.cc file shares: Errors become status codes and a
// thread-local message (edgeformer_last_error), escaped exceptions become statuses, and a
// session's use state makes re-entrant and concurrent calls EDGEFORMER_BUSY and defers a destroy
// to the end of the running call. Internal: apps see runtime/include/edgeformer.h only.
//
// Lifetimes: the model is reference counted (shared_ptr): its handle holds one reference and each
// session one more, so handles may be destroyed in any order.
#pragma once

#include <atomic>
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "core/status.h"
#include "edgeformer.h"
#include "model/model.h"
#include "model/sampler.h"
#include "model/session.h"
#include "model/stop_strings.h"

struct edgeformer_model {
  std::shared_ptr<const edgeformer::Model> model;
};

struct edgeformer_session {
  enum State : int { kIdle = 0, kInCall = 1, kDestroyRequested = 2 };
  std::shared_ptr<const edgeformer::Model> model;  // declared first: outlives `session`
  std::unique_ptr<edgeformer::Session> session;
  edgeformer::Sampler sampler;
  edgeformer::StopStrings stops;
  std::atomic<int> state{kIdle};
};

namespace edgeformer {
namespace capi {

// Sets the calling thread's last error message and returns `status` as the C enum.
edgeformer_status Fail(Status status, const std::string& message);
// EDGEFORMER_OK for an ok Error, else Fail with its status and message.
edgeformer_status Report(const Error& err);
// EDGEFORMER_INVALID_ARGUMENT: "<what> is NULL".
edgeformer_status Null(const char* what);

// Runs `body`, mapping an escaped allocation failure to a status; nothing else throws.
template <typename F>
edgeformer_status Guard(F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(Status::kOutOfMemory, "out of memory");
  } catch (const std::exception& e) {
    return Fail(Status::kInternal, e.what());
  }
}

// A call on a session: BUSY unless the session is idle; the matching Leave frees the session if
// a destroy was requested meanwhile. Usage: if (!Enter(s)) return Busy(); ...; Leave(s).
bool Enter(edgeformer_session* s);
edgeformer_status Busy();
void Leave(edgeformer_session* s);

// Runs body() inside Enter/Leave; BUSY when the session is in another call.
template <typename F>
edgeformer_status InCall(edgeformer_session* s, F&& body) {
  if (!Enter(s)) return Busy();
  const edgeformer_status st = Guard(body);
  Leave(s);
  return st;
}

}  // namespace capi
}  // namespace edgeformer
