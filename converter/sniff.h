// Names the format of a file that was given where another was expected, from its first bytes, so
// a refusal can say "this is a SentencePiece tokenizer.model" rather than only "not plausible".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace edgeformer {
namespace convert {

// A description such as "a SentencePiece tokenizer.model (protobuf)", or "" when the bytes match
// no format this function knows. `data` holds `size` bytes (the whole file or its start).
std::string SniffFormat(const uint8_t* data, size_t size);

}  // namespace convert
}  // namespace edgeformer
