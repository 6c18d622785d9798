#include "devices/vga_font.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/log.hpp"

namespace jitterbug::devices {
namespace {

// Code page 437 (IBM's "Personal System/2 and Personal Computer BIOS
// Interface Technical Reference", the code page 437 chart), with Unicode's
// names for its graphic characters.
constexpr std::array<char16_t, 256> kCp437 = {
    // 0x00: blank, then the symbols the control codes show
    0x0020, 0x263A, 0x263B, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022,  //
    0x25D8, 0x25CB, 0x25D9, 0x2642, 0x2640, 0x266A, 0x266B, 0x263C,  //
    0x25BA, 0x25C4, 0x2195, 0x203C, 0x00B6, 0x00A7, 0x25AC, 0x21A8,  //
    0x2191, 0x2193, 0x2192, 0x2190, 0x221F, 0x2194, 0x25B2, 0x25BC,  //
    // 0x20-0x7E: ASCII (filled in below), 0x7F: the house
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       //
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       //
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       //
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       //
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       //
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2302,  //
    // 0x80: accented letters and currency
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7,  //
    0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,  //
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,  //
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192,  //
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,  //
    0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,  //
    // 0xB0: shades, then single and double box drawing
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,  //
    0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,  //
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,  //
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,  //
    0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B,  //
    0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,  //
    // 0xE0: Greek letters and mathematics; 0xFF the no-break space
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4,  //
    0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,  //
    0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,  //
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,  //
};

constexpr std::array<std::uint8_t, 2> kPsf1Magic = {0x36, 0x04};
constexpr std::uint8_t kPsf1Mode512 = 0x01, kPsf1ModeHasTable = 0x02, kPsf1ModeHasSeq = 0x04;
constexpr std::array<std::uint8_t, 4> kPsf2Magic = {0x72, 0xB5, 0x4A, 0x86};
constexpr std::uint32_t kPsf2HasTable = 0x01;
constexpr std::size_t kPsf2HeaderSize = 32;

// The parts of a font file: its glyphs, and for each glyph the characters
// (single code points; sequences are of no use here) it shows.
struct PsfFont {
    std::span<const std::uint8_t> glyphs;
    unsigned count = 0;
    std::vector<std::vector<char32_t>> characters;  // empty: no table
};

std::uint32_t load_le32(std::span<const std::uint8_t> bytes, std::size_t at) {
    return bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 |
           static_cast<std::uint32_t>(bytes[at + 3]) << 24;
}

// PSF1's table: for each glyph, 16-bit code points up to 0xFFFF; 0xFFFE
// starts the glyph's sequences.
std::vector<std::vector<char32_t>> read_psf1_table(std::span<const std::uint8_t> table,
                                                   unsigned count) {
    std::vector<std::vector<char32_t>> characters(count);
    std::size_t at = 0;
    for (unsigned glyph = 0; glyph < count; ++glyph) {
        bool in_sequences = false;
        for (; at + 1 < table.size(); at += 2) {
            const char32_t value = table[at] | table[at + 1] << 8;
            if (value == 0xFFFF) break;
            if (value == 0xFFFE) in_sequences = true;
            if (!in_sequences) characters[glyph].push_back(value);
        }
        at += 2;
    }
    return characters;
}

// Decodes the UTF-8 character at `at`, advancing it; nullopt when malformed.
std::optional<char32_t> decode_utf8(std::span<const std::uint8_t> text, std::size_t& at) {
    const std::uint8_t lead = text[at++];
    if (lead < 0x80) return lead;
    const unsigned extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
    if (extra == 0 || at + extra > text.size()) return std::nullopt;
    char32_t value = lead & (0x3F >> extra);
    for (unsigned i = 0; i < extra; ++i) {
        if ((text[at] & 0xC0) != 0x80) return std::nullopt;
        value = value << 6 | (text[at++] & 0x3F);
    }
    return value;
}

// PSF2's table: for each glyph, UTF-8 characters up to 0xFF; 0xFE starts
// the glyph's sequences.
std::vector<std::vector<char32_t>> read_psf2_table(std::span<const std::uint8_t> table,
                                                   unsigned count) {
    std::vector<std::vector<char32_t>> characters(count);
    std::size_t at = 0;
    for (unsigned glyph = 0; glyph < count && at < table.size(); ++glyph) {
        bool in_sequences = false;
        while (at < table.size() && table[at] != 0xFF) {
            if (table[at] == 0xFE) {
                in_sequences = true;
                ++at;
                continue;
            }
            const std::optional<char32_t> c = decode_utf8(table, at);
            if (c && !in_sequences) characters[glyph].push_back(*c);
        }
        ++at;
    }
    return characters;
}

Result<PsfFont> read_psf1(std::span<const std::uint8_t> psf) {
    if (psf.size() < 4) return Error{"PSF1 font: truncated header"};
    const std::uint8_t mode = psf[2];
    if (psf[3] != kGlyphHeight) {
        return Error{fmt::format("PSF1 font: glyphs are {} rows high, not 16", psf[3])};
    }
    PsfFont font;
    font.count = (mode & kPsf1Mode512) ? 512 : 256;
    const std::size_t glyph_bytes = std::size_t{font.count} * kGlyphHeight;
    if (psf.size() < 4 + glyph_bytes) return Error{"PSF1 font: truncated glyphs"};
    font.glyphs = psf.subspan(4, glyph_bytes);
    if (mode & (kPsf1ModeHasTable | kPsf1ModeHasSeq)) {
        font.characters = read_psf1_table(psf.subspan(4 + glyph_bytes), font.count);
    }
    return font;
}

Result<PsfFont> read_psf2(std::span<const std::uint8_t> psf) {
    if (psf.size() < kPsf2HeaderSize) return Error{"PSF2 font: truncated header"};
    const std::uint32_t header_size = load_le32(psf, 8);
    const std::uint32_t flags = load_le32(psf, 12);
    const std::uint32_t count = load_le32(psf, 16);
    const std::uint32_t glyph_size = load_le32(psf, 20);
    const std::uint32_t height = load_le32(psf, 24);
    const std::uint32_t width = load_le32(psf, 28);
    if (width != 8 || height != kGlyphHeight || glyph_size != kGlyphHeight) {
        return Error{fmt::format("PSF2 font: glyphs are {}x{}, not 8x16", width, height)};
    }
    if (count == 0 || count > 0x10000 || header_size < kPsf2HeaderSize ||
        header_size > psf.size() || psf.size() - header_size < std::size_t{count} * glyph_size) {
        return Error{"PSF2 font: truncated glyphs"};
    }
    PsfFont font;
    font.count = count;
    font.glyphs = psf.subspan(header_size, std::size_t{count} * glyph_size);
    if (flags & kPsf2HasTable) {
        font.characters =
            read_psf2_table(psf.subspan(header_size + font.glyphs.size()), font.count);
    }
    return font;
}

// The glyph of `font` that shows `code`, or nullopt.
std::optional<unsigned> find_glyph(const PsfFont& font,
                                   const std::unordered_map<char32_t, unsigned>& glyph_of,
                                   std::uint8_t code) {
    if (font.characters.empty())
        return code < font.count ? std::optional<unsigned>(code) : std::nullopt;
    const char32_t wanted = cp437_to_unicode(code);
    // (A character drawn by more than one glyph: the one at the code's own
    // place, as in a font already in code page 437 order.)
    if (code < font.count) {
        for (const char32_t c : font.characters[code]) {
            if (c == wanted) return code;
        }
    }
    if (const auto found = glyph_of.find(wanted); found != glyph_of.end()) return found->second;
    return std::nullopt;
}

}  // namespace

char16_t cp437_to_unicode(std::uint8_t code) {
    if (code >= 0x20 && code < 0x7F) return code;
    return kCp437[code];
}

void append_cp437_as_utf8(std::string& out, std::uint8_t code) {
    const char16_t c = cp437_to_unicode(code);
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | c >> 6);
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | c >> 12);
        out += static_cast<char>(0x80 | (c >> 6 & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

Result<Font8x16> parse_psf_as_cp437(std::span<const std::uint8_t> psf) {
    Result<PsfFont> read = Error{"not a PC Screen Font (PSF1 or PSF2)"};
    if (psf.size() >= 2 && std::equal(kPsf1Magic.begin(), kPsf1Magic.end(), psf.begin())) {
        read = read_psf1(psf);
    } else if (psf.size() >= 4 && std::equal(kPsf2Magic.begin(), kPsf2Magic.end(), psf.begin())) {
        read = read_psf2(psf);
    }
    if (!read) return read.error();
    const PsfFont& font = *read;

    std::unordered_map<char32_t, unsigned> glyph_of;
    for (unsigned glyph = 0; glyph < font.characters.size(); ++glyph) {
        for (const char32_t c : font.characters[glyph])
            glyph_of.emplace(c, glyph);
    }
    Font8x16 glyphs{};
    for (unsigned code = 0; code < 256; ++code) {
        const std::optional<unsigned> glyph =
            find_glyph(font, glyph_of, static_cast<std::uint8_t>(code));
        if (!glyph) continue;
        const auto rows = font.glyphs.subspan(std::size_t{*glyph} * kGlyphHeight, kGlyphHeight);
        std::copy(rows.begin(), rows.end(), glyphs.begin() + code * kGlyphHeight);
    }
    return glyphs;
}

const Font8x16& vga_font_8x16() {
    // (Immutable once made: the same for every VGA of the process.)
    static const Font8x16 font = [] {
        Result<Font8x16> parsed = parse_psf_as_cp437(vga_font_psf());
        if (!parsed) {
            log::devices().error("vga: the embedded font is unusable: {}", parsed.error().message);
            return Font8x16{};
        }
        return std::move(parsed).value();
    }();
    return font;
}

}  // namespace jitterbug::devices
