using System.Buffers.Binary;
using Dendrite.Data;

namespace Dendrite.Serialization.Import;

/// <summary>
/// Checks, before PureHDF reads an HDF5 file, the length fields that PureHDF allocates an array for before it reads
/// the bytes: the objects of a global heap collection (where variable-length strings such as Keras's
/// <c>model_config</c> live), and the link names, attribute values and fill values in version 2 object headers and
/// their continuation blocks. A
/// length that runs past the end of the file would otherwise cost an allocation of up to 2 GiB from a file of a few
/// kilobytes; here it is refused with a message instead. Found by the in-process fuzz test (FuzzTests.KerasFiles).
/// </summary>
internal static class Hdf5Guard
{
    private static ReadOnlySpan<byte> Superblock => [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n'];

    /// <summary>Throws <see cref="InvalidDataFormatException"/> naming <paramref name="what"/> if a checked length runs past the end of <paramref name="file"/>.</summary>
    public static void Check(ReadOnlySpan<byte> file, string what)
    {
        // The superblock sits at 0, 512, 1024, 2048, ... (after a user block), as the HDF5 library searches for it.
        long at = -1;
        for (long p = 0; p + 16 <= file.Length; p = p == 0 ? 512 : p * 2)
            if (file.Slice((int)p, 8).SequenceEqual(Superblock)) { at = p; break; }
        if (at < 0) return; // PureHDF refuses the file itself
        int version = file[(int)at + 8];
        int offsets = version <= 1 ? At(file, at + 13) : At(file, at + 9);
        int lengths = version <= 1 ? At(file, at + 14) : At(file, at + 10);
        if (offsets is not (2 or 4 or 8) || lengths is not (2 or 4 or 8)) return; // PureHDF refuses these sizes
        long baseAddress = version <= 1 ? (long)Math.Min(Read(file, at + 24, offsets), long.MaxValue) : at;

        var walked = new HashSet<long>();
        for (int p = file.IndexOf("GCOL"u8); p >= 0; p = Next(file, p, "GCOL"u8))
            GlobalHeap(file, p, lengths, what);
        for (int p = file.IndexOf("OHDR"u8); p >= 0; p = Next(file, p, "OHDR"u8))
            ObjectHeader(file, p, offsets, lengths, baseAddress, walked, what);
    }

    private static int Next(ReadOnlySpan<byte> file, int p, ReadOnlySpan<byte> signature)
    {
        int i = file[(p + 1)..].IndexOf(signature);
        return i < 0 ? -1 : p + 1 + i;
    }

    private static int At(ReadOnlySpan<byte> file, long p) => p < file.Length ? file[(int)p] : -1;

    /// <summary>An unsigned little-endian field of <paramref name="size"/> bytes at <paramref name="p"/>, or ulong.MaxValue past the end.</summary>
    private static ulong Read(ReadOnlySpan<byte> file, long p, int size)
    {
        if (p < 0 || p + size > file.Length) return ulong.MaxValue;
        ulong v = 0;
        for (int i = size - 1; i >= 0; i--) v = (v << 8) | file[(int)p + i];
        return v;
    }

    private static InvalidDataFormatException Fail(string what, string why) => new($"{what} is not a readable HDF5 file: {why}");

    /// <summary>Walks a global heap collection's objects as PureHDF does; each object's size must fit in the file.</summary>
    private static void GlobalHeap(ReadOnlySpan<byte> file, long p, int lengths, string what)
    {
        ulong size = Read(file, p + 8, lengths);
        ulong header = 8UL + (ulong)lengths;
        ulong remaining = size - header; // PureHDF's arithmetic, wrap-around included
        long q = p + 8 + lengths;
        while (remaining > header && q < file.Length)
        {
            ulong index = Read(file, q, 2);
            if (index == 0 || index == ulong.MaxValue) return;
            ulong objectSize = Read(file, q + 8, lengths);
            long data = q + 8 + lengths;
            if (objectSize > (ulong)Math.Max(0, file.Length - data))
                throw Fail(what, $"a global heap object at byte {q:N0} declares {objectSize:N0} bytes, past the end of the file.");
            ulong padded = (objectSize + 7) / 8 * 8;
            remaining -= 8UL + (ulong)lengths + padded;
            q = data + (long)padded;
        }
    }

    /// <summary>Walks a version 2 object header's messages (and its continuation blocks) as PureHDF does; each link name must fit in the file.</summary>
    private static void ObjectHeader(ReadOnlySpan<byte> file, long p, int offsets, int lengths, long baseAddress, HashSet<long> walked, string what)
    {
        if (!walked.Add(p) || At(file, p + 4) != 2) return;
        int flags = file[(int)p + 5];
        long q = p + 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
        int chunkField = 1 << (flags & 3);
        ulong chunk = Read(file, q, chunkField);
        if (chunk == ulong.MaxValue) return;
        Messages(file, q + chunkField, chunk, (flags & 0x04) != 0, offsets, lengths, baseAddress, walked, what);
    }

    private static void Messages(ReadOnlySpan<byte> file, long q, ulong remaining, bool creationOrder, int offsets, int lengths,
        long baseAddress, HashSet<long> walked, string what)
    {
        ulong prefix = creationOrder ? 6UL : 4UL;
        var continuations = new List<(ulong Offset, ulong Length)>();
        while (remaining > prefix && q + (long)prefix <= file.Length)
        {
            int type = file[(int)q];
            ulong dataSize = Read(file, q + 1, 2);
            long data = q + (long)prefix;
            bool shared = (At(file, q + 3) & 0x02) != 0; // the message itself is elsewhere
            if (type == 0x06) LinkName(file, data, what);
            else if (type == 0x0C && !shared) Attribute(file, data, lengths, what);
            else if (type == 0x04 && !shared) Sized(file, data, "an old-style fill value", what);
            else if (type == 0x05 && !shared) FillValue(file, data, what);
            else if (type == 0x10) continuations.Add((Read(file, data, offsets), Read(file, data + offsets, lengths)));
            remaining -= dataSize + prefix;
            q = data + (long)dataSize;
        }
        foreach (var (offset, length) in continuations)
        {
            if (offset > (ulong)file.Length || length > (ulong)file.Length) continue; // PureHDF fails reading it
            long block = baseAddress + (long)offset;
            if (block < 0 || block + 4 > file.Length || !file.Slice((int)block, 4).SequenceEqual("OCHK"u8) || !walked.Add(block)) continue;
            Messages(file, block + 4, length - 8, creationOrder, offsets, lengths, baseAddress, walked, what);
        }
    }

    /// <summary>
    /// An attribute's value, whose size PureHDF takes as its dataspace's element count times its datatype's size and
    /// allocates before reading, must fit in the file. The datatype and dataspace are found where the message's
    /// declared name, datatype and dataspace sizes put them (shared ones live elsewhere and are not checked here).
    /// </summary>
    private static void Attribute(ReadOnlySpan<byte> file, long p, int lengths, string what)
    {
        int version = At(file, p), flags = At(file, p + 1);
        ulong nameSize = Read(file, p + 2, 2), typeSize = Read(file, p + 4, 2);
        if (version is not (1 or 2 or 3) || nameSize == ulong.MaxValue || typeSize == ulong.MaxValue) return;
        if (version > 1 && (flags & 0x03) != 0) return;
        static long Pad(ulong n, int version) => (long)(version == 1 ? (n + 7) / 8 * 8 : n);
        long type = p + (version == 3 ? 9 : 8) + Pad(nameSize, version);
        long space = type + Pad(typeSize, version);
        ulong elementSize = Read(file, type + 4, 4);
        int rank = At(file, space + 1), spaceVersion = At(file, space);
        if (elementSize == ulong.MaxValue || rank < 0 || spaceVersion is not (1 or 2)) return;
        long dims = space + (spaceVersion == 1 ? 8 : 4);
        ulong bytes = elementSize;
        for (int i = 0; i < rank; i++)
        {
            ulong d = Read(file, dims + (long)i * lengths, lengths);
            if (d == ulong.MaxValue) return;
            bytes = d == 0 ? 0 : bytes > ulong.MaxValue / d ? ulong.MaxValue : bytes * d;
        }
        int asInt = unchecked((int)bytes);
        if (bytes > int.MaxValue || (asInt > 0 && asInt > file.Length - space))
            throw Fail(what, $"an attribute at byte {p:N0} declares a value of {bytes:N0} bytes, past the end of the file.");
    }

    /// <summary>A fill value message: versions 1 and 2 hold a size when the value is defined, version 3 when its flags say so.</summary>
    private static void FillValue(ReadOnlySpan<byte> file, long p, string what)
    {
        int version = At(file, p);
        if (version is 1 or 2 && At(file, p + 3) == 1) Sized(file, p + 4, "a fill value", what);
        else if (version == 3 && (At(file, p + 1) & 0x30) == 0x20) Sized(file, p + 2, "a fill value", what);
    }

    /// <summary>A 32-bit size at <paramref name="p"/> that PureHDF allocates before reading the bytes after it.</summary>
    private static void Sized(ReadOnlySpan<byte> file, long p, string field, string what)
    {
        ulong size = Read(file, p, 4);
        if (size == ulong.MaxValue) return;
        int asInt = unchecked((int)size);
        if (asInt > 0 && asInt > file.Length - (p + 4))
            throw Fail(what, $"{field} at byte {p:N0} declares {size:N0} bytes, past the end of the file.");
    }

    private static void LinkName(ReadOnlySpan<byte> file, long p, string what)
    {
        int flags = At(file, p + 1);
        if (flags < 0) return;
        long q = p + 2 + ((flags & 0x08) != 0 ? 1 : 0) + ((flags & 0x04) != 0 ? 8 : 0) + ((flags & 0x10) != 0 ? 1 : 0);
        int field = 1 << (flags & 3);
        ulong length = Read(file, q, field);
        if (length == ulong.MaxValue) return; // past the end: PureHDF fails reading the field
        int asInt = unchecked((int)length);
        if (asInt > 0 && asInt > file.Length - (q + field))
            throw Fail(what, $"a link name at byte {q:N0} declares {length:N0} bytes, past the end of the file.");
    }
}
