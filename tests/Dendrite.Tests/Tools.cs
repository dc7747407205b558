using System.Diagnostics;

namespace Dendrite.Tests;

/// <summary>Runs the interop tools the tests compare against (installed by .ci/run).</summary>
internal static class Tools
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Interop(string file) => Path.Combine(RepoRoot, "tests", "interop", file);

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Dendrite.slnx"))) return d.FullName;
        throw new InvalidOperationException("Cannot find the repository root (Dendrite.slnx) above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a program and returns its standard output; a failure throws with what it printed and how to install what is missing.</summary>
    public static string Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.Combine(RepoRoot, "tests", "interop") };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new InvalidOperationException($"{program} is not installed ({e.Message}); run .ci/run, which installs the test tools.", e); }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr}{stdout.Result}\n(run .ci/run to install node, onnxruntime-node, python3-onnx, python3-torch and python3-pil)");
            return stdout.Result;
        }
    }

    public static void WriteFloats(string path, ReadOnlySpan<float> values) => File.WriteAllBytes(path, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray());

    public static float[] ReadFloats(string path) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();
}
