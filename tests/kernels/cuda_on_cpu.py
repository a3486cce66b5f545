"""Run the CUDA C++ kernels of kernels/cupy_raw.cu on a CPU, so that a CI machine without a GPU executes them.

kernels/cupy_raw.py launches hand-written CUDA kernels through CuPy; without a GPU they never run, and a wrong
index, a missing bounds check or a bad early return would go unseen. This module compiles the very same
source with g++ against a small shim (cuda_on_cpu.h, beside this file) and launches its kernels on NumPy
arrays, with CuPy's argument conventions, so that the tests can compare them with NumPy::

    emu = CudaOnCpu(Path("kernels/cupy_raw.cu"), ["adam<float, false>"])
    emu.launch("adam<float, false>", (blocks,), (256,), (param, grad, m, v, np.int64(n), np.float64(step), ...))

How a launch runs: the blocks of the grid one after another; inside a block one std::thread per CUDA thread
(numbered x-fastest as in CUDA; warp = linear index // 32), so __syncthreads and the warp shuffles are real
barriers. Besides the results it checks:

- each argument against the kernel's parameter (a float64 array for a `float*`, an np.int32 for a
  `long long`, a read-only array for a non-const pointer, a misaligned `float4*`... are refused before the
  launch, where on a GPU they would silently give wrong numbers);
- writes outside the arrays: each array is copied into a buffer with guard bands on both sides (each as large
  as the array, 4 KiB at least), checked after the launch. They hold NaNs (as float32 and as float64), so
  that reading them spoils the result too, each with its own bits, so that a NaN read from one guard and
  written into another still shows. An index further off can still crash the process, as it would fault
  on a GPU;
- deadlocks (a block whose threads can never all meet at a barrier raises instead of hanging), and warp
  shuffles that read a lane which has exited (undefined behaviour in CUDA).

What it does not model: timing, memory coalescing and bank conflicts, warp divergence (lanes are not in
lockstep), concurrency between blocks (they run one at a time), uninitialised shared memory (a `__shared__`
array is a static: zero in the first block, then what the previous block left), the GPU's float rounding
of exp, log and friends. Thread creation is the cost: keep test launches to a few blocks of ≤ 256 threads.

To launch a new instantiation, add its exact name (as cupy_raw.py spells it, e.g. "adam<double, true>") to
the `names` given to CudaOnCpu; nothing else is written per kernel (the argument unpacking is a variadic
template deduced from the kernel's type). A CUDA feature the shim lacks shows up as a g++ error: add it to
cuda_on_cpu.h.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

HEADER = Path(__file__).with_name("cuda_on_cpu.h")
FLAGS = ("-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-Wno-unknown-pragmas")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_:]*(<[A-Za-z0-9_:, .+\-<>()]*>)?")  # a (template) function name
_ERRORS = {1: ValueError, 2: ValueError}  # launch return codes (3: an error while running, KernelError)


class EmulatorError(RuntimeError):
    """Base class of this module's errors."""


class CompilerNotFound(EmulatorError):
    """No C++ compiler: the tests skip themselves with this message."""


class CompileError(EmulatorError):
    """g++ rejected the generated file; the message holds its output."""


class KernelError(EmulatorError):
    """A kernel misbehaved while running: a deadlock, undefined behaviour, or a write outside its arrays."""


def find_compiler(compiler: str = "g++") -> str:
    """The path of `compiler`, or CompilerNotFound saying what is missing."""
    path = shutil.which(compiler)
    if path is None:
        raise CompilerNotFound(f"cuda_on_cpu needs a C++20 compiler ({compiler!r} is not on PATH): the CUDA "
                               f"kernels cannot be run on the CPU here")
    return path


@dataclass(frozen=True)
class Param:
    """A kernel parameter, as the compiled module describes it (see ParamInfo in cuda_on_cpu.h)."""

    kind: str  # 'p' pointer, 'i' / 'u' signed / unsigned integer, 'f' float, 'b' bool, 'V' a struct by value
    size: int
    align: int
    pointee_kind: str  # for pointers: the kind of the pointee ('v' for void); '' for the others
    pointee_size: int
    pointee_align: int
    pointee_const: bool
    type: str  # the C++ type, e.g. "const float*"

    def numpy_type(self, kind=None, size=None) -> str:
        """The NumPy scalar type for an arithmetic kind and size, for messages: 'np.int32'."""
        kind, size = kind or self.kind, size or self.size
        try:
            return "np." + np.dtype(f"{kind}{size}").name
        except TypeError:
            return f"a {size}-byte '{kind}' type"


class _ParamInfo(ctypes.Structure):  # mirrors cuda_on_cpu::ParamInfo
    _fields_ = [("kind", ctypes.c_char), ("pointee_kind", ctypes.c_char), ("pointee_const", ctypes.c_bool),
                ("size", ctypes.c_int), ("align", ctypes.c_int), ("pointee_size", ctypes.c_int),
                ("pointee_align", ctypes.c_int), ("type", ctypes.c_char_p)]


class CudaOnCpu:
    """The kernels `names` (template instantiations, e.g. "softmax_warp_rows<float, 1, 4>") of the CUDA source
    file `source`, compiled for the CPU (once: the library is cached under `cache_dir`, keyed by a hash of the
    header, the source, the names and the compiler) and launched with `launch`.

    A guard band of `guard_bytes` bytes at least, and as large as the array, on each side of every array argument
    catches writes out of bounds (0 turns the copies and the check off).
    """

    def __init__(self, source: Path | str, names: Iterable[str], *, compiler: str = "g++",
                 cache_dir: Path | str | None = None, guard_bytes: int = 4096):
        self.source = Path(source).resolve()
        self.names = tuple(dict.fromkeys(names))  # in order, without repeats
        if not self.names:
            raise ValueError("CudaOnCpu: name at least one kernel instantiation to compile")
        for name in self.names:
            if not _NAME.fullmatch(name):
                raise ValueError(f"CudaOnCpu: {name!r} does not look like a kernel name such as 'adam<float, false>'")
        self.guard_bytes = -(-guard_bytes // 64) * 64  # a multiple of 64: the arrays keep their alignment
        self.compiler = find_compiler(compiler)
        cache = Path(cache_dir) if cache_dir is not None else Path(tempfile.gettempdir()) / "minirl_cuda_on_cpu"
        self.library_path = self._build(cache)
        self._lib = self._load(self.library_path)
        self.signatures = self._read_signatures()

    # -- building ----------------------------------------------------------------------------------------------
    def _generated_source(self) -> str:
        """The C++ file: the shim, the CUDA source, and the table of kernels. The includes name files, not
        paths (g++ finds them with -I), so that the text, and so the cache key, does not depend on where the
        checkout lives."""
        rows = "\n".join(f'        cuda_on_cpu::kernel<&{name}>("{name}"),' for name in self.names)
        return (f"// generated by tests/kernels/cuda_on_cpu.py: the CUDA source and its table of kernels\n"
                f'#include "{HEADER.name}"\n'
                f'#include "{self.source.name}"\n\n'
                f"std::span<const cuda_on_cpu::Kernel> cuda_on_cpu::kernels() {{\n"
                f"    static const Kernel table[] = {{\n{rows}\n    }};\n"
                f"    return table;\n}}\n")

    def _build(self, cache: Path) -> Path:
        generated = self._generated_source()
        version = subprocess.run([self.compiler, "--version"], capture_output=True, text=True).stdout
        key = hashlib.sha256("\0".join([generated, HEADER.read_text(), self.source.read_text(), version,
                                        " ".join(FLAGS)]).encode()).hexdigest()[:24]
        library = cache / f"{key}.so"
        if library.exists():
            return library
        cache.mkdir(parents=True, exist_ok=True)
        unique = f"{os.getpid()}.{os.urandom(4).hex()}"
        cpp = cache / f"{key}.cpp"  # kept beside the library: the file to read when g++ complains
        cpp_tmp = cache / f"{key}.{unique}.cpp.tmp"
        cpp_tmp.write_text(generated)
        os.replace(cpp_tmp, cpp)
        # compile to a name of our own, then rename: another process never loads a half-written library
        tmp = cache / f"{key}.{unique}.so.tmp"
        command = [self.compiler, *FLAGS, "-I", str(HEADER.parent), "-I", str(self.source.parent), "-x", "c++",
                   str(cpp), "-o", str(tmp)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise CompileError(f"g++ could not compile {self.source.name} for the CPU (a CUDA feature missing from "
                               f"{HEADER.name}? a name not in the source?).\n$ {' '.join(command)}\n"
                               f"{result.stderr[-20000:]}")
        os.replace(tmp, library)
        return library

    @staticmethod
    def _load(path: Path):
        lib = ctypes.CDLL(str(path))
        lib.cuda_on_cpu_kernel_count.restype = ctypes.c_int
        lib.cuda_on_cpu_kernel_name.argtypes = [ctypes.c_int]
        lib.cuda_on_cpu_kernel_name.restype = ctypes.c_char_p
        lib.cuda_on_cpu_param_count.argtypes = [ctypes.c_int]
        lib.cuda_on_cpu_param_count.restype = ctypes.c_int
        lib.cuda_on_cpu_params.argtypes = [ctypes.c_int]
        lib.cuda_on_cpu_params.restype = ctypes.POINTER(_ParamInfo)
        lib.cuda_on_cpu_launch.argtypes = [ctypes.c_char_p] + [ctypes.c_uint] * 6 + [
            ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
        lib.cuda_on_cpu_launch.restype = ctypes.c_int
        return lib

    def _read_signatures(self) -> dict[str, tuple[Param, ...]]:
        signatures = {}
        for k in range(self._lib.cuda_on_cpu_kernel_count()):
            infos = self._lib.cuda_on_cpu_params(k)
            params = []
            for i in range(self._lib.cuda_on_cpu_param_count(k)):
                p = infos[i]
                pretty = p.type.decode()  # "... [with T = const float*]"
                params.append(Param(p.kind.decode(), p.size, p.align, p.pointee_kind.decode().strip("\0"),
                                    p.pointee_size, p.pointee_align, p.pointee_const,
                                    pretty.split("[with T = ", 1)[-1].rstrip("]")))
            signatures[self._lib.cuda_on_cpu_kernel_name(k).decode()] = tuple(params)
        return signatures

    # -- launching ---------------------------------------------------------------------------------------------
    def get_function(self, name: str):
        """A callable (grid, block, args) for kernel `name`, as CuPy's RawModule.get_function returns."""
        self._signature(name)
        return lambda grid, block, args: self.launch(name, grid, block, args)

    def launch(self, name: str, grid, block, args: tuple) -> None:
        """Run kernel `name` on a grid of `grid` blocks of `block` threads (tuples of 1 to 3 ints, as CuPy takes
        them) with `args`: C-contiguous NumPy arrays (for pointers), NumPy scalars (np.int32, np.float64,
        np.bool_...: for values, of exactly the parameter's type; an integer also for a pointer, as a raw
        address), None (a null pointer), a structured array of shape (1,) (a struct by value)."""
        params = self._signature(name)
        grid, block = _dims(grid, "grid", (2**31 - 1, 65535, 65535)), _dims(block, "block", (1024, 1024, 64))
        if block[0] * block[1] * block[2] > 1024:
            raise ValueError(f"{name}: a block has at most 1024 threads, got {block}")
        args = tuple(args)
        if len(args) != len(params):
            raise TypeError(f"{name} takes {len(params)} arguments ({', '.join(p.type for p in params)}), "
                            f"got {len(args)}")
        keep = []  # every buffer the argument pointers point into, alive until the launch returns
        guards = []
        pointers = (ctypes.c_void_p * len(args))()
        for i, (param, value) in enumerate(zip(params, args)):
            data = _argument_bytes(name, i, param, value, self.guard_bytes, guards)
            keep.append(data)
            pointers[i] = data.ctypes.data
        error = ctypes.create_string_buffer(8192)
        code = self._lib.cuda_on_cpu_launch(name.encode(), *grid, *block, pointers, len(args), error,
                                            ctypes.sizeof(error))
        message = error.value.decode(errors="replace")
        if code in _ERRORS:
            raise _ERRORS[code](message)
        if code != 0:
            raise KernelError(message)
        for guard in guards:
            guard.check_and_copy_back(name)

    def _signature(self, name: str) -> tuple[Param, ...]:
        try:
            return self.signatures[name]
        except KeyError:
            raise ValueError(f"{name!r} is not one of the instantiations this module was compiled with; add it "
                             f"to the names given to CudaOnCpu (compiled: {', '.join(self.names)})") from None


def _dims(value, what: str, limits) -> tuple[int, int, int]:
    """A CUDA grid or block shape, (x, y, z) with ones filled in."""
    if not isinstance(value, (tuple, list)) or not 1 <= len(value) <= 3:
        raise TypeError(f"the {what} shape is a tuple of 1 to 3 ints, as CuPy takes it; got {value!r}")
    dims = tuple(int(d) for d in value) + (1,) * (3 - len(value))
    if any(not 1 <= d <= limit for d, limit in zip(dims, limits)):
        raise ValueError(f"the {what} shape {tuple(value)} is outside CUDA's limits (each ≥ 1, at most {limits})")
    return dims


def _argument_bytes(name, i, param: Param, value, guard_bytes, guards) -> np.ndarray:
    """A NumPy array holding the bytes of argument i (what args[i] points to in the launch)."""
    where = f"{name}: argument {i} ({param.type})"
    if param.kind == "p":
        if value is None:
            return np.zeros(1, dtype=np.uintp)  # a null pointer
        if isinstance(value, np.ndarray):
            _check_array(where, param, value)
            address = value.ctypes.data
            if guard_bytes and value.size:
                guard = _Guarded.of(value, guard_bytes, writes=not param.pointee_const, index=i, guards=guards)
                address = guard.address
            return np.array([address], dtype=np.uintp)
        if isinstance(value, np.generic) and value.dtype.kind in "iu" and value.dtype.itemsize == param.size:
            return np.array([value], dtype=np.uintp)  # a raw address (cupy_raw.py passes np.uint64(0) for null)
        raise TypeError(f"{where}: expected a C-contiguous NumPy array, None or a {param.size}-byte integer "
                        f"address, got {_describe(value)}")
    if param.kind == "V":  # a struct by value: the bytes of one structured element
        if isinstance(value, (np.ndarray, np.void)) and value.dtype.itemsize == param.size and value.size == 1:
            return np.ascontiguousarray(value).reshape(1)
        raise TypeError(f"{where}: a struct of {param.size} bytes passed by value; expected a NumPy structured "
                        f"array of shape (1,) and itemsize {param.size}, got {_describe(value)}")
    # an arithmetic value: exactly the parameter's kind and size (CUDA copies the bytes, it does not convert)
    if isinstance(value, np.generic) and not isinstance(value, np.void):
        if value.dtype.kind == param.kind and value.dtype.itemsize == param.size:
            return np.array([value])
    raise TypeError(f"{where}: expected {param.numpy_type()}, got {_describe(value)} (a launch copies the "
                    f"argument's bytes: a scalar of another type would be read as garbage)")


def _check_array(where: str, param: Param, array: np.ndarray) -> None:
    if not array.flags.c_contiguous:
        raise ValueError(f"{where}: the array must be C-contiguous (a kernel indexes raw memory, a strided view "
                         f"would be read wrongly); got shape {array.shape}, strides {array.strides}; use "
                         f"np.ascontiguousarray")
    kind, size = param.pointee_kind, param.pointee_size
    if kind in "iufb" and (array.dtype.kind, array.dtype.itemsize) != (kind, size):
        raise TypeError(f"{where}: expected an array of {param.numpy_type(kind, size)}, got {array.dtype}")
    if kind == "p" and (array.dtype.kind not in "iu" or array.dtype.itemsize != size):
        raise TypeError(f"{where}: expected an array of {size}-byte addresses (np.uint64), got {array.dtype}")
    if kind == "V" and array.nbytes % size:
        raise TypeError(f"{where}: {array.nbytes} bytes is not a whole number of {size}-byte elements")
    if param.pointee_align and array.ctypes.data % param.pointee_align:
        raise ValueError(f"{where}: the array's address is not a multiple of {param.pointee_align} (a misaligned "
                         f"access faults on a GPU)")
    if not param.pointee_const and not array.flags.writeable:
        raise ValueError(f"{where}: the kernel may write through this pointer, but the array is read-only")


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype} with shape {value.shape}"
    if isinstance(value, np.generic):
        return f"np.{value.dtype.name} {value!r}"
    return f"{type(value).__name__} {value!r}"


class _Guarded:
    """A copy of an array argument between two guard bands; after the launch, the bands are checked and the
    body copied back into the array."""

    def __init__(self, array: np.ndarray, guard_bytes: int, index: int):
        self.array, self.indices, self.writes = array, [index], False
        nbytes = array.nbytes
        self.guard = max(guard_bytes, -(-nbytes // 64) * 64)  # a multiple of 64: the body stays aligned
        self.raw = np.empty(nbytes + 2 * self.guard + 64, dtype=np.uint8)
        self.start = (-self.raw.ctypes.data) % 64 + self.guard  # the body 64-byte aligned
        self.before, self.after = _guard_fill(self.guard, index, 0), _guard_fill(self.guard, index, 1)
        self.raw[self.start - self.guard:self.start] = self.before
        self.raw[self.start + nbytes:self.start + nbytes + self.guard] = self.after
        self.body = self.raw[self.start:self.start + nbytes]
        self.body[:] = _bytes(array)
        self.address = self.body.ctypes.data

    @classmethod
    def of(cls, array, guard_bytes, writes, index, guards):
        """The guarded copy for `array`, shared with an earlier argument that is the same memory; arrays that
        overlap otherwise go unguarded (two copies would not see each other's writes)."""
        start, end = array.ctypes.data, array.ctypes.data + array.nbytes
        for guard in guards:
            g_start = guard.array.ctypes.data
            g_end = g_start + guard.array.nbytes
            if (g_start, g_end) == (start, end):
                guard.indices.append(index)
                guard.writes |= writes
                return guard
            if g_start < end and start < g_end:
                return _Unguarded(array)
        guard = cls(array, guard_bytes, index)
        guard.writes = writes
        guards.append(guard)
        return guard

    def check_and_copy_back(self, name: str) -> None:
        n = self.body.size
        before = np.flatnonzero(self.raw[self.start - self.guard:self.start] != self.before)
        after = np.flatnonzero(self.raw[self.start + n:self.start + n + self.guard] != self.after)
        if before.size or after.size:
            item = self.array.dtype.itemsize
            what = []
            if before.size:
                last = int(before[-1]) - self.guard  # the changed byte nearest to the start: a negative offset
                what.append(f"before its start (the nearest changed byte is byte {last}, in element {last // item})")
            if after.size:
                first = n + int(after[0])
                what.append(f"past its end (the first changed byte is byte {first}, in element {first // item} of "
                            f"{self.array.size})")
            args = " and ".join(map(str, self.indices))
            raise KernelError(f"{name} wrote outside argument {args} (an array of {self.array.dtype}, shape "
                              f"{self.array.shape}): {'; '.join(what)}")
        if self.writes:
            _bytes(self.array)[:] = self.body


def _guard_fill(nbytes: int, argument: int, side: int) -> np.ndarray:
    """Guard bytes: 4-byte words 0xFFFF____, each a NaN as a float32 and, in pairs, as a float64, with low bits
    that differ from word to word (and from guard to guard), so that a value copied from one place of a guard
    to another is seen as a write."""
    words = np.arange(nbytes // 4, dtype=np.uint32)
    return (0xFFFF0000 | ((words * 7 + argument * 4099 + side * 2053) & 0xFFFF)).astype(np.uint32).view(np.uint8)


class _Unguarded:
    def __init__(self, array):
        self.address = array.ctypes.data


def _bytes(array: np.ndarray) -> np.ndarray:
    """The bytes of a C-contiguous array, as a view."""
    return array.reshape(-1).view(np.uint8)
