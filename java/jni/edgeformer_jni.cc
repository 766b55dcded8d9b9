// The JNI functions of org.edgeformer.Native (java/src/org/edgeformer/Native.java) over the C API
// (runtime/include/edgeformer.h), the only header they use. Handles cross as jlong. A failed
// call throws org.edgeformer.EdgeformerException with the status and the library's message and
// returns a dummy value; nothing aborts on bad input (a null or closed handle is the Java side's
// to refuse; a null array or string is refused here).
#include <jni.h>

#include <cstdint>
#include <string>
#include <vector>

#include "edgeformer.h"

namespace {

edgeformer_model* AsModel(jlong h) { return reinterpret_cast<edgeformer_model*>(static_cast<intptr_t>(h)); }
edgeformer_session* AsSession(jlong h) { return reinterpret_cast<edgeformer_session*>(static_cast<intptr_t>(h)); }

// NewStringUTF takes modified UTF-8; the library's messages are UTF-8 from files, so bytes
// outside ASCII become '?' rather than risk a malformed string.
std::string Ascii(const char* s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  return out;
}

// Throws EdgeformerException(status, name, message), the message `message` or else the calling
// thread's last error (read here, after the failed call: pass the call's status, never the
// message, as an argument beside the call); true if it did (status not OK).
bool Throw(JNIEnv* env, edgeformer_status status, const char* message = nullptr) {
  if (status == EDGEFORMER_OK) return false;
  if (env->ExceptionCheck()) return true;  // the callback's exception goes first
  const std::string text_utf8 = Ascii(message != nullptr ? message : edgeformer_last_error());
  jclass cls = env->FindClass("org/edgeformer/EdgeformerException");
  if (cls == nullptr) return true;
  jmethodID ctor = env->GetMethodID(cls, "<init>", "(ILjava/lang/String;Ljava/lang/String;)V");
  if (ctor == nullptr) return true;
  jstring name = env->NewStringUTF(edgeformer_status_name(status));
  if (name == nullptr) return true;  // OutOfMemoryError pending
  jstring text = env->NewStringUTF(text_utf8.c_str());
  if (text == nullptr) return true;
  jobject e = env->NewObject(cls, ctor, static_cast<jint>(status), name, text);
  if (e != nullptr) env->Throw(static_cast<jthrowable>(e));
  return true;
}

bool ThrowIfNull(JNIEnv* env, const void* p, const char* what) {
  if (p != nullptr) return false;
  return Throw(env, EDGEFORMER_INVALID_ARGUMENT, (std::string(what) + " is null").c_str());
}

struct CallbackState {
  JNIEnv* env;
  jobject callback;  // may be null
  jmethodID on_token;
};

int OnToken(void* user, int32_t token, const char* piece, size_t len) {
  CallbackState* s = static_cast<CallbackState*>(user);
  if (s->callback == nullptr) return 1;
  JNIEnv* env = s->env;
  jbyteArray bytes = env->NewByteArray(static_cast<jsize>(len));
  if (bytes == nullptr) return 0;
  env->SetByteArrayRegion(bytes, 0, static_cast<jsize>(len), reinterpret_cast<const jbyte*>(piece));
  const jboolean go = env->CallBooleanMethod(s->callback, s->on_token, static_cast<jint>(token), bytes);
  env->DeleteLocalRef(bytes);
  if (env->ExceptionCheck()) return 0;  // stops; the exception reaches the caller
  return go ? 1 : 0;
}

}  // namespace

extern "C" {

JNIEXPORT jstring JNICALL Java_org_edgeformer_Native_version(JNIEnv* env, jclass) {
  return env->NewStringUTF(edgeformer_version());
}

JNIEXPORT jlong JNICALL Java_org_edgeformer_Native_modelLoad(JNIEnv* env, jclass, jbyteArray path) {
  if (ThrowIfNull(env, path, "path")) return 0;
  const jsize n = env->GetArrayLength(path);
  std::string p(static_cast<size_t>(n), '\0');
  env->GetByteArrayRegion(path, 0, n, reinterpret_cast<jbyte*>(&p[0]));
  if (p.find('\0') != std::string::npos) {
    Throw(env, EDGEFORMER_INVALID_ARGUMENT, "the path holds a NUL character");
    return 0;
  }
  edgeformer_model* model = nullptr;
  if (Throw(env, edgeformer_model_load(p.c_str(), nullptr, &model))) return 0;
  return static_cast<jlong>(reinterpret_cast<intptr_t>(model));
}

JNIEXPORT void JNICALL Java_org_edgeformer_Native_modelDestroy(JNIEnv*, jclass, jlong model) {
  edgeformer_model_destroy(AsModel(model));
}

JNIEXPORT jintArray JNICALL Java_org_edgeformer_Native_modelInfo(JNIEnv* env, jclass, jlong model) {
  edgeformer_model_info info;
  if (Throw(env, edgeformer_model_get_info(AsModel(model), &info))) return nullptr;
  const jint values[] = {static_cast<jint>(info.vocab_size), static_cast<jint>(info.dim),
                         static_cast<jint>(info.n_layers),   static_cast<jint>(info.max_seq_len),
                         info.bos_id,                        info.eos_id};
  jintArray out = env->NewIntArray(6);
  if (out != nullptr) env->SetIntArrayRegion(out, 0, 6, values);
  return out;
}

JNIEXPORT jintArray JNICALL Java_org_edgeformer_Native_tokenize(JNIEnv* env, jclass, jlong model, jbyteArray text,
                                                                jboolean add_special, jboolean parse_special) {
  if (ThrowIfNull(env, text, "text")) return nullptr;
  const jsize n = env->GetArrayLength(text);
  std::vector<char> bytes(static_cast<size_t>(n) + 1);
  env->GetByteArrayRegion(text, 0, n, reinterpret_cast<jbyte*>(bytes.data()));
  const int flags = (add_special ? EDGEFORMER_TOKENIZE_ADD_SPECIAL : 0) |
                    (parse_special ? EDGEFORMER_TOKENIZE_PARSE_SPECIAL : 0);
  std::vector<int32_t> ids(static_cast<size_t>(n) + 16);
  size_t count = 0;
  edgeformer_status st = edgeformer_tokenize(AsModel(model), bytes.data(), static_cast<size_t>(n), flags, ids.data(),
                                             ids.size(), &count);
  if (st == EDGEFORMER_INVALID_ARGUMENT && count > ids.size()) {
    ids.resize(count);
    st = edgeformer_tokenize(AsModel(model), bytes.data(), static_cast<size_t>(n), flags, ids.data(), ids.size(),
                             &count);
  }
  if (Throw(env, st)) return nullptr;
  jintArray out = env->NewIntArray(static_cast<jsize>(count));
  if (out != nullptr) env->SetIntArrayRegion(out, 0, static_cast<jsize>(count), reinterpret_cast<const jint*>(ids.data()));
  return out;
}

JNIEXPORT jbyteArray JNICALL Java_org_edgeformer_Native_tokenPiece(JNIEnv* env, jclass, jlong model, jint prev,
                                                                   jint token) {
  const char* piece = nullptr;
  size_t len = 0;
  if (Throw(env, edgeformer_token_piece(AsModel(model), prev, token, &piece, &len))) {
    return nullptr;
  }
  jbyteArray out = env->NewByteArray(static_cast<jsize>(len));
  if (out != nullptr) env->SetByteArrayRegion(out, 0, static_cast<jsize>(len), reinterpret_cast<const jbyte*>(piece));
  return out;
}

JNIEXPORT jlong JNICALL Java_org_edgeformer_Native_sessionCreate(JNIEnv* env, jclass, jlong model, jint n_threads,
                                                                 jint context_length, jint kv_type) {
  if (n_threads < 0 || context_length < 0) {
    Throw(env, EDGEFORMER_INVALID_ARGUMENT, "nThreads and contextLength must not be negative");
    return 0;
  }
  edgeformer_session_params p = edgeformer_session_default_params();
  p.n_threads = static_cast<uint32_t>(n_threads);
  p.context_length = static_cast<uint32_t>(context_length);
  p.kv_type = static_cast<edgeformer_kv_type>(kv_type);
  edgeformer_session* session = nullptr;
  if (Throw(env, edgeformer_session_create(AsModel(model), &p, &session))) {
    return 0;
  }
  return static_cast<jlong>(reinterpret_cast<intptr_t>(session));
}

JNIEXPORT void JNICALL Java_org_edgeformer_Native_sessionDestroy(JNIEnv*, jclass, jlong session) {
  edgeformer_session_destroy(AsSession(session));
}

JNIEXPORT void JNICALL Java_org_edgeformer_Native_prefill(JNIEnv* env, jclass, jlong session, jintArray tokens) {
  if (ThrowIfNull(env, tokens, "tokens")) return;
  const jsize n = env->GetArrayLength(tokens);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  env->GetIntArrayRegion(tokens, 0, n, reinterpret_cast<jint*>(ids.data()));
  Throw(env, edgeformer_session_prefill(AsSession(session), ids.data(), ids.size()));
}

JNIEXPORT jfloatArray JNICALL Java_org_edgeformer_Native_logits(JNIEnv* env, jclass, jlong session) {
  const float* logits = nullptr;
  size_t n = 0;
  if (Throw(env, edgeformer_session_logits(AsSession(session), &logits, &n))) {
    return nullptr;
  }
  jfloatArray out = env->NewFloatArray(static_cast<jsize>(n));
  if (out != nullptr) env->SetFloatArrayRegion(out, 0, static_cast<jsize>(n), logits);
  return out;
}

JNIEXPORT jint JNICALL Java_org_edgeformer_Native_position(JNIEnv*, jclass, jlong session) {
  return static_cast<jint>(edgeformer_session_position(AsSession(session)));
}

JNIEXPORT void JNICALL Java_org_edgeformer_Native_reset(JNIEnv* env, jclass, jlong session) {
  Throw(env, edgeformer_session_reset(AsSession(session)));
}

JNIEXPORT void JNICALL Java_org_edgeformer_Native_cancel(JNIEnv*, jclass, jlong session) {
  edgeformer_session_cancel(AsSession(session));
}

JNIEXPORT jint JNICALL Java_org_edgeformer_Native_generate(JNIEnv* env, jclass, jlong session, jint max_tokens,
                                                           jboolean stop_at_end, jfloat temperature, jint top_k,
                                                           jfloat top_p, jlong seed, jobject callback) {
  if (max_tokens < 0 || top_k < 0) {
    Throw(env, EDGEFORMER_INVALID_ARGUMENT, "maxTokens and topK must not be negative");
    return -1;
  }
  edgeformer_generate_params p = edgeformer_generate_default_params();
  p.max_tokens = static_cast<uint32_t>(max_tokens);
  p.stop_at_end_of_text = stop_at_end ? 1 : 0;
  p.sampler.temperature = temperature;
  p.sampler.top_k = static_cast<uint32_t>(top_k);
  p.sampler.top_p = top_p;
  p.sampler.seed = static_cast<uint64_t>(seed);
  CallbackState state{env, callback, nullptr};
  if (callback != nullptr) {
    jclass cls = env->GetObjectClass(callback);
    state.on_token = env->GetMethodID(cls, "onToken", "(I[B)Z");
    if (state.on_token == nullptr) return -1;  // NoSuchMethodError pending
  }
  size_t n = 0;
  edgeformer_stop_reason reason = EDGEFORMER_STOP_ERROR;
  const edgeformer_status st = edgeformer_generate(AsSession(session), &p, OnToken, &state, &n, &reason);
  if (env->ExceptionCheck()) return -1;  // the callback threw: rethrown as is
  if (Throw(env, st)) return -1;
  return static_cast<jint>(reason);
}

}  // extern "C"
