/*
 * fuzz_ext_render.c: tests/fuzz/fuzz_render.c (written by the module's owner)
 * compiled into the unit tests with its entry point renamed
 * fuzz_one_render, so test_fuzz_regressions replays saved inputs through
 * exactly the code the libFuzzer target runs.  Until that file exists,
 * fuzz_one_render does nothing and fuzz_present_render is false.
 */
#include "fuzz_targets.h"

#if defined(__has_include) && __has_include("../../fuzz/fuzz_render.c")
#define LLVMFuzzerTestOneInput	fuzz_one_render
#define LLVMFuzzerInitialize	fuzz_init_render
#include "../../fuzz/fuzz_render.c"
#undef LLVMFuzzerTestOneInput
#undef LLVMFuzzerInitialize

const bool fuzz_present_render = true;
#else
const bool fuzz_present_render = false;

int
fuzz_one_render(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
#endif
