// Breakpoints: which accesses meet which DR0-DR3 condition (SDM Vol. 3A,
// 17.2.4 and 17.2.5). The guest program system_debug checks the exceptions.
#include <doctest/doctest.h>

#include "cpu/breakpoints.hpp"

using namespace jitterbug;
using namespace jitterbug::cpu;

namespace {

// DR7 for breakpoint n: enabled globally, with R/W and LEN.
std::uint32_t dr7_for(unsigned n, unsigned rw, unsigned len) {
    return (2u << (2 * n)) | (rw << (16 + 4 * n)) | (len << (18 + 4 * n));
}

}  // namespace

TEST_SUITE("cpu") {
    TEST_CASE("a data breakpoint covers its LEN bytes aligned down and any access touching them") {
        CpuState st;
        st.dr[1] = 0x1003;            // LEN 4: 0x1000-0x1003
        st.dr[7] = dr7_for(1, 1, 3);  // writes only
        const Breakpoints b = breakpoints_of(st);
        CHECK(b.write == 0x2);
        CHECK(b.read == 0);
        CHECK(b.range[1].first == 0x1000);
        CHECK(b.range[1].last == 0x1003);
        CHECK(data_breakpoint_hits(b, 0x1000, 1, true) == 0x2);
        CHECK(data_breakpoint_hits(b, 0x0FFD, 4, true) == 0x2);  // its last byte is 0x1000
        CHECK(data_breakpoint_hits(b, 0x0FFC, 4, true) == 0);
        CHECK(data_breakpoint_hits(b, 0x1004, 2, true) == 0);
        CHECK(data_breakpoint_hits(b, 0x1002, 1, false) == 0);  // a read: not watched
    }

    TEST_CASE("read-write and I/O breakpoints and instruction breakpoints are told apart") {
        CpuState st;
        st.dr[0] = 0x5000;
        st.dr[2] = 0x80;
        st.dr[3] = 0x7000;
        st.dr[7] = dr7_for(0, 3, 1) | dr7_for(2, 2, 0) | dr7_for(3, 0, 0);
        Breakpoints b = breakpoints_of(st);
        CHECK(b.read == 0x1);
        CHECK(b.write == 0x1);
        CHECK(b.io == 0);  // R/W 10 means nothing without CR4.DE
        CHECK(b.execute == 0x8);
        CHECK(data_breakpoint_hits(b, 0x5001, 1, false) == 0x1);
        CHECK(data_breakpoint_hits(b, 0x5002, 1, false) == 0);
        CHECK(instruction_breakpoint_hits(b, 0x7000) == 0x8);
        CHECK(instruction_breakpoint_hits(b, 0x7001) == 0);
        st.cr4 |= cr4::DE;
        b = breakpoints_of(st);
        CHECK(b.io == 0x4);
        CHECK(io_breakpoint_hits(b, 0x7F, 2) == 0x4);
        CHECK(io_breakpoint_hits(b, 0x81, 1) == 0);
        CHECK(data_breakpoint_hits(b, 0x80, 1, true) == 0);  // a port, not memory
    }

    TEST_CASE("accesses that wrap past 4 GiB or past the last port meet breakpoints at both ends") {
        CpuState st;
        st.cr4 = cr4::DE;
        st.dr[0] = 0;
        st.dr[1] = 0xFFFFFFFF;
        st.dr[2] = 0;
        st.dr[7] = dr7_for(0, 1, 0) | dr7_for(1, 1, 0) | dr7_for(2, 2, 0);
        const Breakpoints b = breakpoints_of(st);
        CHECK(data_breakpoint_hits(b, 0xFFFFFFFE, 4, true) == 0x3);
        CHECK(io_breakpoint_hits(b, 0xFFFF, 2) == 0x4);
        CHECK(breakpoints_of(CpuState{}).any() == false);
    }
}
