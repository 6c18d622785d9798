/* Deterministic integer workloads, compiled twice: into a multiboot guest
 * (run by jitterbug) and into a native 32-bit Linux program. Both print the
 * same report, so their outputs must match byte for byte. */
#ifndef JITTERBUG_WORKLOADS_H
#define JITTERBUG_WORKLOADS_H

#include <stdint.h>

typedef void (*report_fn)(const char* name, uint32_t value);

/* Runs every workload, or only the one named `only` (NULL or "" for all);
 * `scale` multiplies the amount of work. Returns the number run. */
int run_workloads(uint32_t scale, const char* only, report_fn report);

#endif
