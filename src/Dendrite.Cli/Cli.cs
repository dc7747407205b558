using Dendrite.Data;
using Dendrite.Models;

namespace Dendrite.Cli;

internal static class Cli
{
    /// <summary>Runs a command, turning the library's clear errors into one line on stderr and exit code 1.</summary>
    public static int Run(Func<int> action)
    {
        try { return action(); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or InvalidDataFormatException or IOException
            or TrainingDivergedException or UnauthorizedAccessException or NotSupportedException)
        {
            Console.Error.WriteLine($"error: {Messages.ForUser(e)}");
            return 1;
        }
    }

    public static int Run(Action action) => Run(() => { action(); return 0; });

    /// <summary>A path that does not exist yet: <paramref name="path"/>, or path-1, path-2... so nothing is overwritten.</summary>
    public static string FreePath(string path)
    {
        if (!File.Exists(path)) return path;
        string dir = Path.GetDirectoryName(path) ?? "", stem = Path.GetFileNameWithoutExtension(path), ext = Path.GetExtension(path);
        for (int i = 1; ; i++)
        {
            string p = Path.Combine(dir, $"{stem}-{i}{ext}");
            if (!File.Exists(p)) return p;
        }
    }
}
