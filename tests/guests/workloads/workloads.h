/* Deterministic integer workloads, compiled twice: into a multiboot guest
 * (run by jitterbug) and into a native 32-bit Linux program. Both print the
 * same report, so their outputs must match byte for byte. */
#ifndef JITTERBUG_WORKLOADS_H
#define JITTERBUG_WORKLOADS_H

#include <stdint.h>

typedef void (*report_fn)(const char* name, uint32_t value);

/* Runs every workload; `scale` multiplies the amount of work. */
void run_workloads(uint32_t scale, report_fn report);

#endif
