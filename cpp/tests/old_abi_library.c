/* A library built against an older entry point (ABI version 1): the C++ runner must refuse
 * it with a clear reason, and go on with the other libraries of the code search path. */
#include <stdint.h>

__attribute__((visibility("default"))) uint32_t ray_cpp_abi_version(void) { return 1; }
