using System.IO.Compression;
using Dendrite.Data;

namespace Dendrite.Tests;

public class IdxTests
{
    private static byte[] ImageFile(int count, int rows = 28, int cols = 28, int? extra = null)
    {
        var ms = new MemoryStream();
        var data = new byte[count * rows * cols + (extra ?? 0)];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 7);
        Idx.Write(ms, [count, rows, cols], data);
        return ms.ToArray();
    }

    private static byte[] Gzip(byte[] raw)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(raw);
        return ms.ToArray();
    }

    [Fact]
    public void ReadsRawAndGzipIdentically()
    {
        var raw = ImageFile(3);
        var a = Idx.Read(new MemoryStream(raw), "raw");
        var b = Idx.Read(new MemoryStream(Gzip(raw)), "gz");
        Assert.Equal([3, 28, 28], a.Dimensions);
        Assert.Equal(a.Dimensions, b.Dimensions);
        Assert.Equal(a.Data, b.Data);
        Assert.Equal((byte)7, a.Data[1]);
    }

    [Fact]
    public void RejectsAWrongMagicNumber()
    {
        var raw = ImageFile(1);
        raw[0] = 0x12;
        var e = Assert.Throws<InvalidDataFormatException>(() => Idx.Read(new MemoryStream(raw), "bad.idx"));
        Assert.Contains("bad.idx", e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void RejectsAnUnsupportedTypeCode()
    {
        var raw = ImageFile(1);
        raw[2] = 0x0D;
        Assert.Contains("type code 0x0D", Assert.Throws<InvalidDataFormatException>(() => Idx.Read(new MemoryStream(raw), "f")).Message);
    }

    [Fact]
    public void RejectsATruncatedRawFile()
    {
        var raw = ImageFile(2);
        var e = Assert.Throws<InvalidDataFormatException>(() => Idx.Read(new MemoryStream(raw[..^100]), "short.idx"));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void RejectsATruncatedGzipFile()
    {
        var gz = Gzip(ImageFile(50));
        var e = Assert.Throws<InvalidDataFormatException>(() => Idx.Read(new MemoryStream(gz[..(gz.Length / 2)]), "short.gz"));
        Assert.Contains("short.gz", e.Message);
    }

    [Fact]
    public void RejectsTrailingBytes()
    {
        var e = Assert.Throws<InvalidDataFormatException>(() => Idx.Read(new MemoryStream(ImageFile(2, extra: 5)), "long.idx"));
        Assert.Contains("unexpected bytes", e.Message);
    }

    [Fact]
    public void RejectsAbsurdDimensionsWithoutAllocatingThem()
    {
        var raw = ImageFile(1);
        raw[4] = 0x7F; // count = 0x7F000001: 2 billion images of 784 bytes
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataFormatException>(() => Idx.Read(new MemoryStream(raw), "huge.idx"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000, "no large allocation before the check");
        Assert.Contains("corrupt", e.Message);

        // Plausible total but far more than the compressed file can hold: rejected from the gzip trailer.
        var lying = ImageFile(1);
        lying[7] = 100; // count 100, data for 1
        before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataFormatException>(() => Idx.Read(new MemoryStream(Gzip(lying)), "lying.gz"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void RejectsImageAndLabelCountsThatDisagree()
    {
        var images = Idx.Read(new MemoryStream(ImageFile(3)), "i");
        var labels = new IdxArray([2], [1, 2]);
        var e = Assert.Throws<InvalidDataFormatException>(() => LocalData.Pair("set", images, labels, Mnist.ClassNames));
        Assert.Contains("3 images but 2 labels", e.Message);
    }

    [Fact]
    public void RejectsLabelsOutOfRange()
    {
        var e = Assert.Throws<InvalidDataFormatException>(() => new Dataset("d", new byte[4 * 2], [2, 2], [1, 12], Mnist.ClassNames));
        Assert.Contains("label 12 of item 1", e.Message);
    }

    [Fact]
    public void TheEmbeddedMnistIsTheOfficialData()
    {
        var (train, test) = Mnist.Load();
        Assert.Equal(60000, train.Count);
        Assert.Equal(10000, test.Count);
        Assert.Equal([28, 28], train.ItemShape);
        Assert.Equal(new byte[] { 5, 0, 4, 1, 9, 2, 1, 3, 1, 4 }, train.Labels[..10]);
        Assert.Equal(new byte[] { 7, 2, 1, 0, 4, 1, 4, 9, 5, 9 }, test.Labels[..10]);
        int[] hist = new int[10];
        foreach (byte l in test.Labels) hist[l]++;
        Assert.Equal([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009], hist);
        Assert.Equal(33.32, train.Images.Average(b => (double)b), 2);
    }

    [Fact]
    public void LoadsFromADirectoryOfRawFiles()
    {
        var dir = Directory.CreateTempSubdirectory("dendrite-idx-").FullName;
        try
        {
            void Write(string name, int[] dims, byte[] data)
            {
                using var f = File.Create(Path.Combine(dir, name));
                Idx.Write(f, dims, data);
            }
            Write("train-images-idx3-ubyte", [2, 28, 28], new byte[2 * 784]);
            Write("train-labels-idx1-ubyte", [2], [3, 4]);
            Write("t10k-images-idx3-ubyte", [1, 28, 28], new byte[784]);
            Write("t10k-labels-idx1-ubyte", [1], [9]);
            var (train, test) = Mnist.Load(dir);
            Assert.Equal(new byte[] { 3, 4 }, train.Labels);
            Assert.Equal(9, test.Labels[0]);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ToCategoricalEncodesAndChecksLabels()
    {
        var t = Datasets.ToCategorical(new Tensor([2f, 0f], 2), 3);
        Assert.Equal([0f, 0f, 1f, 1f, 0f, 0f], t.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Datasets.ToCategorical(new Tensor([3f], 1), 3));
    }
}
