#include "tools/run/chat.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

namespace edgeformer {
namespace run {
namespace {

int Fail(const char* what, edgeformer_status status) {
  std::fprintf(stderr, "edgeformer-run: %s: %s (%s)\n", what, edgeformer_last_error(), edgeformer_status_name(status));
  return 1;
}

// Calls fill(buffer, capacity, count) again with a larger buffer when the first is too small
// (the C API's retry-with-the-size-it-said protocol); *count is what fill reported.
template <typename T, typename Fill>
edgeformer_status Grow(std::vector<T>* buffer, size_t* count, Fill fill) {
  edgeformer_status st = fill(buffer->data(), buffer->size(), count);
  if (st == EDGEFORMER_INVALID_ARGUMENT && *count >= buffer->size()) {
    buffer->resize(*count + 1);
    st = fill(buffer->data(), buffer->size(), count);
  }
  return st;
}

struct Reply {
  std::string text;
  std::FILE* out;
};

int OnPiece(void* user_data, int32_t, const char* piece, size_t piece_len) {
  Reply* reply = static_cast<Reply*>(user_data);
  reply->text.append(piece, piece_len);
  std::fwrite(piece, 1, piece_len, reply->out);
  std::fflush(reply->out);
  return 1;
}

bool ReadLine(std::FILE* in, std::string* line) {
  line->clear();
  int c;
  while ((c = std::fgetc(in)) != EOF && c != '\n') line->push_back(static_cast<char>(c));
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return c != EOF || !line->empty();
}

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

int RunChat(edgeformer_model* model, edgeformer_session* session, const edgeformer_generate_params& gen,
            const ChatOptions& options, std::FILE* in, std::FILE* out) {
  if (edgeformer_model_chat_template(model)[0] == '\0') {
    std::fprintf(stderr, "edgeformer-run: --chat: the model has no chat template (convert it from a checkpoint "
                         "whose tokenizer_config.json, chat_template.jinja or GGUF states one)\n");
    return 1;
  }
  std::vector<std::pair<std::string, std::string>> conversation;
  if (!options.system.empty()) conversation.emplace_back("system", options.system);
  edgeformer_session_info info;
  const edgeformer_status got_info = edgeformer_session_get_info(session, &info);
  if (got_info != EDGEFORMER_OK) return Fail("cannot read the session", got_info);
  const size_t context = info.context_length;
  std::vector<char> text(4096);
  std::vector<int32_t> prompt(1024), cached(1024);
  std::string line;
  for (;;) {
    std::fprintf(stderr, "> ");
    std::fflush(stderr);
    if (!ReadLine(in, &line)) break;
    if (line.empty()) continue;
    conversation.emplace_back("user", line);
    // The formatted conversation, without its oldest exchanges while it leaves less than a
    // quarter of the context for the reply (the system message stays).
    size_t text_len = 0, n_prompt = 0;
    edgeformer_status st = EDGEFORMER_OK;
    for (;;) {
      std::vector<edgeformer_chat_message> messages;
      for (const auto& [role, content] : conversation) messages.push_back({role.c_str(), content.c_str()});
      st = Grow(&text, &text_len, [&](char* out_text, size_t capacity, size_t* needed) {
        return edgeformer_chat_format(model, messages.data(), messages.size(), 1, out_text, capacity, needed);
      });
      if (st != EDGEFORMER_OK) return Fail("cannot format the conversation", st);
      st = Grow(&prompt, &n_prompt, [&](int32_t* ids, size_t capacity, size_t* needed) {
        return edgeformer_tokenize(model, text.data(), text_len, EDGEFORMER_TOKENIZE_PARSE_SPECIAL, ids, capacity,
                                   needed);
      });
      if (st != EDGEFORMER_OK) return Fail("cannot tokenize the conversation", st);
      const size_t first = !options.system.empty() ? 1 : 0;  // the oldest exchange
      if (n_prompt + context / 4 <= context || conversation.size() < first + 3) break;
      conversation.erase(conversation.begin() + static_cast<std::ptrdiff_t>(first),
                         conversation.begin() + static_cast<std::ptrdiff_t>(first + 2));
    }
    // The cache keeps what the new prompt shares with it; at least one token is prefilled, for
    // the logits that start the reply.
    size_t n_cached = 0;
    st = Grow(&cached, &n_cached, [&](int32_t* ids, size_t capacity, size_t* needed) {
      return edgeformer_session_tokens(session, ids, capacity, needed);
    });
    if (st != EDGEFORMER_OK) return Fail("cannot read the session's tokens", st);
    const size_t limit = std::min(n_cached, n_prompt == 0 ? size_t{0} : n_prompt - 1);
    size_t keep = 0;
    while (keep < limit && cached[keep] == prompt[keep]) ++keep;
    st = edgeformer_session_truncate(session, static_cast<uint32_t>(keep));
    if (st != EDGEFORMER_OK) return Fail("cannot truncate the session", st);
    const auto t0 = std::chrono::steady_clock::now();
    st = edgeformer_session_prefill(session, prompt.data() + keep, n_prompt - keep);
    if (st == EDGEFORMER_CONTEXT_FULL) {
      std::fprintf(stderr, "edgeformer-run: %s; the message is dropped\n", edgeformer_last_error());
      conversation.pop_back();
      continue;
    }
    if (st != EDGEFORMER_OK) return Fail("cannot process the prompt", st);
    const auto t1 = std::chrono::steady_clock::now();
    Reply reply{std::string(), out};
    size_t n_generated = 0;
    edgeformer_stop_reason reason = EDGEFORMER_STOP_MAX_TOKENS;
    st = edgeformer_generate(session, &gen, &OnPiece, &reply, &n_generated, &reason);
    const auto t2 = std::chrono::steady_clock::now();
    std::fputc('\n', out);
    std::fflush(out);
    if (st == EDGEFORMER_CONTEXT_FULL) {
      std::fprintf(stderr, "edgeformer-run: stopped: %s\n", edgeformer_last_error());
    } else if (st != EDGEFORMER_OK) {
      return Fail("generation failed", st);
    }
    conversation.emplace_back("assistant", reply.text);
    if (options.show_stats) {
      const double prefill_s = Seconds(t0, t1), decode_s = Seconds(t1, t2);
      std::fprintf(stderr, "[prompt %zu tokens, %zu reused from the cache, %zu prefilled in %.1f ms | %zu generated "
                           "(%.1f tok/s)]\n",
                   n_prompt, keep, n_prompt - keep, prefill_s * 1e3, n_generated,
                   decode_s > 0 ? n_generated / decode_s : 0.0);
    }
  }
  return 0;
}

}  // namespace run
}  // namespace edgeformer
