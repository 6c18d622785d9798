/* A series of long double results, the same on the x87 of every x86: the
 * x87 guest (gcc -m32, freestanding) prints them over the UART, and the
 * test runs the very same code natively on an x86-64 host to show that the
 * lines it expects are the hardware's. Each result goes out as a line
 *   name: SEEE:MMMMMMMMMMMMMMMM d.ddddddddddddddddde+N
 * (the 80 bits, then 18 significant decimal digits, made by the x87 too:
 * FYL2X, FRNDINT, FBSTP). Operands come from volatile memory so that the
 * compiler folds nothing: every result is the x87's. */
#ifndef JITTERBUG_GUEST_X87_SERIES_H
#define JITTERBUG_GUEST_X87_SERIES_H

#include <stdint.h>

typedef void x87_series_emit(const char* line);

static inline void x87s_fldcw(uint16_t cw) { __asm__ volatile("fldcw %0" : : "m"(cw) : "memory"); }
/* a / b in one asm, so that it stays between the FLDCWs around it. */
static inline long double x87s_div(long double a, long double b) {
    long double r;
    __asm__ volatile("fdiv %%st(1), %%st" : "=t"(r) : "0"(a), "u"(b));
    return r;
}
static inline long double x87s_fsqrt(long double x) {
    long double r;
    __asm__ volatile("fsqrt" : "=t"(r) : "0"(x));
    return r;
}
static inline long double x87s_frndint(long double x) {
    long double r;
    __asm__ volatile("frndint" : "=t"(r) : "0"(x));
    return r;
}
static inline long double x87s_f2xm1(long double x) {
    long double r;
    __asm__ volatile("f2xm1" : "=t"(r) : "0"(x));
    return r;
}
static inline long double x87s_fscale(long double x, long double e) {
    long double r;
    __asm__ volatile("fscale" : "=t"(r) : "0"(x), "u"(e));
    return r;
}
/* y * log2 x, y * log2 (1 + x), atan2(y, x): two operands in, one out. */
static inline long double x87s_fyl2x(long double y, long double x) {
    long double r;
    __asm__ volatile("fyl2x" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
    return r;
}
static inline long double x87s_fyl2xp1(long double y, long double x) {
    long double r;
    __asm__ volatile("fyl2xp1" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
    return r;
}
static inline long double x87s_fpatan(long double y, long double x) {
    long double r;
    __asm__ volatile("fpatan" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
    return r;
}
static inline long double x87s_fsin(long double x) {
    long double r;
    __asm__ volatile("fsin" : "=t"(r) : "0"(x));
    return r;
}
static inline void x87s_fsincos(long double x, long double* s, long double* c) {
    long double sv, cv;
    __asm__ volatile("fsincos" : "=t"(cv), "=u"(sv) : "0"(x));
    *s = sv;
    *c = cv;
}
static inline long double x87s_fptan(long double x) {
    long double r;
    __asm__ volatile("fptan\n\tfstp %%st(0)" : "=t"(r) : "0"(x));
    return r;
}
/* FPREM until C2 says the reduction is complete. */
static inline long double x87s_fprem(long double x, long double y) {
    long double r;
    __asm__ volatile(
        "1: fprem\n\t"
        "fnstsw %%ax\n\t"
        "testw $0x400, %%ax\n\t"
        "jnz 1b"
        : "=t"(r)
        : "0"(x), "u"(y)
        : "ax", "cc");
    return r;
}
static inline void x87s_fxtract(long double x, long double* sig, long double* exp) {
    long double s, e;
    __asm__ volatile("fxtract" : "=t"(s), "=u"(e) : "0"(x));
    *sig = s;
    *exp = e;
}
#define X87S_CONSTANT(name, insn)          \
    static inline long double name(void) { \
        long double r;                     \
        __asm__ volatile(insn : "=t"(r));  \
        return r;                          \
    }
X87S_CONSTANT(x87s_fldpi, "fldpi")
X87S_CONSTANT(x87s_fldl2e, "fldl2e")
X87S_CONSTANT(x87s_fldl2t, "fldl2t")
X87S_CONSTANT(x87s_fldlg2, "fldlg2")
X87S_CONSTANT(x87s_fldln2, "fldln2")
#undef X87S_CONSTANT

static inline void x87s_fbstp(long double x, uint8_t bcd[10]) {
    __asm__ volatile("fbstp %0" : "=m"(*(uint8_t(*)[10])bcd) : "t"(x) : "st");
}

/* The line for one result, in `out` (at least 80 bytes). */
static inline void x87s_format(char* out, const char* name, long double value) {
    static const char hex[] = "0123456789abcdef";
    uint8_t bytes[10];
    const volatile long double v = value;
    const uint8_t* raw = (const uint8_t*)&v;
    for (int i = 0; i < 10; ++i)
        bytes[i] = raw[i];
    while (*name)
        *out++ = *name++;
    *out++ = ':';
    *out++ = ' ';
    for (int i = 9; i >= 8; --i) {
        *out++ = hex[bytes[i] >> 4];
        *out++ = hex[bytes[i] & 15];
    }
    *out++ = ':';
    for (int i = 7; i >= 0; --i) {
        *out++ = hex[bytes[i] >> 4];
        *out++ = hex[bytes[i] & 15];
    }
    *out++ = ' ';
    const int exponent = ((bytes[9] & 0x7F) << 8) | bytes[8];
    long double a = value < 0 ? -value : value;
    if (exponent == 0x7FFF || a == 0) {
        const char* s = exponent == 0x7FFF ? "special" : "0";
        while (*s)
            *out++ = *s++;
        *out = 0;
        return;
    }
    if (value < 0) *out++ = '-';
    /* p = floor(log10 a) (rounding down), then a * 10^(17 - p) rounded to
     * an integer of 18 digits. */
    x87s_fldcw(0x077F);
    long double l = x87s_frndint(x87s_fyl2x(x87s_fldlg2(), a));
    x87s_fldcw(0x037F);
    int p = (int)l;
    long double r = 0;
    for (int round = 0; round < 2; ++round) {
        const int k = 17 - p;
        long double scale = 1;
        for (int i = 0; i < (k < 0 ? -k : k); ++i)
            scale *= 10;
        r = x87s_frndint(k < 0 ? a / scale : a * scale);
        if (r < 1e17L) {
            --p;
        } else if (r >= 1e18L) {
            ++p;
        } else {
            break;
        }
    }
    uint8_t bcd[10];
    x87s_fbstp(r, bcd);
    for (int i = 8; i >= 0; --i) {
        *out++ = (char)('0' + (bcd[i] >> 4));
        if (i == 8) *out++ = '.';
        *out++ = (char)('0' + (bcd[i] & 15));
    }
    *out++ = 'e';
    if (p < 0) {
        *out++ = '-';
        p = -p;
    } else {
        *out++ = '+';
    }
    if (p >= 1000) *out++ = (char)('0' + p / 1000 % 10);
    if (p >= 100) *out++ = (char)('0' + p / 100 % 10);
    if (p >= 10) *out++ = (char)('0' + p / 10 % 10);
    *out++ = (char)('0' + p % 10);
    *out = 0;
}

static inline void x87s_put(x87_series_emit* emit, const char* name, long double value) {
    char line[96];
    x87s_format(line, name, value);
    emit(line);
}

/* The series itself, from FNINIT's state (extended precision, nearest). */
static inline void x87_series(x87_series_emit* emit) {
    static volatile long double one = 1, two = 2, three = 3, ten = 10, half = 0.5L;
    static volatile long double million = 1e6L, big = 1e30L, tiny = 1e-10L;
    __asm__ volatile("fninit");

    x87s_put(emit, "fldpi", x87s_fldpi());
    x87s_put(emit, "fldl2e", x87s_fldl2e());
    x87s_put(emit, "fldl2t", x87s_fldl2t());
    x87s_put(emit, "fldlg2", x87s_fldlg2());
    x87s_put(emit, "fldln2", x87s_fldln2());
    x87s_fldcw(0x077F); /* constants round by RC */
    x87s_put(emit, "fldpi-down", x87s_fldpi());
    x87s_fldcw(0x037F);

    /* e = sum 1/k!, k = 0..25 */
    long double term = one, sum = one;
    for (int k = 1; k <= 25; ++k) {
        term /= (long double)k;
        sum += term;
    }
    x87s_put(emit, "e-by-series", sum);
    /* (1 + 2^-20)^(2^20) by squaring */
    long double c = one + one / 1048576;
    for (int i = 0; i < 20; ++i)
        c *= c;
    x87s_put(emit, "e-by-compounding", c);
    /* H(1000) */
    sum = 0;
    for (int k = 1; k <= 1000; ++k)
        sum += one / (long double)k;
    x87s_put(emit, "harmonic-1000", sum);
    /* Leibniz: 4 * sum (-1)^k / (2k + 1), 1000 terms */
    sum = 0;
    for (int k = 0; k < 1000; ++k)
        sum += (k & 1 ? -4 : 4) / (long double)(2 * k + 1);
    x87s_put(emit, "leibniz-1000", sum);
    /* sqrt 2: Newton's iterations, FSQRT */
    long double x = one;
    for (int i = 0; i < 6; ++i)
        x = (x + two / x) / 2;
    x87s_put(emit, "sqrt2-newton", x);
    x87s_put(emit, "sqrt2-fsqrt", x87s_fsqrt(two));
    /* 1/3 under each precision and rounding control */
    static const uint16_t controls[] = {0x007F, 0x027F, 0x037F, 0x077F, 0x0B7F, 0x0F7F};
    static const char* const control_names[] = {"third-pc24", "third-pc53", "third-pc64",
                                                "third-down", "third-up",   "third-zero"};
    for (int i = 0; i < 6; ++i) {
        x87s_fldcw(controls[i]);
        const long double t = x87s_div(one, three);
        x87s_fldcw(0x037F);
        x87s_put(emit, control_names[i], t);
    }
    /* the stores to double and float, loaded back */
    const long double third = one / three;
    const volatile double d = (double)third;
    const volatile float f = (float)third;
    x87s_put(emit, "third-as-double", (long double)d);
    x87s_put(emit, "third-as-float", (long double)f);
    /* the transcendental instructions */
    long double s, co;
    x87s_fsincos(one, &s, &co);
    x87s_put(emit, "sin-1", s);
    x87s_put(emit, "cos-1", co);
    x87s_put(emit, "sin-1e6", x87s_fsin(million));
    x87s_put(emit, "tan-0.5", x87s_fptan(half));
    x87s_put(emit, "4-atan-1", 4 * x87s_fpatan(one, one));
    x87s_put(emit, "sqrt2-f2xm1", x87s_f2xm1(half) + 1);
    x87s_put(emit, "log2-10", x87s_fyl2x(one, ten));
    x87s_put(emit, "log2-1p1e-10", x87s_fyl2xp1(one, tiny));
    x87s_put(emit, "1e30-fprem-pi", x87s_fprem(big, x87s_fldpi()));
    long double sig, ex;
    x87s_fxtract(million, &sig, &ex);
    x87s_put(emit, "fxtract-1e6-sig", sig);
    x87s_put(emit, "fxtract-1e6-exp", ex);
    x87s_put(emit, "fscale-1.5-100", x87s_fscale(one + half, 100));
    x87s_put(emit, "tiny-squared", tiny * tiny * tiny * tiny);
}

#endif
