using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Dendrite.Data;
using Dendrite.Imaging;

namespace Dendrite.Tests;

/// <summary>A web server on 127.0.0.1 only, answering each path from a table; counts requests.</summary>
internal sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, Action<HttpListenerResponse>> _routes = [];
    public int Requests;
    public string Url { get; }

    public LoopbackServer()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(Loop);
    }

    public void Serve(string path, byte[] body) => _routes[path] = r => { r.ContentLength64 = body.Length; r.OutputStream.Write(body); r.Close(); };
    public void NotFound(string path) => _routes[path] = r => { r.StatusCode = 404; r.Close(); };
    public void CutShort(string path, byte[] body) => _routes[path] = r =>
    {
        r.ContentLength64 = body.Length;
        r.OutputStream.Write(body, 0, body.Length / 3);
        r.OutputStream.Flush();
        r.Abort();
    };

    private async Task Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); } catch (Exception) { return; }
            Interlocked.Increment(ref Requests);
            try
            {
                if (_routes.TryGetValue(ctx.Request.Url!.AbsolutePath, out var handle)) handle(ctx.Response);
                else { ctx.Response.StatusCode = 404; ctx.Response.Close(); }
            }
            catch (Exception) { }
        }
    }

    public void Dispose() { _listener.Stop(); _listener.Close(); }
}

public class DatasetTests
{
    private static byte[] GzIdx(int[] dims, byte seed)
    {
        var raw = new MemoryStream();
        var data = new byte[dims.Aggregate(1, (a, d) => a * d)];
        for (int i = 0; i < data.Length; i++) data[i] = dims.Length == 1 ? (byte)((i + seed) % 3) : (byte)(i * seed);
        Idx.Write(raw, dims, data);
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest, true)) z.Write(raw.ToArray());
        return gz.ToArray();
    }

    /// <summary>A tiny data set in MNIST's layout, its files, and an info naming the given mirrors.</summary>
    private static (DatasetInfo Info, Dictionary<string, byte[]> Files) Tiny(string name, params string[] mirrors)
    {
        var files = new Dictionary<string, byte[]>
        {
            ["train-images-idx3-ubyte.gz"] = GzIdx([4, 28, 28], 3), ["train-labels-idx1-ubyte.gz"] = GzIdx([4], 1),
            ["t10k-images-idx3-ubyte.gz"] = GzIdx([2, 28, 28], 5), ["t10k-labels-idx1-ubyte.gz"] = GzIdx([2], 2),
        };
        var info = new DatasetInfo(name, "test data", ["a", "b", "c"], "test licence", "test citation",
            files.Select(f => new DataFile(f.Key, f.Value.Length, Convert.ToHexStringLower(SHA256.HashData(f.Value)))).ToArray(), mirrors);
        return (info, files);
    }

    [Fact]
    public void DownloadsVerifiesAndCachesThenUsesTheCache()
    {
        using var server = new LoopbackServer();
        using var cache = new TempDir();
        var (info, files) = Tiny("tiny", server.Url + "m/");
        foreach (var (n, b) in files) server.Serve("/m/" + n, b);
        var progress = new List<DownloadProgress>();
        var store = new DatasetStore(cache.Path) { Progress = progress.Add };
        var (train, test) = store.Load(info, out var source);
        Assert.Equal(DataSource.Downloaded, source);
        Assert.Equal(4, train.Count); Assert.Equal(2, test.Count);
        Assert.Equal(["a", "b", "c"], train.ClassNames);
        Assert.Contains(progress, p => p.File == "train-images-idx3-ubyte.gz" && p.Received == files[p.File].Length);
        int requests = server.Requests;
        store.Load(info, out source);
        Assert.Equal(DataSource.Cache, source);
        Assert.Equal(requests, server.Requests);
        Assert.Empty(Directory.GetFiles(cache.File("tiny"), "*.part"));
    }

    [Fact]
    public void AFileWithTheWrongChecksumIsRejectedAndNeverCached()
    {
        using var server = new LoopbackServer();
        using var cache = new TempDir();
        var (info, files) = Tiny("bad", server.Url + "m/");
        foreach (var (n, b) in files) server.Serve("/m/" + n, b);
        var tampered = (byte[])files["train-labels-idx1-ubyte.gz"].Clone();
        tampered[^5] ^= 0xFF;
        server.Serve("/m/train-labels-idx1-ubyte.gz", tampered);
        var e = Assert.Throws<IOException>(() => new DatasetStore(cache.Path).Load(info, out _));
        Assert.Contains("SHA-256", e.Message);
        Assert.Contains("does not match the published", e.Message);
        Assert.False(File.Exists(cache.File("bad/train-labels-idx1-ubyte.gz")));
        Assert.Empty(Directory.GetFiles(cache.File("bad"), "*.part"));
    }

    [Fact]
    public void A404MirrorAndACutTransferFallBackToTheNextMirror()
    {
        using var server = new LoopbackServer();
        using var cache = new TempDir();
        var (info, files) = Tiny("fallback", server.Url + "gone/", server.Url + "short/", server.Url + "good/");
        foreach (var (n, b) in files)
        {
            server.NotFound("/gone/" + n);
            server.CutShort("/short/" + n, b);
            server.Serve("/good/" + n, b);
        }
        var (train, _) = new DatasetStore(cache.Path).Load(info, out var source);
        Assert.Equal(DataSource.Downloaded, source);
        Assert.Equal(4, train.Count);
    }

    [Fact]
    public void ACutTransferWithNoOtherMirrorLeavesNoHalfFile()
    {
        using var server = new LoopbackServer();
        using var cache = new TempDir();
        var (info, files) = Tiny("cut", server.Url + "short/");
        foreach (var (n, b) in files) server.CutShort("/short/" + n, b);
        var e = Assert.Throws<IOException>(() => new DatasetStore(cache.Path).Load(info, out _));
        Assert.Contains("Could not download", e.Message);
        Assert.Contains("Put these files in", e.Message);
        Assert.False(Directory.Exists(cache.File("cut")), "a failed first download left an empty folder in the cache");
        Assert.True(Directory.Exists(cache.Path));
        Directory.CreateDirectory(cache.File("cut"));                       // a folder that was there before stays
        Assert.Throws<IOException>(() => new DatasetStore(cache.Path).Load(info, out _));
        Assert.True(Directory.Exists(cache.File("cut")));
    }

    [Fact]
    public void TheNotMnistOfflineMessageSaysWhatEachFileIsAndHowToCheckIt()
    {
        using var cache = new TempDir();
        var e = Assert.Throws<InvalidOperationException>(() => new DatasetStore(cache.Path, offline: true).Load(KnownDatasets.NotMnist, out _));
        Assert.Contains("t10k-images-idx3-ubyte.gz   3,172,375 bytes  sha256 70ae9e06201f2827e5b0a3781a3169d735dd2efc69996b9eeaee7f10ed4044d7", e.Message);
        // Only a git blob id is published for the training images: the message says so, and how to check it.
        Assert.Contains("train-images-idx3-ubyte.gz  size not published  git blob 6cf3076b36bafa7da1563b28bbe863fd78a008a8", e.Message);
        Assert.Contains("sha256sum FILE (git hash-object FILE for a git blob id) must print the value above", e.Message);
        Assert.False(Directory.Exists(cache.File("notmnist")));
    }

    [Fact]
    public void OfflineNeverTouchesTheNetworkAndSaysWhatToPutWhere()
    {
        using var server = new LoopbackServer();
        using var cache = new TempDir();
        var (info, _) = Tiny("offline", server.Url);
        var e = Assert.Throws<InvalidOperationException>(() => new DatasetStore(cache.Path, offline: true).Load(info, out _));
        Assert.Equal(0, server.Requests);
        Assert.Contains(cache.File("offline"), e.Message);
        Assert.Contains("train-images-idx3-ubyte.gz", e.Message);
        Assert.Contains("sha256", e.Message);
    }

    [Fact]
    public void TheSearchOrderIsEnvironmentThenEmbeddedThenCacheThenSystem()
    {
        using var cache = new TempDir();
        using var system = new TempDir();
        var (info, files) = Tiny("order");
        info = info with { SystemFolder = system.Path };
        var store = new DatasetStore(cache.Path, offline: true);
        Assert.Equal(DataSource.Missing, store.Locate(info).Source);
        foreach (var (n, b) in files) File.WriteAllBytes(Path.Combine(system.Path, n), b);
        Assert.Equal((DataSource.System, system.Path), store.Locate(info));
        Directory.CreateDirectory(cache.File("order"));
        foreach (var (n, b) in files) File.WriteAllBytes(cache.File("order/" + n), b);
        Assert.Equal(DataSource.Cache, store.Locate(info).Source);
        Assert.Equal(DataSource.Embedded, store.Locate(KnownDatasets.Mnist).Source);
        Assert.Equal(4, store.Load(info, out _).Train.Count);
    }

    [Fact]
    public void FashionMnistLoadsFromAFolderWithItsClassNames()
    {
        string shared = Path.Combine(Tools.RepoRoot, "..", "shared", "datasets", "fashion-mnist");
        string folder = Directory.Exists(shared) ? shared : KnownDatasets.FashionMnist.SystemFolder!;
        var (train, test) = LocalData.LoadIdxFolder(folder, "fashion-mnist", KnownDatasets.FashionMnist.ClassNames);
        Assert.Equal(60000, train.Count); Assert.Equal(10000, test.Count);
        Assert.Equal(new byte[] { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 }, train.Labels[..10]);
        Assert.Equal("Ankle boot", train.ClassNames[9]);
    }

    /// <summary>By name, offline: found in Debian's dataset-fashion-mnist package (installed by .ci/run).</summary>
    [Fact]
    public void FashionMnistIsFoundByNameInTheSystemPackage()
    {
        using var cache = new TempDir();
        var store = new DatasetStore(cache.Path, offline: true);
        Assert.Equal((DataSource.System, "/usr/share/datasets/fashion-mnist"), store.Locate(KnownDatasets.FashionMnist));
        var (train, test) = store.Load("fashion-mnist");
        Assert.Equal(60000, train.Count); Assert.Equal(10000, test.Count);
        Assert.Equal("T-shirt/top", test.ClassNames[0]);
    }

    [Fact]
    public void CsvRowsLoadAndBadRowsNameTheFileAndLine()
    {
        using var dir = new TempDir();
        var row = string.Join(',', Enumerable.Repeat("0", 16));
        File.WriteAllText(dir.File("my_train.csv"), $"label,{string.Join(',', Enumerable.Range(0, 16).Select(i => $"p{i}"))}\n1,{row}\n0,{row}\n2,{row}\n");
        File.WriteAllText(dir.File("my_test.csv"), $"2,{row}\n");
        var (train, test) = LocalData.Load(dir.File("my_train.csv"));
        Assert.Equal(3, train.Count); Assert.Equal(1, test.Count);
        Assert.Equal([4, 4], train.ItemShape);
        File.WriteAllText(dir.File("bad.csv"), $"1,{row}\n1,{row},7\n");
        Assert.Contains("bad.csv:2: 17 pixel values; the first row had 16", Assert.Throws<InvalidDataFormatException>(() => LocalData.ReadCsv(dir.File("bad.csv"))).Message);
        File.WriteAllText(dir.File("bad2.csv"), $"1,{row}\n1,{row[..^1]}x\n");
        Assert.Contains("bad2.csv:2: field 17 \"x\"", Assert.Throws<InvalidDataFormatException>(() => LocalData.ReadCsv(dir.File("bad2.csv"))).Message);
        File.WriteAllText(dir.File("bad3.csv"), $"1,{row}\n1,300{row[1..]}\n");
        Assert.Contains("not a pixel value in 0..255", Assert.Throws<InvalidDataFormatException>(() => LocalData.ReadCsv(dir.File("bad3.csv"))).Message);
    }

    [Fact]
    public void AnImageFolderPerClassLoadsResizedAndBadImagesAreNamed()
    {
        using var dir = new TempDir();
        foreach (var cls in new[] { "cat", "dog" })
        {
            Directory.CreateDirectory(dir.File(cls));
            for (int i = 0; i < 5; i++)
            {
                var px = new byte[40 * 30 * 3];
                Array.Fill(px, (byte)(cls == "cat" ? 40 : 200));
                Png.Save(new Image(40, 30, 3, px), dir.File($"{cls}/{i}.png"));
            }
        }
        var (train, test) = LocalData.Load(dir.Path, [14, 14]);
        Assert.Equal(["cat", "dog"], train.ClassNames);
        Assert.Equal(9, train.Count); Assert.Equal(1, test.Count);
        Assert.Equal([14, 14], train.ItemShape);
        int k = Array.IndexOf(train.Labels, (byte)0);
        Assert.Equal(40, train.Image(k)[0]);
        File.WriteAllText(dir.File("dog/broken.png"), "not a png");
        var e = Assert.Throws<InvalidDataFormatException>(() => LocalData.Load(dir.Path));
        Assert.Contains("broken.png", e.Message);
    }

    [Fact]
    public void TheEmbeddedMnistFilesMatchThePublishedChecksums()
    {
        foreach (var f in KnownDatasets.Mnist.Files)
            DatasetStore.Verify(Path.Combine(Tools.RepoRoot, "data", "mnist", f.Name), f, "data/mnist");
    }

    [Fact]
    public void EveryKnownDataSetHasClassesALicenceAndChecksums()
    {
        foreach (var d in KnownDatasets.All)
        {
            Assert.Equal(10, d.ClassNames.Length);
            Assert.NotEmpty(d.License); Assert.NotEmpty(d.Citation); Assert.NotEmpty(d.Mirrors);
            Assert.All(d.Files, f => Assert.True(f.Sha256 is { Length: 64 } || f.GitBlobSha1 is { Length: 40 }));
        }
        Assert.Same(KnownDatasets.FashionMnist, KnownDatasets.Get("Fashion_MNIST"));
        Assert.Contains("Known: mnist, fashion-mnist", Assert.Throws<ArgumentException>(() => KnownDatasets.Get("cifar")).Message);
    }
}

/// <summary>$DENDRITE_DATA is process-wide: these run alone and restore it.</summary>
[Collection("Kernel settings")]
public class DatasetEnvironmentTests
{
    [Fact]
    public void DendriteDataComesBeforeEverythingElse()
    {
        using var root = new TempDir();
        using var cache = new TempDir();
        Directory.CreateDirectory(root.File("mnist"));
        void Write(string name, int[] dims, byte[] data) { using var f = File.Create(root.File("mnist/" + name)); Idx.Write(f, dims, data); }
        Write("train-images-idx3-ubyte", [2, 28, 28], new byte[2 * 784]);
        Write("train-labels-idx1-ubyte", [2], [3, 4]);
        Write("t10k-images-idx3-ubyte", [1, 28, 28], new byte[784]);
        Write("t10k-labels-idx1-ubyte", [1], [9]);
        var saved = Environment.GetEnvironmentVariable("DENDRITE_DATA");
        try
        {
            Environment.SetEnvironmentVariable("DENDRITE_DATA", root.Path);
            var store = new DatasetStore(cache.Path, offline: true);
            Assert.Equal((DataSource.Environment, root.File("mnist")), store.Locate(KnownDatasets.Mnist));
            var (train, test) = Mnist.Load();
            Assert.Equal(2, train.Count);
            Assert.Equal(9, test.Labels[0]);
        }
        finally { Environment.SetEnvironmentVariable("DENDRITE_DATA", saved); }
        Assert.Equal(60000, Mnist.Load().Train.Count);
    }
}
