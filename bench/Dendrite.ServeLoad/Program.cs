using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Dendrite.Data;
using Dendrite.Imaging;

// Load on `dendrite serve` over loopback: starts the server as its own process (the bundled model), sends a bounded
// number of POST /api/predict requests (PNGs of MNIST test digits drawn dark on white, the size of the page's canvas)
// from concurrent clients, and reports predictions/s, errors, p50/p99 latency and the server's resident memory every
// tenth of the run. Usage:
//   dotnet run -c Release --project bench/Dendrite.ServeLoad -- [--requests 100000] [--clients 16] [--side 280] [--model FILE]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
int requests = Arg("--requests", 100_000), clients = Arg("--clients", 16), side = Arg("--side", 280);
string? model = Value("--model");

string repo = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(repo, "Dendrite.slnx"))) repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("Run from inside the repository.");
string cli = Path.Combine(repo, "src", "Dendrite.Cli", "bin", "Release", "net10.0", "Dendrite.Cli.dll");
var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
foreach (var a in new[] { cli, "serve", "--urls", "http://127.0.0.1:0" }.Concat(model is null ? [] : ["--model", model])) psi.ArgumentList.Add(a);
using var server = Process.Start(psi)!;
try
{
    string line = await server.StandardOutput.ReadLineAsync() ?? "";
    var address = Regex.Match(line, @"at (http://\S+)");
    if (!address.Success) throw new InvalidOperationException("the server did not start: " + line + await server.StandardError.ReadToEndAsync());
    var (_, test) = Mnist.Load();
    var bodies = Enumerable.Range(0, 100).Select(i => DigitPng(test, i, side)).ToArray();
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = new Uri(address.Groups[1].Value) };

    await Run(Math.Min(2000, requests), record: false);   // warm-up: JIT, connections, the predictor's replicas
    long rssStart = Rss(server.Id);
    Console.WriteLine($"dendrite serve at {http.BaseAddress}; {requests:N0} requests of {side}×{side} PNGs from {clients} clients; server RSS after warm-up {rssStart / 1048576.0:F1} MiB");
    var (latencies, errors, seconds, rss) = await Run(requests, record: true);
    Array.Sort(latencies);
    double P(double q) => latencies[(int)Math.Min(latencies.Length - 1, q * latencies.Length)];
    Console.WriteLine($"predictions/s: {requests / seconds:F0}   errors: {errors}   p50: {P(0.50):F2} ms   p99: {P(0.99):F2} ms   ({seconds:F1} s, {Environment.ProcessorCount} cores shared by server and client)");
    Console.WriteLine("server RSS (MiB) after each tenth: " + string.Join(" ", rss.Select(r => (r / 1048576.0).ToString("F1"))));
    Console.WriteLine($"server RSS change over the last nine tenths: {(rss[^1] - rss[0]) / 1048576.0:+0.0;-0.0} MiB");
    return errors == 0 ? 0 : 1;

    async Task<(double[] Latencies, int Errors, double Seconds, long[] Rss)> Run(int n, bool record)
    {
        var lat = new double[n];
        int next = -1, errs = 0;
        var rssMarks = new long[10];
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < n)
            {
                var content = new ByteArrayContent(bodies[i % bodies.Length]);
                content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                long t0 = Stopwatch.GetTimestamp();
                try
                {
                    using var res = await http.PostAsync("/api/predict", content);
                    await res.Content.ReadAsByteArrayAsync();
                    if (!res.IsSuccessStatusCode) Interlocked.Increment(ref errs);
                }
                catch (HttpRequestException) { Interlocked.Increment(ref errs); }
                lat[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                if (record && (i + 1) % (n / 10) == 0 && (i + 1) / (n / 10) <= 10) rssMarks[(i + 1) / (n / 10) - 1] = Rss(server.Id);
            }
        })));
        return (lat, errs, total.Elapsed.TotalSeconds, rssMarks);
    }
}
finally
{
    if (!server.HasExited) { server.Kill(); await server.WaitForExitAsync(); }
}

static byte[] DigitPng(Dataset test, int i, int side)
{
    var src = test.Image(i);
    var grey = new float[side * side];
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) grey[y * side + x] = 255 - src[y * 28 / side * 28 + x * 28 / side];
    return Png.Encode(Image.FromGrey(side, side, grey));
}

static long Rss(int pid)
{
    foreach (var l in File.ReadLines($"/proc/{pid}/status"))
        if (l.StartsWith("VmRSS:", StringComparison.Ordinal)) return long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    return 0;
}

int Arg(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
string? Value(string name) { int k = Array.IndexOf(args, name); return k >= 0 && k + 1 < args.Length ? args[k + 1] : null; }
