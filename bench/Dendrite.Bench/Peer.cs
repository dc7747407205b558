using System.Diagnostics;
using System.Text.Json;

namespace Dendrite.Bench;

/// <summary>Runs the PyTorch peer scripts from ../shared/bench in the peer's best configuration and reads their JSON lines.</summary>
internal static class Peer
{
    /// <summary>
    /// The peer's best configuration on the vector width Dendrite's kernels run: OpenBLAS and PyTorch's own kernels on
    /// AVX-512 when ours are, on AVX2 (OPENBLAS_CORETYPE=Haswell, ATEN_CPU_CAPABILITY=avx2) when ours are restricted to
    /// 256 or 128 bits, so that DOTNET_EnableAVX512=0 stands in for an AVX2-only machine on both sides.
    /// </summary>
    public static string BestConfig => Simd.Floats == 16 ? "omp+avx512+keepmem" : "omp+keepmem";

    public static string? Directory()
    {
        if (Environment.GetEnvironmentVariable("DENDRITE_PEER_BENCH") is { Length: > 0 } env) return env;
        for (var d = new DirectoryInfo(System.IO.Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared", "bench");
            if (File.Exists(Path.Combine(candidate, "with_blas.sh"))) return candidate;
        }
        return null;
    }

    /// <summary>Runs a peer script; returns its JSON lines, or null (with the reason on stderr) when the peer is unavailable.</summary>
    public static List<JsonElement>? Run(string script, string arguments, string? config = null)
    {
        var dir = Directory();
        if (dir is null || !File.Exists("/usr/bin/python3"))
        {
            Console.Error.WriteLine("peer: ../shared/bench or /usr/bin/python3 not found; skipping the PyTorch comparison");
            return null;
        }
        var psi = new ProcessStartInfo("bash", $"{Path.Combine(dir, "with_blas.sh")} {config ?? BestConfig} /usr/bin/python3 {Path.Combine(dir, script)} {arguments}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir,
        };
        if (Simd.Floats < 16 && Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY") is null) psi.Environment["ATEN_CPU_CAPABILITY"] = "avx2";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            Console.Error.WriteLine($"peer: {script} failed (exit {p.ExitCode}): {stderr.Trim().Split('\n').LastOrDefault()}");
            return null;
        }
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }
}
