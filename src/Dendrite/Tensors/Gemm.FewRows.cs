using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dendrite;

public static unsafe partial class Gemm
{
    /// <summary>
    /// C[i0:i1, j0:j1] for one to four rows (one image at a time, a small batch): B is streamed once instead of packed,
    /// C[i, :] = α·Σ_p a[i, p]·B[p, :]. Steps p where every row of op(A) is zero are skipped: such a step adds exact zeros,
    /// so the result is the same, and B's row p is never read. Inputs are often mostly zero (a digit's background is
    /// about 80% of its pixels; a ReLU layer zeroes about half its units), so this reads a fraction of the weights.
    /// A weight that is infinite or NaN then reaches the output only through a nonzero input (0·∞ is not formed).
    /// The accumulators stay in registers across all steps, a stripe of columns at a time, so C is written once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // a kernel: compiled optimized at once, not after tiering
    private static void FewRows<TV>(bool transA, int k, float* a, int lda, float* b, int ldb, float* c, int ldc,
        int i0, int i1, int j0, int j1, bool accumulate, float alpha) where TV : struct, ISimdFloats<TV>
    {
        int rows = i1 - i0, W = TV.Count;
        var buf = t_buffers ??= new Buffers();
        int* steps = buf.Steps(k);
        float* x = buf.FewRows(4L * k);   // α·op(A)[i0 + r, steps[q]] at x[4q + r], zero for absent rows
        int live = rows == 1 && !transA ? OneRowLiveSteps(a + (long)i0 * lda, k, alpha, steps, x) : 0;
        if (rows > 1 || transA)
            for (int p = 0; p < k; p++)
            {
                float* xq = x + 4L * live;
                bool nonzero = false;
                for (int r = 0; r < 4; r++)
                {
                    float v = r < rows ? alpha * (transA ? a[(long)p * lda + i0 + r] : a[(long)(i0 + r) * lda + p]) : 0f;
                    xq[r] = v;
                    nonzero |= v != 0;   // NaN counts as nonzero
                }
                steps[live] = p;
                live += nonzero ? 1 : 0;
            }

        int j = j0;
        if (rows == 1)
            for (; j + 8 * W <= j1; j += 8 * W) OneRowStripe<TV>(live, steps, x, b + j, ldb, c + (long)i0 * ldc + j, accumulate);
        for (; j + 2 * W <= j1; j += 2 * W) FourRowStripe<TV>(2, rows, live, steps, x, b + j, ldb, c + (long)i0 * ldc + j, ldc, accumulate);
        for (; j + W <= j1; j += W) FourRowStripe<TV>(1, rows, live, steps, x, b + j, ldb, c + (long)i0 * ldc + j, ldc, accumulate);
        if (j < j1) PartialStripe<TV>(rows, live, steps, x, k, b, ldb, j, j1, c + (long)i0 * ldc, ldc, accumulate);
    }

    /// <summary>
    /// The nonzero steps of one row of A (contiguous), four at a time: a digit's background is long runs of zeros, skipped
    /// with one comparison each. Writes α·a[p] and three zeros (the absent rows) per live step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // a kernel: compiled optimized at once, not after tiering
    private static int OneRowLiveSteps(float* a, int k, float alpha, int* steps, float* x)
    {
        int live = 0, p = 0;
        for (; p + 4 <= k; p += 4)
        {
            uint nonzero = ~Vector128.Equals(Vector128.Load(a + p), Vector128<float>.Zero).ExtractMostSignificantBits() & 0xF;
            while (nonzero != 0)
            {
                int t = BitOperations.TrailingZeroCount(nonzero);
                nonzero &= nonzero - 1;
                Vector128.Create(alpha * a[p + t], 0f, 0f, 0f).Store(x + 4L * live);
                steps[live++] = p + t;
            }
        }
        for (; p < k; p++)
            if (a[p] != 0)
            {
                Vector128.Create(alpha * a[p], 0f, 0f, 0f).Store(x + 4L * live);
                steps[live++] = p;
            }
        return live;
    }

    /// <summary>One row, 8 vectors of columns: 8 accumulators, one broadcast and one load per multiply-add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneRowStripe<TV>(int live, int* steps, float* x, float* b, int ldb, float* c, bool accumulate)
        where TV : struct, ISimdFloats<TV>
    {
        int W = TV.Count;
        TV a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int q = 0; q < live; q++)
        {
            var v = TV.Broadcast(x[4 * q]);
            float* bp = b + (long)steps[q] * ldb;
            a0 = TV.MulAdd(v, TV.Load(bp), a0);
            a1 = TV.MulAdd(v, TV.Load(bp + W), a1);
            a2 = TV.MulAdd(v, TV.Load(bp + 2 * W), a2);
            a3 = TV.MulAdd(v, TV.Load(bp + 3 * W), a3);
            a4 = TV.MulAdd(v, TV.Load(bp + 4 * W), a4);
            a5 = TV.MulAdd(v, TV.Load(bp + 5 * W), a5);
            a6 = TV.MulAdd(v, TV.Load(bp + 6 * W), a6);
            a7 = TV.MulAdd(v, TV.Load(bp + 7 * W), a7);
        }
        Put(c, a0, accumulate); Put(c + W, a1, accumulate); Put(c + 2 * W, a2, accumulate); Put(c + 3 * W, a3, accumulate);
        Put(c + 4 * W, a4, accumulate); Put(c + 5 * W, a5, accumulate); Put(c + 6 * W, a6, accumulate); Put(c + 7 * W, a7, accumulate);
    }

    /// <summary>Up to four rows, one or two vectors of columns (8 accumulators at most: no spills with 16 registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRowStripe<TV>(int vectors, int rows, int live, int* steps, float* x, float* b, int ldb, float* c, int ldc, bool accumulate)
        where TV : struct, ISimdFloats<TV>
    {
        int W = TV.Count, second = vectors > 1 ? W : 0;   // with one vector, the second load repeats the first
        TV r00 = default, r01 = default, r10 = default, r11 = default, r20 = default, r21 = default, r30 = default, r31 = default;
        for (int q = 0; q < live; q++)
        {
            float* bp = b + (long)steps[q] * ldb;
            float* xq = x + 4 * q;
            var b0 = TV.Load(bp);
            var b1 = TV.Load(bp + second);
            var v = TV.Broadcast(xq[0]); r00 = TV.MulAdd(v, b0, r00); r01 = TV.MulAdd(v, b1, r01);
            v = TV.Broadcast(xq[1]); r10 = TV.MulAdd(v, b0, r10); r11 = TV.MulAdd(v, b1, r11);
            v = TV.Broadcast(xq[2]); r20 = TV.MulAdd(v, b0, r20); r21 = TV.MulAdd(v, b1, r21);
            v = TV.Broadcast(xq[3]); r30 = TV.MulAdd(v, b0, r30); r31 = TV.MulAdd(v, b1, r31);
        }
        Put(c, r00, accumulate); if (vectors > 1) Put(c + W, r01, accumulate);
        if (rows > 1) { c += ldc; Put(c, r10, accumulate); if (vectors > 1) Put(c + W, r11, accumulate); }
        if (rows > 2) { c += ldc; Put(c, r20, accumulate); if (vectors > 1) Put(c + W, r21, accumulate); }
        if (rows > 3) { c += ldc; Put(c, r30, accumulate); if (vectors > 1) Put(c + W, r31, accumulate); }
    }

    /// <summary>
    /// The last columns [j, j1), fewer than a vector (the 10-class layer): a full vector is loaded from B's row p, its lanes
    /// past j1 ignored, while that read stays inside B (it does for every row but the last few); the rest is scalar.
    /// Each element is still summed in step order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // a kernel: compiled optimized at once, not after tiering
    private static void PartialStripe<TV>(int rows, int live, int* steps, float* x, int k, float* b, int ldb, int j, int j1, float* c, int ldc, bool accumulate)
        where TV : struct, ISimdFloats<TV>
    {
        int W = TV.Count, w = j1 - j;
        long lastValid = (long)(k - 1) * ldb + j1;                            // one past the last element of B this GEMM may read
        int q = 0;
        float* sums = stackalloc float[4 * 16];
        TV s0 = default, s1 = default, s2 = default, s3 = default;
        for (; q < live && (long)steps[q] * ldb + j + W <= lastValid; q++)
        {
            var bv = TV.Load(b + (long)steps[q] * ldb + j);
            float* xq = x + 4 * q;
            s0 = TV.MulAdd(TV.Broadcast(xq[0]), bv, s0);
            s1 = TV.MulAdd(TV.Broadcast(xq[1]), bv, s1);
            s2 = TV.MulAdd(TV.Broadcast(xq[2]), bv, s2);
            s3 = TV.MulAdd(TV.Broadcast(xq[3]), bv, s3);
        }
        s0.Store(sums); s1.Store(sums + W); s2.Store(sums + 2 * W); s3.Store(sums + 3 * W);
        for (; q < live; q++)
        {
            float* brow = b + (long)steps[q] * ldb + j;
            for (int r = 0; r < rows; r++)
            {
                float xv = x[4 * q + r];
                for (int t = 0; t < w; t++) sums[r * W + t] = float.MultiplyAddEstimate(xv, brow[t], sums[r * W + t]);
            }
        }
        for (int r = 0; r < rows; r++)
        {
            float* cr = c + (long)r * ldc + j;
            for (int t = 0; t < w; t++) cr[t] = accumulate ? cr[t] + sums[r * W + t] : sums[r * W + t];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<TV>(float* c, TV v, bool accumulate) where TV : struct, ISimdFloats<TV>
    {
        if (accumulate) v = TV.Add(v, TV.Load(c));
        v.Store(c);
    }

    /// <summary>Steps p at which some row of op(A)[i0:i1, :] is nonzero: what <see cref="FewRows{TV}"/> streams.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // a kernel: compiled optimized at once, not after tiering
    private static int LiveSteps(bool transA, int k, float* a, int lda, int rows)
    {
        int live = 0, p = 0;
        if (rows == 1 && !transA)
            for (; p + 4 <= k; p += 4)
                live += BitOperations.PopCount(~Vector128.Equals(Vector128.Load(a + p), Vector128<float>.Zero).ExtractMostSignificantBits() & 0xF);
        for (; p < k; p++)
        {
            bool nonzero = false;
            for (int r = 0; r < rows; r++) nonzero |= (transA ? a[(long)p * lda + r] : a[(long)r * lda + p]) != 0;
            live += nonzero ? 1 : 0;
        }
        return live;
    }
}
