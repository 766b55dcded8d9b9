// Chat templates as Hugging Face renders them: the real templates of Llama 3, Llama 3.1, Qwen 2.5,
// Qwen 3 and Gemma 3, and templates that use the rest of the language (whitespace control, loops,
// loop controls, namespaces, string methods, values, filters, tests, macros, set blocks, dicts,
// dates, raise_exception), on several conversations, against Jinja2 itself
// (tests/reference/chat_templates.py, set up as apply_chat_template sets it up). Then through
// the C API on a converted model; and hostile templates.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "model/chat/jinja.h"

namespace edgeformer {
namespace {

using jinja::Value;

Value FromJson(const nlohmann::ordered_json& j) {
  if (j.is_null()) return Value::None();
  if (j.is_boolean()) return Value::Bool(j.get<bool>());
  if (j.is_number_integer()) return Value::Int(j.get<int64_t>());
  if (j.is_number()) return Value::Float(j.get<double>());
  if (j.is_string()) return Value::String(j.get<std::string>());
  if (j.is_array()) {
    jinja::List l;
    for (const auto& x : j) l.push_back(FromJson(x));
    return Value::MakeList(std::move(l));
  }
  const Value d = Value::MakeDict();
  for (const auto& [k, v] : j.items()) d.Set(k, FromJson(v));
  return d;
}

TEST_CASE("chat templates render exactly as Jinja2 renders them for Hugging Face") {
  const char* dir = std::getenv("EDGEFORMER_REFERENCE_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "EDGEFORMER_REFERENCE_DIR is not set (run through ctest)");
  std::ifstream in(std::string(dir) + "/hf_tokenizers/chat_templates.json");
  REQUIRE_MESSAGE(in.good(), "no chat_templates.json: the reference_hf_tokenizers fixture needs python3-jinja2");
  const nlohmann::ordered_json all = nlohmann::ordered_json::parse(in);
  const std::string today = all["today"];
  size_t same = 0, refused = 0;
  for (const auto& c : all["cases"]) {
    const std::string name = c["name"];
    CAPTURE(name);
    Result<jinja::Template> t = jinja::Template::Parse(c["template"].get<std::string>());
    const std::string parse_error = t.ok() ? "" : t.error().message();
    INFO(parse_error);
    REQUIRE(t.ok());
    Result<std::string> got = t.value().Render(FromJson(c["context"]), today);
    if (c.contains("error")) {
      CHECK_FALSE(got.ok());
      refused += !got.ok();
      continue;
    }
    const std::string render_error = got.ok() ? "" : got.error().message();
    INFO(render_error);
    REQUIRE(got.ok());
    const std::string want = c["output"];
    CHECK(got.value() == want);
    same += got.value() == want;
  }
  CHECK(same + refused == all["cases"].size());
  MESSAGE(same << " renders identical to Jinja2's, " << refused << " refused as Jinja2 refuses");
}

TEST_CASE("hostile templates give errors, never a crash or an endless render") {
  auto render = [](const std::string& text) -> Error {
    Result<jinja::Template> t = jinja::Template::Parse(text);
    if (!t.ok()) return t.error();
    jinja::RenderLimits limits;
    limits.max_steps = 200000;
    limits.max_output = 1 << 20;
    Result<std::string> r = t.value().Render(Value::MakeDict(), "2026-12-03", limits);
    return r.ok() ? Error::Ok() : r.error();
  };
  const char* bad[] = {
      "{% if true %}never closed",
      "{{ 'unterminated }}",
      "{% for x in %}{% endfor %}",
      "{% frobnicate %}",
      "{{ 1 +* 2 }}",
      "{% for i in range(90000) %}{% for j in range(90000) %}x{% endfor %}{% endfor %}",  // too many steps
      "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",                                 // endless recursion
      "{{ 'x' * 100000000 }}",
      "{{ 1 // 0 }}",
      "{{ raise_exception('no') }}",
      "{{ range(10000000) | length }}",
      "{{ 'abc'.nosuchmethod() }}",
      "{{ 5 | nosuchfilter }}",
      "{% set x = 1 %}{% set x.attr = 2 %}",
  };
  std::vector<std::string> texts(std::begin(bad), std::end(bad));
  texts.push_back("{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}");  // nested too deeply
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "{% if 1 %}";
  texts.push_back(deep);  // statements nested too deeply (and never closed)
  for (const std::string& text : texts) {
    CAPTURE(text);
    const Error err = render(text);
    CHECK_FALSE(err.ok());
    CHECK(err.message().find("chat template") != std::string::npos);
  }
  CHECK(render("{{ undefined_name }}{{ undefined_name.attr }}{% for x in undefined_name %}{% endfor %}").ok());
}

}  // namespace
}  // namespace edgeformer
