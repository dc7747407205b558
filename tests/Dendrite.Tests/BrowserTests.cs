using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Dendrite.Tests;

/// <summary>
/// The page in a real browser: tests/browser/draw.mjs drives Debian's chromium with playwright-core (both installed by
/// .ci/run) against a real server, drawing the first MNIST test image of each class stroke by stroke.
/// </summary>
public class BrowserTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task DigitsDrawnOnThePageReadCorrectlyAndMatchTheApi()
    {
        string script = Path.Combine(Tools.RepoRoot, "tests", "browser", "draw.mjs");
        Assert.True(Directory.Exists(Path.Combine(Tools.RepoRoot, "tests", "browser", "node_modules", "playwright-core")),
            "playwright-core is not installed: run .ci/run (or `npm ci --ignore-scripts` in tests/browser) and apt-get install chromium");
        string address = server.App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        string shot = Path.Combine(Path.GetTempPath(), $"dendrite-page-{Environment.ProcessId}.png");
        try
        {
            var psi = new ProcessStartInfo("node") { WorkingDirectory = Path.GetDirectoryName(script)!, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { script, address, shot }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdoutTask = p.StandardOutput.ReadToEndAsync();
            var stderrTask = p.StandardError.ReadToEndAsync();
            try { await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3)); }
            catch (TimeoutException) { p.Kill(true); Assert.Fail("the browser test did not finish in 3 minutes"); }
            string stdout = await stdoutTask, stderr = await stderrTask;
            Assert.True(p.ExitCode == 0, $"draw.mjs exited {p.ExitCode}: {stdout}{stderr}");
            var report = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
            var results = report.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal(10, results.Count);
            foreach (var r in results)
            {
                Assert.Equal(r.GetProperty("truth").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), r.GetProperty("page").GetString());
                Assert.True(r.GetProperty("agree").GetBoolean());
            }
            Assert.Equal("1", report.GetProperty("keyboard").GetString());
            Assert.Equal("7", report.GetProperty("upload").GetString());   // a JPEG the browser encoded, uploaded as a file
            Assert.True(new FileInfo(shot).Length > 10_000, "the screenshot is missing or empty");
        }
        finally { File.Delete(shot); }
    }
}
