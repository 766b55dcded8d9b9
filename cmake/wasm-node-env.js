// Prepended (--pre-js) to the wasm build's node executables (cmake/wasm.cmake): Emscripten 3.1.6
// gives a program only its default environment, so EDGEFORMER_MAX_ISA, EDGEFORMER_SHARED,
// EDGEFORMER_REQUIRE_SHARED and the like would be ignored. Copies node's environment in before
// main runs.
Module['preRun'] = Module['preRun'] || [];
Module['preRun'].push(function () { Object.assign(ENV, process.env); });
