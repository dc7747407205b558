using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dendrite;

/// <summary>Elementwise and row-wise kernels the ops share. Spans in, spans out; nothing allocates.</summary>
internal static class Kernels
{
    // The elementwise kernels below run the widest vector the hardware has (never a width .NET would emulate), then
    // narrower ones for what is left. Each element's formula is the same on every width, so results are too.

    /// <summary>dy[i] = y[i] &gt; 0 ? dy[i] : 0 (the ReLU derivative, read off the output).</summary>
    public static void ReluMask(ReadOnlySpan<float> y, Span<float> dy)
    {
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rd = ref MemoryMarshal.GetReference(dy);
        int i = 0, n = dy.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
                (Vector512.LoadUnsafe(ref rd, (nuint)i) & Vector512.GreaterThan(Vector512.LoadUnsafe(ref ry, (nuint)i), Vector512<float>.Zero)).StoreUnsafe(ref rd, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
                (Vector256.LoadUnsafe(ref rd, (nuint)i) & Vector256.GreaterThan(Vector256.LoadUnsafe(ref ry, (nuint)i), Vector256<float>.Zero)).StoreUnsafe(ref rd, (nuint)i);
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4)
                (Vector128.LoadUnsafe(ref rd, (nuint)i) & Vector128.GreaterThan(Vector128.LoadUnsafe(ref ry, (nuint)i), Vector128<float>.Zero)).StoreUnsafe(ref rd, (nuint)i);
        for (; i < n; i++) if (!(Unsafe.Add(ref ry, i) > 0)) Unsafe.Add(ref rd, i) = 0;
    }

    /// <summary>dy *= 1 - y².</summary>
    public static void TanhGrad(ReadOnlySpan<float> y, Span<float> dy)
    {
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rd = ref MemoryMarshal.GetReference(dy);
        int i = 0, n = dy.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref ry, (nuint)i);
                (Vector512.LoadUnsafe(ref rd, (nuint)i) * (Vector512<float>.One - v * v)).StoreUnsafe(ref rd, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref ry, (nuint)i);
                (Vector256.LoadUnsafe(ref rd, (nuint)i) * (Vector256<float>.One - v * v)).StoreUnsafe(ref rd, (nuint)i);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4)
            {
                var v = Vector128.LoadUnsafe(ref ry, (nuint)i);
                (Vector128.LoadUnsafe(ref rd, (nuint)i) * (Vector128<float>.One - v * v)).StoreUnsafe(ref rd, (nuint)i);
            }
        for (; i < n; i++) { float v = Unsafe.Add(ref ry, i); Unsafe.Add(ref rd, i) *= 1 - v * v; }
    }

    /// <summary>dy *= y(1 - y).</summary>
    public static void SigmoidGrad(ReadOnlySpan<float> y, Span<float> dy)
    {
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rd = ref MemoryMarshal.GetReference(dy);
        int i = 0, n = dy.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref ry, (nuint)i);
                (Vector512.LoadUnsafe(ref rd, (nuint)i) * v * (Vector512<float>.One - v)).StoreUnsafe(ref rd, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref ry, (nuint)i);
                (Vector256.LoadUnsafe(ref rd, (nuint)i) * v * (Vector256<float>.One - v)).StoreUnsafe(ref rd, (nuint)i);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4)
            {
                var v = Vector128.LoadUnsafe(ref ry, (nuint)i);
                (Vector128.LoadUnsafe(ref rd, (nuint)i) * v * (Vector128<float>.One - v)).StoreUnsafe(ref rd, (nuint)i);
            }
        for (; i < n; i++) { float v = Unsafe.Add(ref ry, i); Unsafe.Add(ref rd, i) *= v * (1 - v); }
    }

    /// <summary>
    /// z[r, :] = f(z[r, :] + bias) for every row: the Dense and Conv2D epilogue. One pass over the whole matrix for the
    /// elementwise activations (a convolution's rows are short: 32 filters a pixel), row by row only for softmax.
    /// </summary>
    public static void BiasActivation(Span<float> z, int rows, int cols, ReadOnlySpan<float> bias, ActivationFunction f)
    {
        bool relu = f.Kind == ActivationFunction.Kinds.Relu;
        if (f.Kind == ActivationFunction.Kinds.Softmax)
        {
            for (int r = 0; r < rows; r++)
            {
                var row = z.Slice(r * cols, cols);
                TensorPrimitives.Add(row, bias, row);
                f.ApplyInPlace(row);
            }
            return;
        }
        ref float rz = ref MemoryMarshal.GetReference(z);
        ref float rb = ref MemoryMarshal.GetReference(bias);
        for (int r = 0; r < rows; r++)
        {
            ref float row = ref Unsafe.Add(ref rz, (nint)r * cols);
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; j <= cols - 16; j += 16)
                {
                    var v = Vector512.LoadUnsafe(ref row, (nuint)j) + Vector512.LoadUnsafe(ref rb, (nuint)j);
                    (relu ? Vector512.Max(v, Vector512<float>.Zero) : v).StoreUnsafe(ref row, (nuint)j);
                }
            if (Vector256.IsHardwareAccelerated)
                for (; j <= cols - 8; j += 8)
                {
                    var v = Vector256.LoadUnsafe(ref row, (nuint)j) + Vector256.LoadUnsafe(ref rb, (nuint)j);
                    (relu ? Vector256.Max(v, Vector256<float>.Zero) : v).StoreUnsafe(ref row, (nuint)j);
                }
            if (Vector128.IsHardwareAccelerated)
                for (; j <= cols - 4; j += 4)
                {
                    var v = Vector128.LoadUnsafe(ref row, (nuint)j) + Vector128.LoadUnsafe(ref rb, (nuint)j);
                    (relu ? Vector128.Max(v, Vector128<float>.Zero) : v).StoreUnsafe(ref row, (nuint)j);
                }
            for (; j < cols; j++)
            {
                float v = Unsafe.Add(ref row, j) + Unsafe.Add(ref rb, j);
                Unsafe.Add(ref row, j) = relu ? MathF.Max(v, 0f) : v;
            }
        }
        if (!relu) f.ApplyInPlace(z.Slice(0, rows * cols));
    }

    /// <summary>
    /// dst[j] (+)= Σ_r m[r, j], each column summed row after row (the order a row-by-row add gives, so results do not
    /// depend on the vector width), a block of columns at a time in registers.
    /// </summary>
    public static void ColumnSums(ReadOnlySpan<float> m, int rows, int cols, Span<float> dst, bool accumulate)
    {
        if (!accumulate) dst.Slice(0, cols).Clear();
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rd = ref MemoryMarshal.GetReference(dst);
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j <= cols - 64; j += 64)
            {
                var a0 = Vector512.LoadUnsafe(ref rd, (nuint)j); var a1 = Vector512.LoadUnsafe(ref rd, (nuint)j + 16);
                var a2 = Vector512.LoadUnsafe(ref rd, (nuint)j + 32); var a3 = Vector512.LoadUnsafe(ref rd, (nuint)j + 48);
                for (int r = 0; r < rows; r++)
                {
                    ref float p = ref Unsafe.Add(ref rm, (nint)r * cols + j);
                    a0 += Vector512.LoadUnsafe(ref p); a1 += Vector512.LoadUnsafe(ref p, 16);
                    a2 += Vector512.LoadUnsafe(ref p, 32); a3 += Vector512.LoadUnsafe(ref p, 48);
                }
                a0.StoreUnsafe(ref rd, (nuint)j); a1.StoreUnsafe(ref rd, (nuint)j + 16);
                a2.StoreUnsafe(ref rd, (nuint)j + 32); a3.StoreUnsafe(ref rd, (nuint)j + 48);
            }
            for (; j <= cols - 16; j += 16)
            {
                var a = Vector512.LoadUnsafe(ref rd, (nuint)j);
                for (int r = 0; r < rows; r++) a += Vector512.LoadUnsafe(ref Unsafe.Add(ref rm, (nint)r * cols + j));
                a.StoreUnsafe(ref rd, (nuint)j);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j <= cols - 32; j += 32)
            {
                var a0 = Vector256.LoadUnsafe(ref rd, (nuint)j); var a1 = Vector256.LoadUnsafe(ref rd, (nuint)j + 8);
                var a2 = Vector256.LoadUnsafe(ref rd, (nuint)j + 16); var a3 = Vector256.LoadUnsafe(ref rd, (nuint)j + 24);
                for (int r = 0; r < rows; r++)
                {
                    ref float p = ref Unsafe.Add(ref rm, (nint)r * cols + j);
                    a0 += Vector256.LoadUnsafe(ref p); a1 += Vector256.LoadUnsafe(ref p, 8);
                    a2 += Vector256.LoadUnsafe(ref p, 16); a3 += Vector256.LoadUnsafe(ref p, 24);
                }
                a0.StoreUnsafe(ref rd, (nuint)j); a1.StoreUnsafe(ref rd, (nuint)j + 8);
                a2.StoreUnsafe(ref rd, (nuint)j + 16); a3.StoreUnsafe(ref rd, (nuint)j + 24);
            }
            for (; j <= cols - 8; j += 8)
            {
                var a = Vector256.LoadUnsafe(ref rd, (nuint)j);
                for (int r = 0; r < rows; r++) a += Vector256.LoadUnsafe(ref Unsafe.Add(ref rm, (nint)r * cols + j));
                a.StoreUnsafe(ref rd, (nuint)j);
            }
        }
        if (Vector128.IsHardwareAccelerated)
            for (; j <= cols - 4; j += 4)
            {
                var a = Vector128.LoadUnsafe(ref rd, (nuint)j);
                for (int r = 0; r < rows; r++) a += Vector128.LoadUnsafe(ref Unsafe.Add(ref rm, (nint)r * cols + j));
                a.StoreUnsafe(ref rd, (nuint)j);
            }
        for (; j < cols; j++)
        {
            float a = Unsafe.Add(ref rd, j);
            for (int r = 0; r < rows; r++) a += Unsafe.Add(ref rm, (nint)r * cols + j);
            Unsafe.Add(ref rd, j) = a;
        }
    }

    /// <summary>
    /// y = softmax(x) = e^(x - max) / Σ e^(x - max) for one row; returns log Σ e^x = max + log Σ e^(x - max).
    /// Rows of up to 32 values (a few classes) use plain loops, which beat five vectorised calls.
    /// </summary>
    public static float SoftmaxRow(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length;
        float max, sum;
        if (n <= 32)
        {
            max = x[0];
            for (int j = 1; j < n; j++) max = MathF.Max(max, x[j]);
            sum = 0;
            for (int j = 0; j < n; j++) sum += y[j] = MathF.Exp(x[j] - max);
            float inv = 1f / sum;
            for (int j = 0; j < n; j++) y[j] *= inv;
        }
        else
        {
            max = TensorPrimitives.Max(x);
            TensorPrimitives.Subtract(x, max, y);
            TensorPrimitives.Exp(y, y);
            sum = TensorPrimitives.Sum(y);
            TensorPrimitives.Multiply(y, 1f / sum, y);
        }
        return max + MathF.Log(sum);
    }

    /// <summary>Row-wise softmax over the last axis.</summary>
    public static void SoftmaxRows(ReadOnlySpan<float> x, Span<float> y, int rows, int cols)
    {
        for (int r = 0; r < rows; r++) SoftmaxRow(x.Slice(r * cols, cols), y.Slice(r * cols, cols));
    }

    /// <summary>Row-wise log-softmax: y = x - log Σ e^x.</summary>
    public static void LogSoftmaxRows(ReadOnlySpan<float> x, Span<float> y, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * cols, cols);
            var yr = y.Slice(r * cols, cols);
            TensorPrimitives.Subtract(xr, SoftmaxRow(xr, yr), yr);
        }
    }

    /// <summary>Index of the largest value (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> x) => TensorPrimitives.IndexOfMax(x);
}
