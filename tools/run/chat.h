// edgeformer-run --chat: an interactive conversation through the public C API.
#pragma once

#include <cstdio>
#include <string>

#include "edgeformer.h"

namespace edgeformer {
namespace run {

struct ChatOptions {
  std::string system;        // a system message first (empty: none)
  bool show_stats = true;    // one line of figures per turn on stderr
};

// Reads user messages from `in`, one per line, until end of input. Each turn formats the whole
// conversation with the model's chat template (edgeformer_chat_format, generation prompt on),
// tokenizes it with special tokens parsed (what Hugging Face's apply_chat_template gives; the
// oldest exchanges after the system message are dropped while the prompt would leave less than a
// quarter of the context for the reply), keeps
// the part of the KV cache the new prompt shares with it (edgeformer_session_tokens, then
// edgeformer_session_truncate) and prefills only the rest; then streams the reply to `out`, one
// line per turn, until an end token (edgeformer_model_end_tokens) or gen.max_tokens. The reply
// joins the conversation as the assistant's message. Returns the tool's exit code: 0 at the end
// of input; 1 when the model has no chat template or a call fails.
int RunChat(edgeformer_model* model, edgeformer_session* session, const edgeformer_generate_params& gen,
            const ChatOptions& options, std::FILE* in, std::FILE* out);

}  // namespace run
}  // namespace edgeformer
