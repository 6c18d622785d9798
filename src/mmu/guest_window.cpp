#include "mmu/guest_window.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include "mmu/address.hpp"

namespace jitterbug::mmu {

GuestWindow::GuestWindow() {
    if (sysconf(_SC_PAGESIZE) != static_cast<long>(kPageSize)) return;
    void* p = mmap(nullptr, kSpan + kGuard, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p != MAP_FAILED) base_ = static_cast<std::uint8_t*>(p);
}

GuestWindow::~GuestWindow() {
    if (base_) munmap(base_, kSpan + kGuard);
}

bool GuestWindow::alias(std::uint64_t phys, std::uint64_t size, FileBacking backing) {
    if (!valid() || size == 0 || !backing.memory) return false;
    if ((backing.offset | phys | size) & kPageOffsetMask) return false;
    if (phys > kSpan || size > kSpan - phys) return false;
    if (backing.offset > backing.memory->size() || size > backing.memory->size() - backing.offset)
        return false;
    const int fd = backing.memory->file();
    if (fd < 0) return false;
    void* p = mmap(base() + phys, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
                   static_cast<off_t>(backing.offset));
    if (p == MAP_FAILED) return false;
    ram_.push_back(Range{phys, size});
    return true;
}

bool GuestWindow::is_ram(std::uint64_t phys) const {
    for (const Range& r : ram_) {
        if (phys - r.base < r.size) return true;
    }
    return false;
}

void GuestWindow::set_writable(std::uint64_t phys_page, bool writable) {
    const std::uint64_t phys = phys_page << kPageShift;
    if (!valid() || !is_ram(phys)) return;
    mprotect(base() + phys, kPageSize, writable ? PROT_READ | PROT_WRITE : PROT_READ);
}

}  // namespace jitterbug::mmu
