using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Dendrite;

/// <summary>
/// Which vector width the kernels use, and whether fused multiply-add is a hardware instruction.
/// The width is the widest of Vector512/256/128 that .NET runs in hardware (never one it would emulate in software),
/// lowered by the environment variable <c>DENDRITE_VECTOR_BITS=128|256|512</c> for tests and benchmarks.
/// </summary>
internal static class Simd
{
    /// <summary>Floats per vector on the chosen path: 16, 8 or 4 (x64 and ARM64 always have 128-bit vectors in hardware).</summary>
    public static readonly int Floats = Choose(Environment.GetEnvironmentVariable("DENDRITE_VECTOR_BITS"));

    /// <summary>
    /// True where FMA is an instruction (x64 FMA3, ARM64 AdvSimd). The kernels call MultiplyAddEstimate: fused where it is,
    /// multiply then add (rounding twice) where it is not (x64 with AVX2 disabled), instead of the software fused
    /// multiply-add; results then differ from the FMA paths in the last bits, and are still the same run to run.
    /// </summary>
    public static bool HasFma => Fma.IsSupported || AdvSimd.IsSupported;   // a JIT-time constant

    /// <summary>The path's name, as the bench and tests print it.</summary>
    public static string Describe(int floats) =>
        (floats switch { 16 => "Vector512", 8 => "Vector256", _ => "Vector128" }) + (HasFma ? " FMA" : " mul+add");

    internal static int Choose(string? requested)
    {
        int widest = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;
        if (string.IsNullOrWhiteSpace(requested)) return widest;
        int floats = requested.Trim() switch
        {
            "512" => 16,
            "256" => 8,
            "128" => 4,
            _ => throw new InvalidOperationException($"DENDRITE_VECTOR_BITS must be 128, 256 or 512; got '{requested}'."),
        };
        return Math.Min(floats, widest);
    }
}
