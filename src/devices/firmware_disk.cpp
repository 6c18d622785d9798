#include "devices/firmware_disk.hpp"

#include <algorithm>
#include <utility>

#include "util/log.hpp"

namespace jitterbug::devices {

namespace {

constexpr std::uint64_t kAddressSpace = std::uint64_t{1} << 32;

}  // namespace

FirmwareDisk::FirmwareDisk(std::array<DiskImage*, kDriveCount> drives, MemoryFn memory,
                           std::array<bool, kDriveCount> read_only)
    : drives_(drives), memory_(std::move(memory)), read_only_(read_only) {
    reset();
}

void FirmwareDisk::reset() {
    s_ = State{};
    s_.registers[kRegisterDrivesPresent] = drives_present();
}

void FirmwareDisk::restore(const State& s) {
    s_ = s;
    s_.registers[kRegisterDrivesPresent] = drives_present();
}

std::uint8_t FirmwareDisk::drives_present() const {
    return static_cast<std::uint8_t>(
        std::count_if(drives_.begin(), drives_.end(), [](DiskImage* d) { return d != nullptr; }));
}

DiskImage* FirmwareDisk::selected() const {
    const unsigned drive = s_.registers[kRegisterDrive];
    return drive < kDriveCount ? drives_[drive] : nullptr;
}

std::uint32_t FirmwareDisk::register32(unsigned offset) const {
    std::uint32_t value = 0;
    for (unsigned i = 0; i < 4; ++i)
        value |= std::uint32_t{s_.registers[offset + i]} << (8 * i);
    return value;
}

void FirmwareDisk::set_register32(unsigned offset, std::uint32_t value) {
    for (unsigned i = 0; i < 4; ++i)
        s_.registers[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::uint32_t FirmwareDisk::io_read(std::uint16_t port, unsigned size) {
    // (A port below kFirstPort wraps to a large offset: it reads as unclaimed.)
    const unsigned offset = static_cast<std::uint16_t>(port - kFirstPort);
    std::uint32_t value = 0;
    for (unsigned i = 0; i < std::min(size, 4u); ++i) {
        const unsigned at = offset + i;
        const std::uint8_t byte = at < kPortCount ? s_.registers[at] : 0xFF;
        value |= std::uint32_t{byte} << (8 * i);
    }
    return value;
}

void FirmwareDisk::io_write(std::uint16_t port, unsigned size, std::uint32_t value) {
    const unsigned offset = static_cast<std::uint16_t>(port - kFirstPort);
    bool command_written = false;
    std::uint8_t command = 0;
    for (unsigned i = 0; i < std::min(size, 4u); ++i) {
        const unsigned at = offset + i;
        const auto byte = static_cast<std::uint8_t>(value >> (8 * i));
        if (at < kRegisterCommand) {
            s_.registers[at] = byte;
        } else if (at == kRegisterCommand) {
            command_written = true;
            command = byte;
        }
        // The drive count and the sector count are read-only.
    }
    if (command_written)
        s_.registers[kRegisterCommand] = static_cast<std::uint8_t>(execute(command));
}

FirmwareDisk::Status FirmwareDisk::execute(std::uint8_t command) {
    switch (static_cast<Command>(command)) {
        case Command::kRead:
        case Command::kWrite:
        case Command::kVerify:
            return transfer(static_cast<Command>(command));
        case Command::kSelect:
            return select();
    }
    return Status::kInvalidCommand;
}

FirmwareDisk::Status FirmwareDisk::select() {
    const DiskImage* image = selected();
    const std::uint64_t sectors = image ? image->sectors() : 0;
    set_register32(kRegisterSectors,
                   static_cast<std::uint32_t>(std::min<std::uint64_t>(sectors, 0xFFFFFFFF)));
    return image ? Status::kOk : Status::kTimeout;
}

// The first failing check gives the status: the drive, the range on the
// disk, write protection, then the buffer. A count of 0 on a present
// drive succeeds without touching anything.
FirmwareDisk::Status FirmwareDisk::transfer(Command command) {
    DiskImage* image = selected();
    if (!image) return Status::kTimeout;
    const std::uint32_t count = s_.registers[kRegisterCount];
    const std::uint64_t lba = register32(kRegisterLba);
    if (count == 0) return Status::kOk;
    if (lba + count > image->sectors()) return Status::kSectorNotFound;
    if (command == Command::kVerify) return Status::kOk;
    if (command == Command::kWrite && read_only_[s_.registers[kRegisterDrive]]) {
        return Status::kWriteProtected;
    }
    const std::uint64_t address = register32(kRegisterAddress);
    if (address + std::uint64_t{count} * DiskImage::kSectorSize > kAddressSpace || !memory_) {
        return Status::kControllerFailure;
    }
    const Status status = command == Command::kRead ? read_sectors(*image, lba, count, address)
                                                    : write_sectors(*image, lba, count, address);
    buffer_.clear();
    return status;
}

FirmwareDisk::Status FirmwareDisk::read_sectors(DiskImage& image, std::uint64_t lba,
                                                std::uint32_t count, std::uint64_t address) {
    buffer_.resize(std::size_t{count} * DiskImage::kSectorSize);
    if (auto ok = image.read(lba, count, buffer_); !ok) {
        log::devices().warn("firmware disk: {}", ok.error().message);
        return Status::kControllerFailure;
    }
    return memory_(address, buffer_, true) ? Status::kOk : Status::kControllerFailure;
}

// Guest memory is read whole before the image is touched: a buffer partly
// outside memory leaves the image as it was.
FirmwareDisk::Status FirmwareDisk::write_sectors(DiskImage& image, std::uint64_t lba,
                                                 std::uint32_t count, std::uint64_t address) {
    buffer_.resize(std::size_t{count} * DiskImage::kSectorSize);
    if (!memory_(address, buffer_, false)) return Status::kControllerFailure;
    if (auto ok = image.write(lba, count, buffer_); !ok) {
        log::devices().warn("firmware disk: {}", ok.error().message);
        return Status::kControllerFailure;
    }
    return Status::kOk;
}

}  // namespace jitterbug::devices
