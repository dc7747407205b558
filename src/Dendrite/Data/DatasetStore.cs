using System.Security.Cryptography;
using System.Text;

namespace Dendrite.Data;

/// <summary>Bytes received so far for one file being downloaded.</summary>
public readonly record struct DownloadProgress(string File, string Url, long Received, long? Total);

/// <summary>Where a known data set was found.</summary>
public enum DataSource { Path, Environment, Embedded, Cache, System, Downloaded, Missing }

/// <summary>
/// Finds known data sets, in this order: an explicit path; $DENDRITE_DATA/&lt;name&gt;; the copy embedded in the library
/// (MNIST); the user's cache (XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on
/// Windows, then /dendrite/&lt;name&gt;); a system data package (Debian's dataset-fashion-mnist); and last a download from
/// the published mirrors in order. A download is written to a temporary file, checked against the published size and
/// checksum, and only then renamed into the cache, so the cache never holds a half or wrong file. Offline, nothing
/// touches the network and a missing data set gets a message saying which files to put where.
/// </summary>
public sealed class DatasetStore(string? cacheDirectory = null, bool offline = false, HttpClient? http = null)
{
    public string CacheDirectory { get; } = cacheDirectory ?? DefaultCacheDirectory();
    public bool Offline { get; } = offline;

    /// <summary>Called as downloads progress (from the downloading thread).</summary>
    public Action<DownloadProgress>? Progress { get; set; }

    public static string DefaultCacheDirectory()
    {
        string baseDir;
        if (OperatingSystem.IsWindows()) baseDir = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        else if (OperatingSystem.IsMacOS()) baseDir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "Library", "Caches");
        else baseDir = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(baseDir, "dendrite");
    }

    /// <summary>Where <paramref name="info"/> is on this machine, without downloading: the source and the folder (null for embedded or missing).</summary>
    public (DataSource Source, string? Folder) Locate(DatasetInfo info)
    {
        if (Environment.GetEnvironmentVariable("DENDRITE_DATA") is { Length: > 0 } env && Complete(Path.Combine(env, info.Name), info))
            return (DataSource.Environment, Path.Combine(env, info.Name));
        if (info.Embedded) return (DataSource.Embedded, null);
        if (Complete(Path.Combine(CacheDirectory, info.Name), info)) return (DataSource.Cache, Path.Combine(CacheDirectory, info.Name));
        if (info.SystemFolder is { } sys && Complete(sys, info)) return (DataSource.System, sys);
        return (DataSource.Missing, null);
    }

    private static bool Complete(string folder, DatasetInfo info) =>
        Directory.Exists(folder) && info.Files.All(f => File.Exists(Path.Combine(folder, f.Name)) || File.Exists(Path.Combine(folder, f.Name[..^3])));

    /// <summary>Loads a known data set by name, or the user's own data from a path (see <see cref="LocalData.Load"/>).</summary>
    public (Dataset Train, Dataset Test) Load(string nameOrPath, int[]? imageShape = null)
    {
        if (Directory.Exists(nameOrPath) || File.Exists(nameOrPath)) return LocalData.Load(nameOrPath, imageShape);
        return Load(KnownDatasets.Get(nameOrPath), out _);
    }

    public (Dataset Train, Dataset Test) Load(DatasetInfo info, out DataSource source)
    {
        var (src, folder) = Locate(info);
        if (src == DataSource.Embedded) { source = src; return Data.Mnist.LoadEmbedded(); }
        if (src == DataSource.Missing)
        {
            folder = Download(info);
            src = DataSource.Downloaded;
        }
        source = src;
        return LocalData.LoadIdxFolder(folder!, info.Name, info.ClassNames);
    }

    /// <summary>Downloads every missing file of <paramref name="info"/> into the cache and returns the folder.</summary>
    public string Download(DatasetInfo info)
    {
        string folder = Path.Combine(CacheDirectory, info.Name);
        if (Offline) throw new InvalidOperationException($"{info.Name} is not on this machine, and offline mode forbids downloading it.\n{Instructions(info, folder)}");
        bool created = !Directory.Exists(folder);
        Directory.CreateDirectory(folder);
        try
        {
            DownloadInto(folder, info);
        }
        catch when (created && Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
        {
            Directory.Delete(folder);   // a failed first download leaves no empty folder that looks like a cached data set
            throw;
        }
        return folder;
    }

    private void DownloadInto(string folder, DatasetInfo info)
    {
        var client = http ?? SharedClient.Value;
        foreach (var file in info.Files)
        {
            string target = Path.Combine(folder, file.Name);
            if (File.Exists(target)) continue;
            var errors = new List<string>();
            bool done = false;
            foreach (var mirror in info.Mirrors)
            {
                string url = mirror + file.Name;
                string part = Path.Combine(folder, $".{file.Name}.{Guid.NewGuid():N}.part");
                try
                {
                    Fetch(client, url, part, file);
                    Verify(part, file, url);
                    File.Move(part, target, overwrite: false);
                    done = true;
                    break;
                }
                catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataFormatException or TaskCanceledException or OperationCanceledException)
                {
                    errors.Add($"  {url}: {e.Message}");
                }
                finally
                {
                    if (File.Exists(part)) File.Delete(part);
                }
            }
            if (!done) throw new IOException($"Could not download {file.Name} of {info.Name}:\n{string.Join("\n", errors)}\n{Instructions(info, folder)}");
        }
    }

    private void Fetch(HttpClient client, string url, string part, DataFile file)
    {
        using var response = client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        long? total = response.Content.Headers.ContentLength ?? file.Size;
        if (file.Size is long size && total is long announced && announced != size)
            throw new InvalidDataFormatException($"the server offers {announced:N0} bytes; the published size is {size:N0}");
        using var input = response.Content.ReadAsStream();
        using var output = new FileStream(part, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new byte[1 << 16];
        long received = 0, lastReport = 0;
        int n;
        while ((n = input.Read(buffer)) > 0)
        {
            output.Write(buffer, 0, n);
            received += n;
            if (file.Size is long max && received > max) throw new InvalidDataFormatException($"more than the published {max:N0} bytes");
            if (received - lastReport >= 1 << 20) { Progress?.Invoke(new DownloadProgress(file.Name, url, received, total)); lastReport = received; }
        }
        Progress?.Invoke(new DownloadProgress(file.Name, url, received, total));
        if (total is long t && received != t) throw new IOException($"the transfer stopped after {received:N0} of {t:N0} bytes");
        output.Flush(flushToDisk: true);
    }

    /// <summary>Checks a downloaded file against its published size and checksum.</summary>
    internal static void Verify(string path, DataFile file, string from)
    {
        long length = new FileInfo(path).Length;
        if (file.Size is long size && length != size) throw new InvalidDataFormatException($"{length:N0} bytes, but the published size is {size:N0}");
        using var fs = File.OpenRead(path);
        if (file.Sha256 is { } sha)
        {
            string actual = Convert.ToHexStringLower(SHA256.HashData(fs));
            if (actual != sha) throw new InvalidDataFormatException($"SHA-256 {actual} does not match the published {sha}; the file was not used");
        }
        else if (file.GitBlobSha1 is { } blob)
        {
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            sha1.AppendData(Encoding.ASCII.GetBytes($"blob {length}\0"));
            var buf = new byte[1 << 16];
            int n;
            while ((n = fs.Read(buf)) > 0) sha1.AppendData(buf, 0, n);
            string actual = Convert.ToHexStringLower(sha1.GetHashAndReset());
            if (actual != blob) throw new InvalidDataFormatException($"git blob id {actual} does not match the published {blob}; the file was not used");
        }
        else throw new InvalidDataFormatException($"{file.Name} has no published checksum to verify {from} against");
    }

    /// <summary>What to put where when a data set cannot be downloaded.</summary>
    public static string Instructions(DatasetInfo info, string folder)
    {
        var sb = new StringBuilder($"Put these files in {folder} (or in $DENDRITE_DATA/{info.Name}):\n");
        int width = info.Files.Max(f => f.Name.Length);
        foreach (var f in info.Files)
            sb.Append($"  {f.Name.PadRight(width)}  {(f.Size is long s ? $"{s:N0} bytes" : "size not published")}  {(f.Sha256 is { } h ? $"sha256 {h}" : f.GitBlobSha1 is { } b ? $"git blob {b}" : "no published checksum")}\n");
        sb.Append("They are published at: ").Append(string.Join(" or ", info.Mirrors.Select(m => m + "<file>"))).Append('\n');
        sb.Append("To check a file: ls -l FILE shows its size, and sha256sum FILE");
        if (info.Files.Any(f => f.Sha256 is null && f.GitBlobSha1 is not null)) sb.Append(" (git hash-object FILE for a git blob id)");
        sb.Append(" must print the value above.");
        return sb.ToString();
    }

    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(10) });
}
