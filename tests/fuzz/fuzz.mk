# tests/fuzz/fuzz.mk: libFuzzer builds, included by the top Makefile (or
# `make -f Makefile -f tests/fuzz/fuzz.mk`).  Everything goes to
# $(FUZZ_BUILD): the library again with clang and coverage instrumentation,
# one binary per tests/fuzz/fuzz_NAME.c, the corpora (made by run.sh).
#
#   make fuzz-build                  every target
#   make build-fuzz/fuzz_feed        one
#   make fuzz FUZZ_SECONDS=20        build, run each, summary (run.sh)
#   make fuzz-clean

FUZZ_BUILD ?= build-fuzz
FUZZ_CC    ?= clang
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
# FUZZ_RECOVER=pointer-overflow,...: let those UBSan checks report and go
# on (with FUZZ_BUILD set elsewhere), to fuzz past a known, unfixed report.
ifneq ($(FUZZ_RECOVER),)
FUZZ_SAN   += -fsanitize-recover=$(FUZZ_RECOVER)
endif
FUZZ_CFLAGS := -std=c11 -O1 -g $(filter-out -Werror,$(WARN)) $(FUZZ_SAN) \
               -fsanitize=fuzzer-no-link -MMD -MP
FUZZ_LDFLAGS := -fsanitize=fuzzer $(FUZZ_SAN)

FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES   := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_BIN     := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIB     := $(FUZZ_BUILD)/libpaperwatch.a
# The shared per-target code (also linked into the unit tests).
FUZZ_HELPER  := $(FUZZ_BUILD)/obj/tests/unit/helpers/fuzz_targets.o

.PHONY: fuzz-build fuzz-clean
.SECONDARY: $(FUZZ_LIB_OBJ) $(FUZZ_HELPER) \
    $(FUZZ_NAMES:%=$(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o)

fuzz-build: $(FUZZ_BIN)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_HELPER) \
    $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $< $(FUZZ_HELPER) $(FUZZ_LIB) \
	  $(LDLIBS)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)

# The unit tests compile the other owners' targets in through
# tests/unit/helpers/fuzz_ext_NAME.c (for the regression replay): rebuild
# those objects when tests/fuzz/fuzz_NAME.c appears or changes.
FUZZ_EXT := query render mail_header digest
$(foreach t,$(FUZZ_EXT),$(eval \
  $(BUILD)/obj/tests/unit/helpers/fuzz_ext_$(t).o: \
    $(wildcard tests/fuzz/fuzz_$(t).c)))
