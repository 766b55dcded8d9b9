// The C API of the tokenizer and chat templates (c_api.cc says how the C API files divide).
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "c_api_internal.h"

namespace {

using edgeformer::Error;
using edgeformer::Status;
using namespace edgeformer::capi;  // NOLINT(google-build-using-namespace): the C API's own helpers

}  // namespace

extern "C" {

edgeformer_status edgeformer_chat_format(const edgeformer_model* model, const edgeformer_chat_message* messages,
                                         size_t n_messages, int add_generation_prompt, char* out, size_t capacity,
                                         size_t* out_len) {
  if (model == nullptr) return Null("model");
  if (messages == nullptr && n_messages > 0) return Null("messages");
  if (out == nullptr && capacity > 0) return Null("out");
  if (out_len == nullptr) return Null("out_len");
  return Guard([&] {
    std::vector<std::pair<std::string, std::string>> list;
    for (size_t i = 0; i < n_messages; ++i) {
      if (messages[i].role == nullptr || messages[i].content == nullptr) return Null("a message's role or content");
      list.emplace_back(messages[i].role, messages[i].content);
    }
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char today[32];
    std::snprintf(today, sizeof(today), "%04d-%02d-%02d", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday);
    std::string text;
    const Error err = model->model->tokenizer().FormatChat(list, add_generation_prompt != 0, today, &text);
    if (!err.ok()) return Report(err);
    *out_len = text.size();
    if (text.size() >= capacity) {
      return Fail(Status::kInvalidArgument, "the conversation needs " + std::to_string(text.size() + 1) +
                                                " bytes but the buffer holds " + std::to_string(capacity));
    }
    std::memcpy(out, text.data(), text.size());
    out[text.size()] = '\0';
    return EDGEFORMER_OK;
  });
}

const char* edgeformer_model_weights(const edgeformer_model* model) {
  return model == nullptr ? "" : model->model->weights_summary().c_str();
}

const char* edgeformer_model_chat_template(const edgeformer_model* model) {
  return model == nullptr ? "" : model->model->tokenizer().chat_template();
}

edgeformer_status edgeformer_tokenize(const edgeformer_model* model, const char* text, size_t text_len,
                                      int flags, int32_t* tokens, size_t capacity, size_t* n_tokens) {
  if (model == nullptr) return Null("model");
  if ((flags & ~(EDGEFORMER_TOKENIZE_ADD_SPECIAL | EDGEFORMER_TOKENIZE_PARSE_SPECIAL | EDGEFORMER_TOKENIZE_SOURCE)) != 0) {
    return Fail(Status::kInvalidArgument, "tokenize: unknown flags " + std::to_string(flags));
  }
  if (text == nullptr && text_len > 0) return Null("text");
  if (n_tokens == nullptr) return Null("n_tokens");
  if (tokens == nullptr && capacity > 0) return Null("tokens");
  return Guard([&] {
    std::vector<int32_t> ids;
    const edgeformer::Tokenizer& tokenizer = (flags & EDGEFORMER_TOKENIZE_SOURCE) != 0
                                                 ? model->model->source_tokenizer()
                                                 : model->model->tokenizer();
    Error err = tokenizer.Encode(std::string_view(text ? text : "", text_len),
                                                   (flags & EDGEFORMER_TOKENIZE_ADD_SPECIAL) != 0,
                                                   (flags & EDGEFORMER_TOKENIZE_PARSE_SPECIAL) != 0, &ids);
    if (!err.ok()) return Report(err);
    *n_tokens = ids.size();
    if (ids.size() > capacity) {
      return Fail(Status::kInvalidArgument, "the text needs " + std::to_string(ids.size()) +
                                                " tokens but the buffer holds " + std::to_string(capacity));
    }
    for (size_t i = 0; i < ids.size(); ++i) tokens[i] = ids[i];
    return EDGEFORMER_OK;
  });
}

edgeformer_status edgeformer_model_end_tokens(const edgeformer_model* model, int32_t* ids, size_t capacity,
                                             size_t* n_ids) {
  if (model == nullptr) return Null("model");
  if (n_ids == nullptr) return Null("n_ids");
  if (ids == nullptr && capacity > 0) return Null("ids");
  const edgeformer::ModelConfig& c = model->model->config();
  std::vector<int32_t> ends;
  if (c.eos_id >= 0) ends.push_back(c.eos_id);
  for (int32_t id : c.end_ids) {
    if (id != c.eos_id) ends.push_back(id);
  }
  *n_ids = ends.size();
  if (ends.size() > capacity) {
    return Fail(Status::kInvalidArgument, "the model has " + std::to_string(ends.size()) +
                                              " end ids but the buffer holds " + std::to_string(capacity));
  }
  std::copy(ends.begin(), ends.end(), ids);
  return EDGEFORMER_OK;
}

edgeformer_status edgeformer_token_piece(const edgeformer_model* model, int32_t prev_token, int32_t token,
                                         const char** piece, size_t* piece_len) {
  if (model == nullptr) return Null("model");
  if (piece == nullptr || piece_len == nullptr) return Null("piece");
  const edgeformer::Tokenizer& t = model->model->tokenizer();
  if (token < 0 || static_cast<uint32_t>(token) >= model->model->config().vocab_size) {
    return Fail(Status::kInvalidArgument, "token id " + std::to_string(token) + " is outside the vocabulary");
  }
  const std::string_view p = t.Piece(prev_token, token);
  *piece = p.empty() ? "" : p.data();
  *piece_len = p.size();
  return EDGEFORMER_OK;
}

}  // extern "C"
