/* The public header compiled as strict C99 (-std=c99 -pedantic -Werror), linked against the
 * shared library: every function of the API is referenced, and the default params are checked,
 * so a declaration C cannot compile or a symbol the library does not export fails the build or
 * the test. (The C++ side: every C++ test includes the same header.) */
#include "edgeformer.h"

#include <stdio.h>
#include <string.h>

typedef void (*any_fn)(void);

int main(void) {
  /* Every function of edgeformer.h; scripts/check-exports.sh checks the list is complete. */
  const any_fn api[] = {
      (any_fn)edgeformer_status_name,          (any_fn)edgeformer_last_error,
      (any_fn)edgeformer_model_default_params, (any_fn)edgeformer_model_load,
      (any_fn)edgeformer_model_load_from_memory, (any_fn)edgeformer_model_destroy,
      (any_fn)edgeformer_model_get_info,       (any_fn)edgeformer_tokenize,
      (any_fn)edgeformer_token_piece,          (any_fn)edgeformer_session_default_params,
      (any_fn)edgeformer_session_create,       (any_fn)edgeformer_session_destroy,
      (any_fn)edgeformer_session_prefill,      (any_fn)edgeformer_session_prefill_logits,
      (any_fn)edgeformer_session_logits,       (any_fn)edgeformer_session_position,
      (any_fn)edgeformer_session_reset,        (any_fn)edgeformer_session_truncate,
      (any_fn)edgeformer_session_cancel,       (any_fn)edgeformer_sampler_default_params,
      (any_fn)edgeformer_generate_default_params, (any_fn)edgeformer_generate,
      (any_fn)edgeformer_session_get_info,     (any_fn)edgeformer_version,
      (any_fn)edgeformer_embed_default_params, (any_fn)edgeformer_embed,
      (any_fn)edgeformer_embed_texts,          (any_fn)edgeformer_encode,
      (any_fn)edgeformer_model_chat_template,  (any_fn)edgeformer_chat_format,
      (any_fn)edgeformer_model_end_tokens,     (any_fn)edgeformer_session_tokens,
      (any_fn)edgeformer_model_weights,        (any_fn)edgeformer_encode_source,
      (any_fn)edgeformer_beam_default_params,  (any_fn)edgeformer_generate_beam,
  };
  int failures = 0;
  size_t i;
  for (i = 0; i < sizeof(api) / sizeof(api[0]); ++i) failures += api[i] == NULL;

  edgeformer_model_params mp = edgeformer_model_default_params();
  edgeformer_session_params sp = edgeformer_session_default_params();
  edgeformer_generate_params gp = edgeformer_generate_default_params();
  failures += mp.verify_checksums != 0 || mp.memory_budget != 0;
  failures += sp.n_threads != 1 || sp.threadpool != NULL || sp.backend != EDGEFORMER_BACKEND_AUTO;
  failures += gp.max_tokens != 128 || gp.stop_at_end_of_text != 1;
  /* Enums are int-sized, so any int an app stores is a value the library can check. */
  failures += sizeof(edgeformer_kv_type) != sizeof(int) || sizeof(edgeformer_backend) != sizeof(int);
  failures += sizeof(edgeformer_pooling) != sizeof(int) || sizeof(edgeformer_family) != sizeof(int);
  failures += sizeof(edgeformer_early_stopping) != sizeof(int);
  {
    edgeformer_embed_params ep = edgeformer_embed_default_params();
    failures += ep.pooling != EDGEFORMER_POOLING_MODEL || ep.normalize != -1;
  }
  /* Bad calls return a status and a message; nothing aborts. */
  edgeformer_model* model = NULL;
  failures += edgeformer_model_load(NULL, NULL, &model) != EDGEFORMER_INVALID_ARGUMENT || model != NULL;
  failures += edgeformer_last_error()[0] == '\0';
  /* The library is the version of its header. */
  {
    char expected[32];
    snprintf(expected, sizeof(expected), "%d.%d.%d", EDGEFORMER_VERSION_MAJOR, EDGEFORMER_VERSION_MINOR,
             EDGEFORMER_VERSION_PATCH);
    failures += strcmp(edgeformer_version(), expected) != 0;
  }
  failures += edgeformer_session_reset(NULL) != EDGEFORMER_INVALID_ARGUMENT;
  edgeformer_model_destroy(NULL);
  edgeformer_session_destroy(NULL);
  edgeformer_session_cancel(NULL);
  printf("%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
