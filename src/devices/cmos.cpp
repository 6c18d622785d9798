#include "devices/cmos.hpp"

#include <algorithm>
#include <chrono>

namespace jitterbug::devices {

void Cmos::set_memory_size(std::uint64_t ram_bytes) {
    constexpr std::uint64_t kMiB = 1 << 20;
    const std::uint64_t base_kib = 640;
    set(0x15, base_kib & 0xFF);
    set(0x16, base_kib >> 8);
    const std::uint64_t ext_kib =
        ram_bytes > kMiB ? std::min<std::uint64_t>((ram_bytes - kMiB) >> 10, 0xFFFF) : 0;
    set(0x17, ext_kib & 0xFF);
    set(0x18, (ext_kib >> 8) & 0xFF);
    set(0x30, ext_kib & 0xFF);
    set(0x31, (ext_kib >> 8) & 0xFF);
    const std::uint64_t high =
        ram_bytes > 16 * kMiB ? std::min<std::uint64_t>((ram_bytes - 16 * kMiB) >> 16, 0xFFFF) : 0;
    set(0x34, high & 0xFF);
    set(0x35, (high >> 8) & 0xFF);
}

namespace {

constexpr std::uint8_t kRegA = 0x0A, kRegB = 0x0B, kRegC = 0x0C, kRegD = 0x0D, kCentury = 0x32;
constexpr std::uint8_t kSet = 0x80, kPie = 0x40, kAie = 0x20, kUie = 0x10, kBinary = 0x04,
                       k24Hour = 0x02;
constexpr std::uint8_t kIrqf = 0x80, kPf = 0x40, kAf = 0x20, kUf = 0x10;
constexpr std::uint64_t kSecond = 1'000'000'000;
constexpr std::uint64_t kUipWindow = 244'000;  // ns before each update

std::uint8_t to_bcd(unsigned v) { return static_cast<std::uint8_t>((v / 10) << 4 | (v % 10)); }
unsigned from_bcd(std::uint8_t v) { return (v >> 4) * 10 + (v & 0xF); }

}  // namespace

Cmos::Cmos(NowFn clock, LineFn irq8, std::int64_t start_epoch)
    : now_(std::move(clock)), irq8_(std::move(irq8)), offset_(start_epoch) {
    nvram_.fill(0);
    nvram_[kRegA] = 0x26;  // 32.768 kHz time base, 1024 Hz periodic rate
    nvram_[kRegB] = k24Hour;
    nvram_[kRegD] = 0x80;  // valid RAM and time
    last_update_ = now();
}

std::int64_t Cmos::seconds_at(std::uint64_t ns) const {
    return offset_ + static_cast<std::int64_t>(ns / kSecond);
}

void Cmos::show_time(std::int64_t t) {
    using namespace std::chrono;
    const std::int64_t day_number = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    const auto secs = static_cast<unsigned>(t - day_number * 86400);
    const sys_days day{days{day_number}};
    const year_month_day ymd{day};
    const bool binary = nvram_[kRegB] & kBinary;
    const auto fmt = [&](unsigned v) { return binary ? static_cast<std::uint8_t>(v) : to_bcd(v); };
    unsigned hour = secs / 3600;
    std::uint8_t hour_reg;
    if (nvram_[kRegB] & k24Hour) {
        hour_reg = fmt(hour);
    } else {
        const bool pm = hour >= 12;
        hour = hour % 12 == 0 ? 12 : hour % 12;
        hour_reg = static_cast<std::uint8_t>(fmt(hour) | (pm ? 0x80 : 0));
    }
    const int y = static_cast<int>(ymd.year());
    nvram_[0x00] = fmt(secs % 60);
    nvram_[0x02] = fmt(secs / 60 % 60);
    nvram_[0x04] = hour_reg;
    nvram_[0x06] = fmt(weekday{day}.c_encoding() + 1);  // 1: Sunday
    nvram_[0x07] = fmt(static_cast<unsigned>(ymd.day()));
    nvram_[0x08] = fmt(static_cast<unsigned>(ymd.month()));
    nvram_[0x09] = fmt(static_cast<unsigned>(y % 100));
    nvram_[kCentury] = fmt(static_cast<unsigned>(y / 100));
}

std::int64_t Cmos::written_time() const {
    using namespace std::chrono;
    const bool binary = nvram_[kRegB] & kBinary;
    const auto get = [&](std::uint8_t r, std::uint8_t mask = 0xFF) {
        const std::uint8_t v = nvram_[r] & mask;
        return binary ? unsigned{v} : from_bcd(v);
    };
    unsigned hour = get(0x04, 0x7F);
    if (!(nvram_[kRegB] & k24Hour)) hour = hour % 12 + ((nvram_[0x04] & 0x80) ? 12 : 0);
    const int y = static_cast<int>(get(kCentury) * 100 + get(0x09));
    const unsigned month = std::clamp(get(0x08), 1u, 12u);
    const unsigned mday = std::clamp(get(0x07), 1u, 31u);
    const sys_days day{year{y} / month /
                       mday};  // (an impossible date rolls over, as a PC's BIOS would see)
    return static_cast<std::int64_t>(day.time_since_epoch().count()) * 86400 +
           std::int64_t{std::min(hour, 23u)} * 3600 + std::int64_t{std::min(get(0x02), 59u)} * 60 +
           std::min(get(0x00), 59u);
}

std::uint64_t Cmos::periodic_ns() const {
    const unsigned rs = nvram_[kRegA] & 0xF;
    if (rs == 0) return 0;
    const unsigned hz =
        rs <= 2 ? 256u >> (rs - 1) : 65536u >> rs;  // RS 1, 2: 256, 128 Hz (32.768 kHz base)
    return kSecond / hz;
}

std::optional<std::uint64_t> Cmos::next_event() const {
    if (nvram_[kRegB] & kSet) return std::nullopt;
    const std::uint64_t t = now();
    std::optional<std::uint64_t> next;
    const std::uint64_t period = periodic_ns();
    if ((nvram_[kRegB] & kPie) && period) next = (t / period + 1) * period;
    if (nvram_[kRegB] & (kAie | kUie)) {
        const std::uint64_t second = (t / kSecond + 1) * kSecond;
        next = next ? std::min(*next, second) : second;
    }
    return next;
}

void Cmos::update() {
    const std::uint64_t t = now();
    if (t > last_update_ && !(nvram_[kRegB] & kSet)) {
        const std::uint64_t period = periodic_ns();
        if (period && t / period != last_update_ / period) nvram_[kRegC] |= kPf;
        if (t / kSecond != last_update_ / kSecond) {
            nvram_[kRegC] |= kUf;
            // The alarm: each field matches, or is "don't care" (0xC0-0xFF),
            // at the second the update reaches.
            show_time(seconds_at(t));
            const auto match = [&](std::uint8_t alarm, std::uint8_t now_reg) {
                return (nvram_[alarm] & 0xC0) == 0xC0 || nvram_[alarm] == nvram_[now_reg];
            };
            if (match(0x01, 0x00) && match(0x03, 0x02) && match(0x05, 0x04)) nvram_[kRegC] |= kAf;
        }
    }
    last_update_ = t;
    set_irq();
}

void Cmos::set_irq() {
    const std::uint8_t enabled = nvram_[kRegB] & (kPie | kAie | kUie);
    const bool irqf = (nvram_[kRegC] & enabled & (kPf | kAf | kUf)) != 0;
    nvram_[kRegC] =
        static_cast<std::uint8_t>(irqf ? nvram_[kRegC] | kIrqf : nvram_[kRegC] & ~kIrqf);
    if (irqf == irq_) return;
    irq_ = irqf;
    if (irq8_) irq8_(irqf);
}

std::uint32_t Cmos::io_read(std::uint16_t port, unsigned) {
    // The index port is write-only on a PC and reads back as an undriven bus.
    if (port == kIndexPort) return 0xFF;
    const bool set = nvram_[kRegB] & kSet;
    if (index_ <= 0x09 || index_ == kCentury) {
        if (!set) show_time(seconds_at(now()));
        return nvram_[index_];
    }
    switch (index_) {
        case kRegA: {
            const std::uint64_t into_second = now() % kSecond;
            const bool uip = !set && into_second >= kSecond - kUipWindow;
            return (nvram_[kRegA] & 0x7F) | (uip ? 0x80 : 0);
        }
        case kRegC: {
            update();
            const std::uint8_t v = nvram_[kRegC];
            nvram_[kRegC] = 0;  // read clears the flags, and IRQ 8
            set_irq();
            return v;
        }
        case kRegD:
            return 0x80;
        default:
            return nvram_[index_];
    }
}

void Cmos::io_write(std::uint16_t port, unsigned, std::uint32_t value) {
    if (port == kIndexPort) {
        index_ = value & 0x7F;
        nmi_disabled_ = (value & 0x80) != 0;
        return;
    }
    const auto byte = static_cast<std::uint8_t>(value);
    const bool was_set = nvram_[kRegB] & kSet;
    if (index_ <= 0x09 || index_ == kCentury) {
        // (With SET clear the clock's other fields are the running time.)
        if (!was_set) show_time(seconds_at(now()));
        nvram_[index_] = byte;
        if (!was_set && index_ != 0x01 && index_ != 0x03 && index_ != 0x05)
            offset_ = written_time() - static_cast<std::int64_t>(now() / kSecond);
        return;
    }
    switch (index_) {
        case kRegA:
            nvram_[kRegA] = byte & 0x7F;  // (UIP is read-only)
            break;
        case kRegB:
            if (!was_set && (byte & kSet)) show_time(seconds_at(now()));  // frozen as it stood
            nvram_[kRegB] = byte;
            if (was_set && !(byte & kSet))
                offset_ = written_time() - static_cast<std::int64_t>(now() / kSecond);
            set_irq();
            break;
        case kRegC:
        case kRegD:
            break;  // read-only
        default:
            nvram_[index_] = byte;
            break;
    }
}

void Cmos::restore(const State& s) {
    nvram_ = s.nvram;
    index_ = s.index;
    nmi_disabled_ = s.nmi_disabled;
    offset_ = s.offset;
    last_update_ = s.last_update;
    irq_ = s.irq;
    if (irq8_) irq8_(irq_);
}

}  // namespace jitterbug::devices
