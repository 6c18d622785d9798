#include "workloads.h"

#include <stddef.h>

/* Plain loops only: the guest build has no C library, the native build uses
 * the same code so the two can be compared. */

static uint32_t rng_state;

static uint32_t next_random(void) {
    /* xorshift32 */
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

static uint32_t integer_mix(uint32_t rounds) {
    uint32_t a = 0x12345678u, b = 0x9abcdef0u, h = 0;
    int32_t s = -12345;
    for (uint32_t i = 0; i < rounds; ++i) {
        a = a * 1664525u + 1013904223u;
        b ^= a >> (i & 15);
        b = (b << 7) | (b >> 25);
        s = (int32_t)((uint32_t)s * 0xFFFFFFFDu + (a >> 16)); /* s * -3 + ..., wrapping */
        h += (a ^ b) + (uint32_t)(s >> 3);
        h ^= (b % 97u) + (uint32_t)((s / 7) % 13);
        if ((int32_t)h < 0) h = ~h + (i & 0xFF);
        h += (uint8_t)a * (uint16_t)b;
    }
    return h ^ a ^ b ^ (uint32_t)s;
}

#define SIEVE_SIZE (1u << 20)
static uint8_t sieve_flags[SIEVE_SIZE];

static uint32_t sieve(uint32_t limit) {
    if (limit > SIEVE_SIZE) limit = SIEVE_SIZE;
    for (uint32_t i = 0; i < limit; ++i)
        sieve_flags[i] = 1;
    sieve_flags[0] = sieve_flags[1] = 0;
    for (uint32_t i = 2; i * i < limit; ++i) {
        if (!sieve_flags[i]) continue;
        for (uint32_t j = i * i; j < limit; j += i)
            sieve_flags[j] = 0;
    }
    uint32_t count = 0;
    for (uint32_t i = 0; i < limit; ++i)
        count += sieve_flags[i];
    return count;
}

static uint32_t crc_table[256];

static uint32_t crc32(const uint8_t* data, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i)
        crc = crc_table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static uint8_t buffer_a[65536];
static uint8_t buffer_b[65536];

static uint32_t crc_workload(uint32_t rounds) {
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    rng_state = 0xC0FFEEu;
    for (size_t i = 0; i < sizeof buffer_a; ++i)
        buffer_a[i] = (uint8_t)next_random();
    uint32_t crc = 0;
    for (uint32_t r = 0; r < rounds; ++r)
        crc ^= crc32(buffer_a, sizeof buffer_a) + r;
    return crc;
}

static int32_t sort_data[20000];

static void quicksort(int32_t* v, int lo, int hi) {
    while (lo < hi) {
        const int32_t pivot = v[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                ++i;
            while (v[j] > pivot)
                --j;
            if (i <= j) {
                const int32_t t = v[i];
                v[i] = v[j];
                v[j] = t;
                ++i;
                --j;
            }
        }
        /* Recurse into the smaller half, loop on the larger. */
        if (j - lo < hi - i) {
            quicksort(v, lo, j);
            lo = i;
        } else {
            quicksort(v, i, hi);
            hi = j;
        }
    }
}

static uint32_t sort_workload(uint32_t n) {
    if (n > sizeof sort_data / sizeof sort_data[0]) n = sizeof sort_data / sizeof sort_data[0];
    rng_state = 0xBADC0DEu;
    for (uint32_t i = 0; i < n; ++i)
        sort_data[i] = (int32_t)next_random();
    quicksort(sort_data, 0, (int)n - 1);
    uint32_t h = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (i > 0 && sort_data[i - 1] > sort_data[i]) return 0xDEADu; /* not sorted */
        h = h * 31u + (uint32_t)sort_data[i];
    }
    return h;
}

static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

/* A small stack machine driven by a switch: the shape of an interpreter. */
enum { OP_PUSH, OP_ADD, OP_SUB, OP_MUL, OP_DUP, OP_SWAP, OP_JNZ, OP_DEC, OP_XOR, OP_HALT };

static uint32_t bytecode_workload(uint32_t iterations) {
    const uint32_t program[] = {
        OP_PUSH,
        0, /* accumulator */
        OP_PUSH,
        iterations, /* counter */
        /* loop (pc 4): */
        OP_SWAP,
        OP_PUSH,
        7,
        OP_MUL,
        OP_PUSH,
        3,
        OP_ADD,
        OP_PUSH,
        0x5A5A,
        OP_XOR,
        OP_SWAP,
        OP_DEC,
        OP_DUP,
        OP_JNZ,
        4,
        OP_HALT,
    };
    uint32_t stack[16];
    int sp = 0;
    uint32_t pc = 0;
    for (;;) {
        switch (program[pc++]) {
            case OP_PUSH:
                stack[sp++] = program[pc++];
                break;
            case OP_ADD:
                --sp;
                stack[sp - 1] += stack[sp];
                break;
            case OP_SUB:
                --sp;
                stack[sp - 1] -= stack[sp];
                break;
            case OP_MUL:
                --sp;
                stack[sp - 1] *= stack[sp];
                break;
            case OP_DUP:
                stack[sp] = stack[sp - 1];
                ++sp;
                break;
            case OP_SWAP: {
                uint32_t t = stack[sp - 1];
                stack[sp - 1] = stack[sp - 2];
                stack[sp - 2] = t;
                break;
            }
            case OP_JNZ: {
                uint32_t target = program[pc++];
                if (stack[--sp]) pc = target;
                break;
            }
            case OP_DEC:
                stack[sp - 1] -= 1;
                break;
            case OP_XOR:
                --sp;
                stack[sp - 1] ^= stack[sp];
                break;
            case OP_HALT:
                return stack[0] ^ stack[1];
            default:
                return 0xBADu;
        }
    }
}

static uint32_t memory_workload(uint32_t rounds) {
    uint32_t h = 0;
    for (uint32_t r = 0; r < rounds; ++r) {
        for (size_t i = 0; i < sizeof buffer_a; i += 4096)
            buffer_a[i] = (uint8_t)(r + i);
        /* Copies and fills of whole buffers: REP MOVS/STOS in the guest build. */
        for (size_t i = 0; i < sizeof buffer_b; ++i)
            buffer_b[i] = buffer_a[i];
        for (size_t i = 0; i < 1024; ++i)
            buffer_b[(i * 61 + r) % sizeof buffer_b] ^= (uint8_t)i;
        for (size_t i = 0; i < sizeof buffer_b; i += 64)
            h = h * 33u + buffer_b[i];
        for (size_t i = 0; i < sizeof buffer_a / 2; ++i)
            buffer_a[i] = (uint8_t)r;
    }
    return h;
}

static uint32_t wide_arithmetic(uint32_t rounds) {
    uint64_t x = 0x0123456789ABCDEFull, acc = 0;
    int64_t s = -987654321012345ll;
    for (uint32_t i = 0; i < rounds; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        acc += x / (uint64_t)(i + 3) + x % 1000003u;
        s = s / 3 + (int64_t)(x >> 20) - (s >> (i & 31));
        acc ^= (x << (i & 63)) | (x >> (63 - (i & 62)));
    }
    return (uint32_t)(acc ^ (acc >> 32)) ^ (uint32_t)s;
}

/* Large block copies and fills with the string instructions themselves. */
#define BULK_SIZE (1u << 20)
static uint32_t bulk_a[BULK_SIZE / 4];
static uint32_t bulk_b[BULK_SIZE / 4];

static uint32_t rep_movsd_workload(uint32_t rounds) {
    for (uint32_t i = 0; i < BULK_SIZE / 4; ++i) bulk_a[i] = i * 2654435761u;
    uint32_t h = 0;
    for (uint32_t r = 0; r < rounds; ++r) {
        void* dst = bulk_b;
        const void* src = bulk_a;
        uint32_t n = BULK_SIZE / 4;
        __asm__ volatile("cld; rep movsl" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
        bulk_a[r % (BULK_SIZE / 4)] ^= r;
        h += bulk_b[(r * 7919u) % (BULK_SIZE / 4)];
    }
    return h;
}

static uint32_t rep_stosd_workload(uint32_t rounds) {
    uint32_t h = 0;
    for (uint32_t r = 0; r < rounds; ++r) {
        void* dst = bulk_b;
        uint32_t n = BULK_SIZE / 4;
        __asm__ volatile("cld; rep stosl" : "+D"(dst), "+c"(n) : "a"(r * 0x01010101u) : "memory");
        h = h * 31u + bulk_b[(r * 104729u) % (BULK_SIZE / 4)];
    }
    return h;
}

struct workload {
    const char* name;
    uint32_t (*run)(uint32_t scale);
};

/* One unit of scale is about a millisecond of native work on a current x86. */
static uint32_t w_integer_mix(uint32_t s) { return integer_mix(120000u * s); }
static uint32_t w_sieve(uint32_t s) {
    uint32_t h = 0;
    for (uint32_t i = 0; i < s; ++i) h = h * 3 + sieve(SIEVE_SIZE - i % 64);
    return h;
}
static uint32_t w_crc32(uint32_t s) { return crc_workload(8u * s); }
static uint32_t w_quicksort(uint32_t s) {
    uint32_t h = 0;
    for (uint32_t i = 0; i < s; ++i) h = h * 7 + sort_workload(10000u + i % 16);
    return h;
}
static uint32_t w_fib(uint32_t s) {
    uint32_t h = 0;
    for (uint32_t i = 0; i < s; ++i) h += fib(30 + i % 2);
    return h;
}
static uint32_t w_bytecode(uint32_t s) { return bytecode_workload(70000u * s); }
static uint32_t w_memory(uint32_t s) { return memory_workload(320u * s); }
static uint32_t w_wide(uint32_t s) { return wide_arithmetic(100000u * s); }
static uint32_t w_rep_movsd(uint32_t s) { return rep_movsd_workload(64u * s); }
static uint32_t w_rep_stosd(uint32_t s) { return rep_stosd_workload(64u * s); }

static const struct workload workloads[] = {
    {"integer_mix", w_integer_mix}, {"sieve", w_sieve},     {"crc32", w_crc32},
    {"quicksort", w_quicksort},     {"fib", w_fib},         {"bytecode", w_bytecode},
    {"memory", w_memory},           {"wide_arithmetic", w_wide}, {"rep_movsd", w_rep_movsd},
    {"rep_stosd", w_rep_stosd},
};

static int same(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

int run_workloads(uint32_t scale, const char* only, report_fn report) {
    int n = 0;
    for (unsigned i = 0; i < sizeof workloads / sizeof workloads[0]; ++i) {
        if (only && *only && !same(only, workloads[i].name)) continue;
        report(workloads[i].name, workloads[i].run(scale));
        ++n;
    }
    return n;
}
