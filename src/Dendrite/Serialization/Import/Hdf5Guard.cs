using Dendrite.Data;

namespace Dendrite.Serialization.Import;

/// <summary>
/// Checks, before PureHDF reads an HDF5 file, the length fields for which PureHDF allocates an array before it reads
/// the bytes, so that a length running past the end of the file is refused with a message instead of costing an
/// allocation of up to 2 GiB from a file of a few kilobytes. It checks the objects of global heap collections (where
/// variable-length strings such as Keras's <c>model_config</c> live), the data segments of local heaps (the link names
/// of old-style groups), and, in every object header and its continuation blocks: link names, attribute values, fill
/// values and compact dataset layouts. Headers are reached as PureHDF reaches them, from the superblock through
/// groups' B-trees, symbol table nodes and hard links, and version 2 ones also by their signature; a signature found
/// by a scan inside a dataset's raw data is data and does not count (KerasImportTests checks weights that spell every
/// structure). The fields and the arithmetic follow PureHDF 2.2's decoders. Found by the in-process fuzz tests
/// (FuzzTests.KerasFiles, KerasFixtureTests.H5pyFilesSurviveMutation).
/// </summary>
internal sealed class Hdf5Guard
{
    private static ReadOnlySpan<byte> Superblock => [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n'];

    private readonly byte[] _file;
    private readonly string _what;
    private readonly int _offsets, _lengths;
    private readonly long _base;
    private readonly HashSet<long> _walked = [];
    /// <summary>Object headers to walk, each with where it was found: -1 by following the file's own pointers from the
    /// superblock (as PureHDF will), else the position of the signature a scan found it by.</summary>
    private readonly Queue<(long At, long Origin)> _headers = new();
    /// <summary>Datasets' raw data (contiguous and compact layouts): a signature found there by a scan is data, not structure.</summary>
    private readonly List<(long Start, long End)> _raw = [];
    /// <summary>Lengths past the end of the file, with the origin of the structure they were found in; judged once every
    /// dataset's raw data is known.</summary>
    private readonly List<(long Origin, string Why)> _violations = [];
    private long _origin = -1;
    private readonly HashSet<(long, long)> _heaps = [];

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
        foreach (var (origin, why) in guard._violations)
            if (origin < 0 || !guard.InRawData(origin))
                throw new InvalidDataFormatException($"{what} is not a readable HDF5 file: {why}");
    }

    private bool InRawData(long p) => _raw.Exists(r => p >= r.Start && p < r.End);

    /// <summary>
    /// First everything the file's own pointers reach from the superblock (groups through their B-trees and symbol table
    /// nodes, links, continuations), which also gives every dataset's raw data; then, by scanning for their signatures,
    /// version 2 object headers (PureHDF also reaches them through structures not followed here) and global and local
    /// heaps. What a scan finds inside a dataset's raw data is data that happens to spell a signature, and does not count.
    /// </summary>
    private void Walk()
    {
        WalkHeaders();
        for (int p = Find(0, "OHDR"u8); p >= 0; p = Find(p + 1, "OHDR"u8)) _headers.Enqueue((p, p));
        WalkHeaders();
        for (int p = Find(0, "GCOL"u8); p >= 0; p = Find(p + 1, "GCOL"u8)) { _origin = p; GlobalHeap(p); }
        for (int p = Find(0, "HEAP"u8); p >= 0; p = Find(p + 1, "HEAP"u8)) { _origin = p; LocalHeap(p); }
    }

    private void WalkHeaders()
    {
        while (_headers.TryDequeue(out var h))
        {
            if (!_walked.Add(h.At)) continue;
            _origin = h.Origin;
            if (At(_file, h.At) == 1) HeaderVersion1(h.At);
            else if (Signature(h.At, "OHDR"u8)) HeaderVersion2(h.At);
        }
    }

    /// <summary>Whether the file holds <paramref name="signature"/> at <paramref name="p"/>; the fields after it are read
    /// with <see cref="Read(long, int)"/>, which answers past the end of the file with ulong.MaxValue.</summary>
    private bool Signature(long p, ReadOnlySpan<byte> signature) =>
        p >= 0 && p + signature.Length <= _file.Length && _file.AsSpan((int)p, signature.Length).SequenceEqual(signature);

    private int Find(int from, ReadOnlySpan<byte> signature)
    {
        if (from >= _file.Length) return -1;
        int i = _file.AsSpan(from).IndexOf(signature);
        return i < 0 ? -1 : from + i;
    }

    /// <summary>Queues the object header at file address <paramref name="address"/> (relative to the base address).</summary>
    private void Header(ulong address)
    {
        if (address < (ulong)_file.Length) _headers.Enqueue((_base + (long)address, _origin));
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

    private void Fail(string why) => _violations.Add((_origin, why));

    /// <summary>Refuses <paramref name="size"/> (as PureHDF casts it to int) if it is more than the bytes left after <paramref name="p"/>.</summary>
    private void Fits(ulong size, long p, string field)
    {
        int asInt = unchecked((int)size);
        if (size != ulong.MaxValue && asInt > 0 && asInt > _file.Length - p)
            Fail($"{field} at byte {p:N0} declares {size:N0} bytes, past the end of the file.");
    }

    /// <summary>Walks a global heap collection's objects as PureHDF does; each object's size must fit in the file.</summary>
    private void GlobalHeap(long p)
    {
        if (!Signature(p, "GCOL"u8) || !_heaps.Add((p, _origin))) return;
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
            {
                Fail($"a global heap object at byte {q:N0} declares {size:N0} bytes, past the end of the file.");
                return;
            }
            ulong padded = (size + 7) / 8 * 8;
            remaining -= 8UL + (ulong)_lengths + padded;
            q = data + (long)padded;
        }
    }

    /// <summary>A local heap (the link names of an old-style group, as h5py writes them): its data segment must fit in the file.</summary>
    private void LocalHeap(long p)
    {
        if (!Signature(p, "HEAP"u8)) return;
        ulong size = Read(p + 8, _lengths), address = Read(p + 8 + 2L * _lengths, _offsets);
        if (size == ulong.MaxValue || address == ulong.MaxValue) return;
        ulong end = (ulong)Math.Max(0, _file.Length - Math.Max(0, _base));
        if (size > end || (address < end && address + size > end))
            Fail($"a local heap at byte {p:N0} declares a data segment of {size:N0} bytes, past the end of the file.");
    }

    /// <summary>A symbol table message (an old-style group): its local heap, and its B-tree's symbol table nodes.</summary>
    private void SymbolTable(long p)
    {
        ulong tree = Read(p, _offsets), heap = Read(p + _offsets, _offsets);
        if (heap < (ulong)_file.Length) LocalHeap(_base + (long)heap);
        if (tree < (ulong)_file.Length) GroupTree(_base + (long)tree, 0);
    }

    /// <summary>A version 1 B-tree node of a group: its children are symbol table nodes (level 0) or further nodes.</summary>
    private void GroupTree(long p, int depth)
    {
        if (depth > 64 || !Signature(p, "TREE"u8) || At(_file, p + 4) != 0 || !_walked.Add(-1 - p)) return;
        int level = At(_file, p + 5);
        ulong entries = Read(p + 6, 2);
        long first = p + 8 + 2L * _offsets + _lengths;                 // after the siblings and the first key
        for (ulong i = 0; i < entries; i++)
        {
            long at = first + (long)i * (_offsets + _lengths);
            if (at + _offsets > _file.Length) return;
            ulong child = Read(at, _offsets);
            if (child >= (ulong)_file.Length) continue;
            if (level == 0) SymbolNode(_base + (long)child);
            else GroupTree(_base + (long)child, depth + 1);
        }
    }

    /// <summary>A symbol table node (the entries of an old-style group): queues the object header of each entry.</summary>
    private void SymbolNode(long p)
    {
        if (!Signature(p, "SNOD"u8) || !_walked.Add(-1 - p)) return;
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
                case 0x11: SymbolTable(data); break;
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
            else if (Signature(block, "OCHK"u8))
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
        if (bytes > int.MaxValue) { Fail($"an attribute at byte {p:N0} declares a value of {bytes:N0} bytes."); return; }
        Fits(bytes, space, "an attribute's value");
        // A variable-length value (a string such as model_config) points into a global heap collection: walk it as the
        // pointer leads, so that a heap reached this way is checked wherever it lies.
        ulong spaceSize = Read(p + 6, 2);
        if ((At(_file, type) & 0x0F) != 9 || spaceSize == ulong.MaxValue || elementSize != (ulong)(8 + _offsets)) return;
        long value = space + Pad(spaceSize, version);
        for (ulong e = 0; e < bytes / elementSize && value + (long)((e + 1) * elementSize) <= _file.Length; e++)
        {
            ulong collection = Read(value + (long)(e * elementSize) + 4, _offsets);
            if (collection < (ulong)_file.Length) GlobalHeap(_base + (long)collection);
        }
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
        int version = At(_file, p);
        if (version is 3 or 4)
        {
            int cls = At(_file, p + 1);
            if (cls == 0 && Read(p + 2, 2) is var compact and not ulong.MaxValue) _raw.Add((p + 4, p + 4 + (long)compact));
            else if (cls == 1 && Read(p + 2, _offsets) is var address and < long.MaxValue && Read(p + 2 + _offsets, _lengths) is var size and < long.MaxValue)
            {
                long start = _base + (long)address, end = start + (long)Math.Min(size, (ulong)_file.Length);
                if (start >= 0 && end <= _file.Length) _raw.Add((start, end));   // a range past the end is no dataset's
            }
            return;
        }
        int rank = At(_file, p + 1), layoutClass = At(_file, p + 2);
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
