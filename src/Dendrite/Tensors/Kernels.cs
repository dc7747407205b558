using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dendrite;

/// <summary>Elementwise and row-wise kernels the ops share. Spans in, spans out; nothing allocates.</summary>
internal static class Kernels
{
    /// <summary>dy[i] = y[i] &gt; 0 ? dy[i] : 0 (the ReLU derivative, read off the output).</summary>
    public static void ReluMask(ReadOnlySpan<float> y, Span<float> dy)
    {
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rd = ref MemoryMarshal.GetReference(dy);
        int i = 0, n = dy.Length;
        for (; i <= n - 16; i += 16)
        {
            var m = Vector512.GreaterThan(Vector512.LoadUnsafe(ref ry, (nuint)i), Vector512<float>.Zero);
            (Vector512.LoadUnsafe(ref rd, (nuint)i) & m).StoreUnsafe(ref rd, (nuint)i);
        }
        for (; i < n; i++) if (!(Unsafe.Add(ref ry, i) > 0)) Unsafe.Add(ref rd, i) = 0;
    }

    /// <summary>dy *= 1 - y².</summary>
    public static void TanhGrad(ReadOnlySpan<float> y, Span<float> dy)
    {
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rd = ref MemoryMarshal.GetReference(dy);
        int i = 0, n = dy.Length;
        for (; i <= n - 16; i += 16)
        {
            var v = Vector512.LoadUnsafe(ref ry, (nuint)i);
            var d = Vector512.LoadUnsafe(ref rd, (nuint)i);
            (d * (Vector512<float>.One - v * v)).StoreUnsafe(ref rd, (nuint)i);
        }
        for (; i < n; i++) { float v = Unsafe.Add(ref ry, i); Unsafe.Add(ref rd, i) *= 1 - v * v; }
    }

    /// <summary>dy *= y(1 - y).</summary>
    public static void SigmoidGrad(ReadOnlySpan<float> y, Span<float> dy)
    {
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rd = ref MemoryMarshal.GetReference(dy);
        int i = 0, n = dy.Length;
        for (; i <= n - 16; i += 16)
        {
            var v = Vector512.LoadUnsafe(ref ry, (nuint)i);
            var d = Vector512.LoadUnsafe(ref rd, (nuint)i);
            (d * v * (Vector512<float>.One - v)).StoreUnsafe(ref rd, (nuint)i);
        }
        for (; i < n; i++) { float v = Unsafe.Add(ref ry, i); Unsafe.Add(ref rd, i) *= v * (1 - v); }
    }

    /// <summary>z[r, :] = f(z[r, :] + bias) for every row: the Dense layer's epilogue in one pass for ReLU.</summary>
    public static void BiasActivation(Span<float> z, int rows, int cols, ReadOnlySpan<float> bias, ActivationFunction f)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = z.Slice(r * cols, cols);
            if (f.Kind == ActivationFunction.Kinds.Relu) AddRelu(row, bias);
            else
            {
                TensorPrimitives.Add(row, bias, row);
                f.ApplyInPlace(row);
            }
        }
    }

    private static void AddRelu(Span<float> row, ReadOnlySpan<float> bias)
    {
        ref float rr = ref MemoryMarshal.GetReference(row);
        ref float rb = ref MemoryMarshal.GetReference(bias);
        int i = 0, n = row.Length;
        for (; i <= n - 16; i += 16)
            Vector512.Max(Vector512.LoadUnsafe(ref rr, (nuint)i) + Vector512.LoadUnsafe(ref rb, (nuint)i), Vector512<float>.Zero).StoreUnsafe(ref rr, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref rr, i) = MathF.Max(Unsafe.Add(ref rr, i) + Unsafe.Add(ref rb, i), 0f);
    }

    /// <summary>dst[j] (+)= Σ_r m[r, j].</summary>
    public static void ColumnSums(ReadOnlySpan<float> m, int rows, int cols, Span<float> dst, bool accumulate)
    {
        if (!accumulate) dst.Clear();
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(dst, m.Slice(r * cols, cols), dst);
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
