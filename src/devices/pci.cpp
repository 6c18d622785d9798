#include "devices/pci.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include <fmt/format.h>

#include "util/bits.hpp"

namespace jitterbug::devices {

namespace {

// What an undriven bus reads: all ones, `size` bytes of them.
std::uint32_t all_ones(unsigned size) { return static_cast<std::uint32_t>(low_mask(8 * size)); }

bool overlaps(unsigned offset, unsigned size, unsigned first, unsigned count) {
    return offset < first + count && first < offset + size;
}

}  // namespace

// ---- PciFunction ----------------------------------------------------------

PciFunction::PciFunction(const PciIdentity& id) : id_(id) {
    define_register(kVendorId, 2, id.vendor_id);
    define_register(kDeviceId, 2, id.device_id);
    define_register(kRevisionId, 1, id.revision_id);
    define_register(kClassCode, 3, id.class_code);
    define_register(kHeaderType, 1, id.header_type);
}

std::uint32_t PciFunction::config_read(unsigned offset, unsigned size) const {
    assert(offset + size <= config_.size());
    return static_cast<std::uint32_t>(load_le_bytes(&config_[offset], size));
}

void PciFunction::config_write(unsigned offset, unsigned size, std::uint32_t value) {
    assert(offset + size <= config_.size());
    for (unsigned i = 0; i < size; ++i) {
        const unsigned o = offset + i;
        config_[o] = byte_after_write(o, config_[o], static_cast<std::uint8_t>(value >> (8 * i)));
    }
    config_changed(offset, size);
}

std::uint8_t PciFunction::byte_after_write(unsigned offset, std::uint8_t old,
                                           std::uint8_t data) const {
    const std::uint8_t writable = writable_[offset];
    const auto kept = static_cast<std::uint8_t>((old & ~writable) | (data & writable));
    return static_cast<std::uint8_t>(kept & ~(data & write_one_clears_[offset]));
}

void PciFunction::reset() {
    config_ = reset_values_;
    config_changed(0, static_cast<unsigned>(config_.size()));
}

void PciFunction::restore_config(const ConfigSpace& config) {
    config_ = config;
    config_changed(0, static_cast<unsigned>(config_.size()));
}

std::uint32_t PciFunction::bar_address(unsigned index) const {
    const std::optional<PciBar>& bar = bars_.at(index);
    if (!bar) return 0;
    const std::uint32_t value = config_read(kBar0 + 4 * index, 4);
    // PCI 3.0 6.2.5.1: bits 1:0 of an I/O BAR and 3:0 of a memory BAR are flags.
    return bar->space == PciBar::Space::kIo ? value & ~0x3u : value & ~0xFu;
}

void PciFunction::define_register(unsigned offset, unsigned size, std::uint32_t reset_value,
                                  std::uint32_t writable, std::uint32_t write_one_clears) {
    assert(size >= 1 && size <= 4 && offset + size <= config_.size());
    store_le_bytes(&reset_values_[offset], size, reset_value);
    store_le_bytes(&writable_[offset], size, writable);
    store_le_bytes(&write_one_clears_[offset], size, write_one_clears);
    store_le_bytes(&config_[offset], size, reset_value);
}

void PciFunction::define_bar(unsigned index, const PciBar& bar) {
    assert(index < kBarCount && is_power_of_two(bar.size));
    const unsigned offset = kBar0 + 4 * index;
    const std::uint32_t size_mask = ~(bar.size - 1);
    if (bar.space == PciBar::Space::kIo) {
        // Bit 0 = 1: I/O space. An x86 has 64 KiB of ports, so the BAR
        // decodes 16 bits and its upper half is hardwired to 0, as PCI 3.0
        // 6.2.5.1 allows (and the PIIX3 IDE's BMIBA has it).
        assert(bar.size >= 4 && bar.size <= 256);
        define_register(offset, 4, 0x1, size_mask & 0xFFFCu);
    } else {
        // Bits 2:1 = 00: anywhere in 32-bit space; bit 3: prefetchable.
        assert(bar.size >= 16 && bar.size <= 0x80000000u);
        define_register(offset, 4, bar.prefetchable ? 0x8 : 0x0, size_mask & ~0xFu);
    }
    bars_[index] = bar;
}

void PciFunction::define_interrupt_pin(std::uint8_t pin) {
    define_register(kInterruptLine, 1, 0x00, 0xFF);
    define_register(kInterruptPin, 1, pin);
}

void PciFunction::set_status_bits(std::uint16_t bits) {
    config_[kStatus] |= static_cast<std::uint8_t>(bits);
    config_[kStatus + 1] |= static_cast<std::uint8_t>(bits >> 8);
}

// ---- PciBus ---------------------------------------------------------------

namespace {

unsigned devfn_of(unsigned device, unsigned function) { return device << 3 | function; }

}  // namespace

Result<void> PciBus::add(unsigned device, unsigned function, PciFunction& pci_function) {
    if (device >= kDeviceCount || function >= kFunctionCount) {
        return Error{fmt::format("PCI function {:02x}.{} is out of range", device, function)};
    }
    PciFunction*& slot = functions_[devfn_of(device, function)];
    if (slot) return Error{fmt::format("PCI function 00:{:02x}.{} is taken", device, function)};
    slot = &pci_function;
    return {};
}

PciFunction* PciBus::find(unsigned device, unsigned function) const {
    if (device >= kDeviceCount || function >= kFunctionCount) return nullptr;
    return functions_[devfn_of(device, function)];
}

std::uint32_t PciBus::config_read(unsigned device, unsigned function, unsigned offset,
                                  unsigned size) const {
    const PciFunction* f = find(device, function);
    return f ? f->config_read(offset, size) : all_ones(size);
}

void PciBus::config_write(unsigned device, unsigned function, unsigned offset, unsigned size,
                          std::uint32_t value) {
    if (PciFunction* f = find(device, function)) f->config_write(offset, size, value);
}

void PciBus::reset() {
    for (PciFunction* f : functions_) {
        if (f) f->reset();
    }
}

PciBus::State PciBus::save() const {
    State s;
    for (unsigned devfn = 0; devfn < functions_.size(); ++devfn) {
        if (functions_[devfn]) {
            s.functions.push_back({static_cast<std::uint8_t>(devfn), functions_[devfn]->config()});
        }
    }
    return s;
}

Result<void> PciBus::restore(const State& s) {
    std::size_t present = 0;
    for (const PciFunction* f : functions_)
        present += f ? 1 : 0;
    if (s.functions.size() != present) {
        return Error{fmt::format("PCI state holds {} functions, the bus has {}", s.functions.size(),
                                 present)};
    }
    for (const FunctionState& fs : s.functions) {
        if (!functions_[fs.devfn]) {
            return Error{fmt::format("PCI state holds function 00:{:02x}.{}, absent here",
                                     fs.devfn >> 3, fs.devfn & 7)};
        }
    }
    for (const FunctionState& fs : s.functions)
        functions_[fs.devfn]->restore_config(fs.config);
    return {};
}

// ---- PciHost --------------------------------------------------------------

namespace {

// CONFIG_ADDRESS: bits 30:24 reserved and 1:0 read as 0 (PCI 3.0 3.2.2.3.2).
constexpr std::uint32_t kConfigAddressMask = 0x80FFFFFCu;

}  // namespace

PciHost::PciHost(PciBus& bus, ResetFn reset_request)
    : bus_(bus), reset_request_(std::move(reset_request)) {}

std::uint32_t PciHost::io_read(std::uint16_t port, unsigned size) {
    if (port >= kConfigDataPort) return read_data(port - kConfigDataPort, size);
    if (port == kConfigAddressPort && size == 4) return config_address_;
    if (port == kResetControlPort && size == 1) return reset_control_;
    return all_ones(size);
}

void PciHost::io_write(std::uint16_t port, unsigned size, std::uint32_t value) {
    if (port >= kConfigDataPort) {
        write_data(port - kConfigDataPort, size, value);
    } else if (port == kConfigAddressPort && size == 4) {
        config_address_ = value & kConfigAddressMask;
    } else if (port == kResetControlPort && size == 1) {
        write_reset_control(static_cast<std::uint8_t>(value));
    }
}

std::optional<PciHost::Selected> PciHost::selected() const {
    if (!(config_address_ & kConfigEnable)) return std::nullopt;
    if ((config_address_ >> 16 & 0xFF) != 0) return std::nullopt;  // no bus behind bus 0
    return Selected{config_address_ >> 11 & 0x1F, config_address_ >> 8 & 0x7,
                    config_address_ & 0xFC};
}

std::uint32_t PciHost::read_data(unsigned byte, unsigned size) const {
    const std::optional<Selected> s = selected();
    if (byte >= 4 || !s) return all_ones(size);
    const unsigned inside = std::min(size, 4 - byte);
    const std::uint32_t data = bus_.config_read(s->device, s->function, s->offset + byte, inside);
    return (all_ones(size) & ~all_ones(inside)) | data;
}

void PciHost::write_data(unsigned byte, unsigned size, std::uint32_t value) {
    const std::optional<Selected> s = selected();
    if (byte >= 4 || !s) return;
    const unsigned inside = std::min(size, 4 - byte);
    bus_.config_write(s->device, s->function, s->offset + byte, inside, value & all_ones(inside));
}

void PciHost::write_reset_control(std::uint8_t value) {
    // RC bits 7:3 and 0 are reserved. The reset starts as RCPU goes from 0
    // to 1: software sets SRST first, then RCPU (Linux's reboot=pci writes
    // 0x02, then 0x06).
    const bool was_requested = (reset_control_ & kResetCpu) != 0;
    reset_control_ = value & (kResetSystem | kResetCpu);
    if (was_requested || !(reset_control_ & kResetCpu) || !reset_request_) return;
    reset_request_((reset_control_ & kResetSystem) ? ResetKind::kHard : ResetKind::kSoft);
}

void PciHost::reset() {
    config_address_ = 0;
    reset_control_ = 0;
    bus_.reset();
}

PciHost::State PciHost::save() const { return {config_address_, reset_control_, bus_.save()}; }

Result<void> PciHost::restore(const State& s) {
    if (Result<void> r = bus_.restore(s.bus); !r) return r;
    config_address_ = s.config_address & kConfigAddressMask;
    reset_control_ = s.reset_control & (kResetSystem | kResetCpu);
    return {};
}

// ---- I440fxHostBridge -----------------------------------------------------

I440fxHostBridge::I440fxHostBridge(PamChangeFn on_pam_change)
    : PciFunction(PciIdentity{0x8086, 0x1237, 0x02, 0x060000, 0x00}),
      on_pam_change_(std::move(on_pam_change)) {
    // PCICMD 0006h: memory access and bus master hardwired on; the parity
    // error (bit 6) and SERR# (bit 8) enables writable.
    define_register(kCommand, 2, kCommandMemorySpace | kCommandBusMaster, 0x0140);
    // PCISTS 0280h: fast back-to-back capable, DEVSEL medium; the abort,
    // SERR# and parity flags clear when written with 1.
    define_register(kStatus, 2, kStatusFastBackToBack | kStatusDevselMedium, 0,
                    kStatusDetectedParityError | kStatusSignaledSystemError |
                        kStatusReceivedMasterAbort | kStatusReceivedTargetAbort |
                        kStatusMasterDataParityError);
    define_register(kLatencyTimer, 1, 0x00, 0xF8);  // MLT: count in units of 8 clocks
    // PAM: read enable (bits 0, 4) and write enable (1, 5) of each half; the
    // cache enables (2, 6) are reserved on the 82441FX (the CPU's MTRRs
    // decide), and so is PAM0's low half (it has no segment).
    define_register(kPam0, 1, 0x00, 0x30);
    for (unsigned n = 1; n < kPamCount; ++n)
        define_register(kPam0 + n, 1, 0x00, 0x33);
    define_register(kSmram, 1, kSmramBaseA0000,
                    kSmramOpen | kSmramClosed | kSmramLocked | kSmramEnabled);
}

std::uint8_t I440fxHostBridge::byte_after_write(unsigned offset, std::uint8_t old,
                                                std::uint8_t data) const {
    if (offset != kSmram) return PciFunction::byte_after_write(offset, old, data);
    // D_LCK: once set, D_OPEN is cleared and the register is read-only until
    // reset.
    if (old & kSmramLocked) return old;
    const std::uint8_t value = PciFunction::byte_after_write(offset, old, data);
    return (value & kSmramLocked) ? static_cast<std::uint8_t>(value & ~kSmramOpen) : value;
}

void I440fxHostBridge::config_changed(unsigned offset, unsigned size) {
    if (!on_pam_change_) return;
    if (overlaps(offset, size, kPam0, kPamCount) || overlaps(offset, size, kSmram, 1))
        on_pam_change_();
}

// ---- Piix3IsaBridge -------------------------------------------------------

Piix3IsaBridge::Piix3IsaBridge(PirqChangeFn on_pirq_change)
    : PciFunction(PciIdentity{0x8086, 0x7000, 0x00, 0x060100, 0x80}),
      on_pirq_change_(std::move(on_pirq_change)) {
    // PCICMD 0007h: I/O, memory and bus master hardwired on; special cycle
    // (bit 3) and SERR# (bit 8) enables writable.
    define_register(kCommand, 2, kCommandIoSpace | kCommandMemorySpace | kCommandBusMaster, 0x0108);
    // PCISTS 0200h: DEVSEL medium; the abort and SERR# flags clear on 1.
    define_register(kStatus, 2, kStatusDevselMedium, 0,
                    kStatusSignaledSystemError | kStatusReceivedMasterAbort |
                        kStatusReceivedTargetAbort | kStatusSignaledTargetAbort);
    define_register(kIoRecoveryTimer, 1, 0x4D, 0xFF);
    // XBCS 0003h: RTC and keyboard controller decode on; bit 3 and 15:9 reserved.
    define_register(kXBusChipSelect, 2, 0x0003, 0x01F7);
    // PIRQRC 80h: routing disabled; bits 6:4 reserved.
    for (unsigned n = 0; n < kPirqCount; ++n)
        define_register(kPirqRouteControl + n, 1, kPirqRoutingDisabled, 0x8F);
    // TOM 02h: ISA/DMA lower BIOS forwarding on; bit 0 reserved.
    define_register(kTopOfMemory, 1, 0x02, 0xFE);
    define_register(kMiscStatus, 2, 0x0000, 0xFFFF);
    define_register(kMotherboardIrqRoute, 1, 0x80, 0xEF);  // MBIRQ0: disabled
    define_register(kMotherboardDma, 1, 0x0C, 0x87);
    define_register(kMotherboardDma + 1, 1, 0x0C, 0x87);
    define_register(kChipSelectControl, 2, 0x0002, 0xFFFF);
    define_register(kApicBase, 1, 0x00, 0x7F);
    define_register(kDeterministicLatency, 1, 0x00, 0x0F);
    define_register(kSmiControl, 1, 0x08, 0x1F);
    define_register(kSmiEnable, 2, 0x0000, 0x00FF);
    define_register(kSystemEventEnable, 4, 0x00000000, 0xE000FFFB);  // bit 2: the cascade
    define_register(kFastOffTimer, 1, 0x0F, 0xFF);
    define_register(kSmiRequest, 2, 0x0000, 0x00FF);
    define_register(kStopClockLowTimer, 1, 0x00, 0xFF);
    define_register(kStopClockHighTimer, 1, 0x00, 0xFF);
}

std::optional<unsigned> Piix3IsaBridge::pirq_irq(unsigned pirq) const {
    if (pirq >= kPirqCount) return std::nullopt;
    const std::uint8_t route = config()[kPirqRouteControl + pirq];
    if (route & kPirqRoutingDisabled) return std::nullopt;
    const unsigned irq = route & 0x0F;
    // IRQ 0-2, 8 and 13 (timer, keyboard, cascade, RTC, FERR) are reserved.
    constexpr std::uint16_t kRoutable = 0xDEF8;  // 3-7, 9-12, 14, 15
    if (!(kRoutable >> irq & 1)) return std::nullopt;
    return irq;
}

void Piix3IsaBridge::config_changed(unsigned offset, unsigned size) {
    if (!on_pirq_change_) return;
    for (unsigned n = 0; n < kPirqCount; ++n) {
        if (overlaps(offset, size, kPirqRouteControl + n, 1)) on_pirq_change_(n);
    }
}

}  // namespace jitterbug::devices
