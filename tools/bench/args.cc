#include "tools/bench/bench.h"
#include "tools/common/cli.h"

namespace edgeformer {
namespace bench {

int ParseArgs(int argc, const char* const* argv, Config* c, std::FILE* out, std::FILE* err) {
  CLI::App app{"edgeformer-bench: load time, time to first token, prefill and decode speed, memory and "
               "memory-bandwidth use of a model on this machine"};
  app.add_option("model", c->model_path, "model file made by edgeformer-convert")->required();
  app.add_option("-p,--n-prompt", c->n_prompt, "prompt lengths for prefill tests (pp); 0 skips them")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-n,--n-gen", c->n_gen, "tokens for decode tests (tg); 0 skips them")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-t,--threads", c->threads, "thread counts")
      ->delimiter(',')
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("-r,--repetitions", c->repetitions, "timed repetitions per test, after the warm-ups")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--warmup", c->warmups,
                 "untimed runs of each test before its repetitions (JIT engines such as WebAssembly under node compile "
                 "hot code better while it runs: give them more)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("-d,--depth", c->depth, "KV-cache depths filled before each test")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--isa", c->isa, "kernel ISAs: auto (the best the CPU has), reference, avx2, avxvnni, avx512vnni, amx, neon, neondot, i8mm")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--backend", c->backend, "float matmul backends: native, xnnpack, auto")
      ->delimiter(',')
      ->check(CLI::IsMember({"native", "xnnpack", "auto"}))
      ->capture_default_str();
  app.add_option("--kv-type", c->kv_type, "KV cache storage: f32, f16, int8")
      ->delimiter(',')
      ->check(CLI::IsMember({"f32", "f16", "int8"}))
      ->capture_default_str();
  app.add_option("-o,--output", c->output, "output format: md, csv or json (JSON lines)")
      ->check(CLI::IsMember({"md", "csv", "json"}))
      ->capture_default_str();
  app.add_flag("--profile", c->profile, "time every operator kind per phase");
  app.add_flag("--no-huge-pages", c->no_huge_pages,
               "keep the KV caches on ordinary pages (the session's huge_pages = 0; default: 2 MiB pages where the "
               "OS has them)");
  app.add_option("--background-load", c->background_load,
                 "busy threads to run beside every test, as other apps load a phone")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  app.add_option("--embed-batch", c->embed_batch,
                 "encoders: texts embedded per call in the embN tests (N = each -p length)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--draft", c->draft_path,
                 "speculative decoding with this draft model (the same tokenizer): each tgN also runs after "
                 "--prompt-file's text, plain and speculative, with the acceptance");
  app.add_option("--draft-tokens", c->draft_tokens, "with --draft: proposals per pass (0 = adaptive)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  app.add_option("--lookup", c->lookup_tokens, "prompt lookup of up to N tokens, measured as --draft is")
      ->check(CLI::Range(0, 64));
  app.add_option("--prompt-file", c->prompt_file, "with --draft or --lookup: the text the decode tests continue");
  app.add_option("--verify", c->verify,
                 "also run pvK for each K: a pass verifying K proposals (K + 1 rows, every row's logits) "
                 "against a one-row step from the same context, paired in each repetition")
      ->delimiter(',')
      ->check(CLI::Range(1, 63));
  app.add_flag("--restore", c->restore,
               "also run each prompt test of a decoder as rsN: the prompt's session state restored from a file "
               "(edgeformer_session_load, from the page cache) instead of prefilled");
  app.add_option("--beam", c->beams,
                 "also run each decode test as a beam search of this many beams (tgN-beamK: tokens/s per output "
                 "token, every beam's step together); 0: none")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  app.add_option("--sessions", c->sessions,
                 "sessions running each test at the same time, one app thread each (figures per session; "
                 "wall time from the common start to the last end)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  uint64_t read_buffer_mib = 0;
  app.add_option("--read-buffer-mib", read_buffer_mib,
                 "size of the bandwidth test's buffer (default: 8 x the last-level cache, 256 MiB to 2 GiB)");
  cli::AddVersion(app, "edgeformer-bench");
  const int parsed = cli::Parse(app, argc, argv, "edgeformer-bench", out, err);
  if (parsed == cli::kExitOk) return -1;  // help or version printed
  if (parsed > 0) return parsed;
  c->read_buffer_bytes = read_buffer_mib << 20;
  c->fit_to_context = app.count("--n-prompt") == 0 && app.count("--n-gen") == 0;
  if (std::all_of(c->n_prompt.begin(), c->n_prompt.end(), [](uint32_t v) { return v == 0; }) &&
      std::all_of(c->n_gen.begin(), c->n_gen.end(), [](uint32_t v) { return v == 0; }) && c->verify.empty()) {
    std::fprintf(err, "edgeformer-bench: nothing to run: every -p and -n value is 0\n");
    return cli::kExitUsage;
  }
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
  if (c->sessions > 1 || c->background_load > 0) {
    std::fprintf(err, "edgeformer-bench: --sessions and --background-load need threads, which this build "
                      "(WebAssembly) has not\n");
    return cli::kExitUsage;
  }
#endif
  return 0;
}

}  // namespace bench
}  // namespace edgeformer
