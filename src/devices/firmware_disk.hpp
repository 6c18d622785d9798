// FirmwareDisk: a paravirtual disk port through which our BIOS serves INT 13h
// for the floppy drives straight from their images (the machine has no floppy
// controller). Like a DMA engine, it copies whole sectors between an image
// and guest physical memory, synchronously, during the write of its command
// register.
//
// Sixteen ports at kFirstPort hold a little-endian register file; an access
// of 1, 2 or 4 bytes at any port reads or writes the bytes it covers (bytes
// past the file read FFh and are dropped when written):
//   0x0  4 bytes rw  the guest-physical address of the buffer
//   0x4  4 bytes rw  the LBA of the first sector
//   0x8  1 byte  rw  the sector count (0: nothing is transferred)
//   0x9  1 byte  rw  the drive (0: A:, 1: B:)
//   0xA  1 byte      written: the command (a Command); read: the Status of the
//                    last command, an INT 13h status code
//   0xB  1 byte  r   the number of drives present (0-2)
//   0xC  4 bytes r   the sectors of the drive latched by the last kSelect (0:
//                    absent), clamped to 0xFFFFFFFF
// A write that covers the command byte latches its other bytes first, then
// runs the command. Transfers leave the address, LBA and count registers as
// they were: the BIOS keeps its own progress.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "devices/disk_image.hpp"
#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

class FirmwareDisk final : public PortIoHandler {
  public:
    // Copies `bytes` into guest-physical memory at `address` (`to_guest`) or
    // fills them from it; false when any byte is outside RAM or ROM, in which
    // case the copy may have been partial (a read's sectors may have reached
    // guest memory up to the hole).
    using MemoryFn =
        std::function<bool(std::uint64_t address, std::span<std::uint8_t> bytes, bool to_guest)>;

    static constexpr std::uint16_t kFirstPort = 0x4E0;
    static constexpr unsigned kPortCount = 16;
    static constexpr unsigned kDriveCount = 2;

    // Offsets of the registers in the register file.
    static constexpr unsigned kRegisterAddress = 0x0;
    static constexpr unsigned kRegisterLba = 0x4;
    static constexpr unsigned kRegisterCount = 0x8;
    static constexpr unsigned kRegisterDrive = 0x9;
    static constexpr unsigned kRegisterCommand = 0xA;  // the status when read
    static constexpr unsigned kRegisterDrivesPresent = 0xB;
    static constexpr unsigned kRegisterSectors = 0xC;

    enum class Command : std::uint8_t {
        kRead = 1,    // sectors from the image into guest memory
        kWrite = 2,   // sectors from guest memory into the image
        kVerify = 3,  // checks the drive and the range, transfers nothing
        kSelect = 4,  // latches the drive's sector count into kRegisterSectors
    };
    // INT 13h status codes (AH after the call; Ralf Brown's Interrupt List,
    // INT 13h AH=01h).
    enum class Status : std::uint8_t {
        kOk = 0x00,
        kInvalidCommand = 0x01,
        kWriteProtected = 0x03,
        kSectorNotFound = 0x04,     // the range runs past the end of the image
        kControllerFailure = 0x20,  // the buffer is not all in guest memory, or host I/O failed
        kTimeout = 0x80,            // no such drive ("drive not ready")
    };

    struct State {
        std::array<std::uint8_t, kPortCount> registers{};
        bool operator==(const State&) const = default;
    };

    // `drives` (nullptr: absent) must outlive the device; a drive marked
    // `read_only` refuses writes with kWriteProtected (an image opened
    // read-only still takes them, into its overlay).
    FirmwareDisk(std::array<DiskImage*, kDriveCount> drives, MemoryFn memory,
                 std::array<bool, kDriveCount> read_only = {});

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

    // Clears the registers (the drive count stays: it is wired).
    void reset();
    State state() const { return s_; }
    // Takes `s`'s registers; the drive count comes from the drives attached.
    void restore(const State& s);

  private:
    std::uint32_t register32(unsigned offset) const;
    void set_register32(unsigned offset, std::uint32_t value);
    std::uint8_t drives_present() const;
    // The drive kRegisterDrive names, or nullptr.
    DiskImage* selected() const;

    Status execute(std::uint8_t command);
    Status select();
    Status transfer(Command command);
    Status read_sectors(DiskImage& image, std::uint64_t lba, std::uint32_t count,
                        std::uint64_t address);
    Status write_sectors(DiskImage& image, std::uint64_t lba, std::uint32_t count,
                         std::uint64_t address);

    std::array<DiskImage*, kDriveCount> drives_;
    MemoryFn memory_;
    std::array<bool, kDriveCount> read_only_;
    State s_;
    std::vector<std::uint8_t> buffer_;  // the sectors in flight (not state: empty between commands)
};

}  // namespace jitterbug::devices
