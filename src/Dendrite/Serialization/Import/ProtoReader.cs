using System.Buffers.Binary;
using System.Text;
using Dendrite.Data;

namespace Dendrite.Serialization.Import;

/// <summary>
/// A bounds-checked reader of the protobuf wire format (varint, 64-bit, length-delimited, 32-bit fields): enough to walk
/// an ONNX ModelProto field by field. Every length is checked against what is left, so a damaged file fails with
/// <see cref="InvalidDataFormatException"/> naming <c>what</c>, never with an out-of-range read.
/// </summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data, string what)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    public readonly bool End => _pos >= _data.Length;

    /// <summary>The next field's number and wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).</summary>
    public (int Field, int Wire) Tag()
    {
        ulong t = Varint();
        int field = (int)(t >> 3), wire = (int)(t & 7);
        if (field <= 0 || wire is 3 or 4 or 6 or 7) throw Bad($"a field tag {t} that is not valid protobuf");
        return (field, wire);
    }

    public ulong Varint()
    {
        ulong v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length) throw Bad("a number cut short");
            byte b = _data[_pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return v;
        }
        throw Bad("a number longer than 10 bytes");
    }

    public ReadOnlySpan<byte> Bytes()
    {
        ulong n = Varint();
        if (n > (ulong)(_data.Length - _pos)) throw Bad($"a field of {n} bytes where only {_data.Length - _pos} are left");
        var s = _data.Slice(_pos, (int)n);
        _pos += (int)n;
        return s;
    }

    public string String() => Encoding.UTF8.GetString(Bytes());

    public uint Fixed32()
    {
        if (_data.Length - _pos < 4) throw Bad("a 4-byte field cut short");
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(_data[_pos..]);
        _pos += 4;
        return v;
    }

    public float Float() => BitConverter.UInt32BitsToSingle(Fixed32());

    /// <summary>Skips a field of wire type <paramref name="wire"/>.</summary>
    public void Skip(int wire)
    {
        switch (wire)
        {
            case 0: Varint(); break;
            case 1: if (_data.Length - _pos < 8) throw Bad("an 8-byte field cut short"); _pos += 8; break;
            case 2: Bytes(); break;
            case 5: Fixed32(); break;
            default: throw Bad($"wire type {wire}");
        }
    }

    /// <summary>Repeated int64 values, packed (wire 2) or one at a time (wire 0), appended to <paramref name="into"/>.</summary>
    public void Int64s(int wire, List<long> into)
    {
        if (wire == 0) { into.Add((long)Varint()); return; }
        var inner = new ProtoReader(Bytes(), what);
        while (!inner.End) into.Add((long)inner.Varint());
    }

    /// <summary>Repeated floats, packed (wire 2) or one at a time (wire 5).</summary>
    public void Floats(int wire, List<float> into)
    {
        if (wire == 5) { into.Add(Float()); return; }
        var inner = new ProtoReader(Bytes(), what);
        while (!inner.End) into.Add(inner.Float());
    }

    public readonly ProtoReader Sub(ReadOnlySpan<byte> bytes) => new(bytes, what);

    public readonly InvalidDataFormatException Bad(string found) => new($"{what} is not a valid ONNX model: it holds {found}.");
}
