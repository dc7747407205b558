#:project ../src/Dendrite/Dendrite.csproj
#:property PublishAot=false
// Which checksum for model files: CRC-32C (ours, on the CPU's CRC32 instruction) against SHA-256 (the runtime's,
// OpenSSL on Linux), over 10 MB, best of 20 runs each. Run: dotnet run -c Release tools/checksum-speed.cs
using System.Diagnostics;
using System.Security.Cryptography;
using Dendrite.Serialization;

var data = new byte[10 << 20];
new Random(1).NextBytes(data);
double Best(Action a)
{
    a();
    double best = double.MaxValue;
    for (int i = 0; i < 20; i++) { var sw = Stopwatch.StartNew(); a(); best = Math.Min(best, sw.Elapsed.TotalMilliseconds); }
    return best;
}
uint crc = 0; byte[] sha = [];
double c = Best(() => crc = Crc32C.Compute(data));
double s = Best(() => sha = SHA256.HashData(data));
Console.WriteLine($"10 MB: CRC-32C {c:F2} ms ({data.Length / c / 1e6:F1} GB/s), SHA-256 {s:F2} ms ({data.Length / s / 1e6:F1} GB/s); CRC-32C is {s / c:F1}x faster");
Console.WriteLine($"(crc {crc:x8}, sha {Convert.ToHexStringLower(sha)[..16]}...)");
