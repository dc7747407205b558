using Dendrite.Serialization;

namespace Dendrite.Data;

/// <summary>
/// Every file Dendrite reads comes in through here: it must be a regular file (a FIFO would block the reader for
/// ever and a device such as /dev/zero never ends, so both are refused before they are opened, also behind a link),
/// and its size is checked against the limit for what it is meant to be before a byte is read.
/// </summary>
public static class InputFile
{
    /// <summary>Opens <paramref name="path"/> for reading after the checks; <paramref name="what"/> ("a model file") appears in messages.</summary>
    public static FileStream Open(string path, string what, long maxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        long length = Check(path, what, maxBytes);
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (fs.Length != length)
        {
            fs.Dispose();
            throw new IOException($"{path}: the file changed size while it was being opened.");
        }
        return fs;
    }

    /// <summary>The length of <paramref name="path"/> once it passes the checks of <see cref="Open"/>.</summary>
    public static long Check(string path, string what, long maxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var kind = FilePaths.KindOf(path);
        if (kind == FileKind.Regular)
        {
            long length = new FileInfo(path).LinkTarget is null ? new FileInfo(path).Length : new FileInfo(FilePaths.RealPath(path)).Length;
            if (length > maxBytes)
                throw new InvalidDataFormatException($"{path}: {length:N0} bytes is more than {what} may have ({maxBytes:N0} bytes at most).");
            return length;
        }
        string real = kind == FileKind.Missing ? "" : FilePaths.RealPath(path);
        string via = kind == FileKind.Missing ? "" : FilePaths.Via(path, real);
        throw kind switch
        {
            FileKind.Missing when new FileInfo(path).LinkTarget is { } t => new FileNotFoundException($"{path} is a link to {t}, which does not exist.", path),
            FileKind.Missing => new FileNotFoundException($"{path}: no such file.", path),
            FileKind.Directory => new InvalidDataFormatException($"{path}{via} is a folder; expected {what}."),
            _ => new InvalidDataFormatException($"{path}{via} is {FilePaths.Describe(kind)}, not a regular file; expected {what}."),
        };
    }

    /// <summary>The whole of <paramref name="path"/>, after the checks of <see cref="Open"/>.</summary>
    public static byte[] ReadAllBytes(string path, string what, long maxBytes)
    {
        using var fs = Open(path, what, maxBytes);
        if (fs.Length > Array.MaxLength)
            throw new InvalidDataFormatException($"{path} is {fs.Length:N0} bytes; {what} is read whole, and at most {Array.MaxLength:N0} bytes can be.");
        Models.MemoryBudget.Require(fs.Length, $"Reading {path}");
        var bytes = GC.AllocateUninitializedArray<byte>((int)fs.Length);
        fs.ReadExactly(bytes);
        if (fs.ReadByte() >= 0) throw new IOException($"{path}: the file grew while it was being read.");
        return bytes;
    }

    /// <summary>The whole of <paramref name="path"/> as UTF-8 text, after the checks of <see cref="Open"/>.</summary>
    public static string ReadAllText(string path, string what, long maxBytes)
    {
        var bytes = ReadAllBytes(path, what, maxBytes);
        return new System.Text.UTF8Encoding(false, false).GetString(bytes.AsSpan(bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0));
    }
}
