using Dendrite.Data;

namespace Dendrite.Imaging;

/// <summary>
/// The one way Dendrite opens a picture from a user: <c>dendrite predict</c> and <c>dendrite serve</c> (page upload and
/// HTTP API) both call <see cref="Open"/> and hand the rows to <see cref="Digitizer.ToMnist(ImageRows)"/>. The format is
/// told by the first bytes, never by a name or a Content-Type. PNG and PGM are read by the core's own row-by-row
/// decoders (PNG stays there: it did better than ImageSharp's on the same fuzz corpus, see README); JPEG (turned upright
/// by its EXIF orientation), BMP, GIF (first frame) and WebP (lossy and lossless) by ImageSharp. Every reader checks the
/// picture's size from its header before decoding pixels, and every failure is an <see cref="InvalidDataFormatException"/>
/// naming the file and what was wrong.
/// </summary>
public static class Pictures
{
    /// <summary>The formats read, for messages.</summary>
    public const string Formats = "PNG, JPEG, BMP, GIF, WebP or PGM";

    /// <summary>How many first bytes <see cref="IsPicture"/> needs to tell every format apart (WebP: "RIFF", a length, "WEBP").</summary>
    public const int HeadBytes = 16;

    /// <summary>Largest picture file read: <see cref="Image.MaxFileBytes"/>, as for PNG.</summary>
    public const long MaxFileBytes = Image.MaxFileBytes;

    /// <summary>Whether <paramref name="head"/>, a file's first bytes, starts a picture <see cref="Open"/> reads.</summary>
    public static bool IsPicture(ReadOnlySpan<byte> head) => Png.IsPng(head) || Pgm.IsPgm(head) || Decoders.Detect(head) is not null;

    /// <summary>
    /// The picture at <paramref name="stream"/>'s position (the stream must be seekable and stay open while the rows are
    /// read), its header read and its size checked; the pixels come as <see cref="ImageRows.ReadRow"/> asks for them.
    /// </summary>
    public static ImageRows Open(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        Span<byte> head = stackalloc byte[HeadBytes];
        long start = stream.Position;
        int got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = start;
        if (got == 0) throw new InvalidDataFormatException($"{source}: the file is empty; expected a {Formats} picture.");
        if (Png.IsPng(head[..got]) || Pgm.IsPgm(head[..got])) return ImageRows.Open(stream, source);
        return DecodedRows.TryOpen(stream, source)
            ?? throw new InvalidDataFormatException($"{source}: not a {Formats} picture (its first bytes match none of them).");
    }
}
