// Fuzz target: chat templates (a model file's chat_template is untrusted text) through the Jinja
// subset's parser and renderer, with a small conversation and tight limits. Any error is fine;
// a crash, a sanitizer report, a leak or a hang is not.
#include <cstdint>
#include <string>

#include "model/chat/jinja.h"

using edgeformer::jinja::Value;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = edgeformer::jinja::Template::Parse(text);
  if (!parsed.ok()) return 0;
  const Value messages = Value::MakeList();
  for (const char* role : {"system", "user", "assistant", "user"}) {
    const Value m = Value::MakeDict();
    m.Set("role", Value::String(role));
    m.Set("content", Value::String(std::string("hello <think>x</think> ") + role));
    messages.list().push_back(m);
  }
  const Value globals = Value::MakeDict();
  globals.Set("messages", messages);
  globals.Set("add_generation_prompt", Value::Bool(true));
  globals.Set("bos_token", Value::String("<s>"));
  globals.Set("eos_token", Value::String("</s>"));
  edgeformer::jinja::RenderLimits limits;
  limits.max_steps = 100000;
  limits.max_output = 1 << 20;
  (void)parsed.value().Render(globals, "2026-12-03", limits);
  return 0;
}
