// The VGA in text mode: its registers through the ports (CRTC, input status
// 1 and the attribute flip-flop, attribute controller, DAC), the screen as
// text, the picture (glyphs, the 9th column, colours through the palette and
// the DAC, blinking, the cursor), the PNG file, save/restore, and the font.
// Expectations from IBM's VGA Technical Reference (registers, mode 3's
// values, the 16 colours) and the VGA ROM font's glyphs.
#include <doctest/doctest.h>
#include <png.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "devices/vga.hpp"
#include "devices/vga_font.hpp"

using namespace jitterbug::devices;

namespace {

using Rgb = std::array<std::uint8_t, 3>;

// The 16 text colours as mode 3 shows them (the CGA's, 6-bit DAC levels 0,
// 21, 42 and 63 scaled to 0, 85, 170 and 255).
constexpr Rgb kBlack{0, 0, 0}, kBlue{0, 0, 170}, kBrown{170, 85, 0}, kLightGrey{170, 170, 170},
    kLightBlue{85, 85, 255}, kRed{170, 0, 0}, kYellow{255, 255, 85}, kWhite{255, 255, 255};

// 'A' in the VGA ROM's 8x16 font.
constexpr std::array<std::uint8_t, 16> kGlyphA = {0x00, 0x00, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE,
                                                  0xC6, 0xC6, 0xC6, 0xC6, 0x00, 0x00, 0x00, 0x00};

struct Screen {
    std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(Vga::kTextBufferSize, 0);
    Vga vga{ram};

    // Writes `text` from `row`, `column` in `attribute` at CRTC address 0.
    void put(unsigned row, unsigned column, const std::vector<std::uint8_t>& text,
             std::uint8_t attribute = 0x07) {
        for (std::size_t i = 0; i < text.size(); ++i) {
            const std::size_t at = 2 * (row * Vga::kColumns + column + i);
            ram[at] = text[i];
            ram[at + 1] = attribute;
        }
    }
    void put(unsigned row, unsigned column, const std::string& text,
             std::uint8_t attribute = 0x07) {
        put(row, column, std::vector<std::uint8_t>(text.begin(), text.end()), attribute);
    }
    void out(std::uint16_t port, std::uint8_t value) { vga.io_write(port, 1, value); }
    std::uint8_t in(std::uint16_t port) { return static_cast<std::uint8_t>(vga.io_read(port, 1)); }
    void crtc(std::uint8_t index, std::uint8_t value) {
        out(0x3D4, index);
        out(0x3D5, value);
    }
    std::uint8_t crtc(std::uint8_t index) {
        out(0x3D4, index);
        return in(0x3D5);
    }
    void attribute(std::uint8_t index, std::uint8_t value) {
        in(0x3DA);  // the flip-flop to "index"
        out(0x3C0, index);
        out(0x3C0, value);
    }
    void dac(std::uint8_t entry, std::uint8_t red, std::uint8_t green, std::uint8_t blue) {
        out(0x3C8, entry);
        out(0x3C9, red);
        out(0x3C9, green);
        out(0x3C9, blue);
    }
};

Rgb pixel(const std::vector<std::uint8_t>& rgb, unsigned x, unsigned y) {
    const std::size_t at = (std::size_t{y} * Vga::kWidth + x) * 3;
    return {rgb[at], rgb[at + 1], rgb[at + 2]};
}

// The 9 pixels of scan line `y` of the cell at `row`, `column`, as a mask:
// bit 8 the leftmost, set where the pixel is `foreground`.
unsigned cell_line(const std::vector<std::uint8_t>& rgb, unsigned row, unsigned column, unsigned y,
                   const Rgb& foreground) {
    unsigned bits = 0;
    for (unsigned x = 0; x < Vga::kCellWidth; ++x) {
        const Rgb p = pixel(rgb, column * Vga::kCellWidth + x, row * Vga::kCellHeight + y);
        bits = bits << 1 | (p == foreground ? 1u : 0u);
    }
    return bits;
}

}  // namespace

TEST_SUITE("devices") {
    TEST_CASE("the VGA comes out of reset in mode 3 as a VGA BIOS leaves it") {
        Screen s;
        CHECK(s.in(0x3CC) == 0x67);
        CHECK(s.crtc(0x09) == 0x4F);
        CHECK(s.crtc(0x0A) == 0x0D);
        CHECK(s.crtc(0x0B) == 0x0E);
        CHECK(s.crtc(0x13) == 0x28);
        CHECK(s.vga.start_address() == 0);
        CHECK(s.vga.cursor_offset() == 0);
        CHECK(s.vga.cursor_visible());
        CHECK_FALSE(s.vga.graphics_mode());
        CHECK(s.in(0x3C0) == 0x20);  // PAS set: the palette drives the display
        s.in(0x3DA);
        s.out(0x3C0, 0x30);
        CHECK(s.in(0x3C1) == 0x0C);  // mode control: line graphics and blink
        s.in(0x3DA);
        s.out(0x3C0, 0x26);
        CHECK(s.in(0x3C1) == 0x14);  // colour 6 is DAC entry 0x14, brown
        CHECK(s.in(0x3C6) == 0xFF);
        s.out(0x3C7, 0x14);
        CHECK(s.in(0x3C9) == 42);
        CHECK(s.in(0x3C9) == 21);
        CHECK(s.in(0x3C9) == 0);
        CHECK(s.vga.screen_text().empty());
    }

    TEST_CASE("CRTC index and data ports set the cursor location and the start address") {
        Screen s;
        s.crtc(0x0E, 0x07);
        s.crtc(0x0F, 0xD0);
        CHECK(s.vga.cursor_offset() == 0x07D0);
        CHECK(s.crtc(0x0E) == 0x07);
        CHECK(s.crtc(0x0F) == 0xD0);
        CHECK(s.in(0x3D4) == 0x0F);
        // A word write puts the index in the low byte and the data in the high one.
        s.vga.io_write(0x3D4, 2, 0x500C);
        s.vga.io_write(0x3D4, 2, 0x0A0D);
        CHECK(s.vga.start_address() == 0x500A);
        CHECK(s.vga.io_read(0x3D4, 2) == 0x0A0D);
        // Registers 0-7 are protected by CRTC 0x11 bit 7, but for 0x07 bit 4.
        s.crtc(0x00, 0x12);
        CHECK(s.crtc(0x00) == 0x5F);
        s.crtc(0x07, 0x00);
        CHECK(s.crtc(0x07) == 0x0F);
        s.crtc(0x11, 0x0E);
        s.crtc(0x00, 0x12);
        CHECK(s.crtc(0x00) == 0x12);
        // Beyond register 0x18 there is nothing.
        s.crtc(0x30, 0x55);
        CHECK(s.crtc(0x30) == 0xFF);
    }

    TEST_CASE("the CRTC answers at 0x3Dx or 0x3Bx as miscellaneous output bit 0 selects") {
        Screen s;
        CHECK(s.in(0x3B4) == 0xFF);
        CHECK(s.in(0x3BA) == 0xFF);
        s.out(0x3B4, 0x0E);
        s.out(0x3B5, 0x01);
        CHECK(s.vga.cursor_offset() == 0);
        s.out(0x3C2, 0x66);
        CHECK(s.in(0x3CC) == 0x66);
        s.out(0x3B4, 0x0E);
        s.out(0x3B5, 0x01);
        CHECK(s.vga.cursor_offset() == 0x0100);
        CHECK(s.in(0x3D5) == 0xFF);
        // Unclaimed ports in the range read as an undriven bus.
        CHECK(s.in(0x3B0) == 0xFF);
        CHECK(s.in(0x3CB) == 0xFF);
        CHECK(s.in(0x3DF) == 0xFF);
        CHECK(s.vga.io_read(0x3DF, 2) == 0xFFFF);
    }

    TEST_CASE("input status 1 toggles its retrace bits and resets the attribute flip-flop") {
        Screen s;
        const std::uint8_t first = s.in(0x3DA);
        const std::uint8_t second = s.in(0x3DA);
        CHECK((first ^ second) == 0x09);  // display disabled and vertical retrace
        CHECK(((first | second) & ~0x09) == 0);
        // A loop waiting for the retrace to start, then to end, gets through.
        int reads = 0;
        while (!(s.in(0x3DA) & 0x08))
            ++reads;
        while (s.in(0x3DA) & 0x08)
            ++reads;
        CHECK(reads <= 2);
        // Half-way through an index/data pair, the read starts the pair again.
        s.out(0x3C0, 0x31);
        s.in(0x3DA);
        s.out(0x3C0, 0x31);  // an index again, not data for 0x11
        s.out(0x3C0, 0x05);
        CHECK(s.in(0x3C0) == 0x31);
        CHECK(s.in(0x3C1) == 0x05);
    }

    TEST_CASE("the attribute controller alternates index and data on port 0x3C0") {
        Screen s;
        s.in(0x3DA);
        s.out(0x3C0, 0x30);  // mode control, PAS kept
        s.out(0x3C0, 0x04);  // blink off
        s.out(0x3C0, 0x31);  // overscan
        s.out(0x3C0, 0x02);
        CHECK(s.in(0x3C0) == 0x31);
        CHECK(s.in(0x3C1) == 0x02);
        s.out(0x3C0, 0x30);
        CHECK(s.in(0x3C1) == 0x04);
        s.out(0x3C0, 0x00);  // data: the flip-flop was at "data"
        CHECK(s.in(0x3C1) == 0x00);
        // The palette registers load only while PAS is 0.
        s.attribute(0x21, 0x3F);
        s.in(0x3DA);
        s.out(0x3C0, 0x01);
        CHECK(s.in(0x3C1) == 0x01);
        s.out(0x3C0, 0x3F);
        CHECK(s.in(0x3C0) == 0x01);
        CHECK(s.in(0x3C1) == 0x3F);
        s.attribute(0x20, 0x00);
        CHECK(s.in(0x3C0) == 0x20);
    }

    TEST_CASE("the DAC moves to the next entry after every third data access") {
        Screen s;
        s.out(0x3C8, 0x05);
        CHECK(s.in(0x3C7) == 0x00);  // DAC state: writing
        for (const std::uint8_t v : {1, 2, 3, 4, 5, 0xFF})
            s.out(0x3C9, v);
        CHECK(s.in(0x3C8) == 0x07);
        s.out(0x3C7, 0x05);
        CHECK(s.in(0x3C7) == 0x03);  // DAC state: reading
        std::vector<int> read;
        for (int i = 0; i < 6; ++i)
            read.push_back(s.in(0x3C9));
        CHECK(read == std::vector<int>{1, 2, 3, 4, 5, 0x3F});  // 6 bits each
        // The index wraps from 255 to 0.
        s.dac(0xFF, 10, 11, 12);
        s.out(0x3C9, 13);
        s.out(0x3C7, 0x00);
        CHECK(s.in(0x3C9) == 13);
        s.out(0x3C6, 0x0F);
        CHECK(s.in(0x3C6) == 0x0F);
    }

    TEST_CASE("screen_text translates code page 437 and trims blank ends") {
        Screen s;
        s.put(0, 0, "Hello,   ", 0x1F);
        s.put(0, 20, "world");
        s.put(2, 0, std::vector<std::uint8_t>{0xC9, 0xCD, 0xBB});
        s.put(3, 0, std::vector<std::uint8_t>{0x01, 0x00, 0x03, 0xE1, 0x9C, 0xB0});
        s.put(5, 0, "  ");
        CHECK(s.vga.screen_text() == "Hello," + std::string(14, ' ') +
                                         "world\n"
                                         "\n"
                                         "\u2554\u2550\u2557\n"
                                         "\u263A \u2665\u00DF\u00A3\u2591\n");
        s.put(24, 79, "z");
        const std::string text = s.vga.screen_text();
        CHECK(text.ends_with("\n" + std::string(79, ' ') + "z\n"));
        CHECK(std::count(text.begin(), text.end(), '\n') == 25);
    }

    TEST_CASE("screen_text and the content hash follow the CRTC start address") {
        Screen s;
        s.put(0, 0, "first");
        s.put(1, 0, "second");
        const std::uint64_t hash = s.vga.content_hash();
        s.crtc(0x0C, 0x00);
        s.crtc(0x0D, 80);
        CHECK(s.vga.screen_text() == "second\n");
        CHECK(s.vga.content_hash() != hash);
        s.crtc(0x0D, 0);
        CHECK(s.vga.content_hash() == hash);
        s.put(0, 10, "x");
        CHECK(s.vga.content_hash() != hash);
        // The display wraps at the end of the 32 KiB buffer.
        s.crtc(0x0C, (16384 - 80) >> 8);
        s.crtc(0x0D, (16384 - 80) & 0xFF);
        s.ram[2 * (16384 - 80)] = 'z';
        CHECK(s.vga.screen_text() == "z\nfirst     x\nsecond\n");
    }

    TEST_CASE("the picture draws a glyph of the VGA font in its colours") {
        Screen s;
        s.crtc(0x0A, 0x20);  // no cursor
        s.put(0, 0, "A");
        const std::vector<std::uint8_t> rgb = s.vga.render_rgb();
        REQUIRE(rgb.size() == 720u * 400u * 3u);
        for (unsigned y = 0; y < 16; ++y) {
            CAPTURE(y);
            // 8 columns from the font, a blank 9th.
            CHECK(cell_line(rgb, 0, 0, y, kLightGrey) == unsigned{kGlyphA[y]} << 1);
            CHECK(cell_line(rgb, 0, 0, y, kBlack) == (~(unsigned{kGlyphA[y]} << 1) & 0x1FF));
        }
        CHECK(vga_font_8x16()[0x41 * 16 + 7] == 0xFE);
    }

    TEST_CASE("the 9th column repeats the 8th for characters 0xC0 to 0xDF only") {
        Screen s;
        s.put(1, 0, std::vector<std::uint8_t>{0xC4, 0xDB, 0xB2, 'A'}, 0x0F);
        s.crtc(0x0A, 0x20);  // no cursor
        std::vector<std::uint8_t> rgb = s.vga.render_rgb();
        CHECK(cell_line(rgb, 1, 0, 7, kWhite) == 0x1FF);  // the horizontal line joins up
        CHECK(cell_line(rgb, 1, 0, 6, kWhite) == 0);
        CHECK(cell_line(rgb, 1, 1, 0, kWhite) == 0x1FF);  // full block
        // Shade 0xB2 has pixels in the 8th column but is no line graphic.
        CHECK((cell_line(rgb, 1, 2, 0, kWhite) & 1) == 0);
        CHECK(cell_line(rgb, 1, 3, 7, kWhite) == 0x1FC);
        // Attribute mode control bit 2 off: no character repeats.
        s.attribute(0x30, 0x08);
        rgb = s.vga.render_rgb();
        CHECK(cell_line(rgb, 1, 0, 7, kWhite) == 0x1FE);
    }

    TEST_CASE("colours go through the attribute palette and the DAC") {
        Screen s;
        s.crtc(0x0A, 0x20);
        s.put(0, 0, std::vector<std::uint8_t>{0xDB, ' ', ' '}, 0x1E);
        s.put(0, 3, std::vector<std::uint8_t>{0xDB}, 0x06);
        std::vector<std::uint8_t> rgb = s.vga.render_rgb();
        CHECK(pixel(rgb, 0, 0) == kYellow);
        CHECK(pixel(rgb, 9, 0) == kBlue);
        CHECK(pixel(rgb, 27, 5) == kBrown);
        // DAC entry 1 (blue's) made pure red.
        s.dac(0x01, 63, 0, 0);
        rgb = s.vga.render_rgb();
        CHECK(pixel(rgb, 9, 0) == Rgb{255, 0, 0});
        CHECK(pixel(rgb, 0, 0) == kYellow);
        // Palette register 1 pointed at DAC entry 4 (red).
        s.attribute(0x01, 0x04);
        s.attribute(0x20, 0x00);
        rgb = s.vga.render_rgb();
        CHECK(pixel(rgb, 9, 0) == kRed);
        // The colour plane enable masks the colour's bits: yellow (14) as 6.
        s.attribute(0x32, 0x07);
        rgb = s.vga.render_rgb();
        CHECK(pixel(rgb, 0, 0) == kBrown);
        // The DAC mask masks the DAC index: brown (0x14) as 0x04.
        s.out(0x3C6, 0x0F);
        rgb = s.vga.render_rgb();
        CHECK(pixel(rgb, 27, 5) == kRed);
    }

    TEST_CASE("the blink bit is a bright background only when blinking is disabled") {
        Screen s;
        s.crtc(0x0A, 0x20);
        s.put(0, 0, "A", 0x9F);
        std::vector<std::uint8_t> rgb = s.vga.render_rgb();
        CHECK(pixel(rgb, 0, 0) == kBlue);  // background 9 blinks: shown as 1
        CHECK(cell_line(rgb, 0, 0, 7, kWhite) == 0x1FC);
        s.attribute(0x30, 0x04);
        rgb = s.vga.render_rgb();
        CHECK(pixel(rgb, 0, 0) == kLightBlue);
        CHECK(cell_line(rgb, 0, 0, 7, kWhite) == 0x1FC);
    }

    TEST_CASE("the cursor covers its scan lines unless disabled or off the screen") {
        Screen s;
        s.put(1, 2, " ", 0x1E);
        s.crtc(0x0E, 0);
        s.crtc(0x0F, 82);
        CHECK(s.vga.cursor_visible());
        std::vector<std::uint8_t> rgb = s.vga.render_rgb();
        for (unsigned y = 0; y < 16; ++y) {
            CAPTURE(y);
            const bool on = y == 13 || y == 14;
            CHECK(cell_line(rgb, 1, 2, y, kYellow) == (on ? 0x1FFu : 0u));
        }
        CHECK(cell_line(rgb, 1, 3, 13, kYellow) == 0);
        s.crtc(0x0A, 0x00);
        s.crtc(0x0B, 0x0F);
        rgb = s.vga.render_rgb();
        CHECK(cell_line(rgb, 1, 2, 0, kYellow) == 0x1FF);
        s.crtc(0x0A, 0x2D);  // bit 5: cursor off
        CHECK_FALSE(s.vga.cursor_visible());
        rgb = s.vga.render_rgb();
        CHECK(cell_line(rgb, 1, 2, 14, kYellow) == 0);
        s.crtc(0x0A, 0x0F);  // its start below its end: none
        s.crtc(0x0B, 0x0E);
        CHECK_FALSE(s.vga.cursor_visible());
        s.crtc(0x0A, 0x0D);
        CHECK(s.vga.cursor_visible());
        s.crtc(0x0F, 0xD0);  // 2000: past the last cell
        s.crtc(0x0E, 0x07);
        CHECK_FALSE(s.vga.cursor_visible());
        s.crtc(0x0D, 80);  // scrolled down a row: it is on the last one
        CHECK(s.vga.cursor_visible());
    }

    TEST_CASE("a blanked display draws black") {
        Screen s;
        s.put(0, 0, std::vector<std::uint8_t>{0xDB}, 0x0F);
        CHECK(pixel(s.vga.render_rgb(), 0, 0) == kWhite);
        s.out(0x3C4, 0x01);
        s.out(0x3C5, 0x20);  // sequencer clocking mode: screen off
        CHECK(pixel(s.vga.render_rgb(), 0, 0) == kBlack);
        s.out(0x3C5, 0x00);
        s.attribute(0x00, 0x00);  // PAS 0
        CHECK(pixel(s.vga.render_rgb(), 0, 0) == kBlack);
        s.attribute(0x20, 0x00);
        CHECK(pixel(s.vga.render_rgb(), 0, 0) == kWhite);
        CHECK(s.vga.screen_text() == "\u2588\n");
    }

    TEST_CASE("write_png writes a 720x400 RGB file with the picture's pixels") {
        Screen s;
        s.put(0, 0, "Hello", 0x1E);
        s.put(24, 70, std::vector<std::uint8_t>{0xC9, 0xCD, 0xBB}, 0x4F);
        const std::filesystem::path path =
            std::filesystem::temp_directory_path() /
            ("jitterbug_vga_test_" + std::to_string(getpid()) + ".png");
        REQUIRE(s.vga.write_png(path).ok());
        png_image image{};
        image.version = PNG_IMAGE_VERSION;
        REQUIRE(png_image_begin_read_from_file(&image, path.string().c_str()));
        CHECK(image.width == 720);
        CHECK(image.height == 400);
        image.format = PNG_FORMAT_RGB;
        std::vector<std::uint8_t> read(PNG_IMAGE_SIZE(image));
        REQUIRE(png_image_finish_read(&image, nullptr, read.data(), 0, nullptr));
        CHECK(read == s.vga.render_rgb());
        std::filesystem::remove(path);
        const auto failed = s.vga.write_png("/nonexistent-directory/screen.png");
        CHECK_FALSE(failed.ok());
        CHECK(failed.error().message.find("/nonexistent-directory/screen.png") !=
              std::string::npos);
    }

    TEST_CASE("the VGA state survives save and restore") {
        Screen s;
        s.crtc(0x0E, 0x01);
        s.crtc(0x0F, 0x23);
        s.dac(0x40, 1, 2, 3);
        s.out(0x3C9, 4);  // half-way through entry 0x41
        s.attribute(0x30, 0x04);
        s.out(0x3C0, 0x31);  // flip-flop at "data"
        const Vga::State saved = s.vga.save();
        s.vga.reset();
        CHECK_FALSE(s.vga.save() == saved);
        CHECK(s.vga.cursor_offset() == 0);
        Screen other;
        other.vga.restore(saved);
        CHECK(other.vga.save() == saved);
        CHECK(other.vga.cursor_offset() == 0x0123);
        other.out(0x3C0, 0x07);
        CHECK(other.in(0x3C1) == 0x07);
        other.out(0x3C9, 5);
        other.out(0x3C9, 6);
        other.out(0x3C7, 0x41);
        CHECK(other.in(0x3C9) == 4);
        CHECK(other.in(0x3C9) == 5);
        CHECK(other.in(0x3C9) == 6);
    }

    TEST_CASE("PSF fonts are read in code page 437 order through their Unicode table") {
        // PSF2, three glyphs: 'B', then the box corner, then 'A' (with a
        // sequence after it, which is skipped).
        std::vector<std::uint8_t> psf2 = {0x72, 0xB5, 0x4A, 0x86};
        // Version, header size, flags (a Unicode table), glyphs, bytes a
        // glyph, height, width.
        for (const std::uint32_t field : {0u, 32u, 1u, 3u, 16u, 16u, 8u}) {
            for (unsigned i = 0; i < 4; ++i)
                psf2.push_back(static_cast<std::uint8_t>(field >> (8 * i)));
        }
        for (std::uint8_t glyph = 1; glyph <= 3; ++glyph) {
            psf2.insert(psf2.end(), 16, glyph);
        }
        for (const std::uint8_t b :
             {0x42, 0xFF, 0xE2, 0x95, 0x94, 0xFF, 0x41, 0xFE, 0x41, 0xCC, 0x81, 0xFF}) {
            psf2.push_back(b);
        }
        const auto font = parse_psf_as_cp437(psf2);
        REQUIRE(font.ok());
        CHECK((*font)['B' * 16] == 1);
        CHECK((*font)[0xC9 * 16 + 15] == 2);
        CHECK((*font)['A' * 16] == 3);
        CHECK((*font)['C' * 16] == 0);

        // PSF1 without a table: the font's own order.
        std::vector<std::uint8_t> psf1 = {0x36, 0x04, 0x00, 16};
        for (unsigned glyph = 0; glyph < 256; ++glyph) {
            psf1.insert(psf1.end(), 16, static_cast<std::uint8_t>(glyph));
        }
        const auto plain = parse_psf_as_cp437(psf1);
        REQUIRE(plain.ok());
        CHECK((*plain)[0xC9 * 16 + 3] == 0xC9);

        psf1[3] = 8;
        CHECK_FALSE(parse_psf_as_cp437(psf1).ok());
        CHECK_FALSE(parse_psf_as_cp437(std::vector<std::uint8_t>{1, 2, 3}).ok());
        psf2.resize(40);
        CHECK_FALSE(parse_psf_as_cp437(psf2).ok());
    }

    TEST_CASE("the embedded font is the VGA ROM font in code page 437 order") {
        const Font8x16& font = vga_font_8x16();
        for (unsigned y = 0; y < 16; ++y)
            CHECK(font['A' * 16 + y] == kGlyphA[y]);
        // The horizontal line: row 7; the full block: all rows.
        for (unsigned y = 0; y < 16; ++y) {
            CHECK(font[0xC4 * 16 + y] == (y == 7 ? 0xFF : 0x00));
            CHECK(font[0xDB * 16 + y] == 0xFF);
        }
        CHECK(cp437_to_unicode(0xC9) == u'\u2554');
        CHECK(cp437_to_unicode(0x01) == u'\u263A');
        CHECK(cp437_to_unicode(0x00) == u' ');
        CHECK(cp437_to_unicode('~') == u'~');
        CHECK(cp437_to_unicode(0x7F) == u'\u2302');
        CHECK(cp437_to_unicode(0xFF) == u'\u00A0');
    }
}
