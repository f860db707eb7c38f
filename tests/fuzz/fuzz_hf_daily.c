/*
 * fuzz_hf_daily.c: libFuzzer target for the Hugging Face Daily Papers JSON parser (type forced).
 * The work and the invariants live in tests/unit/helpers/fuzz_targets.c,
 * shared with the regression replay in make check.  Build and run:
 * make fuzz (tests/fuzz/run.sh), or make fuzz-build and
 * build-fuzz/fuzz_hf_daily CORPUS_DIR.
 */
#include <stddef.h>
#include <stdint.h>

#include "tests/unit/helpers/fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one_hf_daily(data, size);
}
