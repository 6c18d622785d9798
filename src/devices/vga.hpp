// Vga: an IBM VGA in its text modes (IBM "VGA Technical Reference", in the
// Personal System/2 Hardware Interface Technical Reference, "Video
// Subsystem"). Its registers — CRT controller, sequencer, graphics
// controller, attribute controller, DAC, miscellaneous output — answer on
// ports 0x3B0-0x3DF; its picture is the 80x25 text in the guest RAM the
// machine maps at 0xB8000, of which the device is given a read-only view.
// It shows that text as UTF-8 (code page 437 translated) and draws it as the
// 720x400 picture of mode 3: 9x16 cells of the VGA's 8x16 font, colours
// through the attribute palette and the DAC, the cursor.
//
// Not modelled: the planes (writes through 0xA0000, a font loaded into
// plane 2: the font is the ROM's, always), graphics modes, other text
// geometries (80x25 of 9x16 cells always; CRTC 0x13, the offset, sets the
// row stride), cursor skew, horizontal panning, underline, timing (input
// status 1 toggles its retrace bits at each read).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "devices/port_io_bus.hpp"
#include "jitterbug/result.hpp"

namespace jitterbug::devices {

class Vga final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kFirstPort = 0x3B0;  // 0x3B0-0x3DF
    static constexpr unsigned kPortCount = 0x30;
    static constexpr std::uint32_t kTextBufferAddress = 0xB8000;  // guest-physical
    static constexpr std::size_t kTextBufferSize = 0x8000;
    static constexpr unsigned kColumns = 80, kRows = 25;
    static constexpr unsigned kCellWidth = 9, kCellHeight = 16;
    static constexpr unsigned kWidth = kColumns * kCellWidth;  // 720
    static constexpr unsigned kHeight = kRows * kCellHeight;   // 400
    static constexpr unsigned kCrtcCount = 25, kSequencerCount = 5, kGraphicsCount = 9,
                              kAttributeCount = 21;

    // `text_buffer`: the RAM at kTextBufferAddress (kTextBufferSize bytes;
    // what it lacks reads as zeros); it must outlive the device or be replaced.
    explicit Vga(std::span<const std::uint8_t> text_buffer = {});
    void set_text_buffer(std::span<const std::uint8_t> text_buffer) { text_ = text_buffer; }

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

    // The screen as UTF-8: the 25 rows shown (from the CRTC start address),
    // each ended by '\n' with its trailing spaces removed; blank rows at the
    // end are left out (a blank screen is "").
    std::string screen_text() const;
    // A hash of the characters and attributes shown, for noticing a change.
    std::uint64_t content_hash() const;
    // CRTC 0x0C/0x0D and 0x0E/0x0F, in characters from the buffer's start.
    std::uint16_t start_address() const;
    std::uint16_t cursor_offset() const;
    // The cursor is on (CRTC 0x0A bit 5 clear, its start line not below its
    // end line) and on the screen.
    bool cursor_visible() const;
    // Attribute controller mode control bit 0: the text is not what is shown.
    bool graphics_mode() const { return (s_.attribute[0x10] & 0x01) != 0; }

    // The picture: kWidth x kHeight pixels, rows top first, 3 bytes (R, G,
    // B) a pixel. Blinking characters are drawn in their "on" phase and the
    // cursor always.
    std::vector<std::uint8_t> render_rgb() const;
    // render_rgb() as an 8-bit RGB PNG file.
    Result<void> write_png(const std::filesystem::path& path) const;

    struct State {
        std::array<std::uint8_t, kCrtcCount> crtc{};
        std::array<std::uint8_t, kSequencerCount> sequencer{};
        std::array<std::uint8_t, kGraphicsCount> graphics{};
        std::array<std::uint8_t, kAttributeCount> attribute{};
        std::uint8_t crtc_index = 0;
        std::uint8_t sequencer_index = 0;
        std::uint8_t graphics_index = 0;
        std::uint8_t attribute_index = 0;  // bits 0-4 and PAS (bit 5)
        bool attribute_data_next = false;  // the 0x3C0 flip-flop: the next write is data
        std::uint8_t misc_output = 0;
        std::uint8_t feature_control = 0;
        std::uint8_t subsystem_enable = 0;  // port 0x3C3
        bool retrace = false;               // what input status 1 reads next
        std::uint8_t dac_mask = 0;
        std::uint8_t dac_read_index = 0;
        std::uint8_t dac_write_index = 0;
        std::uint8_t dac_component = 0;  // 0-2: red, green, blue
        bool dac_reading = false;        // the last index set was the read index
        std::array<std::array<std::uint8_t, 3>, 256> dac{};  // 6-bit red, green, blue
        bool operator==(const State&) const = default;
    };
    // The state a VGA BIOS leaves after setting mode 3 (see reset()).
    void reset();
    const State& save() const { return s_; }
    void restore(const State& s) { s_ = s; }

  private:
    std::uint8_t read_port(std::uint16_t port);
    void write_port(std::uint16_t port, std::uint8_t value);
    void write_crtc(std::uint8_t value);
    void write_attribute(std::uint8_t value);
    std::uint8_t read_dac_data();
    void write_dac_data(std::uint8_t value);
    // The CRTC and input status 1 answer at 0x3Dx or at 0x3Bx, by
    // miscellaneous output bit 0 (I/O address select).
    bool colour_addresses() const { return (s_.misc_output & 0x01) != 0; }

    // The byte at `offset` of the text buffer (wrapping in it).
    std::uint8_t text_byte(std::size_t offset) const;
    // The CRTC address (in characters) of the cell shown at `row`, `column`.
    std::uint16_t cell_address(unsigned row, unsigned column) const;
    // The row and column the cursor shows at, if it shows.
    std::optional<std::pair<unsigned, unsigned>> cursor_cell() const;
    // The 8-bit RGB of 4-bit text colour `colour`, through the colour plane
    // enable, the palette, the colour select and the DAC.
    std::array<std::uint8_t, 3> colour_rgb(unsigned colour) const;
    bool display_blanked() const;
    void draw_cell(std::vector<std::uint8_t>& rgb, unsigned row, unsigned column,
                   const std::array<std::array<std::uint8_t, 3>, 16>& colours, bool cursor) const;

    std::span<const std::uint8_t> text_;
    State s_;
};

}  // namespace jitterbug::devices
