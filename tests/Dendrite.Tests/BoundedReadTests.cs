using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Dendrite.Data;
using Dendrite.Imaging;
using Dendrite.Models;
using Dendrite.Serialization;

namespace Dendrite.Tests;

/// <summary>Every path that comes in is read in bounded memory and time: regular files only, sizes known before reading.</summary>
public class BoundedReadTests
{
    internal static void MkFifo(string path) => Tools.Run("mkfifo", path);

    /// <summary>Runs a read that must fail fast: a FIFO that was opened would block it for ever.</summary>
    private static Exception FailsWithin(Action read)
    {
        var task = Task.Run(() => Record.Exception(read));
        Assert.True(task.Wait(TimeSpan.FromSeconds(30)), "the read blocked (a FIFO was opened)");
        return task.Result ?? throw new Xunit.Sdk.XunitException("the read succeeded");
    }

    /// <summary>Issue 14: predict on a FIFO waited for ever, and on a link to /dev/zero read until memory ran out. Every reader refuses both, and folders, with a message.</summary>
    [Fact]
    public void FifosDevicesAndFoldersAreRefusedByEveryReader()
    {
        using var dir = new TempDir();
        MkFifo(dir.File("fifo"));
        File.CreateSymbolicLink(dir.File("zero"), "/dev/zero");
        File.CreateSymbolicLink(dir.File("link-to-fifo"), dir.File("fifo"));
        Directory.CreateDirectory(dir.File("folder"));
        var readers = new (string What, Action<string> Read)[]
        {
            ("model", p => ModelFile.Load(p)),
            ("idx", p => Idx.Read(p)),
            ("image", p => Image.ReadGrey(p, 64, out _, out _)),
            ("image whole", p => Image.Load(p)),
            ("csv", p => LocalData.ReadCsv(p)),
        };
        foreach (var (what, read) in readers)
        {
            Assert.Contains("is a FIFO (named pipe), not a regular file", FailsWithin(() => read(dir.File("fifo"))).Message);
            Assert.Contains($"(a link to {dir.File("fifo")}) is a FIFO", FailsWithin(() => read(dir.File("link-to-fifo"))).Message);
            var zero = FailsWithin(() => read(dir.File("zero")));
            Assert.True(zero is InvalidDataFormatException, $"{what}: {zero}");
            Assert.Contains("(a link to /dev/zero) is a character device", zero.Message);
            Assert.Contains("is a folder", FailsWithin(() => read(dir.File("folder"))).Message);
            Assert.IsType<FileNotFoundException>(FailsWithin(() => read(dir.File("missing"))));
        }
        // A data set given as a FIFO named like a CSV, and an IDX folder holding a FIFO.
        File.Move(dir.File("fifo"), dir.File("train.csv"));
        Assert.Contains("FIFO", FailsWithin(() => LocalData.Load(dir.File("train.csv"))).Message);
    }

    /// <summary>Sizes are checked before a byte is read: sparse files far over each limit are refused at once.</summary>
    [Fact]
    public void SizeLimitsAreCheckedBeforeReading()
    {
        using var dir = new TempDir();
        void Sparse(string name, long length) { using var f = File.Create(dir.File(name)); f.SetLength(length); }
        Sparse("huge.dendrite", ModelFile.MaxBytes + 1);
        Sparse("classes.txt", (1 << 20) + 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("more than a model file may have", Assert.Throws<InvalidDataFormatException>(() => ModelFile.Load(dir.File("huge.dendrite"))).Message);
        Assert.Contains("more than a list of class names may have", Assert.Throws<InvalidDataFormatException>(() => InputFile.ReadAllText(dir.File("classes.txt"), "a list of class names", 1 << 20)).Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
        // A model file that fits the limit but not the memory there is.
        Sparse("big.dendrite", 3L << 30);
        using (MemoryBudget.Pretend(1L << 30))
            Assert.Contains("needs about 6.0 GB; 1.0 GB of memory is available", Assert.Throws<NotEnoughMemoryException>(() => ModelFile.Load(dir.File("big.dendrite"))).Message);
    }

    /// <summary>Issue 16, item 12: pigz and `cat a.gz b.gz` write several gzip members; they are one file.</summary>
    [Fact]
    public void MultiMemberGzipIsOneFile()
    {
        var idx = Idx.Read(Corpus.Path("two-members.idx.gz"));
        Assert.Equal([5, 4, 4], idx.Dimensions);
        Assert.Equal(Enumerable.Range(0, 80).Select(i => (byte)(i * 11)), idx.Data);
        // Many members, as pigz writes: one per 7 bytes.
        var ms = new MemoryStream();
        Idx.Write(ms, [5, 4, 4], idx.Data);
        var raw = ms.ToArray();
        var pigz = new MemoryStream();
        for (int i = 0; i < raw.Length; i += 7)
            using (var gz = new GZipStream(pigz, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(raw.AsSpan(i, Math.Min(7, raw.Length - i)));
        Assert.Equal(idx.Data, Idx.Read(new MemoryStream(pigz.ToArray()), "pigz.gz").Data);
        // Found by the fuzz test: a file cut inside its last member, which the inflater does not report.
        Assert.Contains("does not end with its last member's trailer", Assert.Throws<InvalidDataFormatException>(() => Idx.Read(Corpus.Path("gzip-cut-in-last-member.idx.gz"))).Message);
    }

    /// <summary>Issue 16, item 11: an honest 2 MB gzip IDX that holds gigabytes is refused up front, with the size it would need, when memory cannot hold it.</summary>
    [Fact]
    public void DataLargerThanMemoryIsRefusedWithTheSizeItNeeds()
    {
        var header = new MemoryStream();
        Idx.Write(header, [20000, 32, 32], []);
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(header.ToArray());
            var zeros = new byte[1 << 20];
            for (long left = 20000L * 32 * 32; left > 0; left -= zeros.Length) z.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
        }
        var file = gz.ToArray();
        Assert.True(file.Length < 100_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        using (MemoryBudget.Pretend(5 << 20))
        {
            var e = Assert.Throws<NotEnoughMemoryException>(() => Idx.Read(new MemoryStream(file), "large.gz"));
            Assert.Contains("large.gz: its 20000×32×32 data needs about 19.5 MB; 5.0 MB of memory is available", e.Message);
        }
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 2_000_000);
        Assert.Equal(20000, Idx.Read(new MemoryStream(file), "large.gz").Count);     // with the memory, it loads
    }

    /// <summary>Writes an 8192×8192 grey PNG (a white page with a dark 7 in the middle) row by row, as a camera would: about 100 KB.</summary>
    internal static void WriteHugePng(string path)
    {
        const int side = 8192;
        using var f = File.Create(path);
        f.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, side);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), side);
        ihdr[8] = 8;
        Chunk(f, "IHDR", ihdr);
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[side + 1];
            for (int y = 0; y < side; y++)
            {
                row.AsSpan(1).Fill(240);
                // A 7: a bar across the top and a stroke down to the left, 3000 pixels tall.
                if (y is >= 2600 and < 2900) row.AsSpan(1 + 2700, 2800).Fill(20);
                else if (y is >= 2900 and < 5600) { int x = 5500 - (y - 2900) * 2500 / 2700; row.AsSpan(1 + x - 150, 300).Fill(20); }
                zs.Write(row);
            }
        }
        Chunk(f, "IDAT", z.ToArray());
        Chunk(f, "IEND", []);

        static void Chunk(Stream s, string type, byte[] body)
        {
            var head = new byte[8];
            BinaryPrimitives.WriteInt32BigEndian(head, body.Length);
            Encoding.ASCII.GetBytes(type, head.AsSpan(4));
            s.Write(head);
            s.Write(body);
            var crc = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.Append(Crc32.Append(0xFFFFFFFFu, head.AsSpan(4)), body) ^ 0xFFFFFFFFu);
            s.Write(crc);
        }
    }

    /// <summary>Issue 16, item 11: an 8192×8192 PNG took about 1 GB to predict on. Decoded row by row into the downscale, it takes a few megabytes.</summary>
    [Fact]
    public void AHugePictureIsDigitizedInBoundedMemory()
    {
        using var dir = new TempDir();
        WriteHugePng(dir.File("page.png"));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var grey = Image.ReadGrey(dir.File("page.png"), Digitizer.MaxInputSide, out int w, out int h);
        var digit = Digitizer.ToMnist(grey, w, h, "page.png");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 100L << 20, $"allocated {allocated:N0} bytes");
        Assert.Equal((1024, 1024), (w, h));
        Assert.Equal(784, digit.Length);
        Assert.True(digit.Max() > 200 && digit[0] == 0, "the digit is there, on black");
        // The same image read into an image folder at 28×28.
        before = GC.GetAllocatedBytesForCurrentThread();
        var small = Image.ReadGreyResized(dir.File("page.png"), 28, 28);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10L << 20);
        Assert.True(small.Min() < 200 && small.Max() > 235);
        // A PNG header found by the fuzz test: 5.3 million pixels wide, in 89 bytes. Refused before any row buffer is made.
        before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("out of range", Assert.Throws<InvalidDataFormatException>(() => Image.ReadGrey(Corpus.Path("wide-header.png"), 64, out _, out _)).Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    /// <summary>Streamed area averaging gives exactly what resampling the whole decoded image gives.</summary>
    [Fact]
    public void StreamedDownscalingEqualsWholeImageResampling()
    {
        var px = new byte[97 * 61 * 4];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(i * 31 % 253);
        var png = Png.Encode(new Image(97, 61, 4, px));
        var whole = Png.Decode(png).ToGrey();
        foreach (var (tw, th) in new[] { (28, 28), (13, 40), (200, 9), (97, 61) })
            Assert.Equal(Digitizer.Resample(whole, 97, 0, 0, 97, 61, tw, th), ReadResized(png, tw, th));
        // Fitting within a side keeps the aspect ratio: 97×61 into 48 becomes 48×30.
        var fitted = Image.ReadGrey(new MemoryStream(png), "p", 48, out int w, out int h);
        Assert.Equal((48, 30), (w, h));
        Assert.Equal(Digitizer.Resample(whole, 97, 0, 0, 97, 61, 48, 30), fitted);

        static float[] ReadResized(byte[] png, int w, int h)
        {
            using var dir = new TempDir();
            File.WriteAllBytes(dir.File("p.png"), png);
            return Image.ReadGreyResized(dir.File("p.png"), w, h);
        }
    }

    /// <summary>A CSV of one endless line is an error at the line limit, not an endless string.</summary>
    [Fact]
    public void AnEndlessCsvLineIsRefusedAtTheLimit()
    {
        var line = new MemoryStream();
        var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("1,", 1 << 16)));
        while (line.Length <= LocalData.MaxCsvLine * 2L) line.Write(chunk);
        line.Position = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataFormatException>(() => LocalData.ReadCsv(line, "endless.csv"));
        Assert.Contains("endless.csv:1: the line is longer than 4,194,304 characters", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20);
    }

    /// <summary>Issue 16, item 8: sizes a user gives are multiplied in checked arithmetic: --image-size 65536 overflowed to 0 pixels and passed the size check.</summary>
    [Fact]
    public void AnImageSizeThatOverflowsIsRefused()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("a"));
        var e = Assert.Throws<ArgumentException>(() => LocalData.ReadImageFolder(dir.Path, [65536, 65536], null));
        Assert.Contains("at most 1,048,576 pixels; received (65536, 65536)", e.Message);
    }

    /// <summary>A model file read whole (ONNX, Keras HDF5) is refused up front, naming it, when it would not fit in memory.</summary>
    [Fact]
    public void AModelFileReadWholeIsRefusedWhenItWouldNotFitInMemory()
    {
        using var dir = new TempDir();
        var model = new Sequential(new Layers.Flatten(inputShape: [4, 4]), new Layers.Dense(3, "softmax")) { Seed = 1 };
        model.Build([4, 4]);
        string path = dir.File("m.onnx");
        File.WriteAllBytes(path, Onnx.Export(model));
        using (MemoryBudget.Pretend(64))
        {
            var e = Assert.Throws<NotEnoughMemoryException>(() => Sequential.Load(path));
            Assert.Contains($"Reading {path} needs about", e.Message);
        }
        Assert.Equal([3], Sequential.Load(path).OutputShape);
    }
}
