using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dendrite;

/// <summary>
/// Packed A micro-panels with steps that are zero in every row of the panel. Such a step adds exact zeros to the whole
/// register tile, so it is dropped: the panel is compacted and the kernel reads B's rows through the list of steps kept.
/// Inputs to a first layer are often mostly zero (MNIST's background: in 55% of the steps all 8 images of a panel have a
/// zero pixel), and so are ReLU activations in places; dense panels keep the plain kernel. The sum of each element of C
/// is unchanged: the same terms, in the same order, less the zeros (a weight that is infinite or NaN then reaches C only
/// through a nonzero input).
/// </summary>
public static unsafe partial class Gemm
{
    /// <summary>
    /// Compacts each MR-row micro-panel of a packed A block whose live steps are at most 3/4 of <paramref name="kc"/>
    /// (the listed kernel's indirect loads cost it 10–20% a step against the plain kernel, measured at 80% live);
    /// records each panel's live count (kc: kept dense) and steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CompactPanels(float* packed, int mc, int kc, int mr, int* live, int* steps)
    {
        for (int t = 0, ir = 0; ir < mc; ir += mr, t++)
        {
            float* panel = packed + (long)ir * kc;
            int count = 0;
            for (int p = 0; p < kc; p++) count += IsZeroStep(panel + (long)p * mr, mr) ? 0 : 1;
            if (count * 4 > kc * 3) { live[t] = kc; continue; }
            int* s = steps + (long)t * kc;
            int q = 0;
            for (int p = 0; p < kc; p++)
            {
                float* step = panel + (long)p * mr;
                if (IsZeroStep(step, mr)) continue;
                if (q != p) new ReadOnlySpan<float>(step, mr).CopyTo(new Span<float>(panel + (long)q * mr, mr));
                s[q++] = p;
            }
            live[t] = q;
        }
    }

    /// <summary>True when all <paramref name="mr"/> values (8 or 6) are zero; NaN is not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsZeroStep(float* v, int mr) => mr == 8
        ? Vector256.EqualsAll(Vector256.Load(v), Vector256<float>.Zero)
        : Vector128.EqualsAll(Vector128.Load(v), Vector128<float>.Zero) && v[4] == 0 && v[5] == 0;

    /// <summary>The register tile over a compacted panel: <see cref="Kernel"/> with B's rows taken from the step list.</summary>
    private static void SparseKernel(int live, int* steps, float* a, float* b, float* c, int ldc, bool overwrite, float alpha)
    {
        if (VectorWidth == 16) SparseKernel8<Floats512>(live, steps, a, b, c, ldc, overwrite, alpha);
        else if (VectorWidth == 8) SparseKernel6<Floats256>(live, steps, a, b, c, ldc, overwrite, alpha);
        else SparseKernel6<Floats128>(live, steps, a, b, c, ldc, overwrite, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SparseKernel8<TV>(int live, int* steps, float* a, float* b, float* c, int ldc, bool overwrite, float alpha)
        where TV : struct, ISimdFloats<TV>
    {
        int W = TV.Count, nr = 2 * W;
        TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default,
            c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int q = 0; q < live; q++, a += 8)
        {
            float* bp = b + (long)steps[q] * nr;
            var b0 = TV.Load(bp);
            var b1 = TV.Load(bp + W);
            var x = TV.Broadcast(a[0]); c00 = TV.MulAdd(x, b0, c00); c01 = TV.MulAdd(x, b1, c01);
            x = TV.Broadcast(a[1]); c10 = TV.MulAdd(x, b0, c10); c11 = TV.MulAdd(x, b1, c11);
            x = TV.Broadcast(a[2]); c20 = TV.MulAdd(x, b0, c20); c21 = TV.MulAdd(x, b1, c21);
            x = TV.Broadcast(a[3]); c30 = TV.MulAdd(x, b0, c30); c31 = TV.MulAdd(x, b1, c31);
            x = TV.Broadcast(a[4]); c40 = TV.MulAdd(x, b0, c40); c41 = TV.MulAdd(x, b1, c41);
            x = TV.Broadcast(a[5]); c50 = TV.MulAdd(x, b0, c50); c51 = TV.MulAdd(x, b1, c51);
            x = TV.Broadcast(a[6]); c60 = TV.MulAdd(x, b0, c60); c61 = TV.MulAdd(x, b1, c61);
            x = TV.Broadcast(a[7]); c70 = TV.MulAdd(x, b0, c70); c71 = TV.MulAdd(x, b1, c71);
        }
        StoreTileRow(c, c00, c01, overwrite, alpha); c += ldc;
        StoreTileRow(c, c10, c11, overwrite, alpha); c += ldc;
        StoreTileRow(c, c20, c21, overwrite, alpha); c += ldc;
        StoreTileRow(c, c30, c31, overwrite, alpha); c += ldc;
        StoreTileRow(c, c40, c41, overwrite, alpha); c += ldc;
        StoreTileRow(c, c50, c51, overwrite, alpha); c += ldc;
        StoreTileRow(c, c60, c61, overwrite, alpha); c += ldc;
        StoreTileRow(c, c70, c71, overwrite, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SparseKernel6<TV>(int live, int* steps, float* a, float* b, float* c, int ldc, bool overwrite, float alpha)
        where TV : struct, ISimdFloats<TV>
    {
        int W = TV.Count, nr = 2 * W;
        TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int q = 0; q < live; q++, a += 6)
        {
            float* bp = b + (long)steps[q] * nr;
            var b0 = TV.Load(bp);
            var b1 = TV.Load(bp + W);
            var x = TV.Broadcast(a[0]); c00 = TV.MulAdd(x, b0, c00); c01 = TV.MulAdd(x, b1, c01);
            x = TV.Broadcast(a[1]); c10 = TV.MulAdd(x, b0, c10); c11 = TV.MulAdd(x, b1, c11);
            x = TV.Broadcast(a[2]); c20 = TV.MulAdd(x, b0, c20); c21 = TV.MulAdd(x, b1, c21);
            x = TV.Broadcast(a[3]); c30 = TV.MulAdd(x, b0, c30); c31 = TV.MulAdd(x, b1, c31);
            x = TV.Broadcast(a[4]); c40 = TV.MulAdd(x, b0, c40); c41 = TV.MulAdd(x, b1, c41);
            x = TV.Broadcast(a[5]); c50 = TV.MulAdd(x, b0, c50); c51 = TV.MulAdd(x, b1, c51);
        }
        StoreTileRow(c, c00, c01, overwrite, alpha); c += ldc;
        StoreTileRow(c, c10, c11, overwrite, alpha); c += ldc;
        StoreTileRow(c, c20, c21, overwrite, alpha); c += ldc;
        StoreTileRow(c, c30, c31, overwrite, alpha); c += ldc;
        StoreTileRow(c, c40, c41, overwrite, alpha); c += ldc;
        StoreTileRow(c, c50, c51, overwrite, alpha);
    }

    /// <summary>One row of a register tile into C: α·(v0, v1), added to C unless <paramref name="overwrite"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTileRow<TV>(float* c, TV v0, TV v1, bool overwrite, float alpha) where TV : struct, ISimdFloats<TV>
    {
        if (alpha != 1f) { var s = TV.Broadcast(alpha); v0 = TV.Multiply(v0, s); v1 = TV.Multiply(v1, s); }
        if (!overwrite) { v0 = TV.Add(v0, TV.Load(c)); v1 = TV.Add(v1, TV.Load(c + TV.Count)); }
        v0.Store(c);
        v1.Store(c + TV.Count);
    }
}
