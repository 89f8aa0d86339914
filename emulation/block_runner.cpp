// Runs a kernel launch on the host (kernel_api.hpp): checks the launch shape, then runs the grid's
// blocks one after another in a scrambled order, each block's threads as fibers that switch only
// at barriers and warp collectives. Between barriers a block's threads run in turn, forwards
// after one barrier and backwards after the next, and every shared-array access is checked
// against the block's barriers, so a missing __syncthreads is reported rather than hidden by
// the order the emulator happened to pick.
#include <sys/mman.h>

#include <boost/context/fiber.hpp>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "dlfs/emulation/device_memory.hpp"
#include "dlfs/emulation/kernel_api.hpp"
#include "dlfs/emulation/runtime_state.hpp"

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;

namespace dlfs::emulation {

// Since the last barrier that orders them: who wrote the element, who read it.
struct SharedCell {
  int writer = -1;
  unsigned write_epoch = 0;
  unsigned writer_warp_epoch = 0;
  int reader = -1;
  bool many_readers = false;
  unsigned read_epoch = 0;
  unsigned reader_warp_epoch = 0;
};

namespace {

namespace bctx = boost::context;

constexpr std::size_t kStackBytes = 64 * 1024;
constexpr std::size_t kGuardBytes = 4096;
constexpr std::size_t kStaticSharedLimit = 48 * 1024;
constexpr int kWarpSize = 32;

// Fiber stacks with a guard page below each, reused across blocks and launches.
class StackPool {
 public:
  bctx::stack_context allocate() {
    if (!free_.empty()) {
      bctx::stack_context s = free_.back();
      free_.pop_back();
      return s;
    }
    void* base = mmap(nullptr, kStackBytes + kGuardBytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    mprotect(base, kGuardBytes, PROT_NONE);
    bctx::stack_context s;
    s.size = kStackBytes;
    s.sp = static_cast<char*>(base) + kGuardBytes + kStackBytes;
    return s;
  }
  void deallocate(bctx::stack_context& s) noexcept { free_.push_back(s); }

 private:
  std::vector<bctx::stack_context> free_;
};

StackPool& stack_pool() {
  static thread_local StackPool pool;
  return pool;
}

struct PooledStack {
  bctx::stack_context allocate() { return stack_pool().allocate(); }
  void deallocate(bctx::stack_context& s) noexcept { stack_pool().deallocate(s); }
};

enum class State { Runnable, AtBarrier, AtWarp, Done };

struct Thread {
  bctx::fiber context;    // the thread itself, while suspended
  bctx::fiber scheduler;  // where the thread returns when it waits
  uint3 index{};
  State state = State::Runnable;
  const char* op_name = nullptr;  // the warp collective it waits in
  WarpOp op = WarpOp::Sync;
  unsigned mask = 0;
  std::uint64_t value = 0;
  int arg = 0;
  int width = kWarpSize;
  std::uint64_t result = 0;
};

struct SharedStorage {
  std::vector<std::max_align_t> bytes;
  std::vector<SharedCell> cells;
  std::int64_t count = 0;
};

struct Block {
  const LaunchShape* shape = nullptr;
  void (*body)(void*) = nullptr;
  void* context = nullptr;
  uint3 index{};
  int size = 0;
  std::vector<Thread> threads;
  unsigned epoch = 0;  // barriers passed
  std::vector<unsigned> warp_epochs;
  std::vector<int> warp_waiting;  // lanes of each warp parked in a collective
  std::map<const SharedSite*, SharedStorage> shared;
  std::size_t static_shared_bytes = 0;
  int current = -1;
  std::string fault;
};

thread_local Block* t_block = nullptr;

std::string thread_name(const Block& b, int t) {
  const uint3 i = b.threads[static_cast<std::size_t>(t)].index;
  char text[64];
  std::snprintf(text, sizeof text, "thread (%u,%u,%u)", i.x, i.y, i.z);
  return text;
}

std::string hex(unsigned mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mask);
  return text;
}

[[noreturn]] void kernel_fault(const std::string& message) {
  throw KernelFault{message};
}

Block& running_block(const char* what) {
  if (!t_block || t_block->current < 0)
    throw KernelFault{std::string(what) + " called outside a kernel"};
  return *t_block;
}

// Switches from the running thread back to the scheduler until it is resumed.
void park(Thread& self) {
  self.scheduler = std::move(self.scheduler).resume();
}

void resume(Block& b, int t) {
  Thread& th = b.threads[static_cast<std::size_t>(t)];
  b.current = t;
  threadIdx = th.index;
  KernelInFlight& k = kernel_in_flight();
  k.thread[0] = th.index.x;
  k.thread[1] = th.index.y;
  k.thread[2] = th.index.z;
  if (!th.context) {
    th.context = bctx::fiber(std::allocator_arg, PooledStack{}, [&b, t](bctx::fiber&& scheduler) {
      Thread& self = b.threads[static_cast<std::size_t>(t)];
      self.scheduler = std::move(scheduler);
      try {
        b.body(b.context);
      } catch (const KernelFault& f) {
        if (b.fault.empty()) b.fault = thread_name(b, t) + ": " + f.message;
      } catch (const std::exception& e) {
        if (b.fault.empty()) b.fault = thread_name(b, t) + " threw: " + e.what();
      }
      self.state = State::Done;
      return std::move(self.scheduler);
    });
  }
  th.context = std::move(th.context).resume();
  b.current = -1;
}

int source_lane(const Thread& th, int lane) {
  const int width = th.width;
  const int segment = lane & ~(width - 1);
  switch (th.op) {
    case WarpOp::ShuffleIndex:
      return segment + ((th.arg % width) + width) % width;
    case WarpOp::ShuffleUp:
      return lane - th.arg >= segment ? lane - th.arg : lane;
    case WarpOp::ShuffleDown:
      return lane + th.arg < segment + width ? lane + th.arg : lane;
    case WarpOp::ShuffleXor: {
      const int src = lane ^ th.arg;
      return src < segment + width ? src : lane;
    }
    default:
      return lane;
  }
}

// Completes the collective that `t` (which just parked in one) waits in, once every lane its mask
// names has arrived at the same collective; until then the lanes stay parked.
void try_complete_warp(Block& b, int t) {
  const Thread& arriving = b.threads[static_cast<std::size_t>(t)];
  if (arriving.state != State::AtWarp) return;
  const int w = t / kWarpSize, base = w * kWarpSize;
  const unsigned mask = arriving.mask;
  if (b.warp_waiting[static_cast<std::size_t>(w)] < __builtin_popcount(mask)) return;
  const int lanes = std::min(kWarpSize, b.size - base);
  for (int lane = 0; lane < kWarpSize; ++lane) {
    if (!(mask >> lane & 1u)) continue;
    if (lane >= lanes) return;  // a lane that does not exist: diagnose_stuck says so
    const Thread& peer = b.threads[static_cast<std::size_t>(base + lane)];
    if (peer.state != State::AtWarp || peer.op != arriving.op || peer.mask != mask) return;
  }
  std::uint64_t votes = 0;
  for (int lane = 0; lane < kWarpSize; ++lane)
    if (mask >> lane & 1u && b.threads[static_cast<std::size_t>(base + lane)].value != 0)
      votes |= 1ull << lane;
  for (int lane = 0; lane < kWarpSize; ++lane) {
    if (!(mask >> lane & 1u)) continue;
    Thread& th = b.threads[static_cast<std::size_t>(base + lane)];
    switch (th.op) {
      case WarpOp::Ballot:
        th.result = votes;
        break;
      case WarpOp::Any:
        th.result = votes != 0;
        break;
      case WarpOp::All:
        th.result = votes == mask;
        break;
      case WarpOp::Sync:
        th.result = 0;
        break;
      default: {
        const int src = source_lane(th, lane);
        if (!(mask >> src & 1u))
          kernel_fault(std::string(th.op_name) + "(mask " + hex(mask) + ") in " +
                       thread_name(b, base + lane) + " reads lane " + std::to_string(src) +
                       ", which is not in the mask");
        th.result = b.threads[static_cast<std::size_t>(base + src)].value;
      }
    }
    th.state = State::Runnable;
    --b.warp_waiting[static_cast<std::size_t>(w)];
  }
  if (arriving.op == WarpOp::Sync) ++b.warp_epochs[static_cast<std::size_t>(w)];
}

// Why a block whose threads all wait can never continue: a collective waiting for a lane that
// exited, waits at __syncthreads or waits in another collective (on a GPU: a hang or undefined
// results), or a barrier that some threads exited without reaching.
std::string diagnose_stuck(const Block& b) {
  for (int t = 0; t < b.size; ++t) {
    const Thread& waiter = b.threads[static_cast<std::size_t>(t)];
    if (waiter.state != State::AtWarp) continue;
    const int w = t / kWarpSize, base = w * kWarpSize;
    const int lanes = std::min(kWarpSize, b.size - base);
    const std::string call =
        std::string(waiter.op_name) + "(mask " + hex(waiter.mask) + ") in " + thread_name(b, t);
    for (int other = 0; other < kWarpSize; ++other) {
      if (!(waiter.mask >> other & 1u)) continue;
      if (other >= lanes)
        return call + " names lane " + std::to_string(other) + ", which does not exist: warp " +
               std::to_string(w) + " of a block of " + std::to_string(b.size) + " threads has " +
               std::to_string(lanes) + " lanes";
      const Thread& peer = b.threads[static_cast<std::size_t>(base + other)];
      const std::string lane =
          "lane " + std::to_string(other) + " (" + thread_name(b, base + other) + ")";
      if (peer.state == State::Done) return call + " waits for " + lane + ", which has exited";
      if (peer.state == State::AtBarrier)
        return call + " waits for " + lane + ", which waits at __syncthreads(): the warp diverged";
      if (peer.op != waiter.op || peer.mask != waiter.mask)
        return call + " waits for " + lane + ", which waits in " + peer.op_name + "(mask " +
               hex(peer.mask) + "): the warp diverged";
    }
  }
  int first_done = -1, first_waiting = -1, done = 0;
  for (int t = 0; t < b.size; ++t) {
    const State s = b.threads[static_cast<std::size_t>(t)].state;
    if (s == State::Done) {
      ++done;
      if (first_done < 0) first_done = t;
    } else if (first_waiting < 0) {
      first_waiting = t;
    }
  }
  if (first_done >= 0 && first_waiting >= 0)
    return thread_name(b, first_waiting) + " waits at __syncthreads(), which " +
           thread_name(b, first_done) + " (and " + std::to_string(done - 1) +
           " more) exited without reaching: a barrier in divergent code";
  return thread_name(b, first_waiting < 0 ? 0 : first_waiting) + " can never continue";
}

// Runs one block to completion; false (with b.fault set) when it faulted.
bool run_block(Block& b) {
  bool forward = true;
  for (;;) {
    bool ran = false;
    for (int k = 0; k < b.size; ++k) {
      const int t = forward ? k : b.size - 1 - k;
      if (b.threads[static_cast<std::size_t>(t)].state != State::Runnable) continue;
      resume(b, t);
      ran = true;
      if (b.fault.empty()) {
        try {
          try_complete_warp(b, t);
        } catch (const KernelFault& f) {
          b.fault = f.message;
        }
      }
      if (!b.fault.empty()) return false;
    }
    if (ran) continue;
    int done = 0, at_barrier = 0;
    for (const Thread& th : b.threads) {
      done += th.state == State::Done;
      at_barrier += th.state == State::AtBarrier;
    }
    if (done == b.size) return true;
    if (at_barrier == b.size) {
      ++b.epoch;
      for (Thread& th : b.threads) th.state = State::Runnable;
      forward = !forward;
      continue;
    }
    b.fault = diagnose_stuck(b);
    return false;
  }
}

std::string dims(dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

// The launch-shape rules of sm_90; an empty string when the shape is valid.
std::string shape_error(const LaunchShape& s) {
  const unsigned long long threads =
      static_cast<unsigned long long>(s.block.x) * s.block.y * s.block.z;
  if (s.grid.x == 0 || s.grid.y == 0 || s.grid.z == 0) return "grid " + dims(s.grid) + " is empty";
  if (threads == 0) return "block " + dims(s.block) + " is empty";
  if (s.block.x > 1024 || s.block.y > 1024 || s.block.z > 64 || threads > 1024)
    return "block " + dims(s.block) + " has " + std::to_string(threads) +
           " threads; the limit is 1024 (x, y at most 1024, z at most 64)";
  if (s.grid.x > 2147483647u || s.grid.y > 65535 || s.grid.z > 65535)
    return "grid " + dims(s.grid) + " is too large (x at most 2^31-1, y and z at most 65535)";
  const int allowed = max_dynamic_shared_bytes(s.kernel_address);
  if (s.dynamic_shared_bytes > static_cast<std::size_t>(allowed))
    return std::to_string(s.dynamic_shared_bytes) + " bytes of dynamic shared memory exceed " +
           std::to_string(allowed) +
           " (over 48 KiB needs cudaFuncSetAttribute(kernel, "
           "cudaFuncAttributeMaxDynamicSharedMemorySize, bytes) first)";
  return {};
}

void start_block(Block& b, uint3 index) {
  b.index = index;
  b.epoch = 0;
  b.current = -1;
  b.fault.clear();
  b.shared.clear();
  b.static_shared_bytes = 0;
  b.threads.clear();
  b.threads.resize(static_cast<std::size_t>(b.size));
  const dim3 d = b.shape->block;
  for (int t = 0; t < b.size; ++t) {
    const unsigned u = static_cast<unsigned>(t);
    b.threads[static_cast<std::size_t>(t)].index = {u % d.x, u / d.x % d.y, u / (d.x * d.y)};
  }
  const std::size_t warps = static_cast<std::size_t>((b.size + kWarpSize - 1) / kWarpSize);
  b.warp_epochs.assign(warps, 0);
  b.warp_waiting.assign(warps, 0);
  blockIdx = index;
  KernelInFlight& k = kernel_in_flight();
  k.block[0] = index.x;
  k.block[1] = index.y;
  k.block[2] = index.z;
}

// A multiplier coprime with n, so that k -> (k * step + n / 2) mod n visits every block once in
// an order unlike the natural one.
unsigned long long scramble_step(unsigned long long n) {
  const unsigned long long primes[] = {7919, 104729, 1299709};
  for (unsigned long long p : primes)
    if (n % p != 0) return p % n == 0 ? 1 : p;
  return 1;
}

}  // namespace

SharedBlockArray shared_array(const SharedSite* site, std::size_t element_bytes, std::size_t,
                              std::int64_t count) {
  Block& b = running_block("a __shared__ array");
  auto it = b.shared.find(site);
  if (it == b.shared.end()) {
    if (count == kDynamicShared) {
      count = static_cast<std::int64_t>(b.shape->dynamic_shared_bytes / element_bytes);
    } else {
      b.static_shared_bytes += static_cast<std::size_t>(count) * element_bytes;
      if (b.static_shared_bytes > kStaticSharedLimit)
        kernel_fault(std::string("__shared__ array ") + site->name + " (" + site->file + ":" +
                     std::to_string(site->line) + ") takes the block's static shared memory to " +
                     std::to_string(b.static_shared_bytes) + " bytes; the limit is 48 KiB");
    }
    SharedStorage storage;
    const std::size_t bytes = static_cast<std::size_t>(count) * element_bytes;
    storage.bytes.resize((bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t) + 1);
    std::memset(storage.bytes.data(), 0xff, storage.bytes.size() * sizeof(std::max_align_t));
    storage.cells.resize(static_cast<std::size_t>(count));
    storage.count = count;
    it = b.shared.emplace(site, std::move(storage)).first;
  }
  return {it->second.bytes.data(), it->second.cells.data(), it->second.count};
}

void shared_access(const SharedSite* site, const SharedBlockArray& array, std::int64_t index,
                   bool write) {
  Block& b = running_block("a __shared__ array");
  const int t = b.current;
  const std::string element = std::string(site->name) + "[" + std::to_string(index) + "]";
  const std::string where =
      " (__shared__ array at " + std::string(site->file) + ":" + std::to_string(site->line) + ")";
  if (index < 0 || index >= array.count)
    kernel_fault((write ? "writes " : "reads ") + element + where + ", out of range: it has " +
                 std::to_string(array.count) + " elements");
  SharedCell& c = array.cells[index];
  const int warp = t / kWarpSize;
  const auto ordered = [&](int other, unsigned epoch, unsigned warp_epoch) {
    return other == t || epoch != b.epoch ||
           (other / kWarpSize == warp &&
            b.warp_epochs[static_cast<std::size_t>(warp)] != warp_epoch);
  };
  if (!write) {
    if (c.writer < 0)
      kernel_fault("reads " + element + where +
                   ", which no thread of the block has written before: shared memory starts "
                   "uninitialised, or a missing __syncthreads() separates the write from this "
                   "read");
    if (!ordered(c.writer, c.write_epoch, c.writer_warp_epoch))
      kernel_fault("reads " + element + where + ", written by " + thread_name(b, c.writer) +
                   " with no __syncthreads() between: a missing __syncthreads()");
    if (c.reader < 0 || c.read_epoch != b.epoch) {
      c.reader = t;
      c.many_readers = false;
      c.read_epoch = b.epoch;
      c.reader_warp_epoch = b.warp_epochs[static_cast<std::size_t>(warp)];
    } else if (c.reader != t) {
      c.many_readers = true;
    }
    return;
  }
  if (c.writer >= 0 && !ordered(c.writer, c.write_epoch, c.writer_warp_epoch))
    kernel_fault("writes " + element + where + ", also written by " + thread_name(b, c.writer) +
                 " with no __syncthreads() between: a missing __syncthreads()");
  if (c.reader >= 0 && c.read_epoch == b.epoch &&
      (c.many_readers || !ordered(c.reader, c.read_epoch, c.reader_warp_epoch)))
    kernel_fault("writes " + element + where + ", which " + thread_name(b, c.reader) +
                 (c.many_readers ? " and others" : "") +
                 " read with no __syncthreads() between: a missing __syncthreads() before reuse");
  c.writer = t;
  c.write_epoch = b.epoch;
  c.writer_warp_epoch = b.warp_epochs[static_cast<std::size_t>(warp)];
}

void block_barrier() {
  Block& b = running_block("__syncthreads()");
  Thread& self = b.threads[static_cast<std::size_t>(b.current)];
  self.state = State::AtBarrier;
  park(self);
}

std::uint64_t warp_collective(const char* name, WarpOp op, unsigned mask, std::uint64_t value,
                              int arg, int width) {
  Block& b = running_block(name);
  const int t = b.current;
  const int lane = t % kWarpSize;
  if (!(mask >> lane & 1u))
    kernel_fault(std::string(name) + "(mask " + hex(mask) + ") leaves out the calling lane " +
                 std::to_string(lane));
  if (width <= 0 || width > kWarpSize || (width & (width - 1)) != 0)
    kernel_fault(std::string(name) + ": width " + std::to_string(width) +
                 " is not a power of two up to 32");
  Thread& self = b.threads[static_cast<std::size_t>(t)];
  self.state = State::AtWarp;
  self.op_name = name;
  self.op = op;
  self.mask = mask;
  self.value = value;
  self.arg = arg;
  self.width = width;
  ++b.warp_waiting[static_cast<std::size_t>(t / kWarpSize)];
  park(self);
  return self.result;
}

void launch_kernel(const LaunchShape& shape, void (*body)(void*), void* context) {
  const std::string name = shape.kernel_name;
  if (t_block) {
    fail(cudaErrorLaunchFailure, "kernel " + name + " launched from device code");
    return;
  }
  if (const std::string bad = shape_error(shape); !bad.empty()) {
    fail(cudaErrorInvalidConfiguration, "kernel " + name + ": " + bad);
    return;
  }
  if (stream_device(shape.stream) != current_device()) {
    fail(cudaErrorInvalidResourceHandle, "kernel " + name + " launched on a stream of cuda:" +
                                             std::to_string(stream_device(shape.stream)) +
                                             " while cuda:" + std::to_string(current_device()) +
                                             " is current (cudaSetDevice first)");
    return;
  }
  ensure_signal_stack();
  DeviceAccess open;
  static thread_local Block block;
  block.shape = &shape;
  block.body = body;
  block.context = context;
  block.size = static_cast<int>(shape.block.x * shape.block.y * shape.block.z);
  blockDim = shape.block;
  gridDim = shape.grid;
  kernel_in_flight().kernel = shape.kernel_name;
  t_block = &block;
  const unsigned long long total =
      static_cast<unsigned long long>(shape.grid.x) * shape.grid.y * shape.grid.z;
  const unsigned long long step = scramble_step(total);
  for (unsigned long long k = 0; k < total; ++k) {
    const unsigned long long linear = static_cast<unsigned long long>(
        (static_cast<unsigned __int128>(k) * step + total / 2) % total);
    const uint3 index{static_cast<unsigned>(linear % shape.grid.x),
                      static_cast<unsigned>(linear / shape.grid.x % shape.grid.y),
                      static_cast<unsigned>(
                          linear / (static_cast<unsigned long long>(shape.grid.x) * shape.grid.y))};
    start_block(block, index);
    if (!run_block(block)) {
      const std::string message = "kernel " + name + ", block " + dims(index) + ", " + block.fault;
      block.threads.clear();  // unwinds the threads still parked
      t_block = nullptr;
      kernel_in_flight().kernel = nullptr;
      fail(cudaErrorLaunchFailure, message);
      return;
    }
  }
  block.threads.clear();
  t_block = nullptr;
  kernel_in_flight().kernel = nullptr;
}

}  // namespace dlfs::emulation
