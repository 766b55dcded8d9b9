// Added tokens (tokenizer.json's added_tokens) found in text as Hugging Face tokenizers'
// AddedVocabulary finds them: leftmost-longest matches, scanning on after each match; a match of
// a special token is skipped when special tokens are not parsed, one of a single_word token when
// a word character (\w) touches it; lstrip takes the White_Space before the match (not past the
// previous match), rstrip the White_Space after it.
//
// Ownership: the matcher copies the token texts. Thread safety: immutable after Build.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgeformer {

struct AddedTokenSpec {
  int32_t id = -1;
  std::string text;  // not empty
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

class AddedTokenMatcher {
 public:
  void Build(const std::vector<AddedTokenSpec>& tokens);
  bool empty() const { return tokens_.empty(); }

  // A part of the text: an added token (id >= 0) or the text between tokens (id -1).
  struct Part {
    size_t begin, end;
    int32_t id;
  };
  // Appends the parts of `text`, in order, covering it (empty text gives no parts).
  void Split(std::string_view text, bool parse_special, std::vector<Part>* parts) const;

 private:
  // The longest token that `text` has at `at`: its length (0 when none) and *token its index.
  size_t LongestAt(std::string_view text, size_t at, size_t* token) const;

  struct Node {
    std::vector<std::pair<uint8_t, uint32_t>> children;  // by byte, sorted
    int32_t token = -1;                                  // index of the token ending here
  };
  std::vector<Node> nodes_;
  std::vector<AddedTokenSpec> tokens_;
};

}  // namespace edgeformer
