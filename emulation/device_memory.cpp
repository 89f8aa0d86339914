#include "dlfs/emulation/device_memory.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace dlfs::emulation {

namespace {

constexpr std::size_t kPage = 4096;
constexpr std::size_t kAlignment = 256;  // what cudaMalloc guarantees
constexpr std::size_t kPatternLimit = std::size_t{256} << 20;
constexpr int kMaxDevices = 16;

std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

struct Registry {
  std::mutex mutex;
  std::map<std::uintptr_t, Allocation> by_start;  // keyed by the mapping's start
  std::size_t used[kMaxDevices] = {};
  int open_count = 0;
};

// Never destroyed: the fault handler and late cudaFree calls at exit may still look at it.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

void set_access(const Allocation& a, bool open) {
  mprotect(a.pages, a.pages_bytes, open ? PROT_READ | PROT_WRITE : PROT_NONE);
}

// Async-signal-safe enough for a dying process: formats into a stack buffer, one write(2).
void report_and_die(const char* what, const Allocation& a, const char* addr) {
  char text[1024];
  int n = 0;
  const KernelInFlight& k = kernel_in_flight();
  long offset = static_cast<long>(addr - a.ptr);
  n += std::snprintf(text + n, sizeof text - n, "dlfs CUDA emulation: %s at %p ", what,
                     static_cast<const void*>(addr));
  if (offset >= 0)
    n += std::snprintf(text + n, sizeof text - n,
                       "(byte %ld of a %zu-byte cuda:%d allocation at %p, %ld bytes past its end)",
                       offset, a.bytes, a.device, static_cast<const void*>(a.ptr),
                       offset - static_cast<long>(a.bytes));
  else
    n += std::snprintf(text + n, sizeof text - n,
                       "(%ld bytes before a %zu-byte cuda:%d allocation at %p)", -offset, a.bytes,
                       a.device, static_cast<const void*>(a.ptr));
  if (k.kernel)
    n += std::snprintf(text + n, sizeof text - n,
                       " in kernel %s, block (%u,%u,%u), thread (%u,%u,%u)", k.kernel, k.block[0],
                       k.block[1], k.block[2], k.thread[0], k.thread[1], k.thread[2]);
  else
    n += std::snprintf(text + n, sizeof text - n,
                       " by host code outside a kernel or copy: device memory is not host "
                       "memory, copy it with cudaMemcpy");
  n += std::snprintf(text + n, sizeof text - n, "\n");
  if (n > static_cast<int>(sizeof text)) n = sizeof text;
  ssize_t ignored = write(STDERR_FILENO, text, static_cast<std::size_t>(n));
  (void)ignored;
  signal(SIGSEGV, SIG_DFL);  // returning re-runs the access, which now kills the process
}

struct sigaction g_previous;

void on_fault(int sig, siginfo_t* info, void* context) {
  const char* addr = static_cast<const char*>(info->si_addr);
  Registry& r = registry();
  auto it = r.by_start.upper_bound(reinterpret_cast<std::uintptr_t>(addr));
  if (it != r.by_start.begin()) {
    const Allocation& a = std::prev(it)->second;
    if (addr >= a.mapping && addr < a.mapping + a.mapping_bytes) {
      if (addr < a.ptr) return report_and_die("access before the start of device memory", a, addr);
      if (addr >= a.ptr + a.padded)
        return report_and_die("access past the end of device memory", a, addr);
      return report_and_die("host access to device memory", a, addr);
    }
  }
  // Not ours: let the previous handler (or the default action) deal with it.
  if (g_previous.sa_flags & SA_SIGINFO && g_previous.sa_sigaction) {
    g_previous.sa_sigaction(sig, info, context);
  } else {
    signal(SIGSEGV, g_previous.sa_handler == SIG_IGN ? SIG_DFL : g_previous.sa_handler);
  }
}

void install_fault_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &g_previous);
  });
  ensure_signal_stack();
}

std::size_t capacity_from_environment() {
  // DLFS_EMULATED_DEVICE_MEMORY_MB sets the size of each emulated device; 4 GiB by default.
  const char* text = std::getenv("DLFS_EMULATED_DEVICE_MEMORY_MB");
  const long mb = text ? std::strtol(text, nullptr, 10) : 0;
  return (mb > 0 ? static_cast<std::size_t>(mb) : std::size_t{4096}) << 20;
}

}  // namespace

KernelInFlight& kernel_in_flight() {
  static thread_local KernelInFlight k;
  return k;
}

void ensure_signal_stack() {
  static thread_local std::vector<char> stack;
  if (!stack.empty()) return;
  stack.resize(64 * 1024);
  stack_t alt{};
  alt.ss_sp = stack.data();
  alt.ss_size = stack.size();
  sigaltstack(&alt, nullptr);
}

std::size_t device_capacity() {
  static const std::size_t bytes = capacity_from_environment();
  return bytes;
}

void* device_allocate(std::size_t bytes, int device) {
  install_fault_handler();
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const std::size_t padded = round_up(bytes == 0 ? 1 : bytes, kAlignment);
  if (device < 0 || device >= kMaxDevices || padded > device_capacity() ||
      r.used[device] + padded > device_capacity())
    return nullptr;
  const std::size_t pages_bytes = round_up(padded, kPage);
  const std::size_t mapping_bytes = pages_bytes + 2 * kPage;
  void* mapping =
      mmap(nullptr, mapping_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping == MAP_FAILED) return nullptr;
  Allocation a;
  a.mapping = static_cast<char*>(mapping);
  a.mapping_bytes = mapping_bytes;
  a.pages = a.mapping + kPage;
  a.pages_bytes = pages_bytes;
  a.ptr = a.pages + pages_bytes - padded;  // the end of the allocation touches the guard page
  a.bytes = bytes;
  a.padded = padded;
  a.device = device;
  // Fresh device memory holds garbage on a GPU: all-ones bytes (NaN as float) make a read of
  // memory nobody wrote show up in results.
  set_access(a, true);
  if (padded <= kPatternLimit) std::memset(a.ptr, 0xff, padded);
  if (r.open_count == 0) set_access(a, false);
  r.by_start.emplace(reinterpret_cast<std::uintptr_t>(a.mapping), a);
  r.used[device] += padded;
  return a.ptr;
}

bool device_free(void* ptr) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.by_start.upper_bound(reinterpret_cast<std::uintptr_t>(ptr));
  if (it == r.by_start.begin()) return false;
  --it;
  const Allocation a = it->second;
  if (a.ptr != ptr) return false;
  r.used[a.device] -= a.padded;
  r.by_start.erase(it);
  munmap(a.mapping, a.mapping_bytes);
  return true;
}

bool find_allocation(const void* ptr, std::size_t bytes, Allocation* out) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const char* p = static_cast<const char*>(ptr);
  auto it = r.by_start.upper_bound(reinterpret_cast<std::uintptr_t>(p));
  if (it == r.by_start.begin()) return false;
  const Allocation& a = std::prev(it)->second;
  if (p < a.ptr || p > a.ptr + a.bytes || bytes > static_cast<std::size_t>(a.ptr + a.bytes - p))
    return false;
  if (out) *out = a;
  return true;
}

std::size_t device_bytes_in_use(int device) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return device >= 0 && device < kMaxDevices ? r.used[device] : 0;
}

DeviceAccess::DeviceAccess() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (r.open_count++ == 0)
    for (const auto& entry : r.by_start) set_access(entry.second, true);
}

DeviceAccess::DeviceAccess(const DeviceAccess&) : DeviceAccess() {}

DeviceAccess::~DeviceAccess() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (--r.open_count == 0)
    for (const auto& entry : r.by_start) set_access(entry.second, false);
}

}  // namespace dlfs::emulation
