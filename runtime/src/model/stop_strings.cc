#include "model/stop_strings.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace edgeformer {

Error StopStrings::Init(size_t max_piece_bytes) {
  try {
    strings_.assign(kMaxStrings, std::string());
    for (std::string& s : strings_) s.reserve(kMaxBytes);
    capacity_ = kMaxBytes + 2 * max_piece_bytes + 2;  // a held token, the possible beginning, a new token
    held_text_.reserve(capacity_);
    held_.reserve(capacity_);
  } catch (const std::bad_alloc&) {
    return Error(Status::kOutOfMemory, "cannot allocate the stop strings' buffers");
  }
  return Error::Ok();
}

Error StopStrings::Start(const char* const* strings, size_t n) {
  n_strings_ = 0;
  held_text_.clear();
  held_.clear();
  if (n > 0 && strings == nullptr) return Error(Status::kInvalidArgument, "stop_strings is null but n_stop_strings is not 0");
  if (n > kMaxStrings || n > strings_.size()) {
    return Error(Status::kInvalidArgument, "at most " + std::to_string(kMaxStrings) + " stop strings");
  }
  for (size_t i = 0; i < n; ++i) {
    const size_t length = strings[i] == nullptr ? 0 : strnlen(strings[i], kMaxBytes + 1);
    if (length == 0 || length > kMaxBytes) {
      return Error(Status::kInvalidArgument, "stop string " + std::to_string(i) + " is NULL, empty or longer than " +
                                                 std::to_string(kMaxBytes) + " bytes");
    }
    strings_[i].assign(strings[i], length);  // within the reserved capacity
  }
  n_strings_ = n;
  return Error::Ok();
}

StopStrings::Outcome StopStrings::DeliverUpTo(size_t end, bool cut, Deliver deliver, void* context) {
  size_t offset = 0, done = 0;
  Outcome outcome = Outcome::kGoOn;
  for (; done < held_.size(); ++done) {
    const Held& h = held_[done];
    if (offset + h.piece.size() > end) {
      if (cut && end > offset && !deliver(context, h.token, h.piece.substr(0, end - offset))) outcome = Outcome::kStopped;
      break;
    }
    offset += h.piece.size();
    if (!deliver(context, h.token, h.piece)) {
      outcome = Outcome::kStopped;
      ++done;
      break;
    }
  }
  held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(done));
  held_text_.erase(0, offset);
  return outcome;
}

StopStrings::Outcome StopStrings::Push(int32_t token, std::string_view piece, Deliver deliver, void* context) {
  if (n_strings_ == 0) return deliver(context, token, piece) ? Outcome::kGoOn : Outcome::kStopped;
  if (held_.size() + 1 >= capacity_) {  // only empty pieces pile up this far: let the oldest go
    const Outcome o = DeliverUpTo(held_.front().piece.size(), false, deliver, context);
    if (o != Outcome::kGoOn) return o;
  }
  held_.push_back(Held{token, piece});
  held_text_.append(piece.data(), piece.size());
  // A complete stop string: the earliest one.
  size_t first = std::string::npos;
  for (size_t i = 0; i < n_strings_; ++i) first = std::min(first, held_text_.find(strings_[i]));
  if (first != std::string::npos) {
    const Outcome o = DeliverUpTo(first, true, deliver, context);
    held_.clear();
    held_text_.clear();
    return o == Outcome::kStopped ? o : Outcome::kStopString;
  }
  // Hold back from the earliest start of a suffix that begins some stop string.
  size_t keep = held_text_.size();
  for (size_t i = 0; i < n_strings_; ++i) {
    const std::string& s = strings_[i];
    for (size_t k = std::min(s.size() - 1, held_text_.size()); k > 0; --k) {
      if (held_text_.compare(held_text_.size() - k, k, s, 0, k) == 0) {
        keep = std::min(keep, held_text_.size() - k);
        break;
      }
    }
  }
  return DeliverUpTo(keep, false, deliver, context);
}

StopStrings::Outcome StopStrings::Flush(Deliver deliver, void* context) {
  return DeliverUpTo(held_text_.size() + 1, false, deliver, context);
}

}  // namespace edgeformer
