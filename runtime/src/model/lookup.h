// Prompt lookup (n-gram) proposals for speculative decoding without a draft model: text that
// repeats its input (summaries, extraction, code edits) is proposed from the input itself.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgeformer {

// Proposes up to `max` tokens to follow seq[0, len): for n = max_ngram down to 1, the latest
// occurrence of seq's last n tokens that ends before the text does, and the tokens after it (at
// most max, at most up to len). The latest rather than transformers' first: it follows the
// text's current thread (measured: 51 of 63 proposals accepted against 44 of 276 on the tests'
// repeating models, 5 of 86 against 3 of 109 on fortunes2M). Returns how many it wrote into out[max]; 0 when nothing
// matches. O(len * max_ngram) compares; allocates nothing. Thread-safe (reads only seq).
size_t ProposeLookup(const int32_t* seq, size_t len, uint32_t max_ngram, size_t max, int32_t* out);

}  // namespace edgeformer
