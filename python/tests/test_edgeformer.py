"""The Python binding against the native tools and its own contract: generation equals
edgeformer-run's text for the same model and prompt (greedy, and sampled with a seed), stream()
equals generate() and stops when left, logits agree with the generated ids, bad model files and
closed handles raise EdgeformerError (never crash the interpreter), the ctypes structs match the
C header's layout (checked with a C compiler), and `pip install` of the package works offline.

Needs a build tree: EDGEFORMER_BUILD_DIR (default: build/ beside python/), whose tools make the
test models (edgeformer-synth: random weights with a tokenizer, fine for equality with the native
tool), and the shared library (EDGEFORMER_LIBRARY, or found in the build tree).
"""

import ctypes
import os
import pathlib
import shutil
import subprocess
import sys
import venv

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("EDGEFORMER_BUILD_DIR", REPO / "build"))
sys.path.insert(0, str(REPO / "python"))

import edgeformer  # noqa: E402
from edgeformer import _capi  # noqa: E402


def tool(*parts):
    path = BUILD.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not built")
    return str(path)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    subprocess.run([tool("tools", "edgeformer-synth"), "--shape", "tiny", "--seed", "3", "-o", str(d / "m.bin"),
                    "--tokenizer-output", str(d / "tok.bin")], check=True, capture_output=True)
    out = d / "m.edgf"
    subprocess.run([tool("converter", "edgeformer-convert"), str(d / "m.bin"), "--tokenizer", str(d / "tok.bin"),
                    "--quant", "int8", "-o", str(out)], check=True, capture_output=True)
    return str(out)


@pytest.fixture()
def model(model_path):
    with edgeformer.Model(model_path) as m:
        yield m


def run_native(model_path, prompt, *args):
    result = subprocess.run([tool("tools", "edgeformer-run"), model_path, "-p", prompt, *args], check=True,
                            capture_output=True)
    return result.stdout.decode("utf-8", "replace")


PROMPTS = ["Once upon a time", "The best way to predict the future", "a"]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_generation_equals_edgeformer_run(model, model_path, prompt):
    text = model.generate(prompt, max_tokens=24, temperature=0)
    assert run_native(model_path, prompt, "-n", "24", "--temperature", "0") == prompt + text + "\n"
    session = model.session()
    got = [i for i, _ in session.generate_ids(prompt, max_tokens=24, temperature=0)]
    native = run_native(model_path, prompt, "-n", "24", "--temperature", "0", "--print-ids").strip()
    assert ",".join(map(str, got)) == native


def test_sampled_generation_equals_edgeformer_run_for_a_seed(model, model_path):
    text = model.generate("Once upon", max_tokens=30, temperature=0.9, top_p=0.95, seed=7)
    native = run_native(model_path, "Once upon", "-n", "30", "--temperature", "0.9", "--top-p", "0.95", "--seed", "7")
    assert native == "Once upon" + text + "\n"


def test_stream_equals_generate_and_stops_when_left(model):
    whole = model.generate("Once upon a time", max_tokens=20, temperature=0)
    assert "".join(model.stream("Once upon a time", max_tokens=20, temperature=0)) == whole
    session = model.session()
    pieces = []
    for piece in session.stream("Once upon a time", max_tokens=20, temperature=0):
        pieces.append(piece)
        if len(pieces) == 3:
            break
    assert session.stop_reason == "callback"
    assert whole.startswith("".join(pieces))
    # The session is usable afterwards: the stopped generation left its context consistent.
    assert session.position > 0
    assert isinstance(session.generate(None, max_tokens=2, temperature=0), str)


def test_logits_give_the_greedy_token(model):
    session = model.session()
    session.prefill("Once upon a time")
    logits = session.logits()
    assert len(logits) == model.info["vocab_size"]
    best = max(range(len(logits)), key=lambda i: logits[i])
    first = session.generate_ids(None, max_tokens=1, temperature=0)
    assert first[0][0] == best


def test_tokenize_round_trips_and_matches_the_session(model):
    ids = model.tokenize("Hello, world")
    assert ids[0] == model.info["bos_id"]
    assert model.detokenize(ids[1:]).strip() == "Hello, world"
    assert model.tokenize("Hello, world", add_special=False) == ids[1:]
    session = model.session()
    session.prefill(ids)
    assert session.tokens() == ids


def test_bad_model_files_raise(tmp_path, model_path):
    with pytest.raises(edgeformer.EdgeformerError) as missing:
        edgeformer.Model(tmp_path / "nope.edgf")
    assert missing.value.status == edgeformer.IO_ERROR
    data = pathlib.Path(model_path).read_bytes()
    for bad in (b"", b"EDGF" + b"\0" * 60, data[: len(data) // 2], data[:64] + bytes(64) + data[128:]):
        path = tmp_path / "bad.edgf"
        path.write_bytes(bad)
        with pytest.raises(edgeformer.EdgeformerError) as err:
            edgeformer.Model(path)
        assert err.value.status in (edgeformer.INVALID_MODEL, edgeformer.IO_ERROR)
        assert err.value.message
        with pytest.raises(edgeformer.EdgeformerError):
            edgeformer.Model.from_bytes(bad)
    with edgeformer.Model.from_bytes(data) as m:
        assert m.generate("Once", max_tokens=5, temperature=0) == \
            edgeformer.Model(model_path).generate("Once", max_tokens=5, temperature=0)


def test_closed_handles_raise(model_path):
    m = edgeformer.Model(model_path)
    s = m.session()
    s.close()
    with pytest.raises(edgeformer.EdgeformerError, match="closed"):
        s.prefill([1, 2])
    with pytest.raises(edgeformer.EdgeformerError, match="closed"):
        s.generate("x")
    s2 = m.session()
    m.close()  # the session keeps the model alive
    assert isinstance(s2.generate("Once", max_tokens=3, temperature=0), str)
    with pytest.raises(edgeformer.EdgeformerError, match="closed"):
        m.tokenize("x")
    s2.close()
    s2.close()  # twice is fine


def test_refused_arguments_raise_with_the_library_message(model):
    session = model.session(context_length=16)
    with pytest.raises(edgeformer.EdgeformerError) as err:
        session.prefill(list(range(1, 40)))
    assert err.value.status == edgeformer.CONTEXT_FULL
    assert "positions" in err.value.message
    with pytest.raises(edgeformer.EdgeformerError):
        session.prefill([10 ** 6])  # outside the vocabulary
    with pytest.raises(edgeformer.EdgeformerError):
        model.session(kv_type="f8")
    assert session.position == 0


def test_structs_match_the_c_header(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to check the layouts with")
    lines = ["#include <stddef.h>", "#include <stdio.h>", '#include "edgeformer.h"', "int main(void) {"]
    for cname, struct in _capi.STRUCTS.items():
        lines.append(f'  printf("{cname} %zu\\n", sizeof({cname}));')
        for field, _ in struct._fields_:
            lines.append(f'  printf("{cname}.{field} %zu\\n", offsetof({cname}, {field}));')
    lines.append("  return 0;\n}")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run([cc, "-I", str(REPO / "runtime" / "include"), str(src), "-o", str(exe)], check=True)
    want = dict(line.rsplit(" ", 1) for line in subprocess.run([str(exe)], check=True, capture_output=True,
                                                                 text=True).stdout.splitlines())
    for cname, struct in _capi.STRUCTS.items():
        assert int(want[cname]) == ctypes.sizeof(struct), cname
        for field, _ in struct._fields_:
            assert int(want[f"{cname}.{field}"]) == getattr(struct, field).offset, f"{cname}.{field}"


def test_pip_installs_the_package_offline(tmp_path, model_path):
    env_dir = tmp_path / "venv"
    try:
        venv.create(env_dir, with_pip=True)
    except Exception as e:  # no ensurepip (python3-venv missing)
        pytest.skip(f"cannot make a venv: {e}")
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--quiet", str(REPO / "python")], check=True,
                   cwd=tmp_path)
    env = dict(os.environ, EDGEFORMER_LIBRARY=str(edgeformer._library()._name))
    code = ("import edgeformer, sys; m = edgeformer.Model(sys.argv[1]); "
            "print(m.generate('Once upon a time', max_tokens=12, temperature=0), end='')")
    out = subprocess.run([str(python), "-c", code, model_path], check=True, capture_output=True, text=True, env=env,
                         cwd=tmp_path)
    assert "site-packages" in subprocess.run([str(python), "-c", "import edgeformer; print(edgeformer.__file__)"],
                                             check=True, capture_output=True, text=True, env=env,
                                             cwd=tmp_path).stdout
    with edgeformer.Model(model_path) as m:
        assert out.stdout == m.generate("Once upon a time", max_tokens=12, temperature=0)


def test_the_readme_example_prints_what_edgeformer_run_prints(model_path):
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"), EDGEFORMER_LIBRARY=str(edgeformer._library()._name))
    out = subprocess.run([sys.executable, str(REPO / "python" / "examples" / "generate.py"), model_path,
                          "Once upon a time", "20"], check=True, capture_output=True, env=env)
    assert out.stdout.decode() == run_native(model_path, "Once upon a time", "-n", "20", "--temperature", "0")


def test_embeddings_of_a_batch_equal_each_alone(model):
    session = model.session()
    texts = ["Once upon a time", "a", "The best way to predict the future"]
    batch = session.embed(texts, pooling="mean", normalize=True)
    assert len(batch) == 3 and len(batch[0]) == model.info["dim"]
    for text, row in zip(texts, batch):
        alone = session.embed(text, pooling="mean", normalize=True)
        assert list(alone) == list(row)
        assert abs(sum(float(v) * float(v) for v in alone) - 1.0) < 1e-4
    assert list(batch[0]) != list(batch[1])


def test_a_stream_of_a_closed_session_raises_and_streams_are_independent(model_path):
    with edgeformer.Model(model_path) as m:
        s = m.session()
        it = s.stream("Once upon a time", max_tokens=5, temperature=0)
        s.close()
        with pytest.raises(edgeformer.EdgeformerError, match="closed"):
            next(it)
        a = m.stream("Once upon a time", max_tokens=8, temperature=0)
        b = m.stream("The best way", max_tokens=8, temperature=0)
        assert "".join(a) == m.generate("Once upon a time", max_tokens=8, temperature=0)
        assert "".join(b) == m.generate("The best way", max_tokens=8, temperature=0)
    it = edgeformer.Model(model_path).stream("Once", max_tokens=3, temperature=0)
    assert isinstance("".join(it), str)  # its own session keeps the closed model alive


def test_a_stream_that_fills_the_context_raises_after_its_text(model):
    session = model.session(context_length=len(model.tokenize("Once upon a time")) + 6)
    pieces = []
    with pytest.raises(edgeformer.EdgeformerError) as err:
        for piece in session.stream("Once upon a time", max_tokens=100, temperature=0, stop_at_end_of_text=False):
            pieces.append(piece)
    assert err.value.status == edgeformer.CONTEXT_FULL
    assert session.stop_reason == "context_full" and pieces


def test_cancel_and_close_during_a_generation_stop_it(model):
    # A stream's generation runs on a worker thread, waiting in its callback while the consumer
    # holds a piece: cancel() and close() then come from another thread than the C call's.
    session = model.session()
    it = session.stream("Once upon a time", max_tokens=100, temperature=0, stop_at_end_of_text=False)
    first = next(it)
    session.cancel()
    rest = list(it)
    assert session.stop_reason == "cancelled" and len(rest) <= 1 and first
    it = session.stream(None, max_tokens=100, temperature=0, stop_at_end_of_text=False)
    next(it)
    session.close()  # in use: cancels the generation; the memory goes when it returns
    list(it)
    assert session.stop_reason == "cancelled"
    with pytest.raises(edgeformer.EdgeformerError, match="closed"):
        session.position


def test_parameters_are_checked_not_wrapped(model):
    session = model.session()
    for kwargs in ({"max_tokens": -1}, {"top_k": -1}, {"seed": -5}, {"max_tokens": 2 ** 32}, {"lookup_tokens": 1.5}):
        with pytest.raises(edgeformer.EdgeformerError) as err:
            session.generate("x", **kwargs)
        assert err.value.status == edgeformer.INVALID_ARGUMENT
    with pytest.raises(edgeformer.EdgeformerError):
        model.session(n_threads=-1)
    with pytest.raises(edgeformer.EdgeformerError):
        session.truncate(-1)
    assert session.position == 0  # nothing was fed


def test_truncate_stop_strings_info_and_pickled_errors(model):
    import pickle
    session = model.session()
    whole = session.generate("Once upon a time", max_tokens=30, temperature=0)
    prompt = model.tokenize("Once upon a time")
    session.truncate(len(prompt) - 1)  # the logits go with the dropped tokens: feed the last again
    assert session.tokens() == prompt[:-1]
    assert session.generate(prompt[-1:], max_tokens=30, temperature=0) == whole  # the same continuation
    if len(whole) > 6:
        stop = whole[3:6]
        session.reset()
        cut = session.generate("Once upon a time", max_tokens=30, temperature=0, stop=[stop])
        assert session.stop_reason == "stop_string" and cut == whole[:whole.index(stop)]
    info = session.info
    assert info["n_threads"] == 1 and info["isa"] and info["allocated_bytes"] > 0
    e = pickle.loads(pickle.dumps(edgeformer.EdgeformerError(edgeformer.BUSY, "x")))
    assert e.status == edgeformer.BUSY and e.message == "x"


def shared_checkpoints():
    """The real llama2.c checkpoints with tokenizers under EDGEFORMER_SHARED (default ../shared)."""
    root = pathlib.Path(os.environ.get("EDGEFORMER_SHARED", REPO.parent / "shared")) / "models"
    return sorted(d for d in root.glob("*") if (d / "model.bin").exists() and (d / "tokenizer.bin").exists())


@pytest.mark.parametrize("checkpoint", shared_checkpoints(), ids=lambda d: d.name)
def test_real_checkpoints_generate_what_edgeformer_run_does(checkpoint, tmp_path):
    # Real trained weights and tokenizers, and prompts beyond the synthetic model's: non-ASCII
    # text (byte fallback), a line of the checkpoint's own validation text, an empty-ish prompt.
    out = tmp_path / "real.edgf"
    subprocess.run([tool("converter", "edgeformer-convert"), str(checkpoint / "model.bin"), "--tokenizer",
                    str(checkpoint / "tokenizer.bin"), "--quant", "int8", "-o", str(out)], check=True,
                   capture_output=True)
    prompts = ["Café — naïve 東京 🙂", " ", "Once upon a time, there was"]
    validation = checkpoint / "validation.txt"
    if validation.exists():
        prompts.append(next(line for line in validation.read_text().splitlines() if len(line) > 20)[:80])
    with edgeformer.Model(out) as m:
        for prompt in prompts:
            text = m.generate(prompt, max_tokens=40, temperature=0)
            assert run_native(str(out), prompt, "-n", "40", "--temperature", "0") == prompt + text + "\n", prompt
            sampled = m.generate(prompt, max_tokens=20, temperature=1.0, seed=3)
            native = run_native(str(out), prompt, "-n", "20", "--temperature", "1", "--seed", "3")
            assert native == prompt + sampled + "\n", prompt
            # (SentencePiece's pieces carry the text's leading space: compared without it)
            assert m.detokenize(m.tokenize(prompt, add_special=False)).strip() == prompt.strip()
