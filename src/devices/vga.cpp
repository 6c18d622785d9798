#include "devices/vga.hpp"

#include <fmt/format.h>
#include <png.h>

#include "devices/vga_font.hpp"

namespace jitterbug::devices {
namespace {

// Ports (IBM VGA Technical Reference, "Registers"). The CRTC and input
// status 1 sit at 0x3B4/0x3B5/0x3BA or at 0x3D4/0x3D5/0x3DA: the same low
// nibble in either block.
constexpr std::uint16_t kMonoBlock = 0x3B0, kColourBlock = 0x3D0;
constexpr unsigned kCrtcIndexNibble = 0x4, kCrtcDataNibble = 0x5, kStatus1Nibble = 0xA;
constexpr std::uint16_t kAttributeIndexData = 0x3C0, kAttributeRead = 0x3C1;
constexpr std::uint16_t kMiscWriteStatus0 = 0x3C2, kSubsystemEnable = 0x3C3;
constexpr std::uint16_t kSequencerIndex = 0x3C4, kSequencerData = 0x3C5;
constexpr std::uint16_t kDacMask = 0x3C6, kDacReadIndexState = 0x3C7, kDacWriteIndex = 0x3C8,
                        kDacData = 0x3C9;
constexpr std::uint16_t kFeatureRead = 0x3CA, kMiscRead = 0x3CC;
constexpr std::uint16_t kGraphicsIndex = 0x3CE, kGraphicsData = 0x3CF;

// Registers and their bits.
constexpr unsigned kCrtcOverflow = 0x07, kCrtcCursorStart = 0x0A, kCrtcCursorEnd = 0x0B,
                   kCrtcStartHigh = 0x0C, kCrtcStartLow = 0x0D, kCrtcCursorHigh = 0x0E,
                   kCrtcCursorLow = 0x0F, kCrtcVerticalRetraceEnd = 0x11, kCrtcOffset = 0x13;
constexpr std::uint8_t kCrtcProtect = 0x80;              // 0x11 bit 7: registers 0-7 locked...
constexpr std::uint8_t kCrtcOverflowLineCompare = 0x10;  // ...but for 0x07's line compare bit 8
constexpr std::uint8_t kCursorDisable = 0x20, kScanLineMask = 0x1F;
constexpr unsigned kSequencerClockingMode = 0x01;
constexpr std::uint8_t kScreenOff = 0x20;
constexpr unsigned kAttributeModeControl = 0x10, kAttributeColourPlaneEnable = 0x12,
                   kAttributeColourSelect = 0x14;
constexpr std::uint8_t kPaletteAddressSource = 0x20;  // the attribute index's PAS bit
constexpr std::uint8_t kModeLineGraphics = 0x04, kModeBlink = 0x08, kModeP54Select = 0x80;
constexpr std::uint8_t kStatus1DisplayDisabled = 0x01, kStatus1VerticalRetrace = 0x08;
constexpr std::uint8_t kDacStateReading = 0x03;

// The bits each attribute controller register has.
constexpr std::array<std::uint8_t, Vga::kAttributeCount> kAttributeBits = {
    0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F,
    0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0xFF, 0xFF, 0x3F, 0x0F, 0x0F};

// Mode 3 (80x25 text, 9x16 cells, 720x400 at 70 Hz) as the VGA BIOS's
// parameter table sets it (IBM VGA Technical Reference, BIOS video
// parameters for mode 3+). The notable values: CRTC 0x09 = 0x4F (16 scan
// lines a row), 0x0A/0x0B = 0x0D/0x0E (the cursor on lines 13-14 of 0-15), 0x11 bit 7
// set (registers 0-7 protected), 0x13 = 0x28 (80 characters a row); attribute
// mode control 0x0C (line graphics, blink); miscellaneous output 0x67
// (colour addresses 0x3Dx, 28 MHz clock, 400 lines).
constexpr std::array<std::uint8_t, Vga::kCrtcCount> kCrtcMode3 = {
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
    0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF};
constexpr std::array<std::uint8_t, Vga::kSequencerCount> kSequencerMode3 = {0x03, 0x00, 0x03, 0x00,
                                                                            0x02};
constexpr std::array<std::uint8_t, Vga::kGraphicsCount> kGraphicsMode3 = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF};
// The palette maps the 16 text colours to the DAC entries holding the CGA
// colours (brown is 0x14, the bright ones 0x38-0x3F).
constexpr std::array<std::uint8_t, Vga::kAttributeCount> kAttributeMode3 = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
    0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00};
constexpr std::uint8_t kMiscMode3 = 0x67;

// DAC entry `i` (0-63) as the BIOS loads it for the 16-colour modes: the
// EGA's 64 colours, i's bits being (high to low) r g b R G B, a capital
// worth 2/3 of full scale (42) and a small letter 1/3 (21).
std::array<std::uint8_t, 3> ega_colour(unsigned i) {
    const auto level = [i](unsigned high_bit, unsigned low_bit) {
        return static_cast<std::uint8_t>((i >> high_bit & 1) * 42 + (i >> low_bit & 1) * 21);
    };
    return {level(2, 5), level(1, 4), level(0, 3)};
}

// The DAC's 6-bit intensity as an 8-bit one (0x3F -> 0xFF).
std::uint8_t scale_6_to_8(std::uint8_t value) {
    return static_cast<std::uint8_t>(value << 2 | value >> 4);
}

}  // namespace

Vga::Vga(std::span<const std::uint8_t> text_buffer) : text_(text_buffer) { reset(); }

void Vga::reset() {
    s_ = State{};
    s_.crtc = kCrtcMode3;
    s_.sequencer = kSequencerMode3;
    s_.graphics = kGraphicsMode3;
    s_.attribute = kAttributeMode3;
    s_.attribute_index = kPaletteAddressSource;
    s_.misc_output = kMiscMode3;
    s_.subsystem_enable = 0x01;
    s_.dac_mask = 0xFF;
    // (Entries 64-255 stay black: the 16-colour modes cannot reach them
    // while the colour select is 0.)
    for (unsigned i = 0; i < 64; ++i)
        s_.dac[i] = ega_colour(i);
}

// ---- Ports ------------------------------------------------------------------

std::uint32_t Vga::io_read(std::uint16_t port, unsigned size) {
    // A wider access reaches the following ports, lowest first.
    std::uint32_t value = 0;
    for (unsigned i = 0; i < size; ++i) {
        const unsigned p = port + i;
        const std::uint8_t byte =
            p < kFirstPort + kPortCount ? read_port(static_cast<std::uint16_t>(p)) : 0xFF;
        value |= std::uint32_t{byte} << (8 * i);
    }
    return value;
}

void Vga::io_write(std::uint16_t port, unsigned size, std::uint32_t value) {
    for (unsigned i = 0; i < size; ++i) {
        const unsigned p = port + i;
        if (p < kFirstPort + kPortCount) {
            write_port(static_cast<std::uint16_t>(p), static_cast<std::uint8_t>(value >> (8 * i)));
        }
    }
}

std::uint8_t Vga::read_port(std::uint16_t port) {
    if (port < 0x3C0 || port >= kColourBlock) {
        const std::uint16_t block = port & 0xFFF0;
        if (block != (colour_addresses() ? kColourBlock : kMonoBlock)) return 0xFF;
        switch (port & 0x0F) {
            case kCrtcIndexNibble:
                return s_.crtc_index;
            case kCrtcDataNibble:
                return s_.crtc_index < kCrtcCount ? s_.crtc[s_.crtc_index] : 0xFF;
            case kStatus1Nibble: {
                // Reading input status 1 sets the attribute flip-flop to
                // "index". Without a beam to follow, the retrace bits toggle
                // at each read, so that loops waiting for either edge end.
                s_.attribute_data_next = false;
                s_.retrace = !s_.retrace;
                return s_.retrace ? kStatus1DisplayDisabled | kStatus1VerticalRetrace : 0x00;
            }
            default:
                return 0xFF;
        }
    }
    switch (port) {
        case kAttributeIndexData:
            return s_.attribute_index;
        case kAttributeRead: {
            const unsigned index = s_.attribute_index & 0x1F;
            return index < kAttributeCount ? s_.attribute[index] : 0x00;
        }
        case kMiscWriteStatus0:
            return 0x00;  // no CRT interrupt; switch sense not modelled
        case kSubsystemEnable:
            return s_.subsystem_enable;
        case kSequencerIndex:
            return s_.sequencer_index;
        case kSequencerData:
            return s_.sequencer_index < kSequencerCount ? s_.sequencer[s_.sequencer_index] : 0xFF;
        case kDacMask:
            return s_.dac_mask;
        case kDacReadIndexState:
            return s_.dac_reading ? kDacStateReading : 0x00;
        case kDacWriteIndex:
            return s_.dac_write_index;
        case kDacData:
            return read_dac_data();
        case kFeatureRead:
            return s_.feature_control;
        case kMiscRead:
            return s_.misc_output;
        case kGraphicsIndex:
            return s_.graphics_index;
        case kGraphicsData:
            return s_.graphics_index < kGraphicsCount ? s_.graphics[s_.graphics_index] : 0xFF;
        default:
            return 0xFF;
    }
}

void Vga::write_port(std::uint16_t port, std::uint8_t value) {
    if (port < 0x3C0 || port >= kColourBlock) {
        const std::uint16_t block = port & 0xFFF0;
        if (block != (colour_addresses() ? kColourBlock : kMonoBlock)) return;
        switch (port & 0x0F) {
            case kCrtcIndexNibble:
                s_.crtc_index = value;
                break;
            case kCrtcDataNibble:
                write_crtc(value);
                break;
            case kStatus1Nibble:
                s_.feature_control = value;
                break;
            default:
                break;
        }
        return;
    }
    switch (port) {
        case kAttributeIndexData:
            write_attribute(value);
            break;
        case kMiscWriteStatus0:
            s_.misc_output = value;
            break;
        case kSubsystemEnable:
            s_.subsystem_enable = value & 0x01;
            break;
        case kSequencerIndex:
            s_.sequencer_index = value;
            break;
        case kSequencerData:
            if (s_.sequencer_index < kSequencerCount) s_.sequencer[s_.sequencer_index] = value;
            break;
        case kDacMask:
            s_.dac_mask = value;
            break;
        case kDacReadIndexState:
            s_.dac_read_index = value;
            s_.dac_component = 0;
            s_.dac_reading = true;
            break;
        case kDacWriteIndex:
            s_.dac_write_index = value;
            s_.dac_component = 0;
            s_.dac_reading = false;
            break;
        case kDacData:
            write_dac_data(value);
            break;
        case kGraphicsIndex:
            s_.graphics_index = value;
            break;
        case kGraphicsData:
            if (s_.graphics_index < kGraphicsCount) s_.graphics[s_.graphics_index] = value;
            break;
        default:
            break;  // 0x3C1 and the rest are read-only or absent
    }
}

void Vga::write_crtc(std::uint8_t value) {
    const unsigned index = s_.crtc_index;
    if (index >= kCrtcCount) return;
    if ((s_.crtc[kCrtcVerticalRetraceEnd] & kCrtcProtect) && index <= kCrtcOverflow) {
        if (index == kCrtcOverflow) {
            s_.crtc[index] = static_cast<std::uint8_t>(
                (s_.crtc[index] & ~kCrtcOverflowLineCompare) | (value & kCrtcOverflowLineCompare));
        }
        return;
    }
    s_.crtc[index] = value;
}

void Vga::write_attribute(std::uint8_t value) {
    if (!s_.attribute_data_next) {
        s_.attribute_index = value & 0x3F;
    } else {
        const unsigned index = s_.attribute_index & 0x1F;
        // The palette registers load only while PAS is 0 (the display then
        // blanked); IBM's VGA ignores writes to them otherwise.
        const bool palette_locked = index < 16 && (s_.attribute_index & kPaletteAddressSource);
        if (index < kAttributeCount && !palette_locked) {
            s_.attribute[index] = value & kAttributeBits[index];
        }
    }
    s_.attribute_data_next = !s_.attribute_data_next;
}

// The DAC moves to the next entry after its third (blue) access.
std::uint8_t Vga::read_dac_data() {
    const std::uint8_t value = s_.dac[s_.dac_read_index][s_.dac_component];
    if (++s_.dac_component == 3) {
        s_.dac_component = 0;
        ++s_.dac_read_index;
    }
    return value;
}

void Vga::write_dac_data(std::uint8_t value) {
    s_.dac[s_.dac_write_index][s_.dac_component] = value & 0x3F;
    if (++s_.dac_component == 3) {
        s_.dac_component = 0;
        ++s_.dac_write_index;
    }
}

// ---- The text -----------------------------------------------------------------

std::uint16_t Vga::start_address() const {
    return static_cast<std::uint16_t>(s_.crtc[kCrtcStartHigh] << 8 | s_.crtc[kCrtcStartLow]);
}

std::uint16_t Vga::cursor_offset() const {
    return static_cast<std::uint16_t>(s_.crtc[kCrtcCursorHigh] << 8 | s_.crtc[kCrtcCursorLow]);
}

// In text mode the CRTC counts characters; a row is 2 x the offset register
// of them (word mode).
std::uint16_t Vga::cell_address(unsigned row, unsigned column) const {
    return static_cast<std::uint16_t>(start_address() + row * 2u * s_.crtc[kCrtcOffset] + column);
}

// Character `a` is the byte pair at 2a, wrapping in the 32 KiB window.
std::uint8_t Vga::text_byte(std::size_t offset) const {
    offset %= kTextBufferSize;
    return offset < text_.size() ? text_[offset] : 0;
}

std::string Vga::screen_text() const {
    std::string text;
    std::size_t kept = 0;  // the text up to the last row with something on it
    for (unsigned row = 0; row < kRows; ++row) {
        std::string line;
        for (unsigned column = 0; column < kColumns; ++column) {
            append_cp437_as_utf8(line, text_byte(2 * std::size_t{cell_address(row, column)}));
        }
        line.erase(line.find_last_not_of(' ') + 1);
        text += line;
        text += '\n';
        if (!line.empty()) kept = text.size();
    }
    text.resize(kept);
    return text;
}

std::uint64_t Vga::content_hash() const {
    // FNV-1a, 64 bits.
    std::uint64_t hash = 0xCBF29CE484222325u;
    for (unsigned row = 0; row < kRows; ++row) {
        for (unsigned column = 0; column < kColumns; ++column) {
            const std::size_t at = 2 * std::size_t{cell_address(row, column)};
            for (const std::uint8_t byte : {text_byte(at), text_byte(at + 1)}) {
                hash = (hash ^ byte) * 0x100000001B3u;
            }
        }
    }
    return hash;
}

std::optional<std::pair<unsigned, unsigned>> Vga::cursor_cell() const {
    const std::uint8_t start = s_.crtc[kCrtcCursorStart];
    const unsigned end = s_.crtc[kCrtcCursorEnd] & kScanLineMask;
    // (A VGA shows no cursor whose start line is below its end line.)
    if ((start & kCursorDisable) || (start & kScanLineMask) > end) return std::nullopt;
    if ((start & kScanLineMask) >= kCellHeight) return std::nullopt;
    const unsigned stride = 2u * s_.crtc[kCrtcOffset];
    const unsigned from_start = static_cast<std::uint16_t>(cursor_offset() - start_address());
    const unsigned row = stride ? from_start / stride : 0;
    const unsigned column = stride ? from_start % stride : from_start;
    if (row >= kRows || column >= kColumns) return std::nullopt;
    return std::pair{row, column};
}

bool Vga::cursor_visible() const { return cursor_cell().has_value(); }

// ---- The picture ----------------------------------------------------------------

std::array<std::uint8_t, 3> Vga::colour_rgb(unsigned colour) const {
    const unsigned enabled = colour & s_.attribute[kAttributeColourPlaneEnable] & 0x0F;
    const std::uint8_t palette = s_.attribute[enabled];
    const std::uint8_t select = s_.attribute[kAttributeColourSelect];
    // DAC index bits 7-6 come from colour select bits 3-2; bits 5-4 from the
    // palette, or from colour select bits 1-0 when mode control bit 7 says.
    unsigned index = (select & 0x0Cu) << 4;
    if (s_.attribute[kAttributeModeControl] & kModeP54Select) {
        index |= (select & 0x03u) << 4 | (palette & 0x0Fu);
    } else {
        index |= palette & 0x3Fu;
    }
    const std::array<std::uint8_t, 3>& entry = s_.dac[index & s_.dac_mask];
    return {scale_6_to_8(entry[0]), scale_6_to_8(entry[1]), scale_6_to_8(entry[2])};
}

bool Vga::display_blanked() const {
    return !(s_.attribute_index & kPaletteAddressSource) ||
           (s_.sequencer[kSequencerClockingMode] & kScreenOff);
}

void Vga::draw_cell(std::vector<std::uint8_t>& rgb, unsigned row, unsigned column,
                    const std::array<std::array<std::uint8_t, 3>, 16>& colours, bool cursor) const {
    const std::size_t at = 2 * std::size_t{cell_address(row, column)};
    const std::uint8_t code = text_byte(at);
    const std::uint8_t attribute = text_byte(at + 1);
    const std::uint8_t mode = s_.attribute[kAttributeModeControl];
    const unsigned foreground = attribute & 0x0F;
    // With blinking on, bit 7 blinks the character (shown here in its "on"
    // phase) and the background has 8 colours; with it off, 16.
    const unsigned background = (mode & kModeBlink) ? (attribute >> 4 & 0x07) : attribute >> 4;
    // The 9th column repeats the 8th for the line-drawing characters, so
    // that their lines join; it is background for the rest.
    const bool line_graphics = (mode & kModeLineGraphics) && code >= 0xC0 && code <= 0xDF;
    const unsigned cursor_start = s_.crtc[kCrtcCursorStart] & kScanLineMask;
    const unsigned cursor_end = s_.crtc[kCrtcCursorEnd] & kScanLineMask;
    const Font8x16& font = vga_font_8x16();
    for (unsigned y = 0; y < kCellHeight; ++y) {
        const unsigned glyph_row = font[code * kGlyphHeight + y];
        unsigned bits = glyph_row << 1 | (line_graphics ? glyph_row & 1 : 0);  // 9: bit 8 left
        if (cursor && y >= cursor_start && y <= cursor_end) bits = 0x1FF;
        std::uint8_t* out = &rgb[((row * kCellHeight + y) * kWidth + column * kCellWidth) * 3];
        for (unsigned x = 0; x < kCellWidth; ++x, out += 3) {
            const auto& c = colours[(bits >> (kCellWidth - 1 - x) & 1) ? foreground : background];
            std::copy(c.begin(), c.end(), out);
        }
    }
}

std::vector<std::uint8_t> Vga::render_rgb() const {
    std::vector<std::uint8_t> rgb(std::size_t{kWidth} * kHeight * 3, 0);
    // Blanked (PAS 0, or the sequencer's screen off): black.
    if (display_blanked()) return rgb;
    std::array<std::array<std::uint8_t, 3>, 16> colours;
    for (unsigned c = 0; c < 16; ++c)
        colours[c] = colour_rgb(c);
    const auto cursor = cursor_cell();
    for (unsigned row = 0; row < kRows; ++row) {
        for (unsigned column = 0; column < kColumns; ++column) {
            draw_cell(rgb, row, column, colours, cursor == std::pair{row, column});
        }
    }
    return rgb;
}

Result<void> Vga::write_png(const std::filesystem::path& path) const {
    const std::vector<std::uint8_t> rgb = render_rgb();
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.width = kWidth;
    image.height = kHeight;
    image.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&image, path.string().c_str(), 0, rgb.data(), 0, nullptr)) {
        Error error{fmt::format("cannot write the screen to {}: {}", path.string(), image.message)};
        png_image_free(&image);
        return error;
    }
    return {};
}

}  // namespace jitterbug::devices
