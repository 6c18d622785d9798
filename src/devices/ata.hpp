// Ata: one ATA (IDE) channel with a master and an optional slave hard disk,
// programmed through PIO (ATA/ATAPI-6, T13/1410D). The command block sits at
// `command_base` (0x1F0-0x1F7 on a PC's primary channel), the control block
// register (alternate status / device control) at `control_port` (0x3F6),
// and INTRQ goes to `irq` as a level (IRQ 14 on the primary channel).
//
// Every command completes at once: BSY is never seen. The host writes the
// task-file registers, which both devices latch (ATA-6: the registers
// go to both devices), and the command, which the selected device (the
// device register's DEV bit) executes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "devices/disk_image.hpp"
#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

class Ata final : public PortIoHandler {
  public:
    using IrqFn = std::function<void(bool level)>;

    static constexpr std::uint16_t kPrimaryCommandBase = 0x1F0;
    static constexpr std::uint16_t kPrimaryControlPort = 0x3F6;
    static constexpr unsigned kPrimaryIrq = 14;
    // The most sectors per DRQ block of READ/WRITE MULTIPLE (IDENTIFY word 47).
    static constexpr unsigned kMaxMultiple = 16;
    // The default CHS translation (IDENTIFY words 1, 3, 6).
    static constexpr unsigned kHeads = 16;
    static constexpr unsigned kSectorsPerTrack = 63;
    static constexpr unsigned kMaxCylinders = 16383;

    // Status register bits.
    static constexpr std::uint8_t kStatusErr = 0x01;
    static constexpr std::uint8_t kStatusDrq = 0x08;
    static constexpr std::uint8_t kStatusDsc = 0x10;  // obsolete "seek complete", kept set
    static constexpr std::uint8_t kStatusDf = 0x20;
    static constexpr std::uint8_t kStatusDrdy = 0x40;
    static constexpr std::uint8_t kStatusBsy = 0x80;
    // Error register bits.
    static constexpr std::uint8_t kErrorAbrt = 0x04;
    static constexpr std::uint8_t kErrorIdnf = 0x10;
    static constexpr std::uint8_t kErrorUnc = 0x40;
    // Device control register bits.
    static constexpr std::uint8_t kControlNien = 0x02;
    static constexpr std::uint8_t kControlSrst = 0x04;
    static constexpr std::uint8_t kControlHob = 0x80;

    // `master` and `slave` (nullptr: absent) must outlive the channel.
    Ata(DiskImage* master, DiskImage* slave = nullptr, IrqFn irq = {},
        std::uint16_t command_base = kPrimaryCommandBase,
        std::uint16_t control_port = kPrimaryControlPort);

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

    bool irq_level() const { return s_.irq; }

    // A task-file register written twice keeps the older value for LBA48
    // (the "previous" content, read with device control HOB set).
    struct Register {
        std::uint8_t current = 0;
        std::uint8_t previous = 0;
        bool operator==(const Register&) const = default;
    };
    enum class Transfer : std::uint8_t { kNone, kIdentify, kRead, kWrite };
    struct DriveState {
        std::uint8_t status = 0;
        std::uint8_t error = 0;
        bool interrupt_pending = false;
        std::uint8_t multiple = 0;  // SET MULTIPLE MODE's block size; 0: disabled
        // INITIALIZE DEVICE PARAMETERS' CHS translation.
        std::uint8_t logical_heads = kHeads;
        std::uint8_t logical_sectors = kSectorsPerTrack;
        // The PIO transfer in progress (status DRQ while `position` has not
        // reached the end of `buffer`, one DRQ block).
        Transfer transfer = Transfer::kNone;
        std::uint8_t command = 0;
        std::uint32_t remaining = 0;  // sectors still to transfer, this block included
        std::uint64_t lba = 0;        // the first sector of this block
        std::uint32_t block = 1;      // sectors per DRQ block
        std::vector<std::uint8_t> buffer;
        std::uint32_t position = 0;
        bool operator==(const DriveState&) const = default;
    };
    struct State {
        Register features, sector_count, lba_low, lba_mid, lba_high;
        std::uint8_t device = 0;
        std::uint8_t control = 0;  // device control
        std::array<DriveState, 2> drives;
        bool irq = false;  // INTRQ
        bool operator==(const State&) const = default;
    };

    // A hardware reset: both devices' signatures, multiple mode off.
    void reset();
    State save() const { return s_; }
    // Takes `s` and drives the interrupt line to its level.
    void restore(const State& s);

  private:
    unsigned selected() const { return (s_.device >> 4) & 1; }
    bool present(unsigned drive) const { return images_[drive] != nullptr; }
    DriveState& drive() { return s_.drives[selected()]; }
    std::uint8_t read_register(unsigned offset);
    void write_register(unsigned offset, std::uint8_t value);
    std::uint8_t read_status() const;
    void write_control(std::uint8_t value);
    std::uint32_t read_data(unsigned size);
    void write_data(unsigned size, std::uint32_t value);
    // The signature of a non-packet device after a reset or diagnostic.
    void set_signature();
    void software_reset_done();

    void execute(std::uint8_t command);
    void identify();
    void start_read(bool multiple, bool lba48);
    void start_write(bool multiple, bool lba48);
    void read_verify(bool lba48);
    void set_multiple_mode();
    void set_features();
    void initialize_device_parameters();
    // The address and count a command gives; false (after ending the command
    // with IDNF) when it is outside the medium.
    bool command_range(bool lba48, std::uint64_t& lba, std::uint32_t& count);
    void load_read_block();
    void next_write_block();
    void block_done();
    void complete();
    void fail(std::uint8_t error);
    void raise_interrupt();
    void update_irq();

    std::array<DiskImage*, 2> images_;
    IrqFn irq_fn_;
    std::uint16_t command_base_;
    std::uint16_t control_port_;
    State s_;
};

// The 256-word IDENTIFY DEVICE block (ATA-6, IDENTIFY DEVICE) of a disk of `sectors`
// sectors; `drive` (0, 1) makes the serial number; `multiple`: the current
// READ/WRITE MULTIPLE block size (0: disabled), `heads` and
// `sectors_per_track`: the current CHS translation.
std::array<std::uint16_t, 256> ata_identify_block(std::uint64_t sectors, unsigned drive,
                                                  unsigned multiple, unsigned heads,
                                                  unsigned sectors_per_track);

}  // namespace jitterbug::devices
