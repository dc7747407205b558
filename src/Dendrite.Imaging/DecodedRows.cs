using Dendrite.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace Dendrite.Imaging;

/// <summary>
/// A JPEG, BMP, GIF or WebP picture as <see cref="ImageRows"/> (RGBA rows, upright): the header is identified when the
/// reader is made, and its size checked against <see cref="Png.MaxPixels"/> and <see cref="Png.MaxSide"/> then, so a
/// caller can refuse it with its own smaller caps before a single pixel is decoded. The pixels are decoded whole at the
/// first <see cref="ImageRows.ReadRow"/> (ImageSharp decodes no other way), and handed out turned upright by the
/// picture's EXIF orientation, as a phone's camera app and a browser show it.
/// </summary>
internal sealed class DecodedRows : ImageRows
{
    private readonly Stream _stream;
    private readonly long _start;
    private readonly IImageFormat _format;
    private readonly int _orientation, _storedWidth, _storedHeight;
    private Image<Rgba32>? _image;
    private Memory<Rgba32> _pixels;

    private DecodedRows(Stream stream, string source, IImageFormat format, IImageInfo info) : base(source)
    {
        _stream = stream;
        _start = stream.Position;
        _format = format;
        _storedWidth = info.Width;
        _storedHeight = info.Height;
        _orientation = ExifOrientation.Normalize(info.Metadata.ExifProfile?.GetValue(ExifTag.Orientation)?.Value ?? 1);
        bool swap = ExifOrientation.SwapsSides(_orientation);
        Width = swap ? _storedHeight : _storedWidth;
        Height = swap ? _storedWidth : _storedHeight;
        Channels = 4;
    }

    /// <summary>The format's name as a person knows it (ImageSharp says "Webp").</summary>
    public string FormatName => Name(_format);

    private static string Name(IImageFormat format) => format.Name.ToUpperInvariant() is var n && n == "WEBP" ? "WebP" : n;

    /// <summary>
    /// Identifies the picture at <paramref name="stream"/>'s position (seekable) from its header and checks its size;
    /// null when it is none of the formats ImageSharp reads here. That its bytes are all there is checked before decoding,
    /// after the caller's own size limits have had their say.
    /// </summary>
    public static DecodedRows? TryOpen(Stream stream, string source)
    {
        long start = stream.Position;
        Span<byte> head = stackalloc byte[Pictures.HeadBytes];
        int got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = start;
        if (Decoders.Detect(head[..got]) is not { } format) return null;
        string name = Name(format);
        // Lengths in the file are checked against the file before ImageSharp's header reader trusts them.
        if (Truncated(stream, source, name, pixels: false) is { } framing) throw framing;
        IImageInfo? info;
        try { info = SixLabors.ImageSharp.Image.Identify(Decoders.Configuration, stream); }
        catch (Exception e) when (IsDecoderError(e))
        {
            // A header cut short reads as corrupt to the decoder; say it is cut short when it is.
            stream.Position = start;
            throw Truncated(stream, source, name) ?? Wrap(e, source, name);
        }
        if (info is null) throw new InvalidDataFormatException($"{source}: the {name} header could not be read.");
        if (info.Width <= 0 || info.Height <= 0 || info.Width > Png.MaxSide || info.Height > Png.MaxSide || (long)info.Width * info.Height > Png.MaxPixels)
            throw new InvalidDataFormatException($"{source}: {name} image size {info.Width}×{info.Height} is out of range (at most {Png.MaxPixels:N0} pixels, {Png.MaxSide:N0} on a side).");
        stream.Position = start;
        return new DecodedRows(stream, source, format, info);
    }

    private static InvalidDataFormatException? Truncated(Stream stream, string source, string format, bool pixels = true) =>
        Completeness.Missing(stream, format, pixels) is { } missing ? new InvalidDataFormatException($"{source}: the {format} file is truncated: {missing}.") : null;

    protected override void ReadRowCore(Span<byte> row)
    {
        if (_image is null) Decode();
        int y = RowsRead;
        var all = _pixels.Span;
        for (int x = 0; x < Width; x++)
        {
            var (sx, sy) = ExifOrientation.Source(_orientation, x, y, _storedWidth, _storedHeight);
            var p = all.IsEmpty ? _image![sx, sy] : all[sy * _storedWidth + sx];
            row[4 * x] = p.R; row[4 * x + 1] = p.G; row[4 * x + 2] = p.B; row[4 * x + 3] = p.A;
        }
    }

    private void Decode()
    {
        _stream.Position = _start;
        if (Truncated(_stream, Source, FormatName) is { } cut) throw cut;
        _stream.Position = _start;
        // WebP pictures are decoded one at a time: ImageSharp 2.1's lossless decoder sizes its Huffman tables by the
        // largest group number in the picture's entropy image, up to 65,536 groups of up to 5,004 entries of 8 bytes,
        // about 2.6 GB (tests/corpus/webp-lossless-huge-huffman-tables.webp, 272 bytes, asks for 540 MB).
        bool gated = FormatName == "WebP";
        if (gated) Decoders.WebpGate.Wait();
        try { _image = SixLabors.ImageSharp.Image.Load<Rgba32>(Decoders.Configuration, _stream); }
        catch (Exception e) when (IsDecoderError(e)) { throw Wrap(e, Source, FormatName); }
        finally { if (gated) Decoders.WebpGate.Release(); }
        if (_image.Width != _storedWidth || _image.Height != _storedHeight)
            throw Bad($"the {FormatName} header says {_storedWidth}×{_storedHeight} pixels but {_image.Width}×{_image.Height} were decoded");
        if (_image.DangerousTryGetSinglePixelMemory(out var all)) _pixels = all;
    }

    /// <summary>
    /// Whether <paramref name="e"/> comes from decoding bytes from a stranger: everything but cancellation. Besides
    /// ImageSharp's own errors (corrupt or unsupported content, a buffer over the cap), a decoder slip on crafted bytes
    /// (an index out of range, say) counts: the decoder is managed code, so the process is intact. So does an allocation
    /// the runtime refused: the picture asked for it, and nothing was taken.
    /// </summary>
    private static bool IsDecoderError(Exception e) => e is not (OperationCanceledException or InvalidDataFormatException);

    /// <summary>The decoder's error as ours, naming the file, the format and what was wrong.</summary>
    private static InvalidDataFormatException Wrap(Exception e, string source, string format)
    {
        string what = e switch
        {
            InvalidMemoryOperationException => $"the {format} file asks for more memory than a picture may take ({e.Message.TrimEnd('.')})",
            OutOfMemoryException => $"the {format} file asks for more memory than there is ({e.Message.TrimEnd('.')})",
            UnknownImageFormatException => $"not a {Pictures.Formats} picture",
            ImageFormatException or NotSupportedException => $"the {format} file is corrupt or uses a feature that is not supported ({e.Message.TrimEnd('.')})",
            EndOfStreamException => $"the {format} file is truncated",
            _ => $"the {format} file is corrupt (the decoder stopped with {e.GetType().Name}: {e.Message.TrimEnd('.')})",
        };
        return new InvalidDataFormatException($"{source}: {what}.", e);
    }

    public override void Dispose()
    {
        _image?.Dispose();
        _image = null;
        base.Dispose();
    }
}
