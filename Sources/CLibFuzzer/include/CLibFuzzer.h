#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt `FuzzerInterface.h`): parses libFuzzer's flags from argv and runs `callback` on
/// every input. Only a `-sanitize=fuzzer` build links libFuzzer, so only `switchboard-fuzz` built with `-DFUZZING`
/// calls it; SwiftPM names every Swift executable's entry point itself, so libFuzzer's own `main` cannot be used.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
