/*
 * fuzz_config.c: libFuzzer target for conf_load of the input written to a file under /tmp.
 * The work and the invariants live in tests/unit/helpers/fuzz_targets.c,
 * shared with the regression replay in make check.  Build and run:
 * make fuzz (tests/fuzz/run.sh), or make fuzz-build and
 * build-fuzz/fuzz_config CORPUS_DIR.
 */
#include <stddef.h>
#include <stdint.h>

#include "tests/unit/helpers/fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one_config(data, size);
}
