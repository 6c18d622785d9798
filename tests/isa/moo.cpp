#include "isa/moo.hpp"

#include <zlib.h>

#include <cstring>

namespace jitterbug::test::moo {
namespace {

class Reader {
  public:
    Reader(const std::uint8_t* p, std::size_t n) : p_(p), end_(p + n) {}
    bool has(std::size_t n) const { return static_cast<std::size_t>(end_ - p_) >= n; }
    std::uint32_t u32() {
        std::uint32_t v;
        std::memcpy(&v, p_, 4);
        p_ += 4;
        return v;
    }
    std::uint16_t u16() {
        std::uint16_t v;
        std::memcpy(&v, p_, 2);
        p_ += 2;
        return v;
    }
    std::uint8_t u8() { return *p_++; }
    const std::uint8_t* pos() const { return p_; }
    void skip(std::size_t n) { p_ += n; }

  private:
    const std::uint8_t* p_;
    const std::uint8_t* end_;
};

struct Chunk {
    std::string tag;
    const std::uint8_t* data;
    std::uint32_t size;
};

bool next_chunk(Reader& r, Chunk& c) {
    if (!r.has(8)) return false;
    c.tag.assign(reinterpret_cast<const char*>(r.pos()), 4);
    r.skip(4);
    c.size = r.u32();
    if (!r.has(c.size)) return false;
    c.data = r.pos();
    r.skip(c.size);
    return true;
}

bool parse_state(const Chunk& outer, State& s) {
    Reader r(outer.data, outer.size);
    Chunk c;
    while (next_chunk(r, c)) {
        Reader in(c.data, c.size);
        if (c.tag == "REGS") {
            if (!in.has(2)) return false;
            s.present = in.u16();
            for (unsigned i = 0; i < kNumRegs; ++i) {
                if ((s.present >> i) & 1) {
                    if (!in.has(2)) return false;
                    s.regs[i] = in.u16();
                }
            }
        } else if (c.tag == "RAM ") {
            if (!in.has(4)) return false;
            const std::uint32_t n = in.u32();
            if (!in.has(std::size_t{n} * 5)) return false;
            for (std::uint32_t i = 0; i < n; ++i) {
                const std::uint32_t addr = in.u32();
                s.ram.emplace_back(addr, in.u8());
            }
        }
    }
    return true;
}

Result<std::vector<std::uint8_t>> gunzip(const std::filesystem::path& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) return Error{"cannot open " + path.string()};
    std::vector<std::uint8_t> out;
    std::uint8_t buf[1 << 16];
    for (;;) {
        const int n = gzread(f, buf, sizeof buf);
        if (n < 0) {
            gzclose(f);
            return Error{"cannot decompress " + path.string()};
        }
        if (n == 0) break;
        out.insert(out.end(), buf, buf + n);
    }
    gzclose(f);
    return out;
}

}  // namespace

Result<std::vector<Test>> read_file(const std::filesystem::path& path) {
    Result<std::vector<std::uint8_t>> raw = gunzip(path);
    if (!raw) return raw.error();
    Reader r(raw->data(), raw->size());
    std::vector<Test> tests;
    Chunk c;
    while (next_chunk(r, c)) {
        if (c.tag != "TEST") continue;
        Reader t(c.data, c.size);
        if (!t.has(4)) return Error{"truncated TEST chunk in " + path.string()};
        Test test;
        test.index = t.u32();
        Chunk sub;
        while (next_chunk(t, sub)) {
            Reader in(sub.data, sub.size);
            if (sub.tag == "NAME" && in.has(4)) {
                const std::uint32_t n = in.u32();
                if (in.has(n)) test.name.assign(reinterpret_cast<const char*>(in.pos()), n);
            } else if (sub.tag == "BYTS" && in.has(4)) {
                const std::uint32_t n = in.u32();
                if (in.has(n)) test.bytes.assign(in.pos(), in.pos() + n);
            } else if (sub.tag == "INIT") {
                if (!parse_state(sub, test.initial)) return Error{"bad INIT in " + path.string()};
            } else if (sub.tag == "FINA") {
                if (!parse_state(sub, test.final)) return Error{"bad FINA in " + path.string()};
            } else if (sub.tag == "EXCP" && in.has(1)) {
                test.has_exception = true;
                test.exception_vector = in.u8();
            }
        }
        tests.push_back(std::move(test));
    }
    return tests;
}

}  // namespace jitterbug::test::moo
