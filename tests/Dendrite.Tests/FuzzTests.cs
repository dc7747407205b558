using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Dendrite.Data;
using Dendrite.Imaging;
using Dendrite.Models;
using Dendrite.Serialization;

namespace Dendrite.Tests;

/// <summary>
/// Seeded, in-process fuzzing of every format Dendrite reads: 10,000 mutations of valid files each. Every outcome
/// must be our error type or a clean load, and a clean load must be the original (where the format has a checksum
/// or CRCs that cover it) or what an independent reference reader makes of the same bytes (where it has none). No
/// single input may allocate more than a cap. Mutations: bit flips, random and boundary bytes, 32-bit fields set to
/// boundary values, truncation, insertion, deletion and duplication of ranges.
/// </summary>
public class FuzzTests
{
    private const int Mutations = 10_000;

    /// <summary>A mutated copy of <paramref name="valid"/> (1 to 4 mutations).</summary>
    internal static byte[] Mutate(byte[] valid, Rng rng, string? alphabet = null)
    {
        var b = new List<byte>(valid);
        int count = 1 + rng.NextInt(4);
        for (int m = 0; m < count && b.Count > 0; m++)
        {
            int at = rng.NextInt(b.Count);
            switch (rng.NextInt(alphabet is null ? 8 : 9))
            {
                case 0: b[at] ^= (byte)(1 << rng.NextInt(8)); break;
                case 1: b[at] = (byte)rng.NextInt(256); break;
                case 2: b[at] = new byte[] { 0, 1, 0x7F, 0x80, 0xFF, (byte)'0', (byte)'9', (byte)',', (byte)'\n' }[rng.NextInt(9)]; break;
                case 3:
                    if (at + 4 <= b.Count)
                    {
                        uint v = new uint[] { 0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x00010000, 8192, 65535 }[rng.NextInt(8)];
                        for (int k = 0; k < 4; k++) b[at + k] = (byte)(rng.NextInt(2) == 0 ? v >> (24 - 8 * k) : v >> (8 * k));
                    }
                    break;
                case 4: b.RemoveRange(at, b.Count - at); break;
                case 5: b.InsertRange(at, Enumerable.Range(0, 1 + rng.NextInt(8)).Select(_ => (byte)rng.NextInt(256))); break;
                case 6: b.RemoveRange(at, Math.Min(b.Count - at, 1 + rng.NextInt(16))); break;
                case 7:
                    int len = Math.Min(b.Count - at, 1 + rng.NextInt(32));
                    b.InsertRange(rng.NextInt(b.Count), b.GetRange(at, len));
                    break;
                default: b[at] = (byte)alphabet![rng.NextInt(alphabet.Length)]; break;
            }
        }
        return b.ToArray();
    }

    /// <summary>Runs <paramref name="load"/> on each mutation: it throws our error type or returns; neither may allocate over <paramref name="cap"/>(input).</summary>
    internal static (int Loaded, int Rejected) Fuzz(byte[][] samples, ulong seed, Func<byte[], long> cap, Action<byte[], int> load,
        Func<byte[], byte[]>? after = null, string? alphabet = null, int mutations = Mutations)
    {
        var rng = new Rng(seed);
        int loaded = 0, rejected = 0;
        for (int i = 0; i < mutations; i++)
        {
            int sample = i % samples.Length;
            var input = Mutate(samples[sample], rng, alphabet);
            if (after is not null) input = after(input);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { load(input, sample); loaded++; }
            catch (InvalidDataFormatException) { rejected++; }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"mutation {i} (seed {seed}) of sample {sample}: {e.GetType().Name}: {e.Message}\ninput (base64): {Convert.ToBase64String(input)}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated <= cap(input), $"mutation {i} (seed {seed}) of sample {sample} allocated {allocated:N0} bytes (cap {cap(input):N0}); input (base64): {Convert.ToBase64String(input)}");
        }
        return (loaded, rejected);
    }

    private static float[] Probe(Sequential m)
    {
        var x = new float[Tensor.ProductOf(m.InputShape)];
        for (int i = 0; i < x.Length; i++) x[i] = i % 5;
        var y = new float[Tensor.ProductOf(m.OutputShape)];
        m.Predict(x, y);
        return y;
    }

    /// <summary>Model files as saved (checksummed): every mutation that loads must be the original model, weights and predictions.</summary>
    [Fact]
    public void ModelFiles()
    {
        var m = IntegrityTests.Small();
        var samples = new[] { IntegrityTests.Bytes(m.Save), IntegrityTests.Bytes(m.SaveCheckpoint) };
        var weights = m.Weights.Select(w => w.Value.ToArray()).ToArray();
        var probe = Probe(m);
        var (loaded, rejected) = Fuzz(samples, 1401, input => 2_000_000 + 64L * input.Length, (input, sampleIndex) =>
        {
            var back = ModelFile.Load(new MemoryStream(input), "fuzz.dendrite", out _);
            Assert.Equal(weights, back.Weights.Select(w => w.Value.ToArray()).ToArray());
            Assert.Equal(probe, Probe(back));
        });
        Assert.True(rejected > Mutations * 0.95, $"loaded {loaded}, rejected {rejected}");
    }

    /// <summary>
    /// Model files mutated and then re-sealed (the checksum recomputed), so that the structural checks behind it are
    /// what judge them: each loads and predicts finite values, or is our error.
    /// </summary>
    [Fact]
    public void ModelFilesResealed()
    {
        var m = IntegrityTests.Small();
        var samples = new[] { IntegrityTests.Bytes(m.Save), IntegrityTests.Bytes(m.SaveCheckpoint), Corpus.Read("legacy-no-checksum.dendrite") };
        const string json = "0123456789[]{},:\"-e.";
        var (loaded, rejected) = Fuzz(samples, 1402, input => 2_000_000 + 64L * input.Length, (input, sampleIndex) =>
        {
            var back = ModelFile.Load(new MemoryStream(input), "fuzz.dendrite", out _);
            Assert.All(back.Weights, w => Assert.All(w.Value.ToArray(), v => Assert.True(float.IsFinite(v))));
            if (Tensor.ProductOf(back.InputShape) <= 1 << 16) Probe(back);
        }, after: b => { SafeTensors.Seal(b); return b; }, alphabet: json);
        Assert.True(loaded > 100 && rejected > 1000, $"loaded {loaded}, rejected {rejected}");
    }

    private static byte[] IdxFile(int[] dims, Func<int, byte> value)
    {
        var ms = new MemoryStream();
        Idx.Write(ms, dims, Enumerable.Range(0, dims.Aggregate(1, (a, d) => a * d)).Select(value).ToArray());
        return ms.ToArray();
    }

    private static byte[] Gzip(byte[] raw)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(raw);
        return ms.ToArray();
    }

    /// <summary>A reference IDX reader, written from the format's description: null when the bytes are not a valid unsigned-byte IDX file.</summary>
    private static IdxArray? ReferenceIdx(byte[] b)
    {
        if (b.Length < 4 || b[0] != 0 || b[1] != 0 || b[2] != 8 || b[3] is < 1 or > 4) return null;
        int rank = b[3];
        if (b.Length < 4 + 4 * rank) return null;
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(4 + 4 * i));
            if (d == 0 || d > int.MaxValue) return null;
            dims[i] = (int)d;
            count *= d;
            if (count > int.MaxValue) return null;
        }
        return b.Length - 4 - 4 * rank == count ? new IdxArray(dims, b[(4 + 4 * rank)..]) : null;
    }

    /// <summary>IDX, raw (checked against the reference reader) and gzip (one member or two; the gzip CRC covers the data, so a load is the original).</summary>
    [Fact]
    public void IdxFiles()
    {
        var images = IdxFile([3, 6, 5], i => (byte)(i * 37));
        var labels = IdxFile([7], i => (byte)(i % 10));
        var samples = new[] { images, labels, Gzip(images), Gzip(labels), [.. Gzip(images[..40]), .. Gzip(images[40..])] };
        var originals = new[] { images, labels, images, labels, images };
        var (loaded, rejected) = Fuzz(samples, 1403, input => 1_500_000 + 1100L * input.Length, (input, sample) =>
        {
            bool gzip = input.Length > 1 && input[0] == 0x1f && input[1] == 0x8b;
            IdxArray got;
            try { got = Idx.Read(new MemoryStream(input), "fuzz.idx"); }
            catch (InvalidDataFormatException)
            {
                if (!gzip) Assert.Null(ReferenceIdx(input));   // refused exactly when the reference refuses
                throw;
            }
            Assert.True(!gzip || sample >= 2, "a raw file mutated into gzip loaded");
            var expected = gzip ? ReferenceIdx(originals[sample])! : ReferenceIdx(input);
            Assert.NotNull(expected);
            Assert.Equal(expected.Dimensions, got.Dimensions);
            Assert.Equal(expected.Data, got.Data);
        });
        Assert.True(loaded > 500 && rejected > 5000, $"loaded {loaded}, rejected {rejected}");
    }

    internal static byte[] Chunk(string type, byte[] body)
    {
        var c = new byte[12 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(c, body.Length);
        Encoding.ASCII.GetBytes(type, c.AsSpan(4));
        body.CopyTo(c, 8);
        BinaryPrimitives.WriteUInt32BigEndian(c.AsSpan(8 + body.Length), Crc32.Compute(c.AsSpan(4, 4 + body.Length)));
        return c;
    }

    /// <summary>An 8-bit palette PNG with transparency, split over two IDAT chunks and with a text chunk: what our encoder never writes.</summary>
    internal static byte[] PalettePng(int w, int h)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8; ihdr[9] = 3;
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < h; y++)
            {
                zs.WriteByte((byte)(y % 5));   // every filter type
                for (int x = 0; x < w; x++) zs.WriteByte((byte)((x + y) % 4));
            }
        var data = z.ToArray();
        var palette = Enumerable.Range(0, 768).Select(i => (byte)(i * 5)).ToArray();   // 256 entries: every index a filter makes is valid
        return [137, 80, 78, 71, 13, 10, 26, 10, .. Chunk("IHDR", ihdr), .. Chunk("PLTE", palette), .. Chunk("tRNS", [255, 128]),
            .. Chunk("tEXt", "Comment\0fuzz"u8.ToArray()), .. Chunk("IDAT", data[..(data.Length / 2)]), .. Chunk("IDAT", data[(data.Length / 2)..]), .. Chunk("IEND", [])];
    }

    /// <summary>Recomputes every chunk CRC that can be found (the re-sealed PNG variant: the checks behind the CRCs judge it).</summary>
    internal static byte[] ResealPng(byte[] b)
    {
        int pos = 8;
        while (pos + 12 <= b.Length)
        {
            uint len = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(pos));
            if (len > b.Length - pos - 12) break;
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(pos + 8 + (int)len), Crc32.Compute(b.AsSpan(pos + 4, 4 + (int)len)));
            pos += 12 + (int)len;
        }
        return b;
    }

    /// <summary>PNGs: CRCs cover every chunk, so what decodes is the original, by the whole decoder and by the streamed grey path.</summary>
    [Fact]
    public void PngFiles()
    {
        var px = new byte[30 * 20 * 4];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(i * 13 % 251);
        var grey = new byte[17 * 9];
        for (int i = 0; i < grey.Length; i++) grey[i] = (byte)(i * 7);
        var samples = new[] { Png.Encode(new Image(30, 20, 4, px)), Png.Encode(new Image(17, 9, 1, grey)), PalettePng(11, 7) };
        var originals = samples.Select(s => Png.Decode(s)).ToArray();
        var greys = originals.Select(o => o.ToGrey()).ToArray();
        var (loaded, rejected) = Fuzz(samples, 1404, input => 3_000_000 + 1100L * input.Length, (input, sample) =>
        {
            var image = Png.Decode(input, "fuzz.png");
            Assert.Equal((originals[sample].Width, originals[sample].Height, originals[sample].Channels), (image.Width, image.Height, image.Channels));
            Assert.Equal(originals[sample].Pixels, image.Pixels);
            Assert.Equal(greys[sample], Image.ReadGrey(new MemoryStream(input), "fuzz.png", 64, out _, out _));
        });
        Assert.True(rejected > Mutations * 0.95, $"loaded {loaded}, rejected {rejected}");
        // Re-sealed: the size, filter, palette and inflate checks behind the CRCs; a decode is whatever the bytes say, in bounded memory.
        (loaded, rejected) = Fuzz(samples, 1405, input => 3_000_000 + 1100L * input.Length, (input, sampleIndex) =>
        {
            var image = Png.Decode(input, "fuzz.png");
            Assert.Equal((long)image.Width * image.Height * image.Channels, image.Pixels.Length);
            Image.ReadGrey(new MemoryStream(input), "fuzz.png", 16, out int w, out int h);
            Assert.True(w <= 16 && h <= 16);
        }, after: ResealPng);
        Assert.True(loaded > 100 && rejected > 1000, $"re-sealed: loaded {loaded}, rejected {rejected}");
    }

    /// <summary>The CSV reader as it was, a straightforward split of each line: the reference the bounded reader must agree with.</summary>
    private static Dataset ReferenceCsv(string text)
    {
        var images = new List<byte>();
        var labels = new List<byte>();
        int width = -1, lineNo = 0;
        var lines = text.Split(["\r\n", "\n", "\r"], StringSplitOptions.None);
        if (lines.Length > 0 && lines[^1].Length == 0) lines = lines[..^1];
        foreach (var line in lines)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (lineNo == 1 && !int.TryParse(cells[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _)) continue;
            if (width < 0) { width = cells.Length - 1; if (width < 1) throw new InvalidDataFormatException("no pixels"); }
            if (cells.Length - 1 != width) throw new InvalidDataFormatException("width");
            for (int i = 0; i < cells.Length; i++)
            {
                if (!int.TryParse(cells[i].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < 0 || v > 255) throw new InvalidDataFormatException("value");
                if (i == 0) labels.Add((byte)v); else images.Add((byte)v);
            }
        }
        if (labels.Count == 0) throw new InvalidDataFormatException("empty");
        int side = (int)Math.Round(Math.Sqrt(width));
        return new Dataset("ref", images.ToArray(), side * side == width ? [side, side] : [width], labels.ToArray(),
            Enumerable.Range(0, labels.Max() + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray());
    }

    /// <summary>CSV: the bounded reader loads exactly what the reference reader loads, and refuses what it refuses.</summary>
    [Fact]
    public void CsvFiles()
    {
        var rows = new StringBuilder("label,p0,p1,p2,p3,p4,p5,p6,p7,p8\n");
        for (int r = 0; r < 12; r++) rows.Append(r % 3).Append(',').AppendJoin(',', Enumerable.Range(0, 9).Select(j => (r * 31 + j * 17) % 256)).Append('\n');
        var samples = new[] { Encoding.UTF8.GetBytes(rows.ToString()), Encoding.UTF8.GetBytes(rows.ToString().Replace("\n", "\r\n")[34..]) };
        var (loaded, rejected) = Fuzz(samples, 1406, input => 1_000_000 + 64L * input.Length, (input, sampleIndex) =>
        {
            string text = new StreamReader(new MemoryStream(input), Encoding.UTF8, detectEncodingFromByteOrderMarks: true).ReadToEnd();
            Dataset? reference = null;
            try { reference = ReferenceCsv(text); } catch (InvalidDataFormatException) { }
            Dataset got;
            try { got = LocalData.ReadCsv(new MemoryStream(input), "fuzz.csv"); }
            catch (InvalidDataFormatException) { Assert.Null(reference); throw; }
            Assert.NotNull(reference);
            Assert.Equal(reference.ItemShape, got.ItemShape);
            Assert.Equal(reference.Images, got.Images);
            Assert.Equal(reference.Labels, got.Labels);
            Assert.Equal(reference.Classes, got.Classes);
        }, alphabet: "0123456789,\n\r -+ ");
        Assert.True(loaded > 300 && rejected > 1000, $"loaded {loaded}, rejected {rejected}");
    }

    /// <summary>ONNX files (Dendrite's own export of a small CNN and an MLP): each mutation imports or is our error.</summary>
    [Fact]
    public void OnnxFiles()
    {
        var cnn = new Sequential(new Layers.Reshape([8, 8, 1], inputShape: [8, 8]), new Layers.Rescaling(1f / 255), new Layers.ZeroPadding2D(1),
            new Layers.Conv2D(3, 3, strides: 2, padding: "same", activation: "relu"), new Layers.BatchNormalization(),
            new Layers.MaxPooling2D(2), new Layers.Flatten(), new Layers.Dense(4, "softmax")) { Seed = 3 };
        cnn.Build([8, 8]);
        var mlp = new Sequential(new Layers.Flatten(inputShape: [4, 4]), new Layers.Dense(5, "tanh"), new Layers.Dense(3, "sigmoid")) { Seed = 4 };
        mlp.Build([4, 4]);
        var samples = new[] { Onnx.Export(cnn), Onnx.Export(mlp) };
        string folder = Directory.CreateTempSubdirectory("dendrite-fuzz").FullName;
        try
        {
            var (loaded, rejected) = Fuzz(samples, 1801, input => 4_000_000 + 64L * input.Length, (input, _) =>
            {
                var m = Serialization.Import.ModelImport.FromOnnx(input, "fuzz.onnx", folder, null);
                Assert.True(m.IsBuilt);
            });
            Assert.True(loaded > 100 && rejected > 1000, $"loaded {loaded}, rejected {rejected}");
        }
        finally { Directory.Delete(folder, true); }
    }

    /// <summary>Keras files (the v3 zip and the legacy HDF5 file of a small CNN, read with PureHDF): each mutation imports or is our error.</summary>
    [Fact]
    public void KerasFiles()
    {
        var (_, specs) = KerasImportTests.Cnn();
        var samples = new[] { Dendrite.Tests.KerasFiles.Zip(specs), Dendrite.Tests.KerasFiles.Legacy(specs) };
        var (loaded, rejected) = Fuzz(samples, 1802, input => 8_000_000 + 64L * input.Length, (input, sample) =>
        {
            using var f = sample == 0
                ? Serialization.Import.KerasFile.OpenZip(new MemoryStream(input, writable: false), "fuzz.keras")
                : Serialization.Import.KerasFile.OpenHdf5(input, "fuzz.h5");
            var m = Serialization.Import.ModelImport.FromKeras(f, "fuzz", null, out _);
            Assert.True(m.IsBuilt);
        });
        Assert.True(loaded > 100 && rejected > 1000, $"loaded {loaded}, rejected {rejected}");
    }
}
