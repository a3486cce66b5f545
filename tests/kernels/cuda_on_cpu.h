// cuda_on_cpu.h: just enough of CUDA for g++ to compile kernels/cupy_raw.cu unchanged and run it on a CPU.
//
// What this is for: CI has no GPU, so without this the CUDA C of kernels/cupy_raw.cu would never run there.
// tests/kernels/cuda_on_cpu.py includes this header, then the .cu source, then a table of the template
// instantiations to launch, and compiles the lot with g++ into a shared library. A launch runs the grid's
// blocks one after another; inside a block every CUDA thread is an std::thread, so __syncthreads and the
// warp shuffles are real barriers between real threads. The kernels' index arithmetic, bounds checks,
// reductions and early returns are executed exactly as written, and checked against NumPy by the tests.
//
// It also checks what a GPU would not tell you: a block whose threads can never all meet at a barrier is
// reported as a deadlock (instead of hanging), and a shuffle that reads a lane which has exited (undefined in
// CUDA) is reported as an error.
//
// What it does not model: timing and occupancy, memory coalescing and shared-memory bank conflicts, warp
// divergence (each thread runs on its own; lanes are not in lockstep), concurrency between blocks (they run
// one at a time: a kernel that waits for another block would hang), CUDA's uninitialised shared memory
// (`__shared__` is a function-local `static` here: zero at the first block, then whatever the last block
// left), and the float rounding of the GPU's fast intrinsics (exp, log, __expf... are the C library's).
#pragma once

#include <math.h>  // C++'s <math.h> puts the float and double overloads of exp, log, fmax... in the global namespace

#include <atomic>
#include <bit>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

// ---------------------------------------------------------------------------------------------------------
// 1. Keywords. Kernels and device functions are ordinary C++ functions. (`__restrict__` is a g++ keyword
//    already; `#pragma unroll` is ignored: compile with -Wno-unknown-pragmas.)
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// Shared memory: one copy for the whole block. A function-local static is exactly that, because the blocks
// of a launch run one at a time (and launches one at a time).
#define __shared__ static
#define __constant__ static

// ---------------------------------------------------------------------------------------------------------
// 2. Vector types, with CUDA's alignment (a float4 is 16-byte aligned: one 16-byte load).
struct __attribute__((aligned(8))) float2 { float x, y; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) int2 { int x, y; };
struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
struct __attribute__((aligned(16))) double2 { double x, y; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
inline double2 make_double2(double x, double y) { return {x, y}; }

struct uint3 { unsigned int x, y, z; };
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int x = 1, unsigned int y = 1, unsigned int z = 1) : x(x), y(y), z(z) {}
};

// ---------------------------------------------------------------------------------------------------------
// 3. The built-in variables. threadIdx and blockIdx differ between threads (thread_local); blockDim and
//    gridDim are the launch's, written before its threads start.
static thread_local uint3 threadIdx;
static thread_local uint3 blockIdx;
static dim3 blockDim;
static dim3 gridDim;
constexpr int warpSize = 32;

// ---------------------------------------------------------------------------------------------------------
// 4. The runtime: a block of threads, its barriers, and the launch.
namespace cuda_on_cpu {

// Thrown out of a barrier when the block is given up (a deadlock or an error in another thread): it unwinds
// the kernel body of every thread still inside it, so that the launch can return and report.
struct Abandoned {};

// A barrier for the threads that still take part. Unlike std::barrier it belongs to a Block, whose one mutex
// guards every barrier of the block: that is what lets the block see a deadlock (below).
struct Barrier {
    int expected = 0;             // threads taking part: a thread that exits leaves every barrier it was in
    int arrived = 0;              // threads waiting in the current phase
    unsigned long long phase = 0; // completed phases: a waiter leaves when this moves on
    std::condition_variable cv;
};

class Block {
public:
    std::string error;                 // empty unless the block failed; read after every thread has joined
    std::vector<std::uint64_t> slots;  // one per thread: what each lane offers to a warp shuffle

private:
    std::mutex mutex_;  // guards everything below
    uint3 index_;
    unsigned threads_, warps_;
    Barrier sync_;                              // __syncthreads
    std::unique_ptr<Barrier[]> warp_barriers_;  // one per warp: shuffles and __syncwarp
    std::vector<bool> exited_;
    int alive_;    // threads that have not exited
    int running_;  // threads that have not exited and do not wait at a barrier
    bool abandoned_ = false;

public:
    Block(unsigned threads, uint3 index)
        : slots(threads), index_(index), threads_(threads), warps_((threads + 31) / 32),
          warp_barriers_(new Barrier[warps_]), exited_(threads, false), alive_((int)threads), running_((int)threads) {
        sync_.expected = (int)threads;
        for (unsigned w = 0; w < warps_; ++w) warp_barriers_[w].expected = (int)lanes_in_warp(w);
    }

    unsigned lanes_in_warp(unsigned warp) const { return warp + 1 < warps_ ? 32 : threads_ - 32 * warp; }

    void sync_threads() {  // __syncthreads
        std::unique_lock lock(mutex_);
        wait(sync_, lock);
    }

    void sync_warp(unsigned warp) {  // one phase of the warp's barrier (a shuffle takes two)
        std::unique_lock lock(mutex_);
        wait(warp_barriers_[warp], lock);
    }

    bool exited(unsigned thread) {
        std::lock_guard lock(mutex_);
        return exited_[thread];
    }

    // The thread's kernel body has returned (or was unwound): it leaves the block's barrier and its warp's,
    // as std::barrier::arrive_and_drop does, so that threads returning early never hold the others up.
    void leave(unsigned thread) {
        std::lock_guard lock(mutex_);
        exited_[thread] = true;
        --alive_;
        if (abandoned_) return;
        drop(sync_);
        drop(warp_barriers_[thread / 32]);
        if (--running_ == 0 && alive_ > 0) deadlock();
    }

    // Undefined behaviour or an exception in one thread: record it (the first one wins) and give up the block.
    void fail(const std::string& what) {
        std::lock_guard lock(mutex_);
        if (error.empty()) error = what;
        abandon();
    }
    [[noreturn]] void fault(const std::string& what) {
        fail(what);
        throw Abandoned{};
    }

    static std::string coords(uint3 i) {
        return "(" + std::to_string(i.x) + ", " + std::to_string(i.y) + ", " + std::to_string(i.z) + ")";
    }

private:
    void wait(Barrier& b, std::unique_lock<std::mutex>& lock) {
        if (abandoned_) throw Abandoned{};
        if (++b.arrived == b.expected) {  // the last one in opens the barrier
            release(b, b.arrived - 1);
            return;
        }
        const unsigned long long phase = b.phase;
        if (--running_ == 0) deadlock();  // every thread left waits: no one can open any barrier
        b.cv.wait(lock, [&] { return b.phase != phase || abandoned_; });
        if (b.phase == phase) throw Abandoned{};
    }

    void release(Barrier& b, int waiters) {  // open the barrier: its waiters run again
        running_ += waiters;
        b.arrived = 0;
        ++b.phase;
        b.cv.notify_all();
    }

    void drop(Barrier& b) {  // an exiting thread no longer counts, which may open the barrier
        --b.expected;
        if (b.arrived > 0 && b.arrived == b.expected) release(b, b.arrived);
    }

    void deadlock() {
        std::string what = "deadlock in block " + coords(index_) + ": every thread that has not exited waits at a "
                           "barrier that can never open (";
        if (sync_.arrived) what += "__syncthreads: " + counts(sync_) + "; ";
        for (unsigned w = 0; w < warps_; ++w)
            if (warp_barriers_[w].arrived)
                what += "warp " + std::to_string(w) + " shuffle or __syncwarp: " + counts(warp_barriers_[w]) + "; ";
        what.resize(what.size() - 2);
        if (error.empty()) error = what + "). The threads of a block must all reach the same barriers.";
        abandon();
    }

    void abandon() {  // wake every waiter: they throw Abandoned and unwind
        abandoned_ = true;
        sync_.cv.notify_all();
        for (unsigned w = 0; w < warps_; ++w) warp_barriers_[w].cv.notify_all();
    }

    static std::string counts(const Barrier& b) {
        return std::to_string(b.arrived) + " of " + std::to_string(b.expected) + " threads arrived";
    }
};

// Who the calling thread is, inside its block.
struct Self {
    Block* block = nullptr;
    unsigned id = 0;  // linear index in the block: x + blockDim.x · (y + blockDim.y · z)
    unsigned lane() const { return id % 32; }
    unsigned warp() const { return id / 32; }
};
static thread_local Self self;

[[noreturn]] inline void fault(const std::string& what) {
    self.block->fault("block " + Block::coords(blockIdx) + ", thread " + Block::coords(threadIdx) + " (warp " +
                      std::to_string(self.warp()) + ", lane " + std::to_string(self.lane()) + "): " + what);
}

// A warp exchange: every lane writes `value` to its slot, the warp meets, each lane reads the slot of lane
// `source` (its own value when source is its own lane), and the warp meets again so that no slot is
// overwritten by a next exchange before everyone has read it.
template <typename T>
T exchange(const char* name, unsigned mask, T value, unsigned source) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "warp shuffles move values of up to 8 bytes");
    Block& block = *self.block;
    const unsigned lane = self.lane(), base = self.id - lane;
    if (!(mask >> lane & 1u)) fault(std::string(name) + " called with a mask that does not name the calling lane");
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    block.slots[self.id] = bits;
    block.sync_warp(self.warp());
    T result = value;
    if (source != lane) {
        if (source >= block.lanes_in_warp(self.warp()))
            fault(std::string(name) + " reads lane " + std::to_string(source) + ", which this block does not have");
        if (!(mask >> source & 1u))
            fault(std::string(name) + " reads lane " + std::to_string(source) + ", which its mask does not name");
        if (block.exited(base + source))
            fault(std::string(name) + " reads lane " + std::to_string(source) +
                  ", which has exited (undefined in CUDA: the warp must still be whole)");
        std::memcpy(&result, &block.slots[base + source], sizeof(T));
    }
    block.sync_warp(self.warp());
    return result;
}

inline unsigned check_width(const char* name, int width) {
    if (width <= 0 || width > 32 || (width & (width - 1)))
        fault(std::string(name) + ": width must be 1, 2, 4, 8, 16 or 32");
    return (unsigned)width;
}

// -- the table of kernels a compiled module can launch ------------------------------------------------------
// What the Python side needs to know of each parameter to check an argument against it.
struct ParamInfo {
    char kind;           // 'p' pointer, 'i' signed integer, 'u' unsigned integer, 'f' floating point, 'b' bool,
                         // 'V' anything else (a struct passed by value), 'v' void (only as a pointee)
    char pointee_kind;   // for a pointer: the kind of what it points to
    bool pointee_const;  // for a pointer: whether it points to const (the kernel only reads through it)
    int size, align;
    int pointee_size, pointee_align;
    const char* type;    // the parameter's C++ type as g++ spells it (inside __PRETTY_FUNCTION__)
};

template <typename T>
constexpr char kind_of() {
    if constexpr (std::is_void_v<T>) return 'v';
    else if constexpr (std::is_pointer_v<T>) return 'p';
    else if constexpr (std::is_same_v<std::remove_cv_t<T>, bool>) return 'b';
    else if constexpr (std::is_enum_v<T>) return kind_of<std::underlying_type_t<T>>();
    else if constexpr (std::is_integral_v<T>) return std::is_signed_v<T> ? 'i' : 'u';
    else if constexpr (std::is_floating_point_v<T>) return 'f';
    else return 'V';
}

template <typename T>
const char* type_name() { return __PRETTY_FUNCTION__; }  // "... [with T = const float*]": Python cuts it out

template <typename T>
ParamInfo describe() {
    ParamInfo info{kind_of<T>(), 0, false, (int)sizeof(T), (int)alignof(T), 0, 0, type_name<T>()};
    if constexpr (std::is_pointer_v<T>) {
        using Pointee = std::remove_pointer_t<T>;
        info.pointee_kind = kind_of<Pointee>();
        info.pointee_const = std::is_const_v<Pointee>;
        if constexpr (!std::is_void_v<Pointee>) {
            info.pointee_size = (int)sizeof(Pointee);
            info.pointee_align = (int)alignof(Pointee);
        }
    }
    return info;
}

struct Kernel {
    const char* name;           // the instantiation, as the Python side names it: "adam<float, true>"
    void (*run)(void** args);   // calls the kernel with args[i] pointing to the bytes of its i-th argument
    const ParamInfo* params;
    int param_count;
};

// args[i] points to the bytes of argument i, as in cuLaunchKernel. Each thread copies them into its own
// parameters (a kernel may change its parameters, as matmul_naive does with `a += ...`).
template <typename T>
T load(void* bytes) {
    std::remove_cv_t<T> value;
    std::memcpy(&value, bytes, sizeof(value));
    return value;
}

template <typename... A, std::size_t... I>
void invoke(void (*f)(A...), void** args, std::index_sequence<I...>) {
    f(load<A>(args[I])...);
}

template <typename... A>
void invoke(void (*f)(A...), void** args) {
    invoke(f, args, std::index_sequence_for<A...>{});
}

template <typename... A>
const ParamInfo* describe_params(void (*)(A...)) {
    static const ParamInfo table[] = {describe<A>()..., ParamInfo{}};  // the extra entry: no empty array
    return table;
}

template <typename... A>
constexpr int arity(void (*)(A...)) { return (int)sizeof...(A); }

template <auto F>
void run(void** args) { invoke(F, args); }

// One row of the table: kernel<&adam<float, true>>("adam<float, true>").
template <auto F>
Kernel kernel(const char* name) { return {name, &run<F>, describe_params(F), arity(F)}; }

std::span<const Kernel> kernels();  // defined by the generated file, after the .cu source

// One CUDA thread: who it is, then the kernel body, then it leaves the block's barriers.
inline void thread_main(Block* block, unsigned id, uint3 block_index, const Kernel* k, void** args) {
    self.block = block;
    self.id = id;
    threadIdx = {id % blockDim.x, id / blockDim.x % blockDim.y, id / (blockDim.x * blockDim.y)};
    blockIdx = block_index;
    try {
        k->run(args);
    } catch (const Abandoned&) {
    } catch (const std::exception& e) {
        block->fail("block " + Block::coords(blockIdx) + ", thread " + Block::coords(threadIdx) +
                    ": exception " + e.what());
    } catch (...) {
        block->fail("block " + Block::coords(blockIdx) + ", thread " + Block::coords(threadIdx) + ": exception");
    }
    block->leave(id);
}

inline void copy_error(const std::string& what, char* error, std::size_t size) {
    if (error && size) {
        std::strncpy(error, what.c_str(), size - 1);
        error[size - 1] = '\0';
    }
}

}  // namespace cuda_on_cpu

// ---------------------------------------------------------------------------------------------------------
// 5. Synchronisation and warp intrinsics.
inline void __syncthreads() { cuda_on_cpu::self.block->sync_threads(); }

inline void __syncwarp(unsigned mask = 0xffffffffu) {
    if (!(mask >> cuda_on_cpu::self.lane() & 1u))
        cuda_on_cpu::fault("__syncwarp called with a mask that does not name the calling lane");
    cuda_on_cpu::self.block->sync_warp(cuda_on_cpu::self.warp());
}

template <typename T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {
    const unsigned w = cuda_on_cpu::check_width("__shfl_sync", width), lane = cuda_on_cpu::self.lane();
    return cuda_on_cpu::exchange("__shfl_sync", mask, var, (lane & ~(w - 1)) + ((unsigned)src_lane & (w - 1)));
}

template <typename T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
    const unsigned w = cuda_on_cpu::check_width("__shfl_up_sync", width), lane = cuda_on_cpu::self.lane();
    return cuda_on_cpu::exchange("__shfl_up_sync", mask, var, (lane & (w - 1)) >= delta ? lane - delta : lane);
}

template <typename T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
    const unsigned w = cuda_on_cpu::check_width("__shfl_down_sync", width), lane = cuda_on_cpu::self.lane();
    return cuda_on_cpu::exchange("__shfl_down_sync", mask, var, (lane & (w - 1)) + delta < w ? lane + delta : lane);
}

template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {
    const unsigned w = cuda_on_cpu::check_width("__shfl_xor_sync", width), lane = cuda_on_cpu::self.lane();
    const unsigned source = lane ^ (unsigned)lane_mask;  // a lane of a later group of `width` keeps its own value
    return cuda_on_cpu::exchange("__shfl_xor_sync", mask, var, (source & ~(w - 1)) > (lane & ~(w - 1)) ? lane : source);
}

// Bit l of the result: lane l is named in mask, has not exited, and its predicate is true.
inline unsigned __ballot_sync(unsigned mask, int predicate) {
    using namespace cuda_on_cpu;
    Block& block = *self.block;
    if (!(mask >> self.lane() & 1u)) fault("__ballot_sync called with a mask that does not name the calling lane");
    const unsigned base = self.id - self.lane();
    block.slots[self.id] = predicate != 0;
    block.sync_warp(self.warp());
    unsigned bits = 0;
    for (unsigned l = 0; l < block.lanes_in_warp(self.warp()); ++l)
        if ((mask >> l & 1u) && !block.exited(base + l) && block.slots[base + l]) bits |= 1u << l;
    block.sync_warp(self.warp());
    return bits;
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) { return __ballot_sync(mask, !predicate) == 0; }

inline void __trap() { cuda_on_cpu::fault("__trap()"); }

// ---------------------------------------------------------------------------------------------------------
// 6. Atomics: std::atomic_ref on the kernel's memory. Each returns the old value, as CUDA's do.
namespace cuda_on_cpu {
template <typename T, typename F>
T atomic_update(T* address, F f) {  // *address = f(*address), atomically
    std::atomic_ref<T> ref(*address);
    T old = ref.load();
    while (!ref.compare_exchange_weak(old, f(old))) {
    }
    return old;
}
}  // namespace cuda_on_cpu

inline int atomicAdd(int* a, int v) { return std::atomic_ref<int>(*a).fetch_add(v); }
inline unsigned atomicAdd(unsigned* a, unsigned v) { return std::atomic_ref<unsigned>(*a).fetch_add(v); }
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
    return std::atomic_ref<unsigned long long>(*a).fetch_add(v);
}
inline float atomicAdd(float* a, float v) { return std::atomic_ref<float>(*a).fetch_add(v); }
inline double atomicAdd(double* a, double v) { return std::atomic_ref<double>(*a).fetch_add(v); }
inline int atomicSub(int* a, int v) { return std::atomic_ref<int>(*a).fetch_sub(v); }
inline unsigned atomicSub(unsigned* a, unsigned v) { return std::atomic_ref<unsigned>(*a).fetch_sub(v); }
template <typename T>
T atomicExch(T* a, T v) { return std::atomic_ref<T>(*a).exchange(v); }
template <typename T>
T atomicMax(T* a, T v) { return cuda_on_cpu::atomic_update(a, [v](T old) { return old < v ? v : old; }); }
template <typename T>
T atomicMin(T* a, T v) { return cuda_on_cpu::atomic_update(a, [v](T old) { return v < old ? v : old; }); }
template <typename T>
T atomicCAS(T* a, T compare, T v) {
    std::atomic_ref<T>(*a).compare_exchange_strong(compare, v);
    return compare;  // the old value, whether or not it was swapped
}

// ---------------------------------------------------------------------------------------------------------
// 7. Math. <math.h> already gives exp, log, sqrt, pow, fmax, fmin, fabs, tanh, isfinite... for float and
//    double, and expf, logf, sqrtf...; here is what CUDA has beyond the C library.
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float rsqrt(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline double __longlong_as_double(long long x) { return std::bit_cast<double>(x); }
inline long long __double_as_longlong(double x) { return std::bit_cast<long long>(x); }
template <typename T>
T __ldg(const T* p) { return *p; }
template <typename A, typename B>
std::common_type_t<A, B> min(A a, B b) { return b < a ? b : a; }
template <typename A, typename B>
std::common_type_t<A, B> max(A a, B b) { return a < b ? b : a; }

// ---------------------------------------------------------------------------------------------------------
// 8. What the Python side calls (through ctypes).
extern "C" {

int cuda_on_cpu_kernel_count() { return (int)cuda_on_cpu::kernels().size(); }
const char* cuda_on_cpu_kernel_name(int k) { return cuda_on_cpu::kernels()[k].name; }
int cuda_on_cpu_param_count(int k) { return cuda_on_cpu::kernels()[k].param_count; }
const cuda_on_cpu::ParamInfo* cuda_on_cpu_params(int k) { return cuda_on_cpu::kernels()[k].params; }

// Runs kernel `name` on a grid of (gx, gy, gz) blocks of (bx, by, bz) threads; args[i] points to the bytes
// of argument i. Returns 0, or 1 for an unknown name, 2 for a bad launch shape or argument count, 3 for an
// error while running (a deadlock, undefined behaviour, an exception), with a message in `error`.
int cuda_on_cpu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                       unsigned bz, void** args, int nargs, char* error, std::size_t error_size) {
    using namespace cuda_on_cpu;
    static std::mutex one_launch_at_a_time;  // blockDim, gridDim and the static shared memory are global
    std::lock_guard lock(one_launch_at_a_time);
    const Kernel* k = nullptr;
    for (const Kernel& candidate : kernels())
        if (std::strcmp(candidate.name, name) == 0) k = &candidate;
    if (!k) {
        copy_error(std::string("no kernel named ") + name + " in this module", error, error_size);
        return 1;
    }
    const unsigned long long threads = (unsigned long long)bx * by * bz;
    if (!gx || !gy || !gz || !threads || threads > 1024 || nargs != k->param_count) {
        copy_error("bad launch: grid and block sizes must be ≥ 1, at most 1024 threads a block, and " +
                   std::to_string(k->param_count) + " arguments", error, error_size);
        return 2;
    }
    gridDim = dim3(gx, gy, gz);
    blockDim = dim3(bx, by, bz);
    for (unsigned z = 0; z < gz; ++z)
        for (unsigned y = 0; y < gy; ++y)
            for (unsigned x = 0; x < gx; ++x) {  // the blocks, one after another
                Block block((unsigned)threads, uint3{x, y, z});
                std::vector<std::thread> pool;
                pool.reserve(threads);
                try {
                    for (unsigned id = 0; id < threads; ++id)
                        pool.emplace_back(thread_main, &block, id, uint3{x, y, z}, k, args);
                } catch (const std::system_error& e) {  // the OS refused a thread: give the block up
                    block.fail(std::string("could not start a thread: ") + e.what());
                    for (unsigned id = pool.size(); id < threads; ++id) block.leave(id);
                }
                for (std::thread& t : pool) t.join();
                if (!block.error.empty()) {
                    copy_error(std::string(name) + ": " + block.error, error, error_size);
                    return 3;
                }
            }
    return 0;
}

}  // extern "C"
