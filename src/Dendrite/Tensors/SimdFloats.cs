using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dendrite;

/// <summary>
/// One vector of floats at a fixed width, so that a kernel is written once, generic over the width, and the JIT
/// compiles one specialised copy per width (the wrapper structs vanish: each is a single SIMD register).
/// <see cref="MulAdd"/> is fused where FMA is an instruction and multiply-then-add where it is not (see <see cref="Simd.HasFma"/>).
/// </summary>
internal unsafe interface ISimdFloats<TSelf> where TSelf : struct, ISimdFloats<TSelf>
{
    /// <summary>Floats per vector: 16, 8 or 4.</summary>
    static abstract int Count { get; }
    static abstract TSelf Load(float* p);
    static abstract TSelf Broadcast(float value);
    /// <summary>a·b + c.</summary>
    static abstract TSelf MulAdd(TSelf a, TSelf b, TSelf c);
    static abstract TSelf Add(TSelf a, TSelf b);
    static abstract TSelf Multiply(TSelf a, TSelf b);
    /// <summary>The sum of the lanes.</summary>
    static abstract float Sum(TSelf a);
    void Store(float* p);
    /// <summary>Lane <paramref name="i"/>.</summary>
    float this[int i] { get; }
}

/// <summary>16 floats (AVX-512).</summary>
internal readonly struct Floats512(Vector512<float> v) : ISimdFloats<Floats512>
{
    private readonly Vector512<float> _v = v;
    public static int Count => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Floats512 Load(float* p) => new(Vector512.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 Broadcast(float value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 MulAdd(Floats512 a, Floats512 b, Floats512 c) => new(Vector512.MultiplyAddEstimate(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 Add(Floats512 a, Floats512 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 Multiply(Floats512 a, Floats512 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Floats512 a) => Vector512.Sum(a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public unsafe void Store(float* p) => _v.Store(p);
    public float this[int i] => _v.GetElement(i);
}

/// <summary>8 floats (AVX, AVX2).</summary>
internal readonly struct Floats256(Vector256<float> v) : ISimdFloats<Floats256>
{
    private readonly Vector256<float> _v = v;
    public static int Count => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Floats256 Load(float* p) => new(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 Broadcast(float value) => new(Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 MulAdd(Floats256 a, Floats256 b, Floats256 c) => new(Vector256.MultiplyAddEstimate(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 Add(Floats256 a, Floats256 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 Multiply(Floats256 a, Floats256 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Floats256 a) => Vector256.Sum(a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public unsafe void Store(float* p) => _v.Store(p);
    public float this[int i] => _v.GetElement(i);
}

/// <summary>4 floats (SSE, ARM64 AdvSimd).</summary>
internal readonly struct Floats128(Vector128<float> v) : ISimdFloats<Floats128>
{
    private readonly Vector128<float> _v = v;
    public static int Count => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Floats128 Load(float* p) => new(Vector128.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats128 Broadcast(float value) => new(Vector128.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats128 MulAdd(Floats128 a, Floats128 b, Floats128 c) => new(Vector128.MultiplyAddEstimate(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats128 Add(Floats128 a, Floats128 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats128 Multiply(Floats128 a, Floats128 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Floats128 a) => Vector128.Sum(a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public unsafe void Store(float* p) => _v.Store(p);
    public float this[int i] => _v.GetElement(i);
}
