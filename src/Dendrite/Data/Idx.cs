using System.Buffers.Binary;
using System.IO.Compression;

namespace Dendrite.Data;

/// <summary>A file or stream that is not what it claims to be. The message names the source and the problem.</summary>
public sealed class InvalidDataFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The contents of an IDX file: its dimensions and its unsigned bytes, row-major.</summary>
public sealed record IdxArray(int[] Dimensions, byte[] Data)
{
    public int Count => Dimensions[0];
}

/// <summary>
/// Reads IDX files (the MNIST format), raw or gzip-compressed (detected from the content, not the name).
/// Layout, big-endian: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions,
/// one 32-bit size per dimension, then the data. Everything is validated before the data is allocated:
/// a raw file's length must equal header + data; a gzip file's trailer must record that length too.
/// </summary>
public static class Idx
{
    /// <summary>The largest data block accepted (2 GiB - 1): beyond it the sizes are taken as corrupt.</summary>
    public const long MaxElements = int.MaxValue;

    public static IdxArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Serialization.InputFile.Check(path, "IDX file");
        using var fs = File.OpenRead(path);
        return Read(fs, path);
    }

    /// <summary>Reads from a seekable stream; <paramref name="name"/> appears in error messages.</summary>
    public static IdxArray Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        long start = stream.Position, length = stream.Length - start;
        Span<byte> sig = stackalloc byte[2];
        bool gzip = length >= 18 && ReadFully(stream, sig) == 2 && sig[0] == 0x1f && sig[1] == 0x8b;
        stream.Position = start;
        if (!gzip) return ReadBody(stream, name, length, null);

        // gzip's trailer holds the uncompressed size mod 2^32: a check before allocating anything.
        Span<byte> trailer = stackalloc byte[4];
        stream.Position = start + length - 4;
        ReadFully(stream, trailer);
        uint isize = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        stream.Position = start;
        try
        {
            using var gz = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
            return ReadBody(gz, name, null, (isize, length));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataFormatException($"{name}: the gzip data is corrupt ({e.Message}).", e);
        }
    }

    private static IdxArray ReadBody(Stream s, string name, long? rawLength, (uint isize, long compressed)? gz)
    {
        Span<byte> head = stackalloc byte[4];
        if (ReadFully(s, head) < 4) throw new InvalidDataFormatException($"{name}: too short to be an IDX file (no 4-byte magic number).");
        if (head[0] != 0 || head[1] != 0)
            throw new InvalidDataFormatException($"{name}: not an IDX file: the magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(head):X8} should start with two zero bytes.");
        if (head[2] != 0x08)
            throw new InvalidDataFormatException($"{name}: IDX type code 0x{head[2]:X2} is not supported; only unsigned bytes (0x08) are.");
        int rank = head[3];
        if (rank is < 1 or > 4) throw new InvalidDataFormatException($"{name}: IDX files with {rank} dimensions are not supported (1 to 4 are).");
        Span<byte> dimBytes = stackalloc byte[4 * rank];
        if (ReadFully(s, dimBytes) < dimBytes.Length) throw new InvalidDataFormatException($"{name}: truncated in the header ({rank} dimension sizes expected).");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.Slice(4 * i));
            if (d == 0 || d > int.MaxValue) throw new InvalidDataFormatException($"{name}: dimension {i} has an impossible size {d}.");
            dims[i] = (int)d;
            count *= d;
            if (count > MaxElements) throw new InvalidDataFormatException($"{name}: the header claims {Describe(dims)} = more than {MaxElements:N0} bytes of data; the file is corrupt.");
        }
        long headerLength = 4 + 4L * rank;
        if (rawLength is long len && len != headerLength + count)
            throw new InvalidDataFormatException(len < headerLength + count
                ? $"{name}: truncated: the header promises {Describe(dims)} = {count:N0} bytes of data but the file has {len - headerLength:N0}."
                : $"{name}: {len - headerLength - count:N0} unexpected bytes after the {Describe(dims)} data the header describes.");
        if (gz is var (isize, compressed))
        {
            if ((uint)(headerLength + count) != isize)
                throw new InvalidDataFormatException($"{name}: the header promises {Describe(dims)} = {count:N0} bytes of data, but the gzip trailer records {isize:N0} bytes in all; the file is truncated or mislabelled.");
            if (count > compressed * 1100L) // deflate cannot compress more than about 1032:1
                throw new InvalidDataFormatException($"{name}: the header claims {count:N0} bytes of data, impossible for a {compressed:N0}-byte gzip file.");
        }
        var data = GC.AllocateUninitializedArray<byte>((int)count);
        int got = ReadFully(s, data);
        if (got < count) throw new InvalidDataFormatException($"{name}: truncated: the header promises {Describe(dims)} = {count:N0} bytes of data but only {got:N0} are there.");
        if (gz is not null && s.ReadByte() >= 0) throw new InvalidDataFormatException($"{name}: unexpected bytes after the {Describe(dims)} data the header describes.");
        return new IdxArray(dims, data);
    }

    private static string Describe(int[] dims) => string.Join("×", dims);

    private static int ReadFully(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer.Slice(total));
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>Writes an unsigned-byte IDX file (raw), for tests and exports.</summary>
    public static void Write(Stream s, int[] dims, ReadOnlySpan<byte> data)
    {
        Span<byte> b = stackalloc byte[4];
        s.Write([0, 0, 0x08, (byte)dims.Length]);
        foreach (int d in dims) { BinaryPrimitives.WriteInt32BigEndian(b, d); s.Write(b); }
        s.Write(data);
    }
}
