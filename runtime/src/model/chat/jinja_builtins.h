// The operators, filters, tests, methods and global functions of the chat-template language
// (model/chat/jinja.h), with Python's semantics. Internal to the jinja_*.cc files. Errors carry
// the message only; the caller adds the line.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "model/chat/jinja.h"

namespace edgeformer {
namespace jinja {

// obj[key] / obj.key: a dict's or namespace's entry, a list's or string's element (negative
// indexes from the end); undefined when there is none.
Value Item(const Value& obj, const Value& key);
// obj[start:stop:step] of a list or string, as Python slices.
Result<Value> Slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
// + - * / // % ** ~ == != < <= > >= in, "not in".
Result<Value> BinaryOp(const std::string& op, const Value& a, const Value& b);
// args[0] is the value filtered or tested; keyword arguments are the last kwarg_names.size() args.
Result<Value> ApplyFilter(const std::string& name, const std::vector<Value>& args,
                          const std::vector<std::string>& kwarg_names);
Result<Value> ApplyTest(const std::string& name, const std::vector<Value>& args);
// A string's, list's or dict's method.
Result<Value> CallMethod(const Value& obj, const std::string& name, const std::vector<Value>& args);
// range, namespace, raise_exception, strftime_now (formats `today`, "YYYY-MM-DD").
bool IsGlobalFunction(const std::string& name);
Result<Value> CallGlobal(const std::string& name, const std::vector<Value>& args,
                         const std::vector<std::pair<std::string, Value>>& kwargs, const std::string& today);

}  // namespace jinja
}  // namespace edgeformer
