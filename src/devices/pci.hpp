// PCI bus 0 as an i440FX/PIIX3 PC has it: configuration space reached
// through configuration mechanism #1 (PCI Local Bus Specification 3.0,
// 3.2.2.3.2) at ports 0xCF8 (CONFIG_ADDRESS) and 0xCFC-0xCFF
// (CONFIG_DATA), the PIIX3's reset control register at 0xCF9, and two
// functions: the 82441FX PMC host bridge at 00:00.0 (Intel 290549) and the
// 82371SB PIIX3 PCI-to-ISA bridge at 00:01.0 (Intel 290550).
//
// A function's configuration space is 256 bytes, each with the bits a write
// may change and the bits a write of 1 clears (the status register's error
// flags); base address registers size themselves through those masks, as
// the PCI specification (6.2.5.1) has software find them: write all ones,
// read back the size mask.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "devices/port_io_bus.hpp"
#include "jitterbug/result.hpp"

namespace jitterbug::devices {

// What a function answers to an enumeration: the header's identity bytes.
struct PciIdentity {
    std::uint16_t vendor_id = 0;
    std::uint16_t device_id = 0;
    std::uint8_t revision_id = 0;
    std::uint32_t class_code = 0;  // base class, sub-class, programming interface: 0xBBSSPP
    std::uint8_t header_type = 0;  // bit 7: a multi-function device
};

// A base address register (PCI 3.0, 6.2.5.1): the space it asks for and how
// much of it, a power of two.
struct PciBar {
    enum class Space { kIo, kMemory32 };
    Space space = Space::kIo;
    std::uint32_t size = 0;  // I/O: 4-256 bytes; memory: 16 bytes up to 2 GiB
    bool prefetchable = false;
};

class PciFunction {
  public:
    using ConfigSpace = std::array<std::uint8_t, 256>;

    // Type 0 header offsets (PCI 3.0, 6.1).
    static constexpr std::uint8_t kVendorId = 0x00;
    static constexpr std::uint8_t kDeviceId = 0x02;
    static constexpr std::uint8_t kCommand = 0x04;
    static constexpr std::uint8_t kStatus = 0x06;
    static constexpr std::uint8_t kRevisionId = 0x08;
    static constexpr std::uint8_t kClassCode = 0x09;
    static constexpr std::uint8_t kLatencyTimer = 0x0D;
    static constexpr std::uint8_t kHeaderType = 0x0E;
    static constexpr std::uint8_t kBar0 = 0x10;
    static constexpr unsigned kBarCount = 6;
    static constexpr std::uint8_t kInterruptLine = 0x3C;
    static constexpr std::uint8_t kInterruptPin = 0x3D;
    // Command register bits.
    static constexpr std::uint16_t kCommandIoSpace = 1u << 0;
    static constexpr std::uint16_t kCommandMemorySpace = 1u << 1;
    static constexpr std::uint16_t kCommandBusMaster = 1u << 2;
    // Status register: capabilities, DEVSEL timing (bits 10:9), the error flags.
    static constexpr std::uint16_t kStatusFastBackToBack = 1u << 7;
    static constexpr std::uint16_t kStatusMasterDataParityError = 1u << 8;
    static constexpr std::uint16_t kStatusDevselMedium = 1u << 9;
    static constexpr std::uint16_t kStatusSignaledTargetAbort = 1u << 11;
    static constexpr std::uint16_t kStatusReceivedTargetAbort = 1u << 12;
    static constexpr std::uint16_t kStatusReceivedMasterAbort = 1u << 13;
    static constexpr std::uint16_t kStatusSignaledSystemError = 1u << 14;
    static constexpr std::uint16_t kStatusDetectedParityError = 1u << 15;

    explicit PciFunction(const PciIdentity& id);
    virtual ~PciFunction() = default;
    PciFunction(const PciFunction&) = delete;
    PciFunction& operator=(const PciFunction&) = delete;

    // `size` (1, 2 or 4) bytes at `offset`, little-endian; they must lie in
    // the 256 bytes.
    std::uint32_t config_read(unsigned offset, unsigned size) const;
    // Stores what the masks let through, then tells config_changed().
    void config_write(unsigned offset, unsigned size, std::uint32_t value);

    // Back to the reset values (RST#).
    void reset();
    const ConfigSpace& config() const { return config_; }
    void restore_config(const ConfigSpace& config);

    const PciIdentity& identity() const { return id_; }
    std::optional<PciBar> bar(unsigned index) const { return bars_.at(index); }
    // BAR `index`'s base address as software programmed it (its flag bits
    // off); 0 for a BAR the function does not have.
    std::uint32_t bar_address(unsigned index) const;
    bool decodes_io() const { return (config_read(kCommand, 2) & kCommandIoSpace) != 0; }
    bool decodes_memory() const { return (config_read(kCommand, 2) & kCommandMemorySpace) != 0; }

  protected:
    // Defines the `size`-byte register at `offset`: its reset value, the bits
    // software may write, the bits a write of 1 clears.
    void define_register(unsigned offset, unsigned size, std::uint32_t reset_value,
                         std::uint32_t writable = 0, std::uint32_t write_one_clears = 0);
    // Defines BAR `index` (0-5).
    void define_bar(unsigned index, const PciBar& bar);
    // An interrupt pin (1-4: INTA#-INTD#) and the Interrupt Line register
    // software writes the routing into.
    void define_interrupt_pin(std::uint8_t pin);
    // The device itself setting status bits (an abort it saw, say).
    void set_status_bits(std::uint16_t bits);

    // The byte a write of `data` leaves at `offset`, where `old` is: by
    // default the writable bits from `data`, the others kept, the
    // write-one-to-clear bits cleared where `data` has ones. A function with
    // a register that locks, say, overrides it.
    virtual std::uint8_t byte_after_write(unsigned offset, std::uint8_t old,
                                          std::uint8_t data) const;
    // Called after a write stored bytes [offset, offset + size), and after
    // reset() and restore_config() with (0, 256), so a function can
    // follow its registers (remap memory, reroute an interrupt).
    virtual void config_changed(unsigned /*offset*/, unsigned /*size*/) {}

  private:
    PciIdentity id_;
    ConfigSpace reset_values_{};
    ConfigSpace writable_{};
    ConfigSpace write_one_clears_{};
    ConfigSpace config_{};
    std::array<std::optional<PciBar>, kBarCount> bars_{};
};

// Bus 0: 32 devices of up to 8 functions. No PCI-to-PCI bridge: the host
// answers nothing on other buses.
class PciBus {
  public:
    static constexpr unsigned kDeviceCount = 32;
    static constexpr unsigned kFunctionCount = 8;

    // Puts `function` at device:function; it must outlive the bus.
    Result<void> add(unsigned device, unsigned function, PciFunction& pci_function);
    // The function at device:function, or nullptr.
    PciFunction* find(unsigned device, unsigned function) const;

    // An absent function reads all ones (the master abort of a configuration
    // cycle nobody claims, PCI 3.0 6.1) and ignores writes.
    std::uint32_t config_read(unsigned device, unsigned function, unsigned offset,
                              unsigned size) const;
    void config_write(unsigned device, unsigned function, unsigned offset, unsigned size,
                      std::uint32_t value);

    struct FunctionState {
        std::uint8_t devfn = 0;  // device << 3 | function
        PciFunction::ConfigSpace config{};
        bool operator==(const FunctionState&) const = default;
    };
    struct State {
        std::vector<FunctionState> functions;  // by devfn
        bool operator==(const State&) const = default;
    };
    void reset();
    State save() const;
    // Fails, changing nothing, unless `s` holds exactly this bus's functions.
    Result<void> restore(const State& s);

  private:
    std::array<PciFunction*, kDeviceCount * kFunctionCount> functions_{};  // by devfn
};

// Configuration mechanism #1 at 0xCF8-0xCFF, and the PIIX3's reset control
// register at 0xCF9.
//
// CONFIG_ADDRESS (0xCF8) is latched only by 32-bit writes: bit 31 enables
// the configuration cycles, 23:16 bus, 15:11 device, 10:8 function, 7:2
// the dword register; bits 30:24 and 1:0 read as 0. A 32-bit read returns
// it. CONFIG_DATA (0xCFC-0xCFF) reaches the selected dword's bytes at the
// port's low two bits, 1, 2 or 4 of them (bytes of an access that runs
// past 0xCFF are not the host's: they read as ones, their writes go
// nowhere). With the enable bit clear, or for a bus other than 0 or an
// absent function, reads give all ones and writes are dropped.
//
// Other accesses to 0xCF8-0xCFB (anything but a dword at 0xCF8) are
// ordinary I/O cycles the host bridge lets through to a bus nobody drives
// here (all ones, writes dropped), except a byte at 0xCF9: the PIIX3's
// reset control register (RC), bit 1 SRST the reset type, bit 2 RCPU,
// the other bits reserved (read as 0). Writing RCPU from 0 to 1 asks for a
// reset through the callback:
//   SRST = 1, kHard: the PIIX3 asserts PCIRST# and CPURST; the machine goes
//     back to its power-on state, devices (this host included) too.
//   SRST = 0, kSoft: the PIIX3 asserts INIT#; the CPU re-initialises (SDM
//     Vol. 3A 9.1: as RESET but keeping caches, MTRRs, x87/SSE state) and
//     the devices keep their state.
class PciHost final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kConfigAddressPort = 0xCF8;
    static constexpr std::uint16_t kResetControlPort = 0xCF9;
    static constexpr std::uint16_t kConfigDataPort = 0xCFC;
    static constexpr unsigned kPortCount = 8;  // 0xCF8-0xCFF
    static constexpr std::uint32_t kConfigEnable = 0x80000000u;
    static constexpr std::uint8_t kResetSystem = 1u << 1;  // RC.SRST
    static constexpr std::uint8_t kResetCpu = 1u << 2;     // RC.RCPU

    enum class ResetKind { kSoft, kHard };
    using ResetFn = std::function<void(ResetKind)>;

    // `bus` must outlive the host.
    explicit PciHost(PciBus& bus, ResetFn reset_request = {});

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

    std::uint32_t config_address() const { return config_address_; }
    std::uint8_t reset_control() const { return reset_control_; }

    struct State {
        std::uint32_t config_address = 0;
        std::uint8_t reset_control = 0;
        PciBus::State bus;
        bool operator==(const State&) const = default;
    };
    // The host's registers and every function on the bus.
    void reset();
    State save() const;
    Result<void> restore(const State& s);

  private:
    struct Selected {
        unsigned device, function, offset;
    };
    // The dword CONFIG_ADDRESS selects on bus 0, if enabled.
    std::optional<Selected> selected() const;
    std::uint32_t read_data(unsigned byte, unsigned size) const;
    void write_data(unsigned byte, unsigned size, std::uint32_t value);
    void write_reset_control(std::uint8_t value);

    PciBus& bus_;
    ResetFn reset_request_;
    std::uint32_t config_address_ = 0;
    std::uint8_t reset_control_ = 0;
};

// The 82441FX PCI and memory controller (PMC) at 00:00.0, 8086:1237
// revision 02, a host bridge (class 06 00 00). Its PAM registers
// (0x59-0x5F, the read/write enables of the BIOS and option ROM areas
// 0xC0000-0xFFFFF) and SMRAM register (0x72) are stored and told through
// `on_pam_change`; nothing is remapped yet: the machine's memory map does
// not follow them. The latency timer is writable; the DRAM controller's
// registers read as 0 and ignore writes.
class I440fxHostBridge final : public PciFunction {
  public:
    static constexpr std::uint8_t kPam0 = 0x59;
    static constexpr unsigned kPamCount = 7;
    static constexpr std::uint8_t kSmram = 0x72;
    // SMRAM register bits (82441FX datasheet, SMRAM).
    static constexpr std::uint8_t kSmramOpen = 1u << 6;     // D_OPEN
    static constexpr std::uint8_t kSmramClosed = 1u << 5;   // D_CLS
    static constexpr std::uint8_t kSmramLocked = 1u << 4;   // D_LCK
    static constexpr std::uint8_t kSmramEnabled = 1u << 3;  // G_SMRAME
    static constexpr std::uint8_t kSmramBaseA0000 = 0x02;   // C_BASE_SEG: hardwired 010

    // Told that a PAM register or the SMRAM register may have changed.
    using PamChangeFn = std::function<void()>;

    explicit I440fxHostBridge(PamChangeFn on_pam_change = {});

    std::uint8_t pam(unsigned n) const { return config()[kPam0 + n]; }
    std::uint8_t smram() const { return config()[kSmram]; }

  protected:
    std::uint8_t byte_after_write(unsigned offset, std::uint8_t old,
                                  std::uint8_t data) const override;
    void config_changed(unsigned offset, unsigned size) override;

  private:
    PamChangeFn on_pam_change_;
};

// The 82371SB PIIX3's function 0 at 00:01.0, 8086:7000, a PCI-to-ISA
// bridge (class 06 01 00) in a multi-function device (header type 0x80).
// Its PIRQ route control registers (0x60-0x63) steer PCI interrupts
// PIRQA#-PIRQD# to ISA IRQs; the machine asks pirq_irq() where a PCI INTx
// goes. The other registers a kernel or BIOS reads have their reset values
// and writable bits; their functions (ISA recovery, X-bus chip selects,
// SMI, ...) are not modelled.
class Piix3IsaBridge final : public PciFunction {
  public:
    static constexpr std::uint8_t kIoRecoveryTimer = 0x4C;       // IORT
    static constexpr std::uint8_t kXBusChipSelect = 0x4E;        // XBCS
    static constexpr std::uint8_t kPirqRouteControl = 0x60;      // PIRQRC[A:D]
    static constexpr std::uint8_t kTopOfMemory = 0x69;           // TOM
    static constexpr std::uint8_t kMiscStatus = 0x6A;            // MSTAT
    static constexpr std::uint8_t kMotherboardIrqRoute = 0x70;   // MBIRQ0
    static constexpr std::uint8_t kMotherboardDma = 0x76;        // MBDMA[1:0]
    static constexpr std::uint8_t kChipSelectControl = 0x78;     // PCSC
    static constexpr std::uint8_t kApicBase = 0x80;              // APICBASE
    static constexpr std::uint8_t kDeterministicLatency = 0x82;  // DLC
    static constexpr std::uint8_t kSmiControl = 0xA0;            // SMICNTL
    static constexpr std::uint8_t kSmiEnable = 0xA2;             // SMIEN
    static constexpr std::uint8_t kSystemEventEnable = 0xA4;     // SEE
    static constexpr std::uint8_t kFastOffTimer = 0xA8;          // FTMR
    static constexpr std::uint8_t kSmiRequest = 0xAA;            // SMIREQ
    static constexpr std::uint8_t kStopClockLowTimer = 0xAC;     // CTLTMR
    static constexpr std::uint8_t kStopClockHighTimer = 0xAE;    // CTHTMR
    static constexpr unsigned kPirqCount = 4;
    static constexpr std::uint8_t kPirqRoutingDisabled = 0x80;  // IRQROUTEN

    // Told the PIRQ (0-3: PIRQA#-PIRQD#) whose route control register may
    // have changed.
    using PirqChangeFn = std::function<void(unsigned pirq)>;

    explicit Piix3IsaBridge(PirqChangeFn on_pirq_change = {});

    // The ISA IRQ PIRQ `pirq` (0-3: PIRQA#-PIRQD#) is routed to; none when
    // its routing is disabled or the register holds a reserved IRQ (0-2,
    // 8, 13).
    std::optional<unsigned> pirq_irq(unsigned pirq) const;

  protected:
    void config_changed(unsigned offset, unsigned size) override;

  private:
    PirqChangeFn on_pirq_change_;
};

}  // namespace jitterbug::devices
