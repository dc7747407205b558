using System.Buffers.Binary;
using System.IO.Compression;
using Dendrite.Data;

namespace Dendrite.Imaging;

/// <summary>
/// An image decoded one row at a time, top to bottom, so that a large picture passes through in a few rows of
/// memory: PNG (its IDAT chunks streamed into the inflater, each chunk's CRC checked as it ends) or PGM. The header
/// is read, and the size checked against <see cref="Png.MaxPixels"/>, when the reader is made.
/// </summary>
public abstract class ImageRows : IDisposable
{
    public int Width { get; protected set; }
    public int Height { get; protected set; }

    /// <summary>Channels of each row as <see cref="ReadRow"/> gives it: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (palettes expanded).</summary>
    public int Channels { get; protected set; }

    /// <summary>Where the image comes from, for messages.</summary>
    public string Source { get; }

    protected int RowsRead { get; private set; }

    protected ImageRows(string source) => Source = source;

    /// <summary>Reads a PNG or PGM from <paramref name="stream"/> (seekable), recognised by its first bytes.</summary>
    public static ImageRows Open(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> head = stackalloc byte[8];
        long start = stream.Position;
        int got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = start;
        if (Png.IsPng(head[..got])) return new PngRows(stream, source);
        if (Pgm.IsPgm(head[..got])) return new PgmRows(stream, source);
        throw new InvalidDataFormatException($"{source}: not a PNG or PGM image (unrecognised first bytes).");
    }

    /// <summary>The next row, Width × Channels bytes.</summary>
    public void ReadRow(Span<byte> row)
    {
        if (RowsRead >= Height) throw new InvalidOperationException($"{Source}: all {Height} rows were read already.");
        if (row.Length < Width * Channels) throw new ArgumentException($"A row of {Source} needs {Width * Channels} bytes.", nameof(row));
        ReadRowCore(row[..(Width * Channels)]);
        if (++RowsRead == Height) Finish();
    }

    protected abstract void ReadRowCore(Span<byte> row);

    /// <summary>Called after the last row: checks what follows the pixels (the chunks through IEND, for PNG).</summary>
    protected virtual void Finish() { }

    /// <summary>Luminance 0..255 of a row (Rec. 601 weights), alpha composited over white: the same values as <see cref="Image.ToGrey"/>.</summary>
    public static void ToGrey(ReadOnlySpan<byte> row, int channels, Span<float> grey)
    {
        for (int i = 0; i < grey.Length; i++)
        {
            int o = i * channels;
            float lum = channels >= 3 ? 0.299f * row[o] + 0.587f * row[o + 1] + 0.114f * row[o + 2] : row[o];
            if (channels is 2 or 4)
            {
                float a = row[o + channels - 1] / 255f;
                lum = a * lum + (1 - a) * 255f;
            }
            grey[i] = lum;
        }
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);

    protected InvalidDataFormatException Bad(string what) => new($"{Source}: {what}.");
}

/// <summary>PNG, 8-bit grey, grey+alpha, RGB, RGBA and palette, non-interlaced, decoded row by row.</summary>
internal sealed class PngRows : ImageRows
{
    private readonly Stream _s;
    private readonly long _end;
    private readonly byte[] _line, _cur, _prev;
    private readonly int _stride, _bpp, _colorType;
    private readonly byte[]? _palette, _paletteAlpha;
    private readonly ZLibStream _z;
    private readonly IdatStream _idat;
    private readonly byte[] _buffer = new byte[8192];

    public PngRows(Stream s, string source) : base(source)
    {
        _s = s;
        _end = s.Length;
        Span<byte> sig = stackalloc byte[8];
        if (s.ReadAtLeast(sig, 8, throwOnEndOfStream: false) < 8 || !Png.IsPng(sig)) throw Bad("not a PNG file (wrong signature)");
        int depth = 0;
        _colorType = -1;
        bool sawHeader = false;
        while (true)
        {
            var (len, type) = ChunkHeader();
            if (!sawHeader && type != "IHDR") throw Bad("the first chunk is not IHDR");
            if (type == "IDAT")
            {
                if (_colorType == 3 && _palette is null) throw Bad("a palette image without a palette");
                _idat = new IdatStream(this, len);
                break;
            }
            if (type == "IEND") throw Bad("no image data (IDAT)");
            if (type is "IHDR" or "PLTE" or "tRNS")
            {
                if (len > 768) throw Bad($"chunk {type} is {len} bytes long, more than it can be");
                var body = new byte[len];
                ReadChecked(type, body);
                switch (type)
                {
                    case "IHDR":
                        if (sawHeader) throw Bad("two IHDR chunks");
                        if (len != 13) throw Bad("IHDR has the wrong length");
                        int width = BinaryPrimitives.ReadInt32BigEndian(body), height = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(4));
                        depth = body[8]; _colorType = body[9];
                        if (width <= 0 || height <= 0 || width > Png.MaxSide || height > Png.MaxSide || (long)width * height > Png.MaxPixels)
                            throw Bad($"image size {(uint)width}×{(uint)height} is out of range (at most {Png.MaxPixels:N0} pixels, {Png.MaxSide:N0} on a side)");
                        if (body[10] != 0 || body[11] != 0) throw Bad("unknown compression or filter method");
                        if (body[12] != 0) throw Bad("interlaced PNGs are not supported; save the image without interlacing");
                        _bpp = _colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => throw Bad($"colour type {_colorType} is not a PNG colour type") };
                        if (depth != 8) throw Bad($"{depth}-bit PNGs are not supported; only 8 bits per channel are");
                        Width = width; Height = height;
                        sawHeader = true;
                        break;
                    case "PLTE":
                        if (len % 3 != 0 || len == 0) throw Bad("the palette has an invalid length");
                        _palette = body;
                        break;
                    case "tRNS":
                        if (_colorType == 3) _paletteAlpha = body;
                        break;
                }
            }
            else SkipChecked(type, len);
        }
        Channels = _colorType == 3 ? (_paletteAlpha is null ? 3 : 4) : _bpp;
        _stride = Width * _bpp;
        _line = new byte[_stride + 1];
        _cur = new byte[_stride];
        _prev = new byte[_stride];
        _z = new ZLibStream(_idat, CompressionMode.Decompress, leaveOpen: true);
    }

    /// <summary>A chunk's length and type; the length is checked against what is left of the file.</summary>
    private (uint Length, string Type) ChunkHeader()
    {
        Span<byte> h = stackalloc byte[8];
        if (_s.ReadAtLeast(h, 8, throwOnEndOfStream: false) < 8) throw Bad("truncated: a chunk header runs past the end of the file");
        uint len = BinaryPrimitives.ReadUInt32BigEndian(h);
        long left = _end - _s.Position - 4;
        if (len > left) throw Bad($"truncated: a chunk claims {len} bytes but only {Math.Max(0, left)} remain");
        for (int i = 4; i < 8; i++)
            if (!char.IsAsciiLetter((char)h[i])) throw Bad("a chunk type is not four letters (corrupt file)");
        return (len, System.Text.Encoding.ASCII.GetString(h[4..]));
    }

    private uint _crc;

    private void ReadChecked(string type, Span<byte> body)
    {
        _s.ReadExactly(body);
        _crc = Crc32.Append(Crc32.Append(0xFFFFFFFFu, System.Text.Encoding.ASCII.GetBytes(type)), body);
        CheckCrc(type);
    }

    private void SkipChecked(string type, uint len)
    {
        _crc = Crc32.Append(0xFFFFFFFFu, System.Text.Encoding.ASCII.GetBytes(type));
        while (len > 0)
        {
            int n = _s.Read(_buffer, 0, (int)Math.Min(len, (uint)_buffer.Length));
            if (n == 0) throw Bad($"truncated inside chunk {type}");
            _crc = Crc32.Append(_crc, _buffer.AsSpan(0, n));
            len -= (uint)n;
        }
        CheckCrc(type);
    }

    private void CheckCrc(string type)
    {
        Span<byte> c = stackalloc byte[4];
        _s.ReadExactly(c);
        if ((_crc ^ 0xFFFFFFFFu) != BinaryPrimitives.ReadUInt32BigEndian(c)) throw Bad($"chunk {type} fails its CRC check (corrupt file)");
    }

    protected override void ReadRowCore(Span<byte> row)
    {
        int got = Inflate(_line);
        if (got < _line.Length) throw Bad($"truncated image data: row {RowsRead} of {Height} is incomplete");
        Unfilter(RowsRead);
        if (_colorType != 3) _cur.CopyTo(row);
        else
        {
            var pal = _palette!;
            int ch = Channels;
            for (int x = 0; x < Width; x++)
            {
                int k = _cur[x];
                if (k * 3 + 2 >= pal.Length) throw Bad($"pixel {RowsRead * (long)Width + x} uses palette entry {k}, past the palette's end");
                row[x * ch] = pal[k * 3]; row[x * ch + 1] = pal[k * 3 + 1]; row[x * ch + 2] = pal[k * 3 + 2];
                if (ch == 4) row[x * ch + 3] = k < _paletteAlpha!.Length ? _paletteAlpha[k] : (byte)255;
            }
        }
        _cur.CopyTo(_prev, 0);
    }

    private void Unfilter(int y)
    {
        int filter = _line[0], bpp = _bpp;
        var line = _line.AsSpan(1);
        var cur = _cur.AsSpan();
        var prev = _prev.AsSpan();
        if (filter > 4) throw Bad($"row {y} uses unknown filter type {filter}");
        for (int x = 0; x < _stride; x++)
        {
            int a = x >= bpp ? cur[x - bpp] : 0, b = y > 0 ? prev[x] : 0, c = x >= bpp && y > 0 ? prev[x - bpp] : 0;
            cur[x] = (byte)(filter switch
            {
                0 => line[x],
                1 => line[x] + a,
                2 => line[x] + b,
                3 => line[x] + ((a + b) >> 1),
                _ => line[x] + Paeth(a, b, c),
            });
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Up to <paramref name="buffer"/>'s length of inflated image data; a corrupt stream is our error.</summary>
    private int Inflate(Span<byte> buffer)
    {
        try { return _z.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false); }
        catch (InvalidDataException e) { throw Bad($"the compressed image data is corrupt ({e.Message})"); }
        // zlib's other refusals (a preset dictionary, which PNG never uses, or an inconsistent stream) come as the runtime's internal ZLibException.
        catch (IOException e) when (e.GetType().FullName == "System.IO.Compression.ZLibException") { throw Bad($"the compressed image data is corrupt (zlib: {e.Message.TrimEnd('.')})"); }
    }

    /// <summary>
    /// After the pixels: the zlib stream is read on to its end, so that the inflater checks its Adler-32 trailer (data
    /// past the rows the header describes is ignored, up to 64 KiB, as libpng does); then the rest of the IDAT chunks and
    /// every chunk after them must be whole and pass their CRC, through IEND or the end of the file.
    /// </summary>
    protected override void Finish()
    {
        var sink = new byte[4096];
        for (int extra = 0, n; extra < 1 << 16 && (n = Inflate(sink)) > 0; extra += n) { }
        _idat.SkipRest();
        var pending = _idat.Next;
        while (pending is var (len, type))
        {
            if (type == "IEND") { SkipChecked(type, len); return; }
            SkipChecked(type, len);
            pending = _s.Position < _end ? ChunkHeader() : null;
        }
    }

    public override void Dispose()
    {
        _z.Dispose();
        base.Dispose();
    }

    /// <summary>The bodies of consecutive IDAT chunks as one stream, each chunk's CRC checked when it ends.</summary>
    private sealed class IdatStream(PngRows png, uint first) : Stream
    {
        private uint _left = first;
        private uint _crc = Crc32.Append(0xFFFFFFFFu, "IDAT"u8);
        private bool _done;

        /// <summary>The chunk after the image data (its header already read), or null at the end of the file.</summary>
        public (uint Length, string Type)? Next { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (!_done && _left == 0) NextChunk();
            if (_done || buffer.Length == 0) return 0;
            int n = png._s.Read(buffer[..(int)Math.Min((uint)buffer.Length, _left)]);
            if (n == 0) throw png.Bad("truncated inside an IDAT chunk");
            _crc = Crc32.Append(_crc, buffer[..n]);
            _left -= (uint)n;
            return n;
        }

        private void NextChunk()
        {
            png._crc = _crc;
            png.CheckCrc("IDAT");
            if (png._s.Position >= png._end) { _done = true; Next = null; return; }
            var (len, type) = png.ChunkHeader();
            if (type != "IDAT") { _done = true; Next = (len, type); return; }
            _left = len;
            _crc = Crc32.Append(0xFFFFFFFFu, "IDAT"u8);
        }

        /// <summary>Reads past whatever image data the inflater did not need, checking the CRCs.</summary>
        public void SkipRest()
        {
            var sink = png._buffer;
            while (Read(sink) > 0) { }
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Netpbm greymaps, binary (P5) and plain-text (P2), any maxval up to 65535 scaled to 0..255, row by row.</summary>
internal sealed class PgmRows : ImageRows
{
    private readonly Stream _s;
    private readonly bool _binary;
    private readonly int _maxval, _bytesPer;
    private readonly byte[] _raw;

    public PgmRows(Stream s, string source) : base(source)
    {
        _s = s;
        int m0 = s.ReadByte(), m1 = s.ReadByte();
        if (m0 != 'P' || (m1 != '5' && m1 != '2')) throw Bad("not a PGM file (expected P5 or P2)");
        _binary = m1 == '5';
        int width = Token(), height = Token();
        _maxval = Token();
        if (width <= 0 || height <= 0 || width > Png.MaxSide || height > Png.MaxSide || (long)width * height > Png.MaxPixels) throw Bad($"image size {width}×{height} is out of range");
        if (_maxval is < 1 or > 65535) throw Bad($"maxval {_maxval} is out of range");
        Width = width; Height = height; Channels = 1;
        _bytesPer = _maxval < 256 ? 1 : 2;
        if (_binary)
        {
            _s.ReadByte(); // the single whitespace after maxval
            long need = (long)width * height * _bytesPer, left = _s.Length - _s.Position;
            if (left < need) throw Bad($"truncated: {need} bytes of pixels expected, {Math.Max(0, left)} present");
        }
        _raw = new byte[_binary ? width * _bytesPer : 0];
    }

    protected override void ReadRowCore(Span<byte> row)
    {
        if (_binary)
        {
            _s.ReadExactly(_raw);
            for (int x = 0; x < Width; x++) row[x] = Scale(_bytesPer == 1 ? _raw[x] : _raw[2 * x] << 8 | _raw[2 * x + 1]);
        }
        else for (int x = 0; x < Width; x++) row[x] = Scale(Token());
    }

    private byte Scale(int v)
    {
        if (v > _maxval) throw Bad($"pixel value {v} exceeds maxval {_maxval}");
        return (byte)((v * 255 + _maxval / 2) / _maxval);
    }

    /// <summary>The next decimal number, skipping whitespace and # comments; at most 9 digits.</summary>
    private int Token()
    {
        int c = _s.ReadByte();
        while (c >= 0)
        {
            if (c == '#') { while (c >= 0 && c != '\n') c = _s.ReadByte(); }
            else if (c is ' ' or '\t' or '\n' or '\r' or '\v' or '\f') c = _s.ReadByte();
            else break;
        }
        int value = 0, digits = 0;
        while (c is >= '0' and <= '9' && digits < 9)
        {
            value = value * 10 + (c - '0');
            digits++;
            c = _s.ReadByte();
        }
        if (digits == 0) throw Bad("truncated or malformed header or pixel values");
        // The byte after a number is whitespace (or the end); one more digit means a number of 10+ digits.
        if (c is >= '0' and <= '9') throw Bad("a number in the header or pixel values has more than 9 digits");
        if (c >= 0) _s.Position--;
        return value;
    }
}
