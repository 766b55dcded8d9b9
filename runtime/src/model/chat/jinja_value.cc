// Values of the chat-template language: truthiness, printing as Python prints, JSON as Python's
// json.dumps writes it, equality.
#include <cmath>
#include <cstdio>

#include "model/chat/jinja.h"

namespace edgeformer {
namespace jinja {
namespace {

// Python's repr of a float: the shortest text that reads back, with ".0" on whole numbers.
std::string FloatText(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, f);
    if (std::strtod(buf, nullptr) == f) break;
  }
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string Quote(const std::string& s) {
  // Python's repr: single quotes unless the text has one and no double quote.
  const char q = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    if (c == q || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out + q;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace

Value* Value::Find(std::string_view key) const {
  if (!mapping()) return nullptr;
  for (auto& [k, v] : *dict_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Value::Set(const std::string& key, Value v) const {
  if (!mapping()) return;
  if (Value* slot = Find(key)) {
    *slot = std::move(v);
  } else {
    dict_->emplace_back(key, std::move(v));
  }
}

bool Value::Truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool:
    case Kind::kInt: return int_ != 0;
    case Kind::kFloat: return float_ != 0.0;
    case Kind::kString: return !string_->empty();
    case Kind::kList: return !list_->empty();
    case Kind::kDict: return !dict_->empty();
    default: return true;
  }
}

std::string Value::ToString() const {
  switch (kind_) {
    case Kind::kUndefined: return "";
    case Kind::kString: return *string_;
    default: return Repr();
  }
}

std::string Value::Repr() const {
  switch (kind_) {
    case Kind::kUndefined: return "";
    case Kind::kNone: return "None";
    case Kind::kBool: return int_ ? "True" : "False";
    case Kind::kInt: return std::to_string(int_);
    case Kind::kFloat: return FloatText(float_);
    case Kind::kString: return Quote(*string_);
    case Kind::kList: {
      std::string s = tuple_ ? "(" : "[";
      for (size_t i = 0; i < list_->size(); ++i) s += (i ? ", " : "") + (*list_)[i].Repr();
      return s + (tuple_ ? (list_->size() == 1 ? ",)" : ")") : "]");
    }
    case Kind::kDict:
    case Kind::kNamespace: {
      std::string s = kind_ == Kind::kNamespace ? "<Namespace {" : "{";
      for (size_t i = 0; i < dict_->size(); ++i) s += (i ? ", " : "") + Quote((*dict_)[i].first) + ": " + (*dict_)[i].second.Repr();
      return s + (kind_ == Kind::kNamespace ? "}>" : "}");
    }
    case Kind::kMacro: return "<Macro>";
  }
  return "";
}

std::string Value::ToJson(int indent, int depth) const {
  const std::string newline = indent >= 0 ? "\n" + std::string(static_cast<size_t>(indent) * (depth + 1), ' ') : "";
  const std::string close = indent >= 0 ? "\n" + std::string(static_cast<size_t>(indent) * depth, ' ') : "";
  const char* comma = indent >= 0 ? "," : ", ";
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return "null";
    case Kind::kBool: return int_ ? "true" : "false";
    case Kind::kInt: return std::to_string(int_);
    case Kind::kFloat: return std::isfinite(float_) ? FloatText(float_) : (std::isnan(float_) ? "NaN" : float_ > 0 ? "Infinity" : "-Infinity");
    case Kind::kString: return JsonString(*string_);
    case Kind::kList: {
      if (list_->empty()) return "[]";
      std::string s = "[";
      for (size_t i = 0; i < list_->size(); ++i) s += (i ? comma : "") + newline + (*list_)[i].ToJson(indent, depth + 1);
      return s + close + "]";
    }
    case Kind::kDict:
    case Kind::kNamespace: {
      if (dict_->empty()) return "{}";
      std::string s = "{";
      for (size_t i = 0; i < dict_->size(); ++i) {
        s += (i ? comma : "") + newline + JsonString((*dict_)[i].first) + ": " + (*dict_)[i].second.ToJson(indent, depth + 1);
      }
      return s + close + "}";
    }
    case Kind::kMacro: return "null";
  }
  return "null";
}

bool Value::Equals(const Value& o) const {
  if (numeric() && o.numeric()) {
    return (kind_ == Kind::kFloat || o.kind_ == Kind::kFloat) ? as_float() == o.as_float() : int_ == o.int_;
  }
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString: return *string_ == *o.string_;
    case Kind::kList:
      if (list_->size() != o.list_->size()) return false;
      for (size_t i = 0; i < list_->size(); ++i) {
        if (!(*list_)[i].Equals((*o.list_)[i])) return false;
      }
      return true;
    case Kind::kDict:
    case Kind::kNamespace:
      if (dict_->size() != o.dict_->size()) return false;
      for (const auto& [k, v] : *dict_) {
        const Value* other = o.Find(k);
        if (other == nullptr || !v.Equals(*other)) return false;
      }
      return true;
    case Kind::kMacro: return macro_ == o.macro_;
    default: return false;
  }
}

}  // namespace jinja
}  // namespace edgeformer
