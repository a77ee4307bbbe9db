#pragma once
// Properties a fuzz target asserts about the code under test. A broken one is a finding like
// a sanitizer report: it prints what was expected and aborts, and the driver (libFuzzer or
// replay_main.cpp) saves the input that did it.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)
