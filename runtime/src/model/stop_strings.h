// Stop strings for generation: text that ends generation when the generated text contains it,
// matched across token boundaries, and never delivered. Tokens are held back while their text
// could be the beginning of a stop string and delivered, in order, once it cannot; when a stop
// string completes, the text before it is delivered (the token it begins in with its piece cut
// there) and nothing after.
//
// Buffers are sized by Init (at session creation); Start, Push and Flush allocate nothing.
// Not thread-safe: one per session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace edgeformer {

class StopStrings {
 public:
  static constexpr size_t kMaxStrings = 16;
  static constexpr size_t kMaxBytes = 128;  // of one stop string

  // Receives a token no longer held, with its text (a prefix of its piece when a stop string
  // begins inside it; the view lives as long as the piece). Returns false to stop generating.
  using Deliver = bool (*)(void* context, int32_t token, std::string_view piece);

  enum class Outcome { kGoOn, kStopString, kStopped };

  // max_piece_bytes: the longest piece the tokenizer gives.
  Error Init(size_t max_piece_bytes);

  // The stop strings of one generation (n may be 0: then every token is delivered at once).
  // Refuses more than kMaxStrings, an empty one, a NULL one or one longer than kMaxBytes.
  Error Start(const char* const* strings, size_t n);

  // A generated token and its piece (which must outlive the generation: pieces of the model).
  Outcome Push(int32_t token, std::string_view piece, Deliver deliver, void* context);

  // Delivers every held token (generation ended for another reason).
  Outcome Flush(Deliver deliver, void* context);

 private:
  struct Held {
    int32_t token;
    std::string_view piece;
  };
  // Delivers the held tokens whose text ends at or before `end` bytes of held_text_; with
  // `cut`, the one straddling `end` too, cut there.
  Outcome DeliverUpTo(size_t end, bool cut, Deliver deliver, void* context);

  std::vector<std::string> strings_;  // kMaxStrings, each with kMaxBytes reserved
  size_t n_strings_ = 0;
  std::string held_text_;
  std::vector<Held> held_;
  size_t capacity_ = 0;  // of held_text_ and held_
};

}  // namespace edgeformer
