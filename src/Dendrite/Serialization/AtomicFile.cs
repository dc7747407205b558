using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Dendrite.Serialization;

/// <summary>
/// Writes a file through a temporary file in the same folder and a rename, so a crash mid-write leaves the previous
/// file intact. What a save promises:
/// <list type="bullet">
/// <item>it never writes over something that is not a regular file (a folder, a FIFO, a device such as /dev/null, a
/// socket): <see cref="CheckTarget"/> refuses it, before any work when callers check first;</item>
/// <item>a symbolic link is followed: its final target is replaced atomically and the link itself is kept;</item>
/// <item>the folder must exist: it is not created;</item>
/// <item>the temporary file is named <c>.NAME.dendrite-save.pidPID.GUID.tmp</c>; one left behind by a process that
/// is gone (killed mid-save) is removed by the next save into that folder.</item>
/// </list>
/// </summary>
public static partial class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string target = Resolve(path);
        string dir = Path.GetDirectoryName(target)!;
        RemoveStaleTemporaries(dir);
        string tmp = Path.Combine(dir, $".{Path.GetFileName(target)}.dendrite-save.pid{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, target, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Checks that a save to <paramref name="path"/> can replace what is there, and returns the file it will write
    /// (the final target of any links). Throws an <see cref="IOException"/> (or <see cref="UnauthorizedAccessException"/>)
    /// naming the path when it is a folder or another non-regular file, when its folder is missing, or when the folder
    /// cannot be written. Writes nothing that stays: the folder is probed with a temporary file, removed at once.
    /// </summary>
    public static string CheckTarget(string path)
    {
        string real = Resolve(path);
        string dir = Path.GetDirectoryName(real)!;
        string probe = Path.Combine(dir, $".{Path.GetFileName(real)}.dendrite-probe.pid{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try { new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose).Dispose(); }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new UnauthorizedAccessException($"{path}: cannot write in {dir} ({e.Message.TrimEnd('.')}).", e);
        }
        return real;
    }

    /// <summary>The file a save to <paramref name="path"/> replaces, after the checks of <see cref="CheckTarget"/> but the probe.</summary>
    private static string Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string real = FilePaths.RealPath(path);
        string via = FilePaths.Via(path, real);
        var kind = FilePaths.KindOf(real);
        if (kind == FileKind.Directory) throw new IOException($"{path}{via} is a folder; give a file name to write.");
        if (kind is not (FileKind.Missing or FileKind.Regular))
            throw new IOException($"{path}{via} is {FilePaths.Describe(kind)}, not a regular file: refusing to replace it.");
        string dir = Path.GetDirectoryName(real) ?? throw new IOException($"{path}: cannot write to the root of a file system.");
        var dirKind = FilePaths.KindOf(dir);
        if (dirKind == FileKind.Missing) throw new DirectoryNotFoundException($"{path}: the folder {dir} does not exist (it is not created for you).");
        if (dirKind != FileKind.Directory) throw new IOException($"{path}: {dir} is {FilePaths.Describe(dirKind)}, not a folder.");
        return real;
    }

    // This version's temporary names, and the previous version's (.NAME.PID.GUID.tmp), so old leftovers go too.
    [GeneratedRegex(@"^\..+\.(dendrite-save\.pid)?(?<pid>\d{1,10})\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex TemporaryName();

    /// <summary>
    /// Deletes the temporary files of saves into <paramref name="dir"/> whose process is gone: no process has that
    /// id, or the process with it started after the file was last written (the id was reused). Files of running
    /// processes, including this one, are kept: they may be saves in progress.
    /// </summary>
    public static int RemoveStaleTemporaries(string dir)
    {
        int removed = 0;
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(dir, ".*.tmp"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
        foreach (var file in candidates)
        {
            var m = TemporaryName().Match(Path.GetFileName(file));
            if (!m.Success || !int.TryParse(m.Groups["pid"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                if (FilePaths.KindOf(file) != FileKind.Regular || new FileInfo(file).LinkTarget is not null) continue;
                if (Alive(pid, File.GetLastWriteTimeUtc(file))) continue;
                File.Delete(file);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    private static bool Alive(int pid, DateTime lastWriteUtc)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            if (p.HasExited) return false;
            return p.StartTime.ToUniversalTime() <= lastWriteUtc.AddSeconds(1);
        }
        catch (ArgumentException) { return false; }                 // no such process
        catch (InvalidOperationException) { return false; }         // it exited meanwhile
        catch (System.ComponentModel.Win32Exception) { return true; } // someone else's process: leave its files alone
    }
}
