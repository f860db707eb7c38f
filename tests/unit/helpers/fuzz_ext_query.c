/*
 * fuzz_ext_query.c: tests/fuzz/fuzz_query.c (written by the module's owner)
 * compiled into the unit tests with its entry point renamed
 * fuzz_one_query, so test_fuzz_regressions replays saved inputs through
 * exactly the code the libFuzzer target runs.  Until that file exists,
 * fuzz_one_query does nothing and fuzz_present_query is false.
 */
#include "fuzz_targets.h"

#if defined(__has_include) && __has_include("../../fuzz/fuzz_query.c")
#define LLVMFuzzerTestOneInput	fuzz_one_query
#define LLVMFuzzerInitialize	fuzz_init_query
#include "../../fuzz/fuzz_query.c"
#undef LLVMFuzzerTestOneInput
#undef LLVMFuzzerInitialize

const bool fuzz_present_query = true;
#else
const bool fuzz_present_query = false;

int
fuzz_one_query(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
#endif
