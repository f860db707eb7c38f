/*
 * fuzz_ext_digest.c: tests/fuzz/fuzz_digest.c (written by the module's owner)
 * compiled into the unit tests with its entry point renamed
 * fuzz_one_digest, so test_fuzz_regressions replays saved inputs through
 * exactly the code the libFuzzer target runs.  Until that file exists,
 * fuzz_one_digest does nothing and fuzz_present_digest is false.
 */
#include "fuzz_targets.h"

#if defined(__has_include) && __has_include("../../fuzz/fuzz_digest.c")
#define LLVMFuzzerTestOneInput	fuzz_one_digest
#define LLVMFuzzerInitialize	fuzz_init_digest
#include "../../fuzz/fuzz_digest.c"
#undef LLVMFuzzerTestOneInput
#undef LLVMFuzzerInitialize

const bool fuzz_present_digest = true;
#else
const bool fuzz_present_digest = false;

int
fuzz_one_digest(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
#endif
