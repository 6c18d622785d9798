/* The integer workloads as a native 32-bit Linux program, for comparison:
 * prints the same report as the guest, in the same format. */
#include <stdio.h>
#include <stdlib.h>

#include "workloads/workloads.h"

static void report(const char* name, uint32_t value) { printf("%s: 0x%08x\r\n", name, value); }

int main(int argc, char** argv) {
    const unsigned scale = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1;
    run_workloads(scale ? scale : 1, argc > 2 ? argv[2] : NULL, report);
    return 0;
}
