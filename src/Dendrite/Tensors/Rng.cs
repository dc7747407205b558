namespace Dendrite;

/// <summary>
/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64). Its sequence is
/// fixed by this file, not by the runtime, so a seed gives the same weights on every .NET version.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    /// <summary>A generator seeded from the clock, for runs that need not repeat.</summary>
    public static Rng FromClock() => new((ulong)Environment.TickCount64 ^ (ulong)DateTime.UtcNow.Ticks);

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public float Uniform(float lo, float hi) => (float)(lo + (hi - lo) * NextDouble());

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "Expected a positive bound.");
        // Lemire's nearly-divisionless method, unbiased.
        ulong m = (ulong)(uint)NextUInt64() * (uint)n;
        uint l = (uint)m;
        if (l < (uint)n)
        {
            uint t = (uint)(-n) % (uint)n;
            while (l < t) { m = (ulong)(uint)NextUInt64() * (uint)n; l = (uint)m; }
        }
        return (int)(m >> 32);
    }

    /// <summary>Standard normal (Box-Muller, both values used).</summary>
    public double NextNormal()
    {
        if (_spareNormal is double s) { _spareNormal = null; return s; }
        double u1, u2;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}

/// <summary>
/// Counter-based random bits: a pure function of (key, index), so that any element of any step's noise can be drawn
/// on any thread in any order and drawn again identically (dropout masks, augmentation). Two rounds of a 32-bit
/// integer hash (Wellons's lowbias32) with two independent 32-bit keys, vectorised with Vector&lt;uint&gt;.
/// </summary>
internal static class CounterRng
{
    /// <summary>Two 32-bit keys for (seed, step, stream), from SplitMix64.</summary>
    public static (uint k1, uint k2) Keys(ulong seed, long step, uint stream = 0)
    {
        ulong z = seed ^ ((ulong)step * 0x9E3779B97F4A7C15UL) ^ ((ulong)stream << 40);
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return ((uint)z, (uint)(z >> 32));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static uint Hash(uint x)
    {
        x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
        return x;
    }

    /// <summary>The random bits of element <paramref name="index"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static uint Bits(uint k1, uint k2, uint index) => Hash(Hash(index ^ k1) ^ k2);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static System.Numerics.Vector<uint> Hash(System.Numerics.Vector<uint> x)
    {
        x ^= System.Numerics.Vector.ShiftRightLogical(x, 16); x *= new System.Numerics.Vector<uint>(0x7feb352dU);
        x ^= System.Numerics.Vector.ShiftRightLogical(x, 15); x *= new System.Numerics.Vector<uint>(0x846ca68bU);
        x ^= System.Numerics.Vector.ShiftRightLogical(x, 16);
        return x;
    }

    /// <summary>Uniform floats in [0, 1) for indices first, first+1, ... into <paramref name="dst"/> (24 random bits each).</summary>
    public static void Uniform(uint k1, uint k2, uint first, Span<float> dst)
    {
        int vw = System.Numerics.Vector<uint>.Count, i = 0;
        const float scale = 1f / (1 << 24);
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            Span<uint> lanes = stackalloc uint[vw];
            for (int l = 0; l < vw; l++) lanes[l] = (uint)l;
            var iota = new System.Numerics.Vector<uint>(lanes);
            var v1 = new System.Numerics.Vector<uint>(k1); var v2 = new System.Numerics.Vector<uint>(k2);
            for (; i <= dst.Length - vw; i += vw)
            {
                var bits = Hash(Hash((new System.Numerics.Vector<uint>(first + (uint)i) + iota) ^ v1) ^ v2);
                var f = System.Numerics.Vector.ConvertToSingle(System.Numerics.Vector.AsVectorInt32(System.Numerics.Vector.ShiftRightLogical(bits, 8)));
                (f * scale).CopyTo(dst.Slice(i));
            }
        }
        for (; i < dst.Length; i++) dst[i] = (Bits(k1, k2, first + (uint)i) >> 8) * scale;
    }
}
