namespace Dendrite;

/// <summary>
/// The GEMM's cache blocking, derived from the caches the CPU reports (<see cref="CacheInfo"/>) for each register tile,
/// after the analytical model of Low, Igual, Smith and Quintana-Ortí ("Analytical modeling is enough for high-performance
/// BLIS", ACM TOMS 2016), for the loop order of <see cref="Gemm"/>: for each kc×nc block of B (packed), for each mc×kc block
/// of A (packed), for each NR-column micro-panel of B, for each MR-row micro-panel of A, one register tile.
/// <list type="bullet">
/// <item>kc: a kc×NR micro-panel of B is reused by every micro-panel of A, so it stays in L1, leaving two of the L1's ways to
/// the A micro-panel and the C tile streaming past it: kc·NR·4 B ≤ (ways − 2)/ways · L1.</item>
/// <item>mc: the mc×kc block of A is reused by every micro-panel of B, so it stays in L2, with the other half left to B's
/// micro-panels and C: mc·kc·4 B ≤ L2 / 2.</item>
/// <item>nc: the kc×nc block of B is read once per mc block from the shared L3; CPUID's L3 figure is unreliable under
/// virtual machines (one here reports 508 MiB), so a core's share is taken as four times its L2: kc·nc·4 B ≤ 4·L2.</item>
/// </list>
/// <c>DENDRITE_GEMM_BLOCKING=kc,mc,nc</c> overrides the three for benchmarking.
/// </summary>
internal readonly record struct GemmBlocking(int Kc, int Mc, int Nc)
{
    private static readonly GemmBlocking?[] Cache = new GemmBlocking?[17];

    /// <summary>The blocking for a register tile of the given vector width (floats): MR×NR is 8×32, 6×16 or 6×8.</summary>
    public static GemmBlocking For(int vectorWidth) => Cache[vectorWidth] ??= Derive(vectorWidth, CacheInfo.L1Bytes, CacheInfo.L1Ways, CacheInfo.L2Bytes,
        Environment.GetEnvironmentVariable("DENDRITE_GEMM_BLOCKING"));

    internal static GemmBlocking Derive(int vectorWidth, int l1Bytes, int l1Ways, int l2Bytes, string? overrideSpec = null)
    {
        if (!string.IsNullOrWhiteSpace(overrideSpec))
        {
            var parts = overrideSpec.Split(',');
            if (parts.Length == 3 && int.TryParse(parts[0], out int k) && int.TryParse(parts[1], out int m) && int.TryParse(parts[2], out int n) && k > 0 && m > 0 && n > 0)
                return new GemmBlocking(k, m, n);
            throw new InvalidOperationException($"DENDRITE_GEMM_BLOCKING must be three positive integers kc,mc,nc; got '{overrideSpec}'.");
        }
        int mr = vectorWidth == 16 ? 8 : 6, nr = 2 * vectorWidth;
        int kc = (int)((long)l1Bytes * (l1Ways - 2) / l1Ways / (nr * sizeof(float)));
        kc = Math.Clamp(kc / 8 * 8, 64, 1024);
        int mc = Math.Clamp(l2Bytes / 2 / (kc * sizeof(float)) / mr * mr, 4 * mr, 4096);
        int nc = Math.Clamp(4 * l2Bytes / (kc * sizeof(float)) / nr * nr, 4 * nr, 16384);
        return new GemmBlocking(kc, mc, nc);
    }

    public override string ToString() => $"kc {Kc}, mc {Mc}, nc {Nc}";
}
