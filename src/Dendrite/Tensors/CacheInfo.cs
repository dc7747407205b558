using System.Runtime.Intrinsics.X86;

namespace Dendrite;

/// <summary>
/// The data caches of the core the kernels run on, as the CPU reports them: CPUID on x86 (leaf 4 on Intel, 0x8000001D or
/// the older 0x80000005/6 on AMD), then Linux's /sys/devices/system/cpu/cpu0/cache (ARM64), then common sizes where neither
/// answers. The GEMM derives its blocking from these (<see cref="Gemm"/>); <see cref="Describe"/> says what was found.
/// </summary>
internal static class CacheInfo
{
    /// <summary>L1 data cache of one core, bytes.</summary>
    public static readonly int L1Bytes;
    /// <summary>Ways of associativity of the L1 data cache.</summary>
    public static readonly int L1Ways;
    /// <summary>L2 cache of one core, bytes.</summary>
    public static readonly int L2Bytes;
    /// <summary>Where the sizes came from: "cpuid", "sysfs" or "default".</summary>
    public static readonly string Source;

    static CacheInfo()
    {
        var (l1, ways, l2, source) = FromCpuid() ?? FromSysfs() ?? (0, 0, 0, "default");
        // Sizes outside what any CPU has are a virtual machine's or a parser's mistake: use common sizes instead.
        bool sane = l1 is >= 8 << 10 and <= 512 << 10 && l2 is >= 64 << 10 and <= 64 << 20;
        if (!sane) (l1, ways, l2, source) = (32 << 10, 8, 512 << 10, "default");
        L1Bytes = l1;
        L1Ways = ways is >= 2 and <= 64 ? ways : 8;
        L2Bytes = l2;
        Source = source;
    }

    public static string Describe() => $"L1d {L1Bytes >> 10} KiB {L1Ways}-way, L2 {L2Bytes >> 10} KiB ({Source})";

    private static (int, int, int, string)? FromCpuid()
    {
        if (!X86Base.IsSupported) return null;
        try
        {
            int maxLeaf = X86Base.CpuId(0, 0).Eax;
            int maxExt = X86Base.CpuId(unchecked((int)0x80000000), 0).Eax;
            // Deterministic cache parameters: leaf 4 (Intel), 0x8000001D (AMD with topology extensions), same layout.
            foreach (int leaf in new[] { 4, unchecked((int)0x8000001D) })
            {
                if (leaf == 4 ? maxLeaf < 4 : (uint)maxExt < 0x8000001D) continue;
                int l1 = 0, ways1 = 0, l2 = 0;
                for (int sub = 0; sub < 16; sub++)
                {
                    var (eax, ebx, ecx, _) = X86Base.CpuId(leaf, sub);
                    int type = eax & 0x1F;                           // 1 data, 2 instruction, 3 unified
                    if (type == 0) break;
                    if (type == 2) continue;
                    int level = (eax >> 5) & 7;
                    int ways = ((ebx >> 22) & 0x3FF) + 1, partitions = ((ebx >> 12) & 0x3FF) + 1, line = (ebx & 0xFFF) + 1;
                    long size = (long)ways * partitions * line * ((long)(uint)ecx + 1);
                    if (level == 1) { l1 = (int)size; ways1 = ways; }
                    else if (level == 2) l2 = (int)Math.Min(size, int.MaxValue);
                }
                if (l1 > 0 && l2 > 0) return (l1, ways1, l2, "cpuid");
            }
            if ((uint)maxExt >= 0x80000006)
            {
                int ecx5 = X86Base.CpuId(unchecked((int)0x80000005), 0).Ecx;   // L1d: size in KiB in bits 31..24, ways in 23..16
                int ecx6 = X86Base.CpuId(unchecked((int)0x80000006), 0).Ecx;   // L2: size in KiB in bits 31..16
                int l1 = ((ecx5 >> 24) & 0xFF) << 10, ways = (ecx5 >> 16) & 0xFF, l2 = ((ecx6 >> 16) & 0xFFFF) << 10;
                if (l1 > 0 && l2 > 0) return (l1, ways == 0xFF ? 64 : ways, l2, "cpuid");
            }
        }
        catch (PlatformNotSupportedException) { }
        return null;
    }

    private static (int, int, int, string)? FromSysfs()
    {
        try
        {
            const string root = "/sys/devices/system/cpu/cpu0/cache";
            if (!Directory.Exists(root)) return null;
            int l1 = 0, ways1 = 0, l2 = 0;
            foreach (var dir in Directory.GetDirectories(root, "index*"))
            {
                string Read(string name) => File.Exists(Path.Combine(dir, name)) ? File.ReadAllText(Path.Combine(dir, name)).Trim() : "";
                string type = Read("type");
                if (type == "Instruction") continue;
                int size = ParseSize(Read("size"));
                _ = int.TryParse(Read("ways_of_associativity"), out int ways);
                switch (Read("level"))
                {
                    case "1": l1 = size; ways1 = ways; break;
                    case "2": l2 = size; break;
                }
            }
            return l1 > 0 && l2 > 0 ? (l1, ways1, l2, "sysfs") : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static int ParseSize(string s)
    {
        if (s.Length == 0) return 0;
        int scale = char.ToUpperInvariant(s[^1]) switch { 'K' => 1 << 10, 'M' => 1 << 20, _ => 1 };
        string digits = scale == 1 ? s : s[..^1];
        return int.TryParse(digits, out int v) && v > 0 && v <= (int.MaxValue / scale) ? v * scale : 0;
    }
}
