/*
 * fuzz_ext_mail_header.c: tests/fuzz/fuzz_mail_header.c (written by the module's owner)
 * compiled into the unit tests with its entry point renamed
 * fuzz_one_mail_header, so test_fuzz_regressions replays saved inputs through
 * exactly the code the libFuzzer target runs.  Until that file exists,
 * fuzz_one_mail_header does nothing and fuzz_present_mail_header is false.
 */
#include "fuzz_targets.h"

#if defined(__has_include) && __has_include("../../fuzz/fuzz_mail_header.c")
#define LLVMFuzzerTestOneInput	fuzz_one_mail_header
#define LLVMFuzzerInitialize	fuzz_init_mail_header
#include "../../fuzz/fuzz_mail_header.c"
#undef LLVMFuzzerTestOneInput
#undef LLVMFuzzerInitialize

const bool fuzz_present_mail_header = true;
#else
const bool fuzz_present_mail_header = false;

int
fuzz_one_mail_header(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
#endif
