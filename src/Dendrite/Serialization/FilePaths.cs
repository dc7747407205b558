using System.Runtime.InteropServices;

namespace Dendrite.Serialization;

/// <summary>What a path names, after following links.</summary>
public enum FileKind { Missing, Regular, Directory, Fifo, CharacterDevice, BlockDevice, Socket, Other }

/// <summary>
/// What a path is and where it leads: the kind of file (a FIFO or a device is not a regular file, though .NET's
/// File.Exists says yes to both), and the real path with every link resolved, so that two paths naming one file
/// can be told apart from two files.
/// </summary>
public static partial class FilePaths
{
    /// <summary>The kind of file at <paramref name="path"/>, following links (a link to /dev/zero is a character device).</summary>
    public static FileKind KindOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsWindows() && s_statWorks)
        {
            try
            {
                if (Stat(path, out var st) != 0) return Directory.Exists(path) ? FileKind.Directory : File.Exists(path) ? FileKind.Other : FileKind.Missing;
                return (st.Mode & 0xF000) switch
                {
                    0x8000 => FileKind.Regular,
                    0x4000 => FileKind.Directory,
                    0x1000 => FileKind.Fifo,
                    0x2000 => FileKind.CharacterDevice,
                    0x6000 => FileKind.BlockDevice,
                    0xC000 => FileKind.Socket,
                    _ => FileKind.Other,
                };
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { s_statWorks = false; }
        }
        if (Directory.Exists(path)) return FileKind.Directory;
        return File.Exists(path) ? FileKind.Regular : FileKind.Missing;
    }

    /// <summary>"a FIFO (named pipe)", "a character device"... for messages.</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Missing => "missing",
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a folder",
        FileKind.Fifo => "a FIFO (named pipe)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        _ => "not a regular file",
    };

    /// <summary>
    /// The absolute path with every symbolic link resolved, in every component, and "." and ".." applied after the
    /// link before them is resolved (as the operating system does: link/.. is the parent of the link's target).
    /// The final component need not exist. Two paths name the same file when their real paths are equal.
    /// </summary>
    public static string RealPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.IsPathRooted(path) ? path : Path.Join(Directory.GetCurrentDirectory(), path);
        int links = 0;
        return Resolve(full, path, ref links);
    }

    private static string Resolve(string full, string original, ref int links)
    {
        string root = Path.GetPathRoot(full) ?? "/";
        var parts = full[root.Length..].Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        string current = root;
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            if (part == ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? current; continue; }
            string next = Path.Join(current, part);
            string? target = null;
            try { target = new FileInfo(next).LinkTarget; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            if (target is null) { current = next; continue; }
            if (++links > 40) throw new IOException($"{original}: too many levels of symbolic links (a loop?).");
            string resolved = Path.IsPathRooted(target) ? target : Path.Join(current, target);
            string rest = string.Join(Path.DirectorySeparatorChar, parts[(i + 1)..]);
            return Resolve(rest.Length > 0 ? Path.Join(resolved, rest) : resolved, original, ref links);
        }
        return current;
    }

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> lead to the same file (after links, "." and "..").</summary>
    public static bool SameFile(string a, string b) =>
        string.Equals(RealPath(a), RealPath(b), OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>" (a link to X)" when <paramref name="path"/> resolves elsewhere, for messages.</summary>
    internal static string Via(string path, string real) =>
        Path.GetFullPath(path) == real ? "" : $" (a link to {real})";

    // The runtime's own native shim (libSystem.Native, shipped with every .NET on Unix) normalises stat(2) into one
    // layout on every Unix; its first two fields, Flags and Mode, have been stable since .NET Core 1.0. Only Mode is
    // read. Should the shim ever be missing, KindOf falls back to what File and Directory can tell.
    private static bool s_statWorks = true;

    [StructLayout(LayoutKind.Sequential, Size = 512)]
    private struct StatPrefix
    {
        public int Flags;
        public int Mode;
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, out StatPrefix status);
}
