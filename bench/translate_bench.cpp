// Translation cost: decoding guest code into IR, and compiling IR with each
// backend, per guest instruction. The guest code is the workloads kernel's.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "cpu/translator.hpp"
#include "jit/backend/backend.hpp"
#include "mmu/mmu.hpp"

using namespace jitterbug;

namespace {

// The guest code: the workloads kernel image, loaded flat at 1 MiB (its text
// comes first in the file after the ELF headers, which are skipped as code).
struct CodeImage {
    std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(4 << 20);
    mmu::PhysicalMemory memory;
    mmu::Tlb tlb;
    mmu::Mmu mmu{memory, tlb};
    std::uint32_t start = 0;
    std::uint32_t end = 0;

    CodeImage() {
        const auto path = std::filesystem::path(JITTERBUG_GUEST_DIR) / "workloads.elf";
        std::ifstream in(path, std::ios::binary);
        std::vector<std::uint8_t> file((std::istreambuf_iterator<char>(in)),
                                       std::istreambuf_iterator<char>());
        if (file.size() < 0x2000) throw std::runtime_error("workloads.elf not found");
        std::copy(file.begin() + 0x1000, file.end(), ram.begin() + 0x100000);
        (void)memory.map_ram(PhysicalAddress{0}, ram, "ram");
        start = 0x100000 + 0x10;  // after the multiboot header
        end = 0x100000 + static_cast<std::uint32_t>(file.size() - 0x2000);
    }
};

std::vector<ir::Block> translate_all(CodeImage& img, std::uint64_t& guest_insns) {
    std::vector<ir::Block> blocks;
    cpu::Translator translator(img.mmu);
    for (std::uint32_t eip = img.start; eip < img.end && blocks.size() < 2000;) {
        cpu::TranslatedCode code;
        blocks.push_back(translator.translate(
            LocationDescriptor{eip, 0, mode::kCode32 | mode::kStack32 | mode::kProtected},
            0xFFFFFFFF, {}, code));
        guest_insns += blocks.back().guest_instructions;
        eip += code.size ? code.size : 1;
    }
    return blocks;
}

void BM_DecodeToIr(benchmark::State& state) {
    CodeImage img;
    std::uint64_t insns = 0;
    for (auto _ : state) {
        auto blocks = translate_all(img, insns);
        benchmark::DoNotOptimize(blocks.data());
    }
    state.counters["guest_insns/s"] =
        benchmark::Counter(static_cast<double>(insns), benchmark::Counter::kIsRate);
}

void BM_CompileIr(benchmark::State& state) {
    CodeImage img;
    std::uint64_t per_pass = 0;
    const std::vector<ir::Block> blocks = translate_all(img, per_pass);
    std::unique_ptr<jit::Backend> backend;
#ifdef JITTERBUG_HAVE_JIT
    if (state.range(0) == 1) backend = jit::make_x64_backend();
#endif
    if (!backend) backend = jit::make_interpreter_backend();
    std::uint64_t insns = 0;
    for (auto _ : state) {
        for (const ir::Block& b : blocks) {
            jit::TranslationBlock tb;
            if (!backend->compile(b, tb)) {
                backend->flush();
                (void)backend->compile(b, tb);
            }
        }
        insns += per_pass;
    }
    state.counters["guest_insns/s"] =
        benchmark::Counter(static_cast<double>(insns), benchmark::Counter::kIsRate);
    state.SetLabel(std::string(backend->name()));
}

}  // namespace

BENCHMARK(BM_DecodeToIr)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CompileIr)->Arg(0)->Arg(1)->ArgName("jit")->Unit(benchmark::kMillisecond);
