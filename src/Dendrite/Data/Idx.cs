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
/// Reads IDX files (the MNIST format), raw or gzip-compressed (detected from the content, not the name; one gzip
/// member or several, as pigz or `cat a.gz b.gz` write them). Layout, big-endian: two zero bytes, a type code
/// (0x08 = unsigned byte), the number of dimensions, one 32-bit size per dimension, then the data. Everything is
/// validated before the data is allocated: a raw file's length must equal header + data; a gzip file cannot hold
/// more than deflate's 1032:1 ratio allows; and the data must fit in the memory there is, or the file is refused
/// with the size it would need. The inflater is asked for exactly the bytes the header describes, and one more to
/// prove there are none.
/// </summary>
public static class Idx
{
    /// <summary>The largest data block accepted (2 GiB - 1): beyond it the sizes are taken as corrupt.</summary>
    public const long MaxElements = int.MaxValue;

    /// <summary>Largest IDX file read: a raw file holds at most <see cref="MaxElements"/> bytes and a header.</summary>
    public const long MaxFileBytes = MaxElements + 4 + 4 * 4;

    public static IdxArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = InputFile.Open(path, "an IDX file", MaxFileBytes);
        return Read(fs, path);
    }

    /// <summary>Reads from a seekable stream; <paramref name="name"/> appears in error messages.</summary>
    public static IdxArray Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            // Copied, at most as much as an IDX file can hold.
            var copy = new MemoryStream();
            var buffer = new byte[1 << 16];
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                if (copy.Length + n > Math.Min(MaxFileBytes, Array.MaxLength)) throw new InvalidDataFormatException($"{name}: more bytes than an IDX file can hold.");
                copy.Write(buffer, 0, n);
            }
            copy.Position = 0;
            stream = copy;
        }
        long start = stream.Position, length = stream.Length - start;
        Span<byte> sig = stackalloc byte[2];
        bool gzip = length >= 18 && ReadFully(stream, sig) == 2 && sig[0] == 0x1f && sig[1] == 0x8b;
        stream.Position = start;
        if (!gzip) return ReadBody(stream, name, length, null);
        // The trailer's size (mod 2^32) is only the last member's when there are several, so it bounds nothing here;
        // the deflate ratio and the memory there is do. The inflater checks the CRC and size of each member it sees
        // end, but says nothing when the file stops inside the last one: the file's last 8 bytes must be the trailer
        // of its last member, the CRC-32 and size of the data's last ISIZE bytes.
        Span<byte> trailer = stackalloc byte[8];
        stream.Position = start + length - 8;
        ReadFully(stream, trailer);
        stream.Position = start;
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(trailer), isize = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        try
        {
            IdxArray idx;
            using (var gz = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true)) idx = ReadBody(gz, name, null, length);
            long total = 4 + 4L * idx.Dimensions.Length + idx.Data.Length;
            if (isize > total || !LastMemberMatches(idx, isize, crc))
                throw new InvalidDataFormatException($"{name}: the gzip data does not end with its last member's trailer: the file is truncated, or has bytes after it.");
            return idx;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataFormatException($"{name}: the gzip data is corrupt ({e.Message}).", e);
        }
    }

    private static IdxArray ReadBody(Stream s, string name, long? rawLength, long? compressed)
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
        if (compressed is long packed && count > packed * 1100L) // deflate cannot compress more than about 1032:1
            throw new InvalidDataFormatException($"{name}: the header claims {count:N0} bytes of data, impossible for a {packed:N0}-byte gzip file.");
        Models.MemoryBudget.Require(count, $"{name}: its {Describe(dims)} data");
        var data = GC.AllocateUninitializedArray<byte>((int)count);
        int got = ReadFully(s, data);
        if (got < count) throw new InvalidDataFormatException($"{name}: truncated: the header promises {Describe(dims)} = {count:N0} bytes of data but only {got:N0} are there.");
        if (compressed is not null && s.ReadByte() >= 0) throw new InvalidDataFormatException($"{name}: unexpected bytes after the {Describe(dims)} data the header describes.");
        return new IdxArray(dims, data);
    }

    /// <summary>True when the last <paramref name="isize"/> bytes of the uncompressed file (header and data) have CRC-32 <paramref name="crc"/>.</summary>
    private static bool LastMemberMatches(IdxArray idx, uint isize, uint crc)
    {
        Span<byte> header = stackalloc byte[4 + 4 * idx.Dimensions.Length];
        header[2] = 0x08; header[3] = (byte)idx.Dimensions.Length;
        for (int i = 0; i < idx.Dimensions.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header[(4 + 4 * i)..], idx.Dimensions[i]);
        long skip = header.Length + (long)idx.Data.Length - isize;   // bytes before the last member's data
        uint c = 0xFFFFFFFFu;
        if (skip < header.Length) c = Imaging.Crc32.Append(c, header[(int)skip..]);
        c = Imaging.Crc32.Append(c, idx.Data.AsSpan((int)Math.Max(0, skip - header.Length)));
        return (c ^ 0xFFFFFFFFu) == crc;
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
