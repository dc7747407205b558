using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Dendrite.Tests;

/// <summary>`dendrite serve` as a process, and the `dendrite` tool packed and installed from a local feed.</summary>
public partial class ServeCliTests
{
    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "Dendrite.Cli.dll");

    /// <summary>The configuration these tests were built in (the CLI and library were built in the same one).</summary>
    private static string Configuration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";

    [Fact]
    public async Task ServePrintsItsLoopbackAddressAnswersAndStopsCleanlyOnSignal()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { CliDll, "serve", "--urls", "http://127.0.0.1:0" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            string line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)) ?? "";
            var m = AddressLine().Match(line);
            Assert.True(m.Success, $"no address printed: {line} {(p.HasExited ? await stderr : "")}");
            using var http = new HttpClient { BaseAddress = new Uri(m.Groups[1].Value) };
            Assert.Equal("ok", await http.GetStringAsync("/healthz"));
            // SIGTERM, as Ctrl+C's SIGINT and a service manager's stop: the host shuts down and the command returns 0.
            using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, p.ExitCode);
            Assert.Contains("Stopped.", await p.StandardOutput.ReadToEndAsync());
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void ServeRefusesAMissingModelAndABusyPortWithAMessage()
    {
        var (code, _, err) = RunCli("serve", "--model", "no-such-model.dendrite", "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, code);
        Assert.Contains("no-such-model.dendrite", err);
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        (code, _, err) = RunCli("serve", "--urls", $"http://127.0.0.1:{port}");
        Assert.Equal(1, code);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), err);
    }

    [Fact]
    public void PackedToolInstallsFromALocalFeedAndRuns()
    {
        string tmp = Directory.CreateTempSubdirectory("dendrite-pack-").FullName;
        try
        {
            string feed = Path.Combine(tmp, "feed"), tools = Path.Combine(tmp, "tools");
            foreach (var project in new[] { "src/Dendrite/Dendrite.csproj", "src/Dendrite.Cli/Dendrite.Cli.csproj" })
                Run("dotnet", Tools.RepoRoot, "pack", Path.Combine(Tools.RepoRoot, project), "-c", Configuration, "--no-build", "-o", feed, "-p:NuGetAudit=false");
            Assert.Single(Directory.GetFiles(feed, "Dendrite.1*.nupkg").Concat(Directory.GetFiles(feed, "Dendrite.0*.nupkg")));
            Assert.Single(Directory.GetFiles(feed, "Dendrite.Cli.*.nupkg"));
            // Only the local feed: the install works without a network.
            string config = Path.Combine(tmp, "nuget.config");
            File.WriteAllText(config, $"""<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><clear /><add key="local" value="{feed}" /></packageSources></configuration>""");
            Run("dotnet", tmp, "tool", "install", "Dendrite.Cli", "--tool-path", tools, "--configfile", config);
            string dendrite = Path.Combine(tools, OperatingSystem.IsWindows() ? "dendrite.exe" : "dendrite");
            Assert.Matches(@"^\d+\.\d+\.\d+", Run(dendrite, tmp, "--version").Trim());
            string summary = Run(dendrite, tmp, "summary", "--arch", "convnet");
            Assert.Contains("Total params: 34,826", summary);
        }
        finally { Directory.Delete(tmp, recursive: true); }
    }

    private static (int Code, string Out, string Err) RunCli(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException("dendrite " + string.Join(' ', args) + " did not exit"); }
        return (p.ExitCode, stdout.Result, stderr);
    }

    private static string Run(string program, string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {p.ExitCode}: {stderr}{stdout.Result}");
        return stdout.Result;
    }

    [GeneratedRegex(@"at (http://127\.0\.0\.1:\d+)")]
    private static partial Regex AddressLine();
}
