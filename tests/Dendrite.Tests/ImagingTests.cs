using Dendrite.Data;
using Dendrite.Imaging;

namespace Dendrite.Tests;

public class ImagingTests
{
    private static (Dataset Train, Dataset Test) Data => ModelTests.Data.Value;

    /// <summary>An MNIST digit drawn as dark ink on paper, three times larger, off-centre, in colour.</summary>
    private static Image AsPhoto(ReadOnlySpan<byte> digit, int offsetX, int offsetY)
    {
        int w = 120, h = 100;
        var px = new byte[w * h * 3];
        px.AsSpan().Fill(230);
        for (int y = 0; y < 84; y++)
            for (int x = 0; x < 84; x++)
            {
                int v = digit[y / 3 * 28 + x / 3];
                int o = ((y + offsetY) * w + x + offsetX) * 3;
                px[o] = (byte)(230 - v * 0.8); px[o + 1] = (byte)(230 - v * 0.85); px[o + 2] = (byte)(230 - v * 0.7);
            }
        return new Image(w, h, 3, px);
    }

    [Fact]
    public void APhotographedDigitComesBackInMnistForm()
    {
        double totalCorrelation = 0;
        for (int i = 0; i < 20; i++)
        {
            var digit = Data.Test.Image(i);
            var back = Digitizer.ToMnist(AsPhoto(digit, 5 + i, 3 + i / 2));
            Assert.Equal(784, back.Length);
            totalCorrelation += Correlation(back, digit);
            // MNIST's own digits are centred by mass in 28×28: the round trip keeps the centre.
            var (cx, cy) = CentreOfMass(back);
            Assert.InRange(cx, 14, 15); Assert.InRange(cy, 14, 15);
        }
        Assert.True(totalCorrelation / 20 > 0.8, $"mean correlation {totalCorrelation / 20:F3}");
    }

    [Fact]
    public void ABlankImageIsRefused()
    {
        var blank = new Image(10, 10, 1, Enumerable.Repeat((byte)200, 100).ToArray());
        Assert.Contains("no digit", Assert.Throws<InvalidDataFormatException>(() => Digitizer.ToMnist(blank, "blank.png")).Message);
    }

    [Fact]
    public void PgmBinaryAndPlainDecode()
    {
        var p5 = System.Text.Encoding.ASCII.GetBytes("P5\n# comment\n3 2\n255\n").Concat(new byte[] { 0, 128, 255, 1, 2, 3 }).ToArray();
        Assert.Equal(new byte[] { 0, 128, 255, 1, 2, 3 }, Pgm.Decode(p5).Pixels);
        var p2 = System.Text.Encoding.ASCII.GetBytes("P2 2 2 15\n0 15\n 5 10\n");
        Assert.Equal(new byte[] { 0, 255, 85, 170 }, Pgm.Decode(p2).Pixels);
        Assert.Contains("truncated", Assert.Throws<InvalidDataFormatException>(() => Pgm.Decode(p5[..^2], "x.pgm")).Message);
    }

    [Fact]
    public void AHugeClaimedSizeIsRefusedBeforeAllocating()
    {
        var valid = Png.Encode(new Image(4, 4, 1, new byte[16]));
        // Patch IHDR to 60000×60000 and fix its CRC so only the size check can stop it.
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(valid.AsSpan(16), 60000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(valid.AsSpan(20), 60000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(valid.AsSpan(29), Crc32.Compute(valid.AsSpan(12, 17)));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("out of range", Assert.Throws<InvalidDataFormatException>(() => Png.Decode(valid, "big.png")).Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    private static double Correlation(float[] a, ReadOnlySpan<byte> b)
    {
        double ma = a.Average(), mb = 0;
        foreach (var v in b) mb += v;
        mb /= b.Length;
        double num = 0, da = 0, db = 0;
        for (int i = 0; i < a.Length; i++) { num += (a[i] - ma) * (b[i] - mb); da += (a[i] - ma) * (a[i] - ma); db += (b[i] - mb) * (b[i] - mb); }
        return num / Math.Sqrt(da * db);
    }

    private static (double, double) CentreOfMass(float[] img)
    {
        double m = 0, x = 0, y = 0;
        for (int i = 0; i < img.Length; i++) { m += img[i]; x += img[i] * (i % 28 + 0.5); y += img[i] * (i / 28 + 0.5); }
        return (x / m, y / m);
    }
}
