/* Embeds edgeformer the way an app does, through the public C API only: loads a model, streams a
 * completion of a prompt to stdout as it is generated, and prints tokens/s to stderr.
 *
 *   complete MODEL.edgf "Once upon a time" [max_tokens] [threads]
 *
 * Built against the installed package (examples/CMakeLists.txt: find_package(edgeformer)) or
 * with pkg-config:  cc complete.c $(pkg-config --cflags --libs edgeformer) -o complete
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime in strict C99 */

#include <edgeformer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Prints each token's text as it comes; returning 1 asks for the next token. */
static int print_piece(void* user_data, int32_t token, const char* piece, size_t piece_len) {
  (void)token;
  fwrite(piece, 1, piece_len, (FILE*)user_data);
  fflush((FILE*)user_data);
  return 1;
}

static int fail(const char* what, edgeformer_status status) {
  fprintf(stderr, "complete: %s: %s (%s)\n", what, edgeformer_last_error(), edgeformer_status_name(status));
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL PROMPT [max_tokens] [threads]\n", argv[0]);
    return 2;
  }
  const char* prompt = argv[2];
  edgeformer_model* model = NULL;
  edgeformer_status st = edgeformer_model_load(argv[1], NULL, &model);
  if (st != EDGEFORMER_OK) return fail("cannot load the model", st);

  edgeformer_session_params sp = edgeformer_session_default_params();
  if (argc > 4) sp.n_threads = (uint32_t)atoi(argv[4]);
  edgeformer_session* session = NULL;
  st = edgeformer_session_create(model, &sp, &session);
  if (st != EDGEFORMER_OK) {
    edgeformer_model_destroy(model);
    return fail("cannot create a session", st);
  }

  /* Ask for the number of ids first, then encode into a buffer of that size. */
  size_t n_ids = 0;
  st = edgeformer_tokenize(model, prompt, strlen(prompt), EDGEFORMER_TOKENIZE_ADD_SPECIAL, NULL, 0, &n_ids);
  int32_t* ids = (int32_t*)malloc((n_ids ? n_ids : 1) * sizeof(int32_t));
  if (ids != NULL) st = edgeformer_tokenize(model, prompt, strlen(prompt), EDGEFORMER_TOKENIZE_ADD_SPECIAL, ids, n_ids, &n_ids);
  int rc = 0;
  if (ids == NULL || st != EDGEFORMER_OK) {
    rc = ids == NULL ? 1 : fail("cannot tokenize the prompt", st);
  } else {
    fputs(prompt, stdout);
    const double t0 = now_seconds();
    st = edgeformer_session_prefill(session, ids, n_ids);
    const double t1 = now_seconds();
    edgeformer_generate_params gp = edgeformer_generate_default_params();
    gp.max_tokens = argc > 3 ? (uint32_t)atoi(argv[3]) : 64;
    gp.sampler.temperature = 0.0f; /* greedy: the same text every run */
    size_t n_generated = 0;
    edgeformer_stop_reason why = EDGEFORMER_STOP_MAX_TOKENS;
    if (st == EDGEFORMER_OK) st = edgeformer_generate(session, &gp, print_piece, stdout, &n_generated, &why);
    const double t2 = now_seconds();
    fputc('\n', stdout);
    if (st != EDGEFORMER_OK && st != EDGEFORMER_CONTEXT_FULL) {
      rc = fail("generation failed", st);
    } else {
      fprintf(stderr, "prompt: %zu tokens, %.1f tokens/s; generated: %zu tokens, %.1f tokens/s\n", n_ids,
              t1 > t0 ? (double)n_ids / (t1 - t0) : 0.0, n_generated,
              t2 > t1 ? (double)n_generated / (t2 - t1) : 0.0);
    }
  }
  free(ids);
  edgeformer_session_destroy(session);
  edgeformer_model_destroy(model);
  return rc;
}
