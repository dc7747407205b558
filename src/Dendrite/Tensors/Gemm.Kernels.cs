using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dendrite;

/// <summary>The register-tile micro-kernels, one per vector width: C[MR×NR] (+)= α·Σ_p a[p]ᵀ·b[p] over packed panels.
/// Each element is summed in k order with one multiply-add per step, so each path is bitwise repeatable.</summary>
public static unsafe partial class Gemm
{
    private static void Kernel(int kc, float* a, float* b, float* c, int ldc, bool overwrite, float alpha)
    {
        if (VectorWidth == 16) Kernel8x32(kc, a, b, c, ldc, overwrite, alpha);
        else if (VectorWidth == 8) Kernel6x16(kc, a, b, c, ldc, overwrite, alpha);
        else Kernel6x8(kc, a, b, c, ldc, overwrite, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(int kc, float* a, float* b, float* c, int ldc, bool overwrite, float alpha)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default,
            c20 = default, c21 = default, c30 = default, c31 = default,
            c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            a += 8; b += 32;
        }
        Store512(c, c00, c01, overwrite, alpha); c += ldc;
        Store512(c, c10, c11, overwrite, alpha); c += ldc;
        Store512(c, c20, c21, overwrite, alpha); c += ldc;
        Store512(c, c30, c31, overwrite, alpha); c += ldc;
        Store512(c, c40, c41, overwrite, alpha); c += ldc;
        Store512(c, c50, c51, overwrite, alpha); c += ldc;
        Store512(c, c60, c61, overwrite, alpha); c += ldc;
        Store512(c, c70, c71, overwrite, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v0, Vector512<float> v1, bool overwrite, float alpha)
    {
        if (alpha != 1f) { var s = Vector512.Create(alpha); v0 *= s; v1 *= s; }
        if (!overwrite) { v0 += Vector512.Load(c); v1 += Vector512.Load(c + 16); }
        Vector512.Store(v0, c);
        Vector512.Store(v1, c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, bool overwrite, float alpha)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]); c00 = Vector256.MultiplyAddEstimate(x, b0, c00); c01 = Vector256.MultiplyAddEstimate(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = Vector256.MultiplyAddEstimate(x, b0, c10); c11 = Vector256.MultiplyAddEstimate(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = Vector256.MultiplyAddEstimate(x, b0, c20); c21 = Vector256.MultiplyAddEstimate(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = Vector256.MultiplyAddEstimate(x, b0, c30); c31 = Vector256.MultiplyAddEstimate(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = Vector256.MultiplyAddEstimate(x, b0, c40); c41 = Vector256.MultiplyAddEstimate(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = Vector256.MultiplyAddEstimate(x, b0, c50); c51 = Vector256.MultiplyAddEstimate(x, b1, c51);
            a += 6; b += 16;
        }
        Store256(c, c00, c01, overwrite, alpha); c += ldc;
        Store256(c, c10, c11, overwrite, alpha); c += ldc;
        Store256(c, c20, c21, overwrite, alpha); c += ldc;
        Store256(c, c30, c31, overwrite, alpha); c += ldc;
        Store256(c, c40, c41, overwrite, alpha); c += ldc;
        Store256(c, c50, c51, overwrite, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x8(int kc, float* a, float* b, float* c, int ldc, bool overwrite, float alpha)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var x = Vector128.Create(a[0]); c00 = Vector128.MultiplyAddEstimate(x, b0, c00); c01 = Vector128.MultiplyAddEstimate(x, b1, c01);
            x = Vector128.Create(a[1]); c10 = Vector128.MultiplyAddEstimate(x, b0, c10); c11 = Vector128.MultiplyAddEstimate(x, b1, c11);
            x = Vector128.Create(a[2]); c20 = Vector128.MultiplyAddEstimate(x, b0, c20); c21 = Vector128.MultiplyAddEstimate(x, b1, c21);
            x = Vector128.Create(a[3]); c30 = Vector128.MultiplyAddEstimate(x, b0, c30); c31 = Vector128.MultiplyAddEstimate(x, b1, c31);
            x = Vector128.Create(a[4]); c40 = Vector128.MultiplyAddEstimate(x, b0, c40); c41 = Vector128.MultiplyAddEstimate(x, b1, c41);
            x = Vector128.Create(a[5]); c50 = Vector128.MultiplyAddEstimate(x, b0, c50); c51 = Vector128.MultiplyAddEstimate(x, b1, c51);
            a += 6; b += 8;
        }
        Store128(c, c00, c01, overwrite, alpha); c += ldc;
        Store128(c, c10, c11, overwrite, alpha); c += ldc;
        Store128(c, c20, c21, overwrite, alpha); c += ldc;
        Store128(c, c30, c31, overwrite, alpha); c += ldc;
        Store128(c, c40, c41, overwrite, alpha); c += ldc;
        Store128(c, c50, c51, overwrite, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(float* c, Vector128<float> v0, Vector128<float> v1, bool overwrite, float alpha)
    {
        if (alpha != 1f) { var s = Vector128.Create(alpha); v0 *= s; v1 *= s; }
        if (!overwrite) { v0 += Vector128.Load(c); v1 += Vector128.Load(c + 4); }
        Vector128.Store(v0, c);
        Vector128.Store(v1, c + 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, bool overwrite, float alpha)
    {
        if (alpha != 1f) { var s = Vector256.Create(alpha); v0 *= s; v1 *= s; }
        if (!overwrite) { v0 += Vector256.Load(c); v1 += Vector256.Load(c + 8); }
        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }

}
