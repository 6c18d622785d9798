#include "devices/ata.hpp"

#include <algorithm>
#include <string_view>

namespace jitterbug::devices {

namespace {

constexpr std::uint32_t kSectorSize = DiskImage::kSectorSize;
constexpr std::uint8_t kIdle = Ata::kStatusDrdy | Ata::kStatusDsc;
// The diagnostic code after a reset or EXECUTE DEVICE DIAGNOSTIC (ATA-6,
// EXECUTE DEVICE DIAGNOSTIC): device 0 passed, device 1 passed or absent.
constexpr std::uint8_t kDiagnosticPassed = 0x01;
constexpr std::uint8_t kDeviceLba = 0x40;

// ATA-6, IDENTIFY DEVICE: a string field holds two characters a word, the first in the
// high byte, padded with spaces.
void put_string(std::array<std::uint16_t, 256>& words, unsigned first, unsigned count,
                std::string_view text) {
    for (unsigned i = 0; i < count; ++i) {
        const auto at = [&](std::size_t n) {
            return n < text.size() ? static_cast<std::uint8_t>(text[n]) : std::uint8_t{' '};
        };
        words[first + i] = static_cast<std::uint16_t>(at(2 * i) << 8 | at(2 * i + 1));
    }
}

void put_dword(std::array<std::uint16_t, 256>& words, unsigned first, std::uint32_t value) {
    words[first] = static_cast<std::uint16_t>(value);
    words[first + 1] = static_cast<std::uint16_t>(value >> 16);
}

}  // namespace

std::array<std::uint16_t, 256> ata_identify_block(std::uint64_t sectors, unsigned drive,
                                                  unsigned multiple, unsigned heads,
                                                  unsigned sectors_per_track) {
    std::array<std::uint16_t, 256> w{};
    const auto cylinders = static_cast<std::uint16_t>(std::min<std::uint64_t>(
        sectors / (Ata::kHeads * Ata::kSectorsPerTrack), Ata::kMaxCylinders));
    const auto current_cylinders = static_cast<std::uint16_t>(
        std::min<std::uint64_t>(sectors / (heads * sectors_per_track), 0xFFFF));
    w[0] = 0x0040;  // an ATA device (bit 15 clear), not removable
    w[1] = cylinders;
    w[3] = Ata::kHeads;
    w[6] = Ata::kSectorsPerTrack;
    put_string(w, 10, 10, drive == 0 ? "JB-DISK-0" : "JB-DISK-1");
    put_string(w, 23, 4, "1.0");
    put_string(w, 27, 20, "jitterbug disk");
    w[47] = 0x8000 | Ata::kMaxMultiple;
    w[49] = 0x0200;  // LBA supported
    w[50] = 0x4000;
    w[51] = 0x0200;  // PIO mode 2 (obsolete field)
    w[53] = 0x0003;  // words 54-58 and 64-70 valid
    w[54] = current_cylinders;
    w[55] = static_cast<std::uint16_t>(heads);
    w[56] = static_cast<std::uint16_t>(sectors_per_track);
    put_dword(w, 57, std::uint32_t{current_cylinders} * heads * sectors_per_track);
    w[59] = static_cast<std::uint16_t>(multiple != 0 ? 0x0100 | multiple : 0);
    put_dword(w, 60, static_cast<std::uint32_t>(std::min<std::uint64_t>(sectors, 0x0FFFFFFF)));
    w[64] = 0x0003;  // PIO modes 3 and 4
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x007E;  // ATA-1 to ATA-6
    // Words 83 and 86: FLUSH CACHE EXT (13), FLUSH CACHE (12) and the 48-bit
    // address feature set (10); bit 14 of 83, 84 and 87 is one.
    w[83] = 0x7400;
    w[84] = 0x4000;
    w[86] = 0x3400;
    w[87] = 0x4000;
    for (unsigned i = 0; i < 4; ++i)
        w[100 + i] = static_cast<std::uint16_t>(sectors >> (16 * i));
    // Word 255: signature A5h and a checksum making the 512 bytes sum to 0.
    unsigned sum = 0xA5;
    for (unsigned i = 0; i < 255; ++i)
        sum += (w[i] & 0xFF) + (w[i] >> 8);
    w[255] = static_cast<std::uint16_t>(((0x100 - (sum & 0xFF)) & 0xFF) << 8 | 0xA5);
    return w;
}

Ata::Ata(DiskImage* master, DiskImage* slave, IrqFn irq, std::uint16_t command_base,
         std::uint16_t control_port)
    : images_{master, slave},
      irq_fn_(std::move(irq)),
      command_base_(command_base),
      control_port_(control_port) {
    reset();
}

void Ata::reset() {
    const bool irq = s_.irq;
    s_ = State{};
    s_.irq = irq;
    for (unsigned i = 0; i < 2; ++i) {
        if (!present(i)) continue;
        s_.drives[i].status = kIdle;
        s_.drives[i].error = kDiagnosticPassed;
    }
    set_signature();
    update_irq();
}

void Ata::restore(const State& s) {
    s_ = s;
    if (irq_fn_) irq_fn_(s_.irq);
}

void Ata::set_signature() {
    s_.sector_count = Register{1, 0};
    s_.lba_low = Register{1, 0};
    s_.lba_mid = Register{};
    s_.lba_high = Register{};
    s_.device = 0;
}

std::uint32_t Ata::io_read(std::uint16_t port, unsigned size) {
    if (port == control_port_) return read_status();
    if (port == command_base_) return read_data(size);
    const unsigned offset = port - command_base_;
    if (offset < 8) return read_register(offset);
    return 0xFF;
}

void Ata::io_write(std::uint16_t port, unsigned size, std::uint32_t value) {
    if (port == control_port_) {
        write_control(static_cast<std::uint8_t>(value));
    } else if (port == command_base_) {
        write_data(size, value);
    } else if (const unsigned offset = port - command_base_; offset < 8) {
        write_register(offset, static_cast<std::uint8_t>(value));
    }
}

std::uint8_t Ata::read_status() const {
    if (present(selected())) return s_.drives[selected()].status;
    // Device 0 answers for an absent device 1 with status 00h (ATA-6); with
    // no device at all the bus floats high.
    return present(0) || present(1) ? 0x00 : 0xFF;
}

std::uint8_t Ata::read_register(unsigned offset) {
    const bool hob = (s_.control & kControlHob) != 0;
    const auto pick = [hob](const Register& r) { return hob ? r.previous : r.current; };
    switch (offset) {
        case 1:
            return drive().error;
        case 2:
            return pick(s_.sector_count);
        case 3:
            return pick(s_.lba_low);
        case 4:
            return pick(s_.lba_mid);
        case 5:
            return pick(s_.lba_high);
        case 6:
            return s_.device;
        default: {
            // Reading the status register acknowledges the interrupt
            // (ATA-6, Status register); the alternate status does not.
            const std::uint8_t status = read_status();
            drive().interrupt_pending = false;
            update_irq();
            return status;
        }
    }
}

void Ata::write_register(unsigned offset, std::uint8_t value) {
    // ATA-6, Device Control register: a write to any command block
    // register clears HOB.
    s_.control = static_cast<std::uint8_t>(s_.control & ~kControlHob);
    const auto shift_in = [value](Register& r) { r = Register{value, r.current}; };
    switch (offset) {
        case 1:
            shift_in(s_.features);
            break;
        case 2:
            shift_in(s_.sector_count);
            break;
        case 3:
            shift_in(s_.lba_low);
            break;
        case 4:
            shift_in(s_.lba_mid);
            break;
        case 5:
            shift_in(s_.lba_high);
            break;
        case 6:
            s_.device = value;
            update_irq();  // INTRQ is the newly selected device's
            break;
        default:
            execute(value);
            break;
    }
}

void Ata::write_control(std::uint8_t value) {
    const bool was_reset = (s_.control & kControlSrst) != 0;
    s_.control = value;
    const bool in_reset = (value & kControlSrst) != 0;
    if (in_reset && !was_reset) {
        for (unsigned i = 0; i < 2; ++i) {
            if (!present(i)) continue;
            DriveState& d = s_.drives[i];
            d.status = kStatusBsy;
            d.transfer = Transfer::kNone;
            d.buffer.clear();
            d.position = 0;
            d.interrupt_pending = false;
        }
    } else if (!in_reset && was_reset) {
        software_reset_done();
    }
    update_irq();
}

void Ata::software_reset_done() {
    // ATA-6, software reset protocol: the reset ends without an interrupt, the signature in the
    // registers, and the multiple mode kept.
    for (unsigned i = 0; i < 2; ++i) {
        if (!present(i)) continue;
        s_.drives[i].status = kIdle;
        s_.drives[i].error = kDiagnosticPassed;
    }
    set_signature();
}

std::uint32_t Ata::read_data(unsigned size) {
    if (!present(selected())) return 0;
    DriveState& d = drive();
    const bool reading = d.transfer == Transfer::kRead || d.transfer == Transfer::kIdentify;
    if (!reading || d.position >= d.buffer.size()) return 0;
    std::uint32_t value = 0;
    for (unsigned i = 0; i < size && d.position < d.buffer.size(); ++i) {
        value |= std::uint32_t{d.buffer[d.position++]} << (8 * i);
    }
    if (d.position == d.buffer.size()) block_done();
    return value;
}

void Ata::write_data(unsigned size, std::uint32_t value) {
    if (!present(selected())) return;
    DriveState& d = drive();
    if (d.transfer != Transfer::kWrite || d.position >= d.buffer.size()) return;
    for (unsigned i = 0; i < size && d.position < d.buffer.size(); ++i) {
        d.buffer[d.position++] = static_cast<std::uint8_t>(value >> (8 * i));
    }
    if (d.position == d.buffer.size()) block_done();
}

void Ata::execute(std::uint8_t command) {
    if ((s_.control & kControlSrst) != 0) return;
    // EXECUTE DEVICE DIAGNOSTIC is for both devices, whichever is selected.
    if (command == 0x90 && present(0)) {
        for (unsigned i = 0; i < 2; ++i) {
            if (!present(i)) continue;
            DriveState& d = s_.drives[i];
            d.status = kIdle;
            d.error = kDiagnosticPassed;
            d.interrupt_pending = false;
            d.transfer = Transfer::kNone;
            d.buffer.clear();
            d.position = 0;
        }
        set_signature();
        raise_interrupt();
        return;
    }
    if (!present(selected())) return;
    DriveState& d = drive();
    // Writing the command register clears INTRQ (ATA-6, INTRQ signal).
    d.interrupt_pending = false;
    update_irq();
    d.transfer = Transfer::kNone;
    d.buffer.clear();
    d.position = 0;
    d.command = command;
    d.error = 0;
    if (command >= 0x10 && command <= 0x1F) return complete();  // RECALIBRATE
    switch (command) {
        case 0xEC:
            return identify();
        case 0x20:
        case 0x21:
            return start_read(false, false);
        case 0x24:
            return start_read(false, true);
        case 0xC4:
            return start_read(true, false);
        case 0x29:
            return start_read(true, true);
        case 0x30:
        case 0x31:
            return start_write(false, false);
        case 0x34:
            return start_write(false, true);
        case 0xC5:
            return start_write(true, false);
        case 0x39:
            return start_write(true, true);
        case 0x40:
        case 0x41:
            return read_verify(false);
        case 0x42:
            return read_verify(true);
        case 0xC6:
            return set_multiple_mode();
        case 0xEF:
            return set_features();
        case 0x91:
            return initialize_device_parameters();
        case 0xE7:  // FLUSH CACHE: the image has no cache of its own
        case 0xEA:
            return complete();
        default:
            return fail(kErrorAbrt);  // IDENTIFY PACKET DEVICE (0xA1) included
    }
}

void Ata::identify() {
    DriveState& d = drive();
    const auto words = ata_identify_block(images_[selected()]->sectors(), selected(), d.multiple,
                                          d.logical_heads, d.logical_sectors);
    d.buffer.resize(kSectorSize);
    for (unsigned i = 0; i < words.size(); ++i) {
        d.buffer[2 * i] = static_cast<std::uint8_t>(words[i]);
        d.buffer[2 * i + 1] = static_cast<std::uint8_t>(words[i] >> 8);
    }
    d.transfer = Transfer::kIdentify;
    d.remaining = 1;
    d.block = 1;
    d.status = kIdle | kStatusDrq;
    raise_interrupt();
}

bool Ata::command_range(bool lba48, std::uint64_t& lba, std::uint32_t& count) {
    const DriveState& d = drive();
    if (lba48) {
        count = std::uint32_t{s_.sector_count.previous} << 8 | s_.sector_count.current;
        if (count == 0) count = 65536;
        lba = std::uint64_t{s_.lba_high.previous} << 40 | std::uint64_t{s_.lba_mid.previous} << 32 |
              std::uint64_t{s_.lba_low.previous} << 24 | std::uint64_t{s_.lba_high.current} << 16 |
              std::uint64_t{s_.lba_mid.current} << 8 | s_.lba_low.current;
    } else {
        count = s_.sector_count.current == 0 ? 256 : s_.sector_count.current;
        if ((s_.device & kDeviceLba) != 0) {
            lba = std::uint64_t{s_.device & 0x0Fu} << 24 |
                  std::uint64_t{s_.lba_high.current} << 16 |
                  std::uint64_t{s_.lba_mid.current} << 8 | s_.lba_low.current;
        } else {
            // CHS: cylinder in LBA mid/high, head in the device register,
            // sector (from 1) in LBA low.
            const unsigned cylinder = unsigned{s_.lba_high.current} << 8 | s_.lba_mid.current;
            const unsigned head = s_.device & 0x0Fu;
            const unsigned sector = s_.lba_low.current;
            if (sector == 0 || sector > d.logical_sectors || head >= d.logical_heads) {
                fail(kErrorIdnf);
                return false;
            }
            lba =
                (std::uint64_t{cylinder} * d.logical_heads + head) * d.logical_sectors + sector - 1;
        }
    }
    const std::uint64_t sectors = images_[selected()]->sectors();
    if (lba >= sectors || count > sectors - lba) {
        fail(kErrorIdnf);
        return false;
    }
    return true;
}

void Ata::start_read(bool multiple, bool lba48) {
    DriveState& d = drive();
    if (multiple && d.multiple == 0) return fail(kErrorAbrt);
    std::uint64_t lba = 0;
    std::uint32_t count = 0;
    if (!command_range(lba48, lba, count)) return;
    d.transfer = Transfer::kRead;
    d.remaining = count;
    d.lba = lba;
    d.block = multiple ? d.multiple : 1;
    load_read_block();
}

void Ata::start_write(bool multiple, bool lba48) {
    DriveState& d = drive();
    if (multiple && d.multiple == 0) return fail(kErrorAbrt);
    std::uint64_t lba = 0;
    std::uint32_t count = 0;
    if (!command_range(lba48, lba, count)) return;
    d.transfer = Transfer::kWrite;
    d.remaining = count;
    d.lba = lba;
    d.block = multiple ? d.multiple : 1;
    // ATA-6, PIO data-out protocol: DRQ for the first block without an interrupt.
    next_write_block();
}

void Ata::read_verify(bool lba48) {
    std::uint64_t lba = 0;
    std::uint32_t count = 0;
    if (command_range(lba48, lba, count)) complete();
}

void Ata::load_read_block() {
    DriveState& d = drive();
    const std::uint32_t n = std::min(d.block, d.remaining);
    d.buffer.resize(std::size_t{n} * kSectorSize);
    d.position = 0;
    if (!images_[selected()]->read(d.lba, n, d.buffer)) return fail(kErrorUnc);
    d.status = kIdle | kStatusDrq;
    raise_interrupt();
}

void Ata::next_write_block() {
    DriveState& d = drive();
    const std::uint32_t n = std::min(d.block, d.remaining);
    d.buffer.assign(std::size_t{n} * kSectorSize, 0);
    d.position = 0;
    d.status = kIdle | kStatusDrq;
}

void Ata::block_done() {
    DriveState& d = drive();
    const auto n = static_cast<std::uint32_t>(d.buffer.size() / kSectorSize);
    switch (d.transfer) {
        case Transfer::kIdentify:
            d.transfer = Transfer::kNone;
            d.status = kIdle;
            break;
        case Transfer::kRead:
            d.remaining -= n;
            d.lba += n;
            if (d.remaining > 0) return load_read_block();
            d.transfer = Transfer::kNone;
            d.status = kIdle;
            break;
        case Transfer::kWrite:
            if (!images_[selected()]->write(d.lba, n, d.buffer)) return fail(kErrorAbrt);
            d.remaining -= n;
            d.lba += n;
            if (d.remaining == 0) return complete();
            next_write_block();
            raise_interrupt();
            break;
        case Transfer::kNone:
            break;
    }
}

void Ata::set_multiple_mode() {
    DriveState& d = drive();
    const std::uint8_t n = s_.sector_count.current;
    // A block size of 0 disables multiple mode; others must be a power of
    // two up to IDENTIFY word 47's maximum.
    if (n > kMaxMultiple || (n & (n - 1)) != 0) return fail(kErrorAbrt);
    d.multiple = n;
    complete();
}

void Ata::set_features() {
    switch (s_.features.current) {
        case 0x03:  // set transfer mode (sector count: the mode): all accepted
        case 0x02:  // write cache on / off
        case 0x82:
        case 0xAA:  // read look-ahead on / off
        case 0x55:
        case 0x66:  // reverting to power-on defaults on / off
        case 0xCC:
            return complete();
        default:
            return fail(kErrorAbrt);
    }
}

void Ata::initialize_device_parameters() {
    DriveState& d = drive();
    if (s_.sector_count.current == 0) return fail(kErrorAbrt);
    d.logical_sectors = s_.sector_count.current;
    d.logical_heads = static_cast<std::uint8_t>((s_.device & 0x0F) + 1);
    complete();
}

void Ata::complete() {
    DriveState& d = drive();
    d.transfer = Transfer::kNone;
    d.buffer.clear();
    d.position = 0;
    d.status = kIdle;
    raise_interrupt();
}

void Ata::fail(std::uint8_t error) {
    DriveState& d = drive();
    d.transfer = Transfer::kNone;
    d.buffer.clear();
    d.position = 0;
    d.error = error;
    d.status = kIdle | kStatusErr;
    raise_interrupt();
}

void Ata::raise_interrupt() {
    drive().interrupt_pending = true;
    update_irq();
}

void Ata::update_irq() {
    const bool level = (s_.control & kControlNien) == 0 && present(selected()) &&
                       s_.drives[selected()].interrupt_pending;
    if (level == s_.irq) return;
    s_.irq = level;
    if (irq_fn_) irq_fn_(level);
}

}  // namespace jitterbug::devices
