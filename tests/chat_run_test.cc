// edgeformer-run --chat (tools/run/chat.cc): a conversation of several turns keeps the KV cache
// between them, and every reply is what a fresh session gives for the whole formatted
// conversation (int8 weights: the native kernels compute each row alike in any batch, so the
// greedy replies are identical).
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "converter/convert.h"
#include "edgeformer.h"
#include "tests/test_support.h"
#include "tools/run/chat.h"

namespace edgeformer {
namespace {

std::string ReadAll(std::FILE* f) {
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;) s.push_back(static_cast<char>(c));
  return s;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t at; (at = text.find('\n', start)) != std::string::npos; start = at + 1) {
    lines.push_back(text.substr(start, at - start));
  }
  return lines;
}

// The reply a fresh session gives to the conversation (greedy, as the chat generated it).
std::string FreshReply(edgeformer_model* model, const std::vector<std::pair<std::string, std::string>>& turns,
                       const edgeformer_generate_params& gen) {
  std::vector<edgeformer_chat_message> messages;
  for (const auto& [role, content] : turns) messages.push_back({role.c_str(), content.c_str()});
  std::vector<char> text(1 << 16);
  size_t len = 0;
  REQUIRE(edgeformer_chat_format(model, messages.data(), messages.size(), 1, text.data(), text.size(), &len) ==
          EDGEFORMER_OK);
  std::vector<int32_t> ids(1 << 14);
  size_t n = 0;
  REQUIRE(edgeformer_tokenize(model, text.data(), len, EDGEFORMER_TOKENIZE_PARSE_SPECIAL, ids.data(), ids.size(), &n) ==
          EDGEFORMER_OK);
  edgeformer_session* session = nullptr;
  REQUIRE(edgeformer_session_create(model, nullptr, &session) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(session, ids.data(), n) == EDGEFORMER_OK);
  struct Out {
    std::string text;
  } out;
  size_t generated = 0;
  edgeformer_stop_reason reason;
  REQUIRE(edgeformer_generate(
              session, &gen,
              [](void* user, int32_t, const char* piece, size_t piece_len) {
                static_cast<Out*>(user)->text.append(piece, piece_len);
                return 1;
              },
              &out, &generated, &reason) == EDGEFORMER_OK);
  edgeformer_session_destroy(session);
  return out.text;
}

}  // namespace

TEST_CASE("--chat keeps the KV cache between turns and replies as a fresh session would") {
  const char* dir = std::getenv("EDGEFORMER_REFERENCE_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "EDGEFORMER_REFERENCE_DIR is not set (run through ctest)");
  const std::string src = std::string(dir) + "/sp_json";
  test::TempDir tmp;
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.json"}) {
    test::WriteFile(tmp.path(file), test::ReadFile(src + "/" + file));
  }
  const std::string config =
      R"({"chat_template": "{{ bos_token }}{% for m in messages %}<{{ m['role'] }}>{{ m['content'] | trim }}</s>{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}", "bos_token": "<s>", "eos_token": "</s>"})";
  test::WriteFile(tmp.path("tokenizer_config.json"), std::vector<uint8_t>(config.begin(), config.end()));
  convert::ConvertOptions o;
  o.checkpoint = tmp.path("");
  o.output = tmp.path("m.edgf");
  o.quant = convert::Quant::kInt8;
  o.tokenizer_from_checkpoint = true;
  REQUIRE(convert::ConvertHf(o).ok());
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load(o.output.c_str(), nullptr, &model) == EDGEFORMER_OK);
  edgeformer_session* session = nullptr;
  REQUIRE(edgeformer_session_create(model, nullptr, &session) == EDGEFORMER_OK);

  const std::vector<std::string> users = {"Hi.", "Why?"};
  std::FILE* in = std::tmpfile();
  std::FILE* out = std::tmpfile();
  REQUIRE(in != nullptr);
  REQUIRE(out != nullptr);
  for (const std::string& u : users) std::fprintf(in, "%s\n", u.c_str());
  std::rewind(in);
  edgeformer_generate_params gen = test::Greedy(3);
  run::ChatOptions options;
  options.system = "Be brief.";
  options.show_stats = false;
  REQUIRE(run::RunChat(model, session, gen, options, in, out) == 0);
  const std::vector<std::string> replies = Lines(ReadAll(out));
  REQUIRE(replies.size() == users.size());

  std::vector<std::pair<std::string, std::string>> turns = {{"system", options.system}};
  for (size_t i = 0; i < users.size(); ++i) {
    turns.emplace_back("user", users[i]);
    CAPTURE(i);
    CHECK(replies[i] == FreshReply(model, turns, gen));
    turns.emplace_back("assistant", replies[i]);
  }
  // The cache holds the conversation: the last prompt's tokens and the last reply's.
  std::vector<char> text(4096);
  std::vector<edgeformer_chat_message> messages;
  for (const auto& [role, content] : turns) messages.push_back({role.c_str(), content.c_str()});
  size_t len = 0;
  REQUIRE(edgeformer_chat_format(model, messages.data(), messages.size() - 1, 1, text.data(), text.size(), &len) ==
          EDGEFORMER_OK);
  std::vector<int32_t> ids(4096);
  size_t n = 0;
  REQUIRE(edgeformer_tokenize(model, text.data(), len, EDGEFORMER_TOKENIZE_PARSE_SPECIAL, ids.data(), ids.size(), &n) ==
          EDGEFORMER_OK);
  CHECK(edgeformer_session_position(session) >= n);
  std::fclose(in);
  std::fclose(out);

  // A conversation longer than the context (64 tokens) goes on: its oldest exchanges are dropped.
  in = std::tmpfile();
  out = std::tmpfile();
  for (int i = 0; i < 12; ++i) std::fprintf(in, "Message number %d.\n", i);
  std::rewind(in);
  REQUIRE(edgeformer_session_reset(session) == EDGEFORMER_OK);
  REQUIRE(run::RunChat(model, session, gen, options, in, out) == 0);
  CHECK(Lines(ReadAll(out)).size() == 12);
  std::fclose(in);
  std::fclose(out);

  // A model without a chat template is refused.
  std::remove(tmp.path("tokenizer_config.json").c_str());
  o.output = tmp.path("plain.edgf");
  REQUIRE(convert::ConvertHf(o).ok());
  edgeformer_model* plain = nullptr;
  REQUIRE(edgeformer_model_load(o.output.c_str(), nullptr, &plain) == EDGEFORMER_OK);
  edgeformer_session* plain_session = nullptr;
  REQUIRE(edgeformer_session_create(plain, nullptr, &plain_session) == EDGEFORMER_OK);
  std::FILE* empty = std::tmpfile();
  CHECK(run::RunChat(plain, plain_session, gen, options, empty, stdout) == 1);
  std::fclose(empty);
  edgeformer_session_destroy(plain_session);
  edgeformer_model_destroy(plain);
  edgeformer_session_destroy(session);
  edgeformer_model_destroy(model);
}

}  // namespace edgeformer
