using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dendrite;

/// <summary>
/// Single-precision matrix multiply, row-major: C = op(A)·op(B), or C += op(A)·op(B).
/// op(A) is m×k: A is stored m×lda, or k×lda when transposed. op(B) is k×n: B is stored k×ldb,
/// or n×ldb when transposed. Transposed operands are read strided while packing, never copied whole.
/// </summary>
/// <remarks>
/// BLIS-style: B is packed into KC×NR micro-panels, A into MR×KC micro-panels, and an MR×NR
/// register tile accumulates with FMA (8×32 on Vector512, 6×16 on Vector256, 6×8 on Vector128;
/// multiply then add where FMA is not an instruction). Each element of C
/// is summed in the same order whatever the thread count or partition, so results are bitwise
/// repeatable. Work splits across threads along N (or M when N is narrow), for each shape only once timing its first
/// calls has shown the split to be faster where it runs (Gemm.Split.cs); narrow outputs
/// (n &lt; 32, the 10-class layer) use a kernel that vectorises along K instead.
/// </remarks>
public static unsafe partial class Gemm
{
    /// <summary>Rows of the register tile: 8×32 on Vector512 (16 of 32 zmm registers accumulate); 6×16 on Vector256 and
    /// 6×8 on Vector128, whose 12 accumulators, 2 B vectors and a broadcast fit x64's 16 ymm/xmm registers without spilling.</summary>
    private static int MR => VectorWidth == 16 ? 8 : 6;

    /// <summary>Outputs with at most this many rows stream B instead of packing it (single-image prediction).</summary>
    private const int SmallM = 4;

    /// <summary>Depth of a packed block (k-direction): see <see cref="GemmBlocking"/>.</summary>
    private static int KcTarget => GemmBlocking.For(VectorWidth).Kc;
    /// <summary>Rows of A packed at once.</summary>
    private static int McTarget => GemmBlocking.For(VectorWidth).Mc;
    /// <summary>Columns of B packed at once.</summary>
    private static int NcTarget => GemmBlocking.For(VectorWidth).Nc;

    /// <summary>Vector width in floats used by every GEMM path: 16, 8 or 4 (see <see cref="Simd.Floats"/>). Tests may lower it.</summary>
    internal static int VectorWidth = Simd.Floats;

    private static int NR => VectorWidth * 2;

    [ThreadStatic] private static Buffers? t_buffers;

    /// <summary>C (m×n, ldc) = α·op(A)·op(B), or C += α·op(A)·op(B) when <paramref name="accumulate"/>.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false, float alpha = 1f)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Invalid GEMM dimensions m={m}, n={n}, k={k}.");
        CheckOperand("A", a, transA ? k : m, transA ? m : k, lda);
        CheckOperand("B", b, transB ? n : k, transB ? k : n, ldb);
        CheckOperand("C", c, m, n, ldc);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a, pb = b, pc = c)
        {
            if (k == 0)
            {
                if (!accumulate) for (int i = 0; i < m; i++) new Span<float>(pc + (long)i * ldc, n).Clear();
                return;
            }
            var job = new Job(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, alpha);
            bool fewRows = m <= SmallM && !transB;
            int threads = fewRows ? FewRowsThreads(transA, m, n, k, pa, lda, out bool splitN) : ChooseThreads(m, n, k, out splitN);
            if (threads <= 1) job.Run(0, m, 0, n);
            // Few-row products decide by what they stream (FewRowsThreads); the others are measured at their first calls.
            else RunSplit(job, threads, splitN, fewRows ? null : new SplitKey(transA, transB, m, n, k, accumulate, threads));
        }
    }

    private static void CheckOperand(string name, ReadOnlySpan<float> s, int rows, int cols, int ld)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new ArgumentException($"GEMM operand {name}: leading dimension {ld} is smaller than its {cols} columns.");
        long need = (long)(rows - 1) * ld + cols;
        if (s.Length < need) throw new ArgumentException($"GEMM operand {name}: {rows}×{cols} with leading dimension {ld} needs {need} elements; got {s.Length}.");
    }

    private static int ChooseThreads(int m, int n, int k, out bool splitN)
    {
        splitN = true;
        int threads = Parallelism.MaxThreads;
        double flops = 2.0 * m * n * k;
        if (threads <= 1 || flops < 2e6) return 1;
        threads = (int)Math.Min(threads, Math.Max(1, flops / 1e6));
        if (n >= NR * 2 * threads && (n >= m || m < MR * 4 * threads)) return threads;
        if (m >= MR * 4 * threads) { splitN = false; return threads; }
        if (n >= NR * 2 * 2) return 2;
        return 1;
    }

    /// <summary>
    /// Few rows stream the live rows of B (<see cref="FewRows{TV}"/>): memory-bound, so a second core pays once those rows
    /// outgrow one core's L1 cache and come from L2 or L3, where two cores draw twice the bandwidth; below that, handing a
    /// part to a worker (about a microsecond) costs as much as the work. A worker slow to wake costs nothing: the caller
    /// claims its part (<see cref="Parallelism"/>). Measured on one image through 784-1024: 8.0 µs on one core, 5.6 on two.
    /// </summary>
    private static int FewRowsThreads(bool transA, int m, int n, int k, float* a, int lda, out bool splitN)
    {
        splitN = true;
        if (Parallelism.MaxThreads <= 1 || n < 4 * NR) return 1;
        long streamed = (long)LiveSteps(transA, k, a, lda, m) * n * sizeof(float);
        return streamed >= CacheInfo.L1Bytes ? Math.Min(Parallelism.MaxThreads, n / (2 * NR)) : 1;
    }

    private static readonly SplitJob SharedJob = new();

    private sealed class SplitJob : IParallelWork
    {
        public Job Job;
        public bool SplitN;

        public void Execute(int part, int parts)
        {
            if (SplitN)
            {
                var (lo, hi) = Slice(Job.N, part, parts, NR);
                if (lo < hi) Job.Run(0, Job.M, lo, hi);
            }
            else
            {
                var (lo, hi) = Slice(Job.M, part, parts, MR);
                if (lo < hi) Job.Run(lo, hi, 0, Job.N);
            }
        }

        private static (int, int) Slice(int total, int part, int parts, int align)
        {
            int units = (total + align - 1) / align;
            int lo = (int)((long)units * part / parts) * align;
            int hi = (int)((long)units * (part + 1) / parts) * align;
            return (Math.Min(lo, total), Math.Min(hi, total));
        }
    }

    private readonly struct Job(bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float alpha)
    {
        public readonly int M = m, N = n;

        /// <summary>Computes C[i0:i1, j0:j1] on the calling thread.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int i0, int i1, int j0, int j1)
        {
            if (i1 - i0 <= SmallM && !transB) { FewRows(i0, i1, j0, j1); return; }
            if (j1 - j0 < 2 * VectorWidth && !transB)
            {
                if (transA && i1 - i0 >= 2 * VectorWidth) NarrowNTransposed(i0, i1, j0, j1);
                else NarrowN(i0, i1, j0, j1);
                return;
            }
            int nr = NR;
            var buf = t_buffers ??= new Buffers();
            int kBlocks = (k + KcTarget - 1) / KcTarget;
            int kc0 = (k + kBlocks - 1) / kBlocks;
            int rows = i1 - i0;
            int mBlocks = (rows + McTarget - 1) / McTarget;
            int mc0 = RoundUp((rows + mBlocks - 1) / mBlocks, MR);
            int nc0 = Math.Min(RoundUp(j1 - j0, nr), NcTarget);
            // A short k (kc at most L1/(64·NR) floats: 24 on a 48 KiB L1 with 32-wide tiles) leaves each tile a few
            // multiply-adds and 16 lines of C to write: writing C is the work. Then C is walked row band by row band, each
            // band's eight rows written front to back, over a B block cut to half of L1. Walking down a column of tiles
            // instead writes 16 lines at C's row pitch each time; at a 4 KiB pitch they all fall in one L1 set, and
            // 128×1024 with k = 1 took 38 µs to write instead of 5.
            bool rowBands = (long)kc0 * sizeof(float) * 8 * nr <= CacheInfo.L1Bytes / 2;
            if (rowBands) nc0 = Math.Min(nc0, Math.Max(nr, CacheInfo.L1Bytes / 2 / (kc0 * sizeof(float)) / nr * nr));
            float* pa = buf.A(mc0 * kc0);
            float* pb = buf.B(nc0 * kc0);
            float* tile = buf.Tile(MR * nr);
            int* live = buf.PanelLive((mc0 + MR - 1) / MR);
            int* steps = buf.PanelSteps((long)(mc0 + MR - 1) / MR * kc0);
            for (int jc = j0; jc < j1; jc += nc0)
            {
                int nc = Math.Min(nc0, j1 - jc);
                for (int pc = 0; pc < k; pc += kc0)
                {
                    int kc = Math.Min(kc0, k - pc);
                    bool overwrite = pc == 0 && !accumulate;
                    PackB(pb, kc, nc, pc, jc, nr);
                    for (int ic = i0; ic < i1; ic += mc0)
                    {
                        int mc = Math.Min(mc0, i1 - ic);
                        PackA(pa, mc, kc, ic, pc);
                        CompactPanels(pa, mc, kc, MR, live, steps);
                        if (rowBands)
                        {
                            for (int ir = 0; ir < mc; ir += MR)
                                for (int jr = 0; jr < nc; jr += nr) Tile(ir, jr, mc, nc, kc, ic, jc, pa, pb, live, steps, tile, overwrite);
                        }
                        else
                        {
                            // B's micro-panel stays in L1 across the A micro-panels; A's block stays in L2 (see GemmBlocking).
                            for (int jr = 0; jr < nc; jr += nr)
                                for (int ir = 0; ir < mc; ir += MR) Tile(ir, jr, mc, nc, kc, ic, jc, pa, pb, live, steps, tile, overwrite);
                        }
                    }
                }
            }
        }

        /// <summary>
        /// The register tile at (ir, jr) of the packed blocks, into C (or through the scratch tile at C's edges).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Tile(int ir, int jr, int mc, int nc, int kc, int ic, int jc, float* pa, float* pb, int* live, int* steps, float* tile, bool overwrite)
        {
            int nr = NR, mh = Math.Min(MR, mc - ir), nw = Math.Min(nr, nc - jr);
            float* aPanel = pa + (long)ir * kc, bPanel = pb + (long)jr * kc;
            float* cTile = c + (long)(ic + ir) * ldc + jc + jr;
            int panelLive = live[ir / MR];
            int* panelSteps = steps + (long)(ir / MR) * kc;
            if (mh == MR && nw == nr)
            {
                if (panelLive == kc) Kernel(kc, aPanel, bPanel, cTile, ldc, overwrite, alpha);
                else SparseKernel(panelLive, panelSteps, aPanel, bPanel, cTile, ldc, overwrite, alpha);
                return;
            }
            if (panelLive == kc) Kernel(kc, aPanel, bPanel, tile, nr, true, 1f);
            else SparseKernel(panelLive, panelSteps, aPanel, bPanel, tile, nr, true, 1f);
            for (int r = 0; r < mh; r++)
            {
                var src = new Span<float>(tile + r * nr, nw);
                var dst = new Span<float>(cTile + (long)r * ldc, nw);
                if (overwrite) System.Numerics.Tensors.TensorPrimitives.Multiply(src, alpha, dst);
                else System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(src, alpha, dst, dst);
            }
        }

        /// <summary>Packs op(A)[ic:ic+mc, pc:pc+kc] into MR-row micro-panels, zero-padding the last.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void PackA(float* dst, int mc, int kc, int ic, int pc)
        {
            int MR = Gemm.MR;
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mh = Math.Min(MR, mc - ir);
                float* d = dst + (long)ir * kc;
                if (transA)
                {
                    // op(A)[i, p] = a[p*lda + i]: each p gives MR contiguous values.
                    float* s = a + (long)pc * lda + ic + ir;
                    if (mh == 8 && MR == 8)
                        for (int p = 0; p < kc; p++, s += lda, d += MR) Vector256.Store(Vector256.Load(s), d);
                    else
                        for (int p = 0; p < kc; p++, s += lda, d += MR)
                        {
                            int r = 0;
                            for (; r < mh; r++) d[r] = s[r];
                            for (; r < MR; r++) d[r] = 0;
                        }
                }
                else
                {
                    int p0 = 0;
                    if (mh == 8 && MR == 8 && Avx.IsSupported)
                    {
                        // 8 rows × 8 k-steps at a time: the transpose of the block is exactly 8 steps of the panel.
                        float* s0 = a + (long)(ic + ir) * lda + pc;
                        for (; p0 <= kc - 8; p0 += 8) Transpose8x8(s0 + p0, lda, d + p0 * MR, MR);
                    }
                    for (int r = 0; r < MR; r++)
                    {
                        if (r < mh)
                        {
                            float* s = a + (long)(ic + ir + r) * lda + pc;
                            for (int p = p0; p < kc; p++) d[p * MR + r] = s[p];
                        }
                        else for (int p = p0; p < kc; p++) d[p * MR + r] = 0;
                    }
                }
            }
        }

        /// <summary>Packs op(B)[pc:pc+kc, jc:jc+nc] into nr-column micro-panels, zero-padding the last.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void PackB(float* dst, int kc, int nc, int pc, int jc, int nr)
        {
            for (int jr = 0; jr < nc; jr += nr)
            {
                int nw = Math.Min(nr, nc - jr);
                float* d = dst + (long)jr * kc;
                if (!transB)
                {
                    float* s = b + (long)pc * ldb + jc + jr;
                    if (nw == nr)
                    {
                        if (nr == 32)
                            for (int p = 0; p < kc; p++, s += ldb, d += 32)
                            {
                                Vector512.Store(Vector512.Load(s), d);
                                Vector512.Store(Vector512.Load(s + 16), d + 16);
                            }
                        else
                            for (int p = 0; p < kc; p++, s += ldb, d += nr)
                                new ReadOnlySpan<float>(s, nr).CopyTo(new Span<float>(d, nr));
                    }
                    else
                        for (int p = 0; p < kc; p++, s += ldb, d += nr)
                        {
                            int j = 0;
                            for (; j < nw; j++) d[j] = s[j];
                            for (; j < nr; j++) d[j] = 0;
                        }
                }
                else
                {
                    // op(B)[p, j] = b[j*ldb + p]: column j of the panel is a contiguous run of B's row j.
                    int p0 = 0;
                    if (nw == nr && Avx.IsSupported)
                    {
                        // Eight rows of B at a time, walked along k: eight streams, each line used whole before the next.
                        // (Walking k outermost touches nr rows per step; with a 4 KiB row pitch they all fall in one L1 set.)
                        int kc8 = kc / 8 * 8;
                        for (int j8 = 0; j8 < nr; j8 += 8)
                            for (int q = 0; q < kc8; q += 8)
                                Transpose8x8(b + (long)(jc + jr + j8) * ldb + pc + q, ldb, d + q * nr + j8, nr);
                        p0 = kc8;
                    }
                    for (int j = 0; j < nr; j++)
                    {
                        if (j < nw)
                        {
                            float* s = b + (long)(jc + jr + j) * ldb + pc;
                            for (int p = p0; p < kc; p++) d[p * nr + j] = s[p];
                        }
                        else for (int p = p0; p < kc; p++) d[p * nr + j] = 0;
                    }
                }
            }
        }

        /// <summary>A few rows of C: see <see cref="FewRows{TV}"/>.</summary>
        private void FewRows(int i0, int i1, int j0, int j1)
        {
            if (VectorWidth == 16) FewRows<Floats512>(transA, k, a, lda, b, ldb, c, ldc, i0, i1, j0, j1, accumulate, alpha);
            else if (VectorWidth == 8) FewRows<Floats256>(transA, k, a, lda, b, ldb, c, ldc, i0, i1, j0, j1, accumulate, alpha);
            else FewRows<Floats128>(transA, k, a, lda, b, ldb, c, ldc, i0, i1, j0, j1, accumulate, alpha);
        }

        /// <summary>
        /// A narrow output whose A is stored transposed (the 10-class layer's weight gradient hᵀ·dz):
        /// computes Cᵀ = op(B)ᵀ·op(A)ᵀ with the packed kernel, where it is wide, into scratch, then adds it back transposed.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void NarrowNTransposed(int i0, int i1, int j0, int j1)
        {
            int rows = i1 - i0, w = j1 - j0;
            var buf = t_buffers ??= new Buffers();
            float* ct = buf.Scratch((long)w * rows);
            // op(B)ᵀ[j, p] = b[p*ldb + j]: a transposed left operand; op(A)ᵀ[p, i] = a[p*lda + i]: a plain right operand.
            new Job(true, false, w, rows, k, b + j0, ldb, a + i0, lda, ct, rows, false, 1f).Run(0, w, 0, rows);
            for (int i = 0; i < rows; i++)
            {
                float* cc = c + (long)(i0 + i) * ldc + j0;
                for (int j = 0; j < w; j++)
                {
                    float v = alpha * ct[(long)j * rows + i];
                    cc[j] = accumulate ? cc[j] + v : v;
                }
            }
        }

        /// <summary>
        /// For outputs narrower than one register tile (the 10-class layer): each C element is a dot
        /// product along K, vectorised along K over four rows and two columns at once (<see cref="Dot4x2{TV}"/>). B is read column-wise from a
        /// transposed copy of its few columns.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void NarrowN(int i0, int i1, int j0, int j1)
        {
            var buf = t_buffers ??= new Buffers();
            int w = j1 - j0;
            float* bt = buf.B(w * k);
            for (int p = 0; p < k; p++)
                for (int j = 0; j < w; j++) bt[(long)j * k + p] = b[(long)p * ldb + j0 + j];
            float* arow = transA ? buf.A(k * 4) : null;
            float* sums = stackalloc float[8];
            for (int i = i0; i < i1; i += 4)
            {
                int rows = Math.Min(4, i1 - i);
                float* r0, r1, r2, r3;
                if (transA)
                {
                    for (int r = 0; r < 4; r++)
                        for (int p = 0; p < k; p++) arow[r * k + p] = r < rows ? a[(long)p * lda + i + r] : 0;
                    r0 = arow; r1 = arow + k; r2 = arow + 2 * k; r3 = arow + 3 * k;
                }
                else
                {
                    r0 = a + (long)i * lda;
                    r1 = rows > 1 ? r0 + lda : r0;
                    r2 = rows > 2 ? r0 + 2L * lda : r0;
                    r3 = rows > 3 ? r0 + 3L * lda : r0;
                }
                for (int j = 0; j < w; j += 2)
                {
                    int j2 = Math.Min(j + 1, w - 1);   // an odd last column is computed twice, stored once
                    if (VectorWidth == 16) Dot4x2<Floats512>(r0, r1, r2, r3, bt + (long)j * k, bt + (long)j2 * k, k, sums);
                    else if (VectorWidth == 8) Dot4x2<Floats256>(r0, r1, r2, r3, bt + (long)j * k, bt + (long)j2 * k, k, sums);
                    else Dot4x2<Floats128>(r0, r1, r2, r3, bt + (long)j * k, bt + (long)j2 * k, k, sums);
                    for (int col = 0; col < (j2 > j ? 2 : 1); col++)
                    {
                        float* cc = c + (long)i * ldc + j0 + j + col;
                        for (int r = 0; r < rows; r++)
                        {
                            float v = alpha * sums[2 * r + col];
                            cc[r * (long)ldc] = accumulate ? cc[r * (long)ldc] + v : v;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Dot products of four rows of A with two columns of B, vectorised along K: eight independent accumulators, so the
    /// multiply-adds are not held back by each other's latency, and each load of A serves two columns.
    /// sums[2r + c] = Σ_p a_r[p]·b_c[p].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x2<TV>(float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, int k, float* sums)
        where TV : struct, ISimdFloats<TV>
    {
        int W = TV.Count, p = 0;
        TV x00 = default, x01 = default, x10 = default, x11 = default, x20 = default, x21 = default, x30 = default, x31 = default;
        for (; p <= k - W; p += W)
        {
            var u = TV.Load(b0 + p);
            var v = TV.Load(b1 + p);
            var a = TV.Load(a0 + p); x00 = TV.MulAdd(a, u, x00); x01 = TV.MulAdd(a, v, x01);
            a = TV.Load(a1 + p); x10 = TV.MulAdd(a, u, x10); x11 = TV.MulAdd(a, v, x11);
            a = TV.Load(a2 + p); x20 = TV.MulAdd(a, u, x20); x21 = TV.MulAdd(a, v, x21);
            a = TV.Load(a3 + p); x30 = TV.MulAdd(a, u, x30); x31 = TV.MulAdd(a, v, x31);
        }
        sums[0] = TV.Sum(x00); sums[1] = TV.Sum(x01); sums[2] = TV.Sum(x10); sums[3] = TV.Sum(x11);
        sums[4] = TV.Sum(x20); sums[5] = TV.Sum(x21); sums[6] = TV.Sum(x30); sums[7] = TV.Sum(x31);
        for (; p < k; p++)
        {
            float u = b0[p], v = b1[p];
            sums[0] = float.MultiplyAddEstimate(a0[p], u, sums[0]); sums[1] = float.MultiplyAddEstimate(a0[p], v, sums[1]);
            sums[2] = float.MultiplyAddEstimate(a1[p], u, sums[2]); sums[3] = float.MultiplyAddEstimate(a1[p], v, sums[3]);
            sums[4] = float.MultiplyAddEstimate(a2[p], u, sums[4]); sums[5] = float.MultiplyAddEstimate(a2[p], v, sums[5]);
            sums[6] = float.MultiplyAddEstimate(a3[p], u, sums[6]); sums[7] = float.MultiplyAddEstimate(a3[p], v, sums[7]);
        }
    }

    /// <summary>dst[q*dstStride + r] = src[r*srcStride + q] for an 8×8 block (AVX unpack/shuffle/permute).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, int srcStride, float* dst, int dstStride)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2L * srcStride); var r3 = Avx.LoadVector256(src + 3L * srcStride);
        var r4 = Avx.LoadVector256(src + 4L * srcStride); var r5 = Avx.LoadVector256(src + 5L * srcStride);
        var r6 = Avx.LoadVector256(src + 6L * srcStride); var r7 = Avx.LoadVector256(src + 7L * srcStride);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2L * dstStride, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3L * dstStride, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4L * dstStride, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5L * dstStride, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6L * dstStride, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7L * dstStride, Avx.Permute2x128(s3, s7, 0x31));
    }

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;

    /// <summary>Reference C = op(A)·op(B) (+C): plain loops in double, for tests.</summary>
    internal static void Reference(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false, float alpha = 1f)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = (float)(alpha * s + (accumulate ? c[i * ldc + j] : 0));
            }
    }

    /// <summary>Per-thread, 64-byte-aligned packing buffers; grown, never shrunk, never freed (one set per kernel thread).</summary>
    private sealed class Buffers
    {
        private float* _a, _b, _tile, _scratch, _fewRows;
        private long _aLen, _bLen, _tileLen, _scratchLen, _fewRowsLen, _stepsLen, _panelLiveLen, _panelStepsLen;
        private int* _steps, _panelLive, _panelSteps;

        public float* A(long n) => Grow(ref _a, ref _aLen, n);
        public float* B(long n) => Grow(ref _b, ref _bLen, n);
        public float* Tile(long n) => Grow(ref _tile, ref _tileLen, n);
        public float* Scratch(long n) => Grow(ref _scratch, ref _scratchLen, n);
        public float* FewRows(long n) => Grow(ref _fewRows, ref _fewRowsLen, n);
        public int* Steps(long n) => GrowInts(ref _steps, ref _stepsLen, n);
        public int* PanelLive(long n) => GrowInts(ref _panelLive, ref _panelLiveLen, n);
        public int* PanelSteps(long n) => GrowInts(ref _panelSteps, ref _panelStepsLen, n);

        private static int* GrowInts(ref int* p, ref long len, long n)
        {
            var f = (float*)p;
            f = Grow(ref f, ref len, n);   // an int is the size of a float
            return p = (int*)f;
        }

        private static float* Grow(ref float* p, ref long len, long n)
        {
            if (n <= len) return p;
            if (p != null) NativeMemory.AlignedFree(p);
            p = (float*)NativeMemory.AlignedAlloc((nuint)(n * sizeof(float)), 64);
            len = n;
            return p;
        }

        ~Buffers()
        {
            if (_a != null) NativeMemory.AlignedFree(_a);
            if (_b != null) NativeMemory.AlignedFree(_b);
            if (_tile != null) NativeMemory.AlignedFree(_tile);
            if (_scratch != null) NativeMemory.AlignedFree(_scratch);
            if (_fewRows != null) NativeMemory.AlignedFree(_fewRows);
            if (_steps != null) NativeMemory.AlignedFree(_steps);
            if (_panelLive != null) NativeMemory.AlignedFree(_panelLive);
            if (_panelSteps != null) NativeMemory.AlignedFree(_panelSteps);
        }
    }
}
