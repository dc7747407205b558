namespace Dendrite.Serialization;

/// <summary>The one check before a file is read: it exists, and it is a file rather than a folder.</summary>
public static class InputFile
{
    /// <summary>
    /// Throws <see cref="FileNotFoundException"/> ("Model file not found: x") when <paramref name="path"/> does not exist,
    /// and <see cref="IOException"/> ("x is a folder, not a model file") when it names a folder.
    /// <paramref name="what"/> names the expected file: "model file", "IDX file", "image".
    /// </summary>
    public static void Check(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new IOException($"{path} is a folder, not {Article(what)} {what}.");
        if (!File.Exists(path)) throw new FileNotFoundException($"{char.ToUpperInvariant(what[0])}{what[1..]} not found: {path}", path);
    }

    private static string Article(string what) => "aeiouAEIOU".Contains(what[0]) || what.StartsWith("IDX", StringComparison.Ordinal) ? "an" : "a";
}
