// minirl's teaching kernels in CUDA C++ (compiled at run time by kernels/cupy_raw.py through cupy.RawModule).
// Every kernel is a template over the element type T (float or double); the Python side names the
// instantiations it uses. Inputs are C-contiguous: cupy_raw.py copies strided inputs before the launch.

// ---------------------------------------------------------------------------------------------------------
// Reductions inside a block: a warp reduces with register shuffles, then warp 0 reduces the warps' results.
template <typename T> __device__ T neg_inf();
template <> __device__ float neg_inf<float>() { return __int_as_float(0xff800000); }
template <> __device__ double neg_inf<double>() { return __longlong_as_double(0xfff0000000000000ULL); }

template <typename T, bool MAX>
__device__ T warp_reduce(T v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        T other = __shfl_xor_sync(0xffffffffu, v, offset);
        v = MAX ? fmax(v, other) : v + other;
    }
    return v;
}

template <typename T, bool MAX>
__device__ T block_reduce(T v, T* shared) {  // every thread of the block gets the result
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_reduce<T, MAX>(v);
    __syncthreads();  // the previous call's readers of shared[0] are done
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = threadIdx.x < warps ? shared[lane] : (MAX ? neg_inf<T>() : (T)0);
        v = warp_reduce<T, MAX>(v);
        if (lane == 0) shared[0] = v;
    }
    __syncthreads();
    return shared[0];
}

// ---------------------------------------------------------------------------------------------------------
// The softmax family, one block per row of `cols` values (book eq. 1.12). Three sweeps over the row: its max,
// Σ exp(x − max), then the output. The row is read from device memory once; the later sweeps find it in cache.
// MODE 0: softmax, 1: log-softmax, 2: logsumexp (one value per row).
template <typename T, int MODE>
__global__ void softmax_rows(const T* __restrict__ x, T* __restrict__ y, int cols) {
    __shared__ T shared[32];
    const T* row = x + (long long)blockIdx.x * cols;
    T m = neg_inf<T>();
    for (int j = threadIdx.x; j < cols; j += blockDim.x) m = fmax(m, row[j]);
    m = block_reduce<T, true>(m, shared);
    const T shift = isfinite(m) ? m : (T)0;
    T s = 0;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += exp(row[j] - shift);
    s = block_reduce<T, false>(s, shared);
    if (MODE == 2) {
        if (threadIdx.x == 0) y[blockIdx.x] = log(s) + shift;
        return;
    }
    T* out = y + (long long)blockIdx.x * cols;
    const T log_s = log(s);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        const T z = row[j] - shift;
        out[j] = MODE == 0 ? exp(z) / s : z - log_s;
    }
}

// Backward of the family, from the upstream gradient g and the forward output y.
// MODE 0 (softmax): dx = y ⊙ (g − Σ g y);  MODE 1 (log-softmax): dx = g − exp(y) Σ g.
template <typename T, int MODE>
__global__ void softmax_rows_backward(const T* __restrict__ g, const T* __restrict__ y, T* __restrict__ dx,
                                      int cols) {
    __shared__ T shared[32];
    const long long offset = (long long)blockIdx.x * cols;
    T s = 0;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += MODE == 0 ? g[offset + j] * y[offset + j] : g[offset + j];
    s = block_reduce<T, false>(s, shared);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        const long long k = offset + j;
        dx[k] = MODE == 0 ? y[k] * (g[k] - s) : g[k] - exp(y[k]) * s;
    }
}

// Softmax cross-entropy with integer targets, forward and backward in one kernel (book eq. 1.16):
// loss_n = logsumexp(z_n) − z_n[t_n],  ∂loss_n/∂z_n = softmax(z_n) − onehot(t_n).
template <typename T>
__global__ void cross_entropy_rows(const T* __restrict__ z, const long long* __restrict__ targets,
                                   T* __restrict__ loss, T* __restrict__ grad, int cols) {
    __shared__ T shared[32];
    const long long offset = (long long)blockIdx.x * cols;
    const T* row = z + offset;
    T m = neg_inf<T>();
    for (int j = threadIdx.x; j < cols; j += blockDim.x) m = fmax(m, row[j]);
    m = block_reduce<T, true>(m, shared);
    const T shift = isfinite(m) ? m : (T)0;
    T s = 0;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += exp(row[j] - shift);
    s = block_reduce<T, false>(s, shared);
    const long long target = targets[blockIdx.x];
    // log s − (z_t − shift), not log s + shift − z_t: with large logits that sum would round the loss away
    if (threadIdx.x == 0) loss[blockIdx.x] = log(s) - (row[target] - shift);
    for (int j = threadIdx.x; j < cols; j += blockDim.x)
        grad[offset + j] = exp(row[j] - shift) / s - (T)(j == target);
}

// Rows of at most 32·PER_LANE values (up to 1024): one warp per row, the row held in registers (PER_LANE
// values per lane, lane l holding columns l, l + 32, ...: neighbouring lanes read neighbouring addresses).
// Each value is read from device memory exactly once and the reductions are register shuffles with no
// __syncthreads: for the short rows of classifiers and policies this is several times faster than a block
// per row, whose three dependent sweeps leave the memory system idle between them.
template <typename T, int MODE, int PER_LANE>
__global__ void softmax_warp_rows(const T* __restrict__ x, T* __restrict__ y, long long rows, int cols) {
    const long long row = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;  // the whole warp leaves together
    const T* in = x + row * cols;
    T v[PER_LANE];
    T m = neg_inf<T>();
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i) {
        const int j = lane + 32 * i;
        v[i] = j < cols ? in[j] : neg_inf<T>();
        m = fmax(m, v[i]);
    }
    m = warp_reduce<T, true>(m);
    const T shift = isfinite(m) ? m : (T)0;
    T s = 0;
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i)
        if (lane + 32 * i < cols) s += exp(v[i] - shift);
    s = warp_reduce<T, false>(s);
    if (MODE == 2) {
        if (lane == 0) y[row] = log(s) + shift;
        return;
    }
    T* out = y + row * cols;
    const T log_s = log(s);
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i) {
        const int j = lane + 32 * i;
        if (j < cols) out[j] = MODE == 0 ? exp(v[i] - shift) / s : v[i] - shift - log_s;
    }
}

template <typename T, int MODE, int PER_LANE>
__global__ void softmax_warp_rows_backward(const T* __restrict__ g, const T* __restrict__ y, T* __restrict__ dx,
                                           long long rows, int cols) {
    const long long row = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const long long offset = row * cols;
    T gv[PER_LANE], yv[PER_LANE];
    T s = 0;
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i) {
        const int j = lane + 32 * i;
        gv[i] = j < cols ? g[offset + j] : (T)0;
        yv[i] = j < cols ? y[offset + j] : (T)0;
        s += MODE == 0 ? gv[i] * yv[i] : gv[i];
    }
    s = warp_reduce<T, false>(s);
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i) {
        const int j = lane + 32 * i;
        if (j < cols) dx[offset + j] = MODE == 0 ? yv[i] * (gv[i] - s) : gv[i] - exp(yv[i]) * s;
    }
}

template <typename T, int PER_LANE>
__global__ void cross_entropy_warp_rows(const T* __restrict__ z, const long long* __restrict__ targets,
                                        T* __restrict__ loss, T* __restrict__ grad, long long rows, int cols) {
    const long long row = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const long long offset = row * cols;
    T v[PER_LANE];
    T m = neg_inf<T>();
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i) {
        const int j = lane + 32 * i;
        v[i] = j < cols ? z[offset + j] : neg_inf<T>();
        m = fmax(m, v[i]);
    }
    m = warp_reduce<T, true>(m);
    const T shift = isfinite(m) ? m : (T)0;
    T s = 0;
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i)
        if (lane + 32 * i < cols) s += exp(v[i] - shift);
    s = warp_reduce<T, false>(s);
    const long long target = targets[row];
    if (lane == 0) loss[row] = log(s) - (z[offset + target] - shift);
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i) {
        const int j = lane + 32 * i;
        if (j < cols) grad[offset + j] = exp(v[i] - shift) / s - (T)(j == target);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Adam over one flat buffer (book Alg. 1.2): a grid-stride loop, each thread updating many elements. The step
// t comes by value or, with DEVICE_STEP, from a device counter (so that a replayed CUDA graph sees the new t).
template <typename T, bool DEVICE_STEP>
__global__ void adam(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ m, T* __restrict__ v,
                     long long n, double step, const double* __restrict__ step_on_device, double lr,
                     double beta1, double beta2, double eps, double wd, bool decoupled) {
    const double t = DEVICE_STEP ? *step_on_device : step;
    const T c1 = (T)(lr / (1.0 - pow(beta1, t)));          // α / (1 − β1ᵗ)
    const T c2 = (T)(1.0 / sqrt(1.0 - pow(beta2, t)));     // 1 / √(1 − β2ᵗ)
    const T b1 = (T)beta1, b2 = (T)beta2, a1 = (T)(1 - beta1), a2 = (T)(1 - beta2);
    const T decay = (T)(1 - lr * wd), l2 = (T)wd, e = (T)eps;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        T grad = g[i], theta = p[i];
        if (wd != 0) {
            if (decoupled) theta *= decay; else grad += l2 * theta;
        }
        const T mi = b1 * m[i] + a1 * grad;                 // m ← β1 m + (1 − β1) g
        const T vi = b2 * v[i] + a2 * grad * grad;          // v ← β2 v + (1 − β2) g²
        m[i] = mi;
        v[i] = vi;
        p[i] = theta - c1 * mi / (sqrt(vi) * c2 + e);       // θ ← θ − α m̂ / (√v̂ + ε)
    }
}

// The same update on float4 vectors: one 16-byte load per array per 4 parameters (n divisible by 4, 16-byte
// aligned buffers). Fewer, wider memory transactions: the way to the copy bandwidth.
template <bool DEVICE_STEP>
__global__ void adam_float4(float4* __restrict__ p, const float4* __restrict__ g, float4* __restrict__ m,
                            float4* __restrict__ v, long long n4, double step, const double* __restrict__ step_on_device,
                            double lr, double beta1, double beta2, double eps, double wd, bool decoupled) {
    const double t = DEVICE_STEP ? *step_on_device : step;
    const float c1 = (float)(lr / (1.0 - pow(beta1, t))), c2 = (float)(1.0 / sqrt(1.0 - pow(beta2, t)));
    const float b1 = (float)beta1, b2 = (float)beta2, a1 = (float)(1 - beta1), a2 = (float)(1 - beta2);
    const float decay = (float)(1 - lr * wd), l2 = (float)wd, e = (float)eps;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n4; i += (long long)gridDim.x * blockDim.x) {
        float4 gi = g[i], pi = p[i], mi = m[i], vi = v[i];
        float* gs = &gi.x; float* ps = &pi.x; float* ms = &mi.x; float* vs = &vi.x;
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            float grad = gs[k];
            if (wd != 0) {
                if (decoupled) ps[k] *= decay; else grad += l2 * ps[k];
            }
            ms[k] = b1 * ms[k] + a1 * grad;
            vs[k] = b2 * vs[k] + a2 * grad * grad;
            ps[k] = ps[k] - c1 * ms[k] / (sqrtf(vs[k]) * c2 + e);
        }
        p[i] = pi; m[i] = mi; v[i] = vi;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Many small copies in one launch (the optimizer gathers a dozen gradients into its flat buffer every step).
// A launch costs microseconds whatever it copies, so the copies travel together: the segments' addresses come
// by value in one struct argument, and each thread finds the segment of its element i from the cumulative
// sizes `end` (segment s covers [end[s−1], end[s])). kernels/cupy_raw.py builds the same layout as a NumPy
// structured scalar; the static_asserts pin it.
constexpr int COPY_SEGMENTS = 32;
struct CopySegments {
    unsigned long long src[COPY_SEGMENTS];  // device addresses of the sources
    unsigned long long dst[COPY_SEGMENTS];  // and of the destinations
    long long end[COPY_SEGMENTS];
    int count;
};
static_assert(sizeof(CopySegments) == 776, "cupy_raw.py's _COPY_SEGMENTS dtype has 776 bytes");
static_assert(__builtin_offsetof(CopySegments, dst) == 256 && __builtin_offsetof(CopySegments, end) == 512 &&
              __builtin_offsetof(CopySegments, count) == 768, "cupy_raw.py's _COPY_SEGMENTS field offsets");

template <typename T>
__global__ void gather_segments(const CopySegments segments) {
    const long long total = segments.end[segments.count - 1];
    int s = 0;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += stride) {
        while (i >= segments.end[s]) ++s;  // i only grows, so s only moves forward
        const long long j = i - (s ? segments.end[s - 1] : 0);
        reinterpret_cast<T*>(segments.dst[s])[j] = reinterpret_cast<const T*>(segments.src[s])[j];
    }
}

// ---------------------------------------------------------------------------------------------------------
// The squared error scale · Σ (x − y)² in one launch of one block (the losses of RL are small: a minibatch of
// values), summed in double whatever T is; block_reduce leaves the total in every thread.
template <typename T>
__global__ void squared_error(const T* __restrict__ x, const T* __restrict__ y, T* __restrict__ out, long long n,
                              double scale) {
    __shared__ double shared[32];
    double s = 0;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) {
        const double d = (double)x[i] - (double)y[i];
        s += d * d;
    }
    s = block_reduce<double, false>(s, shared);
    if (threadIdx.x == 0) out[0] = (T)(s * scale);
}

// ---------------------------------------------------------------------------------------------------------
// Matrix products C = alpha · op(A) · op(B) for a batch (blockIdx.z) of row-major matrices; op(A) is A (M × K)
// or, with TRANS_A, the transpose of a K × M matrix (likewise B): a transposed operand such as the Wᵀ of a
// dense layer is read in place, never copied. Batch strides of 0 reuse one matrix for every batch entry.
//
// 1. The naive kernel: one thread per element of C, reading a row of A and a column of B from device memory.
template <typename T>
__global__ void matmul_naive(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ c, int M, int N,
                             int K, long long batch_a, long long batch_b) {
    const int col = blockIdx.x * blockDim.x + threadIdx.x, row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row >= M || col >= N) return;
    a += blockIdx.z * batch_a;
    b += blockIdx.z * batch_b;
    T acc = 0;
    for (int k = 0; k < K; ++k) acc += a[(long long)row * K + k] * b[(long long)k * N + col];
    c[(long long)blockIdx.z * M * N + (long long)row * N + col] = acc;
}

// 2. The tiled kernel: a block computes a BM × BN tile of C. It walks K in slabs of BK: the block first copies
// the BM × BK slab of A and the BK × BN slab of B into shared memory (each value read from device memory once
// per block instead of once per thread), then every thread multiplies out of shared memory into a TM × TN
// patch of C held in registers (each shared value read into a register is used TN or TM times). Thread
// (ty, tx) owns rows ty + i·(BM/TM) and columns tx + j·(BN/TN): neighbouring threads read neighbouring
// shared-memory words (no bank conflicts) and write neighbouring columns of C (coalesced).
//
// The dense layers of a network run on this kernel too, each layer's whole step in one launch (on the small
// networks of RL a launch costs more than its arithmetic, and a CUDA graph replays launches one by one):
// the EPILOGUE acts on each v = alpha · (op(A) op(B))[r, c] in registers before it is stored,
//   PLAIN             c = v
//   BIAS_ACTIVATION   c = f(v + bias[c])            the forward pass h_l = f(h_{l−1} W_lᵀ + b_l)   (book eq. 1.3)
//   TIMES_DERIVATIVE  c = v · f'(z), from y = f(z)  δ_{l−1} = f'(z_{l−1}) ⊙ δ_l W_l, y = h_{l−1}    (book §1.6.1)
// where `vec` is the bias (length N, or null for none) or y (M × N); and with ROW_SUMS the blocks of the
// first column of tiles also write row_sums[r] = Σ_k op(A)[r, k], from the slabs of A they load anyway: for
// ∂L/∂W = δᵀ h that is ∂L/∂b = Σ_n δ_n, the bias gradient for free.
enum Epilogue { PLAIN = 0, BIAS_ACTIVATION = 1, TIMES_DERIVATIVE = 2 };
enum Activation { IDENTITY = 0, TANH = 1, RELU = 2, SIGMOID = 3 };  // the codes of kernels/cupy_fused.py

template <typename T, int ACT>
__device__ T activate(T z) {
    if (ACT == TANH) return tanh(z);                                         // book eq. 1.9
    if (ACT == RELU) return z < (T)0 ? (T)0 : z;                             // book eq. 1.10 (NaN passes)
    if (ACT == SIGMOID) {                                                    // book eq. 1.8, never exp(+large)
        const T e = exp(-fabs(z));
        return z >= (T)0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e);
    }
    return z;
}

template <typename T, int ACT>
__device__ T derivative_from_output(T y) {  // f'(z) written with y = f(z)
    if (ACT == TANH) return (T)1 - y * y;
    if (ACT == RELU) return y > (T)0 ? (T)1 : (T)0;
    if (ACT == SIGMOID) return y * ((T)1 - y);
    return (T)1;
}

template <typename T, int BM, int BN, int BK, int TM, int TN, bool TRANS_A, bool TRANS_B, int EPILOGUE, int ACT,
          bool ROW_SUMS>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
matmul_tiled(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ c, int M, int N, int K,
             long long batch_a, long long batch_b, T alpha, const T* __restrict__ vec, T* __restrict__ row_sums) {
    constexpr int THREADS = (BM / TM) * (BN / TN), ROW_STEP = BM / TM, COL_STEP = BN / TN;
    __shared__ T As[BK][BM + 1];  // k-major, +1: the transposing stores hit distinct banks
    __shared__ T Bs[BK][BN + 1];
    const int tid = threadIdx.x, ty = tid / COL_STEP, tx = tid % COL_STEP;
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    a += blockIdx.z * batch_a;
    b += blockIdx.z * batch_b;
    c += (long long)blockIdx.z * M * N;
    if (EPILOGUE == TIMES_DERIVATIVE) vec += (long long)blockIdx.z * M * N;
    // the row sums: one thread per row group, in the first column of blocks only
    const bool sums_rows = ROW_SUMS && blockIdx.x == 0 && tx == 0;
    T acc[TM][TN], rs[TM];
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        rs[i] = 0;
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = 0;
    }
    T ra[TM], rb[TN];
    for (int k0 = 0; k0 < K; k0 += BK) {
        for (int e = tid; e < BM * BK; e += THREADS) {  // the A slab, zero-padded at the edges
            int r, k;
            if (TRANS_A) { k = e / BM; r = e % BM; }      // A is K × M: consecutive threads read along a row
            else { r = e / BK; k = e % BK; }
            const int gr = row0 + r, gk = k0 + k;
            T value = 0;
            if (gr < M && gk < K) value = TRANS_A ? a[(long long)gk * M + gr] : a[(long long)gr * K + gk];
            As[k][r] = value;
        }
        for (int e = tid; e < BK * BN; e += THREADS) {  // the B slab (B is N × K with TRANS_B)
            int k, col;
            if (TRANS_B) { col = e / BK; k = e % BK; }
            else { k = e / BN; col = e % BN; }
            const int gk = k0 + k, gc = col0 + col;
            T value = 0;
            if (gk < K && gc < N) value = TRANS_B ? b[(long long)gc * K + gk] : b[(long long)gk * N + gc];
            Bs[k][col] = value;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; ++k) {
#pragma unroll
            for (int i = 0; i < TM; ++i) ra[i] = As[k][ty + i * ROW_STEP];
#pragma unroll
            for (int j = 0; j < TN; ++j) rb[j] = Bs[k][tx + j * COL_STEP];
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] += ra[i] * rb[j];
            if (sums_rows) {
#pragma unroll
                for (int i = 0; i < TM; ++i) rs[i] += ra[i];  // the slab is zero past K: nothing extra added
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int r = row0 + ty + i * ROW_STEP;
        if (sums_rows && r < M) row_sums[(long long)blockIdx.z * M + r] = rs[i];
#pragma unroll
        for (int j = 0; j < TN; ++j) {
            const int col = col0 + tx + j * COL_STEP;
            if (r < M && col < N) {
                const long long k = (long long)r * N + col;
                T v = alpha * acc[i][j];
                if (EPILOGUE == BIAS_ACTIVATION) v = activate<T, ACT>(vec != nullptr ? v + vec[col] : v);
                if (EPILOGUE == TIMES_DERIVATIVE) v *= derivative_from_output<T, ACT>(vec[k]);
                c[k] = v;
            }
        }
    }
}

// 3. The same tiling for large float32 products, with wider accesses: a 128 × 128 tile per block of 256 threads,
// each thread owning an 8 × 8 patch as two 4 × 4 quarters (rows ty·4 + {0..3} and 64 + ty·4 + {0..3}, likewise
// columns), so that its operands for one k come from shared memory in four 16-byte loads instead of sixteen
// 4-byte ones, and its results leave as 16-byte stores. Inner loop: 4 shared loads feed 64 multiply-adds.
template <bool TRANS_A, bool TRANS_B>
__global__ void __launch_bounds__(256)
matmul_tiled_float4(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c, int M, int N,
                    int K, long long batch_a, long long batch_b, float alpha) {
    constexpr int BM = 128, BN = 128, BK = 8;
    __shared__ __align__(16) float As[BK][BM];
    __shared__ __align__(16) float Bs[BK][BN];
    const int tid = threadIdx.x, ty = tid / 16, tx = tid % 16;
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    a += blockIdx.z * batch_a;
    b += blockIdx.z * batch_b;
    c += (long long)blockIdx.z * M * N;
    float acc[8][8] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
        for (int e = tid; e < BM * BK; e += 256) {
            int r, k;
            if (TRANS_A) { k = e / BM; r = e % BM; }
            else { r = e / BK; k = e % BK; }
            const int gr = row0 + r, gk = k0 + k;
            float value = 0.f;
            if (gr < M && gk < K) value = TRANS_A ? a[(long long)gk * M + gr] : a[(long long)gr * K + gk];
            As[k][r] = value;
        }
        for (int e = tid; e < BK * BN; e += 256) {
            int k, col;
            if (TRANS_B) { col = e / BK; k = e % BK; }
            else { k = e / BN; col = e % BN; }
            const int gk = k0 + k, gc = col0 + col;
            float value = 0.f;
            if (gk < K && gc < N) value = TRANS_B ? b[(long long)gc * K + gk] : b[(long long)gk * N + gc];
            Bs[k][col] = value;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            const float4 a0 = *reinterpret_cast<const float4*>(&As[k][ty * 4]);
            const float4 a1 = *reinterpret_cast<const float4*>(&As[k][64 + ty * 4]);
            const float4 b0 = *reinterpret_cast<const float4*>(&Bs[k][tx * 4]);
            const float4 b1 = *reinterpret_cast<const float4*>(&Bs[k][64 + tx * 4]);
            const float ra[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
            const float rb[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
            for (int i = 0; i < 8; ++i)
#pragma unroll
                for (int j = 0; j < 8; ++j) acc[i][j] += ra[i] * rb[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        const int r = row0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4);
        if (r >= M) continue;
#pragma unroll
        for (int j = 0; j < 8; ++j) {
            const int col = col0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + j - 4);
            if (col < N) c[(long long)r * N + col] = alpha * acc[i][j];
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// im2col: one thread per element of the (N, C, kh, kw, OH, OW) patch array; zero outside the padded image.
template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ cols, int C, int H, int W, int kh, int kw,
                       int stride, int pad, int OH, int OW, long long total) {
    const long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (idx >= total) return;
    long long t = idx;
    const int ow = t % OW; t /= OW;
    const int oh = t % OH; t /= OH;
    const int j = t % kw; t /= kw;
    const int i = t % kh; t /= kh;
    const long long nc = t;  // n · C + c
    const int h = oh * stride + i - pad, w = ow * stride + j - pad;
    cols[idx] = (h >= 0 && h < H && w >= 0 && w < W) ? x[(nc * H + h) * W + w] : (T)0;
}

// col2im, its adjoint, as a gather: one thread per image pixel sums every patch entry that copied it, so no two
// threads write the same address (no atomics) and the sum runs in the same order as numpy_ref's.
template <typename T>
__global__ void col2im(const T* __restrict__ cols, T* __restrict__ x, int C, int H, int W, int kh, int kw,
                       int stride, int pad, int OH, int OW, long long total) {
    const long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (idx >= total) return;
    long long t = idx;
    const int w = t % W; t /= W;
    const int h = t % H; t /= H;
    const long long nc = t;
    T acc = 0;
    for (int i = 0; i < kh; ++i) {
        const int hp = h + pad - i;
        if (hp < 0 || hp % stride != 0 || hp / stride >= OH) continue;
        for (int j = 0; j < kw; ++j) {
            const int wp = w + pad - j;
            if (wp < 0 || wp % stride != 0 || wp / stride >= OW) continue;
            acc += cols[(((nc * kh + i) * kw + j) * OH + hp / stride) * OW + wp / stride];
        }
    }
    x[idx] = acc;
}
