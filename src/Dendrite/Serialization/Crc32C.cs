using System.Buffers.Binary;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Dendrite.Serialization;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF), as iSCSI, ext4
/// and Google's crc32c use it; check value: CRC-32C("123456789") = 0xE3069283. It runs on the CPU's CRC32
/// instruction where there is one (SSE4.2 on x86, the CRC extension on ARM64), 8 bytes per instruction, and on a
/// slicing-by-8 table elsewhere; all three give the same value. A CRC of 32 bits detects every error confined to 32
/// consecutive bits, so every change of a single byte, with certainty.
/// </summary>
public static class Crc32C
{
    private static readonly SlicingBy8 Table = new(0x82F63B78u);

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);

    /// <summary>
    /// Continues a running CRC register: start from <c>~0u</c>, append each piece in order, and finish with <c>~</c>;
    /// <c>~Append(Append(~0u, a), b)</c> equals <c>Compute(a + b)</c>.
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            ulong c = crc;
            while (data.Length >= 8) { c = Sse42.X64.Crc32(c, BinaryPrimitives.ReadUInt64LittleEndian(data)); data = data[8..]; }
            crc = (uint)c;
            foreach (byte b in data) crc = Sse42.Crc32(crc, b);
            return crc;
        }
        if (Crc32.Arm64.IsSupported)
        {
            while (data.Length >= 8) { crc = Crc32.Arm64.ComputeCrc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data)); data = data[8..]; }
            foreach (byte b in data) crc = Crc32.ComputeCrc32C(crc, b);
            return crc;
        }
        return AppendTable(crc, data);
    }

    /// <summary>The portable path (slicing by 8), also used by the tests to check the instruction paths.</summary>
    internal static uint AppendTable(uint crc, ReadOnlySpan<byte> data) => Table.Append(crc, data);
}

/// <summary>
/// A reflected CRC-32 register update by table, eight bytes per step (Intel's slicing-by-8): table k holds the CRC of
/// a byte followed by k zero bytes, so eight lookups advance the register over eight bytes at once. For CRC-32C and
/// for the CRC-32 of PNG and gzip alike.
/// </summary>
internal sealed class SlicingBy8
{
    private readonly uint[] _t = new uint[8 * 256];

    public SlicingBy8(uint reflectedPolynomial)
    {
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? reflectedPolynomial ^ (c >> 1) : c >> 1;
            _t[n] = c;
        }
        for (int k = 1; k < 8; k++)
            for (int n = 0; n < 256; n++) _t[k * 256 + n] = _t[(k - 1) * 256 + n] >> 8 ^ _t[_t[(k - 1) * 256 + n] & 0xFF];
    }

    public uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var t = _t;
        while (data.Length >= 8)
        {
            uint lo = crc ^ BinaryPrimitives.ReadUInt32LittleEndian(data), hi = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = t[7 * 256 + (lo & 0xFF)] ^ t[6 * 256 + ((lo >> 8) & 0xFF)] ^ t[5 * 256 + ((lo >> 16) & 0xFF)] ^ t[4 * 256 + (lo >> 24)]
                ^ t[3 * 256 + (hi & 0xFF)] ^ t[2 * 256 + ((hi >> 8) & 0xFF)] ^ t[256 + ((hi >> 16) & 0xFF)] ^ t[hi >> 24];
            data = data[8..];
        }
        foreach (byte b in data) crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }
}
