using Dendrite.Data;

namespace Dendrite.Imaging;

/// <summary>Netpbm greymaps: binary (P5) and plain-text (P2), any maxval up to 65535, scaled to 0..255.</summary>
public static class Pgm
{
    public static bool IsPgm(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 'P' && (data[1] == '5' || data[1] == '2');

    public static Image Decode(byte[] data, string source = "image")
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!IsPgm(data)) throw Bad(source, "not a PGM file (expected P5 or P2)");
        using var rows = new PgmRows(new MemoryStream(data, writable: false), source);
        return Image.ReadAll(rows);
    }

    private static InvalidDataFormatException Bad(string source, string what) => new($"{source}: {what}.");
}
