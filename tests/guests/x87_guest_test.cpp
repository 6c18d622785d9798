// The x87 guest (tests/guests/system/x87.c): the environment, save and
// restore images and the #MF, #NM and #UD cases an operating system meets,
// each checked in the guest against the SDM; then a series of long double
// results (tests/guests/x87_series.h) printed over the UART. On an x86-64
// host the same series also runs natively, on the host's x87, and must give
// the very lines expected here: they are the hardware's.
//
// QEMU 7.2 (TCG, -cpu pentium3) gives 14 of the checks differently, where
// the SDM is followed here: it keeps no FOP (0 in FSTENV and FXSAVE), its
// FSTENV masks no exceptions, its FLDENV drops FIP, its FXSAVE stores no
// pointers, FXSAVE with CR0.EM raises #NM instead of #UD, and with CR0.NE
// clear it neither freezes the waiting FLD1 nor raises IRQ 13; and its
// FSIN, FCOS and FPTAN are the host's double results (the last 11 bits
// differ).
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "support/guest_lines.hpp"

#if defined(__x86_64__)
#include "guests/x87_series.h"
#endif

using namespace jitterbug;

namespace {

constexpr std::string_view kChecks =
    "fninit-cw: 0x037f ok\r\n"
    "fninit-sw: 0x0000 ok\r\n"
    "fninit-tw: 0xffff ok\r\n"
    "fstenv32-cw: 0x0372 ok\r\n"
    "fstenv32-sw: 0x3000 ok\r\n"
    "fstenv32-tw: 0x0fff ok\r\n"
    "fstenv32-fip: site ok\r\n"
    "fstenv32-fcs: 0x0008 ok\r\n"
    "fstenv32-fop: 0x0105 ok\r\n"
    "fstenv32-fdp: operand ok\r\n"
    "fstenv32-fds: 0x0010 ok\r\n"
    "fstenv-masks-all: 0x037f ok\r\n"
    "fstenv16-cw: 0x037f ok\r\n"
    "fstenv16-sw: 0x3000 ok\r\n"
    "fstenv16-tw: 0x0fff ok\r\n"
    "fstenv16-fip: site ok\r\n"
    "fstenv16-fcs: 0x0008 ok\r\n"
    "fstenv16-fdp: operand ok\r\n"
    "fstenv16-fds: 0x0010 ok\r\n"
    "fldenv-sw: 0x5900 ok\r\n"
    "fldenv-cw: 0x0372 ok\r\n"
    "fldenv-fip: site ok\r\n"
    "fldenv-tw: 0x0fff ok\r\n"
    "fsave32-st0: 0x4000 ok\r\n"
    "fsave32-st0: 0xa0000000 ok\r\n"
    "fsave32-st0: 0x00000000 ok\r\n"
    "fsave32-st1: 0x4000 ok\r\n"
    "fsave32-st1: 0xc90fdaa2 ok\r\n"
    "fsave32-st1: 0x2168c235 ok\r\n"
    "fsave32-fip: site ok\r\n"
    "fsave-reinitialises-cw: 0x037f ok\r\n"
    "fsave-reinitialises-sw: 0x0000 ok\r\n"
    "frstor32-sw: 0x3000 ok\r\n"
    "frstor32-st0: 0x4000 ok\r\n"
    "frstor32-st0: 0xa0000000 ok\r\n"
    "frstor32-st0: 0x00000000 ok\r\n"
    "frstor32-st1: 0x4000 ok\r\n"
    "frstor32-st1: 0xc90fdaa2 ok\r\n"
    "frstor32-st1: 0x2168c235 ok\r\n"
    "fsave16-st0: 0x4000 ok\r\n"
    "fsave16-st0: 0xa0000000 ok\r\n"
    "fsave16-st0: 0x00000000 ok\r\n"
    "fsave16-fip: site ok\r\n"
    "frstor16-sw: 0x3000 ok\r\n"
    "frstor16-st0: 0x4000 ok\r\n"
    "frstor16-st0: 0xa0000000 ok\r\n"
    "frstor16-st0: 0x00000000 ok\r\n"
    "frstor16-st1: 0x4000 ok\r\n"
    "frstor16-st1: 0xc90fdaa2 ok\r\n"
    "frstor16-st1: 0x2168c235 ok\r\n"
    "fxsave-fcw: 0x037f ok\r\n"
    "fxsave-fsw: 0x3000 ok\r\n"
    "fxsave-ftw: 0xc0 ok\r\n"
    "fxsave-fop: 0x0105 ok\r\n"
    "fxsave-fip: site ok\r\n"
    "fxsave-fcs: 0x0008 ok\r\n"
    "fxsave-fdp: operand ok\r\n"
    "fxsave-fds: 0x0010 ok\r\n"
    "fxsave-st0: 0x4000 ok\r\n"
    "fxsave-st0: 0xa0000000 ok\r\n"
    "fxsave-st0: 0x00000000 ok\r\n"
    "fxsave-st1: 0x4000 ok\r\n"
    "fxsave-st1: 0xc90fdaa2 ok\r\n"
    "fxsave-st1: 0x2168c235 ok\r\n"
    "fxsave-keeps-sw: 0x3000 ok\r\n"
    "fxrstor-tw: 0x0fff ok\r\n"
    "fxrstor-st0: 0x4000 ok\r\n"
    "fxrstor-st0: 0xa0000000 ok\r\n"
    "fxrstor-st0: 0x00000000 ok\r\n"
    "fxrstor-st1: 0x4000 ok\r\n"
    "fxrstor-st1: 0xc90fdaa2 ok\r\n"
    "fxrstor-st1: 0x2168c235 ok\r\n"
    "mf-at-fwait: #MF eip=site ok\r\n"
    "mf-fip: site ok\r\n"
    "mf-fop: 0x06f9 ok\r\n"
    "mf-sw-es-b-ze: 0x8084 ok\r\n"
    "mf-fnstsw-fnstenv-fnclex: no fault ok\r\n"
    "mf-after-fnclex: 0x0000 ok\r\n"
    "fxsave-misaligned: #GP err=0x0000 eip=site ok\r\n"
    "x87-with-ts: #NM eip=site ok\r\n"
    "fxsave-with-ts: #NM eip=site ok\r\n"
    "fxsave-with-em: #UD eip=site ok\r\n"
    "ferr-irq13-no-mf: no fault ok\r\n"
    "ferr-irq13-count: 0x01 ok\r\n"
    "ferr-irq13-returns-to-fld1: site ok\r\n"
    "ferr-fld1-ran-after-fnclex: 0x2800 ok\r\n";

constexpr std::string_view kSeries =
    "fldpi: 4000:c90fdaa22168c235 3.14159265358979324e+0\r\n"
    "fldl2e: 3fff:b8aa3b295c17f0bc 1.44269504088896341e+0\r\n"
    "fldl2t: 4000:d49a784bcd1b8afe 3.32192809488736235e+0\r\n"
    "fldlg2: 3ffd:9a209a84fbcff799 3.01029995663981195e-1\r\n"
    "fldln2: 3ffe:b17217f7d1cf79ac 6.93147180559945309e-1\r\n"
    "fldpi-down: 4000:c90fdaa22168c234 3.14159265358979324e+0\r\n"
    "e-by-series: 4000:adf85458a2bb4a9b 2.71828182845904524e+0\r\n"
    "e-by-compounding: 4000:adf84ee8e06807aa 2.71828053228239284e+0\r\n"
    "harmonic-1000: 4001:ef88fa2fa730cec4 7.48547086055034491e+0\r\n"
    "leibniz-1000: 4000:c8ff7854932f423b 3.14059265383979293e+0\r\n"
    "sqrt2-newton: 3fff:b504f333f9de6484 1.41421356237309505e+0\r\n"
    "sqrt2-fsqrt: 3fff:b504f333f9de6484 1.41421356237309505e+0\r\n"
    "third-pc24: 3ffd:aaaaab0000000000 3.33333343267440796e-1\r\n"
    "third-pc53: 3ffd:aaaaaaaaaaaaa800 3.33333333333333315e-1\r\n"
    "third-pc64: 3ffd:aaaaaaaaaaaaaaab 3.33333333333333333e-1\r\n"
    "third-down: 3ffd:aaaaaaaaaaaaaaaa 3.33333333333333333e-1\r\n"
    "third-up: 3ffd:aaaaaaaaaaaaaaab 3.33333333333333333e-1\r\n"
    "third-zero: 3ffd:aaaaaaaaaaaaaaaa 3.33333333333333333e-1\r\n"
    "third-as-double: 3ffd:aaaaaaaaaaaaa800 3.33333333333333315e-1\r\n"
    "third-as-float: 3ffd:aaaaab0000000000 3.33333343267440796e-1\r\n"
    "sin-1: 3ffe:d76aa47848677021 8.41470984807896507e-1\r\n"
    "cos-1: 3ffe:8a51407da8345c92 5.40302305868139717e-1\r\n"
    "sin-1e6: bffd:b332592b46c28c7f -3.49993502171291746e-1\r\n"
    "tan-0.5: 3ffe:8bda7adf9a3a5219 5.46302489843790513e-1\r\n"
    "4-atan-1: 4000:c90fdaa22168c235 3.14159265358979324e+0\r\n"
    "sqrt2-f2xm1: 3fff:b504f333f9de6484 1.41421356237309505e+0\r\n"
    "log2-10: 4000:d49a784bcd1b8afe 3.32192809488736235e+0\r\n"
    "log2-1p1e-10: 3fde:9ea0415b6f908c1f 1.44269504081682866e-10\r\n"
    "1e30-fprem-pi: 4000:b56ca7ade53487b2 2.83475677473035901e+0\r\n"
    "fxtract-1e6-sig: 3fff:f424000000000000 1.90734863281250000e+0\r\n"
    "fxtract-1e6-exp: 4003:9800000000000000 1.90000000000000000e+1\r\n"
    "fscale-1.5-100: 4063:c000000000000000 1.90147590034234410e+30\r\n"
    "tiny-squared: 3f7a:8b61313bbabce2c7 1.00000000000000000e-40\r\n";

#if defined(__x86_64__)
std::string native_series() {
    static std::string out;
    out.clear();
    x87_series([](const char* line) {
        out += line;
        out += "\r\n";
    });
    return out;
}
#endif

}  // namespace

TEST_SUITE("x87") {
    TEST_CASE(
        "the x87 guest sees the SDM's environment images and exceptions and computes the "
        "hardware's long double series") {
        test::expect_guest_output("system_x87", std::string(kChecks) + std::string(kSeries) +
                                                    "system_x87: done, 0 bad\r\n");
    }

    TEST_CASE("the long double series the x87 guest prints is the host x87's own") {
#if defined(__x86_64__)
        CHECK(native_series() == kSeries);
#else
        MESSAGE("skipped: this host has no x87 to run the series on");
#endif
    }
}
