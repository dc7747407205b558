using Dendrite.Data;

namespace Dendrite.Serialization.Import;

/// <summary>
/// Checks, before PureHDF reads an HDF5 file, the length fields for which PureHDF allocates an array before it reads
/// the bytes, so that a length running past the end of the file is refused with a message instead of costing an
/// allocation of up to 2 GiB from a file of a few kilobytes. It checks the objects of global heap collections (where
/// variable-length strings such as Keras's <c>model_config</c> live), the data segments of local heaps (the link names
/// of old-style groups), and, in every object header (version 2 ones found by their signature, version 1 ones by
/// following the superblock, symbol table nodes and hard links to them, as PureHDF does) and their continuation
/// blocks: link names, attribute values, fill values and compact dataset layouts. The fields and the arithmetic
/// follow PureHDF 2.2's decoders. Found by the in-process fuzz tests (FuzzTests.KerasFiles, KerasFixtureTests).
/// </summary>
internal sealed class Hdf5Guard
{
    private static ReadOnlySpan<byte> Superblock => [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n'];

    private readonly byte[] _file;
    private readonly string _what;
    private readonly int _offsets, _lengths;
    private readonly long _base;
    private readonly HashSet<long> _walked = [];
    private readonly Queue<long> _headers = new();

    private Hdf5Guard(byte[] file, string what, int offsets, int lengths, long baseAddress)
    {
        _file = file; _what = what; _offsets = offsets; _lengths = lengths; _base = baseAddress;
    }

    /// <summary>Throws <see cref="InvalidDataFormatException"/> naming <paramref name="what"/> if a checked length runs past the end of <paramref name="file"/>.</summary>
    public static void Check(byte[] file, string what)
    {
        // The superblock sits at 0, 512, 1024, 2048, ... (after a user block), as the HDF5 library searches for it.
        long at = -1;
        for (long p = 0; p + 16 <= file.Length; p = p == 0 ? 512 : p * 2)
            if (file.AsSpan((int)p, 8).SequenceEqual(Superblock)) { at = p; break; }
        if (at < 0) return; // PureHDF refuses the file itself
        int version = file[(int)at + 8];
        int offsets = version <= 1 ? At(file, at + 13) : At(file, at + 9);
        int lengths = version <= 1 ? At(file, at + 14) : At(file, at + 10);
        if (offsets is not (2 or 4 or 8) || lengths is not (2 or 4 or 8)) return; // PureHDF refuses these sizes
        long fields = at + (version == 0 ? 24 : 28); // base, free space, end of file, driver info; then the root's symbol table entry
        long baseAddress = version <= 1 ? (long)Math.Min(Read(file, fields, offsets), long.MaxValue) : at;
        var guard = new Hdf5Guard(file, what, offsets, lengths, baseAddress);
        guard.Header(version <= 1 ? Read(file, fields + 5L * offsets, offsets) : Read(file, at + 12 + 3L * offsets, offsets));
        guard.Walk();
    }

    private void Walk()
    {
        var file = _file.AsSpan();
        for (int p = Find(0, "GCOL"u8); p >= 0; p = Find(p + 1, "GCOL"u8)) GlobalHeap(p);
        for (int p = Find(0, "HEAP"u8); p >= 0; p = Find(p + 1, "HEAP"u8)) LocalHeap(p);
        for (int p = Find(0, "SNOD"u8); p >= 0; p = Find(p + 1, "SNOD"u8)) SymbolNode(p);
        for (int p = Find(0, "OHDR"u8); p >= 0; p = Find(p + 1, "OHDR"u8)) _headers.Enqueue(p);
        while (_headers.TryDequeue(out long h))
        {
            if (!_walked.Add(h)) continue;
            if (At(_file, h) == 1) HeaderVersion1(h);
            else if (h + 4 <= file.Length && file.Slice((int)h, 4).SequenceEqual("OHDR"u8)) HeaderVersion2(h);
        }
    }

    private int Find(int from, ReadOnlySpan<byte> signature)
    {
        if (from >= _file.Length) return -1;
        int i = _file.AsSpan(from).IndexOf(signature);
        return i < 0 ? -1 : from + i;
    }

    /// <summary>Queues the object header at file address <paramref name="address"/> (relative to the base address).</summary>
    private void Header(ulong address)
    {
        if (address < (ulong)_file.Length) _headers.Enqueue(_base + (long)address);
    }

    private static int At(byte[] file, long p) => p >= 0 && p < file.Length ? file[(int)p] : -1;

    /// <summary>An unsigned little-endian field of <paramref name="size"/> bytes at <paramref name="p"/>, or ulong.MaxValue past the end.</summary>
    private static ulong Read(byte[] file, long p, int size)
    {
        if (p < 0 || p + size > file.Length) return ulong.MaxValue;
        ulong v = 0;
        for (int i = size - 1; i >= 0; i--) v = (v << 8) | file[(int)p + i];
        return v;
    }

    private ulong Read(long p, int size) => Read(_file, p, size);

    private InvalidDataFormatException Fail(string why) => new($"{_what} is not a readable HDF5 file: {why}");

    /// <summary>Refuses <paramref name="size"/> (as PureHDF casts it to int) if it is more than the bytes left after <paramref name="p"/>.</summary>
    private void Fits(ulong size, long p, string field)
    {
        int asInt = unchecked((int)size);
        if (size != ulong.MaxValue && asInt > 0 && asInt > _file.Length - p)
            throw Fail($"{field} at byte {p:N0} declares {size:N0} bytes, past the end of the file.");
    }

    /// <summary>Walks a global heap collection's objects as PureHDF does; each object's size must fit in the file.</summary>
    private void GlobalHeap(long p)
    {
        ulong header = 8UL + (ulong)_lengths;
        ulong remaining = Read(p + 8, _lengths) - header; // PureHDF's arithmetic, wrap-around included
        long q = p + 8 + _lengths;
        while (remaining > header && q < _file.Length)
        {
            ulong index = Read(q, 2);
            if (index == 0 || index == ulong.MaxValue) return;
            ulong size = Read(q + 8, _lengths);
            long data = q + 8 + _lengths;
            if (size == ulong.MaxValue || size > (ulong)Math.Max(0, _file.Length - data))
                throw Fail($"a global heap object at byte {q:N0} declares {size:N0} bytes, past the end of the file.");
            ulong padded = (size + 7) / 8 * 8;
            remaining -= 8UL + (ulong)_lengths + padded;
            q = data + (long)padded;
        }
    }

    /// <summary>A local heap (the link names of an old-style group, as h5py writes them): its data segment must fit in the file.</summary>
    private void LocalHeap(long p)
    {
        ulong size = Read(p + 8, _lengths), address = Read(p + 8 + 2L * _lengths, _offsets);
        if (size == ulong.MaxValue || address == ulong.MaxValue) return;
        ulong end = (ulong)Math.Max(0, _file.Length - Math.Max(0, _base));
        if (size > end || (address < end && address + size > end))
            throw Fail($"a local heap at byte {p:N0} declares a data segment of {size:N0} bytes, past the end of the file.");
    }

    /// <summary>A symbol table node (the entries of an old-style group): queues the object header of each entry.</summary>
    private void SymbolNode(long p)
    {
        ulong count = Read(p + 6, 2);
        long entry = 2L * _offsets + 24;
        for (ulong i = 0; i < count && p + 8 + (long)(i + 1) * entry <= _file.Length; i++)
            Header(Read(p + 8 + (long)i * entry + _offsets, _offsets));
    }

    private void HeaderVersion1(long p)
    {
        ulong size = Read(p + 8, 4);
        if (size is 0 or ulong.MaxValue) return;
        Messages(p + 16, size, 1, creationOrder: false);
    }

    private void HeaderVersion2(long p)
    {
        if (At(_file, p + 4) != 2) return;
        int flags = At(_file, p + 5);
        long q = p + 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
        int chunkField = 1 << (flags & 3);
        ulong chunk = Read(q, chunkField);
        if (chunk == ulong.MaxValue) return;
        Messages(q + chunkField, chunk, 2, (flags & 0x04) != 0);
    }

    /// <summary>The messages of one chunk of an object header, walked with PureHDF's arithmetic; then its continuation chunks.</summary>
    private void Messages(long q, ulong remaining, int version, bool creationOrder)
    {
        ulong prefix = version == 1 ? 8UL : creationOrder ? 6UL : 4UL;
        ulong gap = version == 1 ? 0 : prefix;
        var continuations = new List<(ulong Offset, ulong Length)>();
        while (remaining > gap && q + (long)prefix <= _file.Length)
        {
            ulong type = version == 1 ? Read(q, 2) : Read(q, 1);
            ulong dataSize = Read(q + (version == 1 ? 2 : 1), 2);
            bool shared = (At(_file, q + (version == 1 ? 4 : 3)) & 0x02) != 0; // the message itself is elsewhere
            long data = q + (long)prefix;
            switch (type)
            {
                case 0x06: Link(data); break;
                case 0x0C when !shared: Attribute(data); break;
                case 0x04 when !shared: Fits(Read(data, 4), data + 4, "an old-style fill value"); break;
                case 0x05 when !shared: FillValue(data); break;
                case 0x08: Layout(data); break;
                case 0x10: continuations.Add((Read(data, _offsets), Read(data + _offsets, _lengths))); break;
            }
            remaining -= dataSize + prefix;
            q = data + (long)dataSize;
        }
        foreach (var (offset, length) in continuations)
        {
            if (offset >= (ulong)_file.Length || length > (ulong)_file.Length) continue; // PureHDF fails reading it
            long block = _base + (long)offset;
            if (!_walked.Add(-1 - block)) continue;
            if (version == 1) Messages(block, length, 1, false);
            else if (block + 4 <= _file.Length && _file.AsSpan((int)block, 4).SequenceEqual("OCHK"u8))
                Messages(block + 4, length - 8, 2, creationOrder);
        }
    }

    /// <summary>
    /// An attribute's value, whose size PureHDF takes as its dataspace's element count times its datatype's size, must
    /// fit in the file. The datatype and dataspace are found where the message's declared name, datatype and
    /// dataspace sizes put them (shared ones live elsewhere and are not checked here).
    /// </summary>
    private void Attribute(long p)
    {
        int version = At(_file, p), flags = At(_file, p + 1);
        ulong nameSize = Read(p + 2, 2), typeSize = Read(p + 4, 2);
        if (version is not (1 or 2 or 3) || nameSize == ulong.MaxValue || typeSize == ulong.MaxValue) return;
        if (version > 1 && (flags & 0x03) != 0) return;
        static long Pad(ulong n, int version) => (long)(version == 1 ? (n + 7) / 8 * 8 : n);
        long type = p + (version == 3 ? 9 : 8) + Pad(nameSize, version);
        long space = type + Pad(typeSize, version);
        ulong elementSize = Read(type + 4, 4);
        int rank = At(_file, space + 1), spaceVersion = At(_file, space);
        if (elementSize == ulong.MaxValue || rank < 0 || spaceVersion is not (1 or 2)) return;
        long dims = space + (spaceVersion == 1 ? 8 : 4);
        ulong bytes = elementSize;
        for (int i = 0; i < rank; i++)
        {
            ulong d = Read(dims + (long)i * _lengths, _lengths);
            if (d == ulong.MaxValue) return;
            bytes = d == 0 ? 0 : bytes > ulong.MaxValue / d ? ulong.MaxValue - 1 : bytes * d;
        }
        if (bytes > int.MaxValue) throw Fail($"an attribute at byte {p:N0} declares a value of {bytes:N0} bytes.");
        Fits(bytes, space, "an attribute's value");
    }

    /// <summary>A fill value message: versions 1 and 2 hold a size when the value is defined, version 3 when its flags say so.</summary>
    private void FillValue(long p)
    {
        int version = At(_file, p);
        if (version is 1 or 2 && At(_file, p + 3) == 1) Fits(Read(p + 4, 4), p + 8, "a fill value");
        else if (version == 3 && (At(_file, p + 1) & 0x30) == 0x20) Fits(Read(p + 2, 4), p + 6, "a fill value");
    }

    /// <summary>A version 1 or 2 data layout message of a compact dataset holds a 32-bit size of its data.</summary>
    private void Layout(long p)
    {
        int version = At(_file, p), rank = At(_file, p + 1), layoutClass = At(_file, p + 2);
        if (version is 1 or 2 && layoutClass == 0 && rank >= 0)
        {
            long size = p + 8 + 4L * rank;
            Fits(Read(size, 4), size + 4, "a compact dataset");
        }
    }

    /// <summary>A link message: its name must fit in the file; a hard link's object header is walked too.</summary>
    private void Link(long p)
    {
        int flags = At(_file, p + 1);
        if (flags < 0) return;
        long q = p + 2 + ((flags & 0x08) != 0 ? 1 : 0) + ((flags & 0x04) != 0 ? 8 : 0) + ((flags & 0x10) != 0 ? 1 : 0);
        int field = 1 << (flags & 3);
        ulong length = Read(q, field);
        if (length == ulong.MaxValue) return; // past the end: PureHDF fails reading the field
        Fits(length, q + field, "a link name");
        bool hard = (flags & 0x08) == 0 || At(_file, p + 2) == 0;
        if (hard && length < (ulong)_file.Length) Header(Read(q + field + (long)length, _offsets));
    }
}
