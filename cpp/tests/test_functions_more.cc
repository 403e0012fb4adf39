// A second translation unit of the test library: it includes the same headers (so it emits
// the inline C entry point again; the linker keeps one) and registers more functions.

#include <string>

#include "test_functions.h"

std::string Shout(std::string text) {
  for (auto &c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

RAY_REMOTE(Shout);

// The same function registered again (as a RAY_REMOTE in a shared header would): a no-op.
int Plus(int a, int b);
RAY_REMOTE(Plus);
