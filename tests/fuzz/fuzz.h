/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what every libFuzzer target in tests/fuzz/ shares: the entry
 * point's prototype (for -Wmissing-prototypes) and CHECK, which traps when
 * an invariant the target checks does not hold, so libFuzzer records the
 * input as a crash.  How to run a target: docs/fuzzing.md.
 */
#ifndef MIGLAB_FUZZ_H
#define MIGLAB_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                     \
    do {                                                                \
        if (!(cond))                                                    \
            __builtin_trap();                                           \
    } while (0)

/*
 * Whether the input names /dev, /proc or /sys anywhere.  Targets whose
 * parsers open files the input names (trace workloads) skip such inputs,
 * so a run can never read a device or an endless file.
 */
static inline bool fuzz_names_special_file(const uint8_t *data, size_t size)
{
    static const char *const special[] = { "/dev", "/proc", "/sys" };

    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (memmem(data, size, special[i], strlen(special[i])))
            return true;
    return false;
}

#endif
