using System.Diagnostics;
using Dendrite.Serialization;

namespace Dendrite.Tests;

/// <summary>Where a save writes: never over a non-file, through links, into folders that exist, leaving no litter.</summary>
public class PathTests
{
    private static void Write(string path, string text) => AtomicFile.Write(path, s => s.Write(System.Text.Encoding.UTF8.GetBytes(text)));

    /// <summary>A character device to write at: a fresh node in the temp folder when root (as CI is), else /dev/null itself (refused either way, never replaced).</summary>
    internal static string Device(TempDir dir)
    {
        if (!Environment.IsPrivilegedProcess) return "/dev/null";
        Tools.Run("mknod", dir.File("null-device"), "c", "1", "3");
        return dir.File("null-device");
    }

    /// <summary>Issue 16, item 1: as root, a save to /dev/null made it a regular file. A FIFO, a device, a folder or a link to one is refused, and left as it was.</summary>
    [Fact]
    public void ASaveNeverReplacesWhatIsNotARegularFile()
    {
        using var dir = new TempDir();
        BoundedReadTests.MkFifo(dir.File("fifo"));
        Directory.CreateDirectory(dir.File("folder"));
        string device = Device(dir);
        File.CreateSymbolicLink(dir.File("to-device"), device);
        foreach (var (target, says) in new[] { (dir.File("fifo"), "is a FIFO (named pipe), not a regular file"), (device, "is a character device"),
            (dir.File("to-device"), $"(a link to {device}) is a character device"), (dir.File("folder"), "is a folder") })
        {
            var e = Assert.ThrowsAny<IOException>(() => Write(target, "model"));
            Assert.Contains(says, e.Message);
            Assert.ThrowsAny<IOException>(() => AtomicFile.CheckTarget(target));
        }
        Assert.Equal(FileKind.Fifo, FilePaths.KindOf(dir.File("fifo")));
        Assert.Equal(FileKind.CharacterDevice, FilePaths.KindOf(device));
        Assert.Equal(FileKind.Directory, FilePaths.KindOf(dir.File("folder")));
        Assert.Equal(new[] { "fifo", "folder", "to-device" }.Concat(device.StartsWith(dir.Path) ? ["null-device"] : []).Order(), Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order());
    }

    /// <summary>Issue 16, item 1: a link given as the target was replaced by a plain file. The link is followed, its final target replaced atomically, the link kept.</summary>
    [Fact]
    public void ALinkIsFollowedAndKept()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("models"));
        File.WriteAllText(dir.File("models/real.dendrite"), "old");
        File.CreateSymbolicLink(dir.File("middle"), dir.File("models/real.dendrite"));
        File.CreateSymbolicLink(dir.File("current"), "middle");   // relative, and two links deep
        Write(dir.File("current"), "new");
        Assert.Equal("middle", new FileInfo(dir.File("current")).LinkTarget);
        Assert.Equal(dir.File("models/real.dendrite"), new FileInfo(dir.File("middle")).LinkTarget);
        Assert.Equal("new", File.ReadAllText(dir.File("models/real.dendrite")));
        Assert.Equal(dir.File("models/real.dendrite"), AtomicFile.CheckTarget(dir.File("current")));
        // A dangling link: the file it names is created.
        File.CreateSymbolicLink(dir.File("dangling"), dir.File("models/next.dendrite"));
        Write(dir.File("dangling"), "made");
        Assert.Equal("made", File.ReadAllText(dir.File("models/next.dendrite")));
        Assert.NotNull(new FileInfo(dir.File("dangling")).LinkTarget);
    }

    /// <summary>Issue 12 and 16: a missing folder is an error, not created; an unwritable one is found before any work.</summary>
    [Fact]
    public void TheFolderMustExistAndBeWritable()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DirectoryNotFoundException>(() => Write(dir.File("no/such/m.dendrite"), "x"));
        Assert.Contains($"the folder {dir.File("no/such")} does not exist (it is not created for you)", e.Message);
        Assert.False(Directory.Exists(dir.File("no")));
        // /proc takes no new files, even from root.
        Assert.Contains("cannot write in /proc", Assert.Throws<UnauthorizedAccessException>(() => AtomicFile.CheckTarget("/proc/m.dendrite")).Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    /// <summary>Two paths name one file when they meet after links, "." and ".." (a link's ".." is its target's parent, as the system resolves it).</summary>
    [Fact]
    public void RealPathsResolveLinksInEveryComponent()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("a/b"));
        File.CreateSymbolicLink(dir.File("l"), dir.File("a/b"));
        Assert.Equal(dir.File("a/b/f"), FilePaths.RealPath(dir.File("l/f")));
        Assert.Equal(dir.File("a/f"), FilePaths.RealPath(dir.File("l/../f")));     // lexically it would be dir/f
        Assert.True(FilePaths.SameFile(dir.File("l/./f"), dir.File("a/b/../b/f")));
        Assert.False(FilePaths.SameFile(dir.File("l/../f"), dir.File("f")));
        File.CreateSymbolicLink(dir.File("loop1"), dir.File("loop2"));
        File.CreateSymbolicLink(dir.File("loop2"), dir.File("loop1"));
        Assert.Contains("too many levels of symbolic links", Assert.Throws<IOException>(() => FilePaths.RealPath(dir.File("loop1"))).Message);
    }

    /// <summary>Issue 16, item 3: kill -9 during a save left temporary files that piled up. The next save into the folder removes those of processes that are gone.</summary>
    [Fact]
    public void StaleTemporaryFilesOfDeadProcessesAreRemoved()
    {
        using var dir = new TempDir();
        int dead;
        using (var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!) { p.WaitForExit(); dead = p.Id; }
        string guid = Guid.NewGuid().ToString("N");
        string[] stale = [$".m.dendrite.dendrite-save.pid{dead}.{guid}.tmp", $".m.dendrite.{dead}.{guid}.tmp"];   // this version's name, and the previous one's
        string[] kept = [$".m.dendrite.dendrite-save.pid1.{guid}.tmp", $".m.dendrite.dendrite-save.pid{Environment.ProcessId}.{guid}.tmp", ".notes.tmp", "m.dendrite.1234.tmp"];
        foreach (var f in stale.Concat(kept)) File.WriteAllText(dir.File(f), "partial");
        Write(dir.File("other.dendrite"), "saved");
        foreach (var f in stale) Assert.False(File.Exists(dir.File(f)), f);
        foreach (var f in kept) Assert.True(File.Exists(dir.File(f)), f);     // pid 1 and this process are alive; the others are not ours
        // A save's own temporary name says what it is, and it is gone once the save is done.
        string? seen = null;
        AtomicFile.Write(dir.File("m.dendrite"), s => seen = ((FileStream)s).Name);
        Assert.Matches($@"/\.m\.dendrite\.dendrite-save\.pid{Environment.ProcessId}\.[0-9a-f]{{32}}\.tmp$", seen);
        Assert.False(File.Exists(seen));
    }
}
