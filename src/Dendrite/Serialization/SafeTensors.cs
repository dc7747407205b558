using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Dendrite.Data;

namespace Dendrite.Serialization;

/// <summary>
/// The safetensors layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the raw
/// tensor data. The JSON maps each tensor name to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
/// (offsets into the data section), plus an optional "__metadata__" object of string values. Only F32 is
/// read or written. Reading checks every length, shape and offset against the file before allocating.
/// <para>
/// Integrity: with <c>checksum: true</c> the writer adds "checksum" = "crc32c:XXXXXXXX" to __metadata__: the
/// CRC-32C (<see cref="Crc32C"/>) of the whole file as written, header length, header and tensor data, computed with
/// those eight hex digits set to the character '0'. The file stays plain safetensors (other readers see one more
/// metadata string). The reader verifies it whenever it is there, so any change to any byte is an error.
/// </para>
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers above this size are taken as corrupt (real ones are a few kilobytes).</summary>
    public const long MaxHeaderBytes = 16 << 20;

    /// <summary>The metadata key of the file's checksum, and its value's form: the algorithm, a colon, eight lowercase hex digits.</summary>
    public const string ChecksumKey = "checksum";
    private const string ChecksumPrefix = "crc32c:";
    private const int ChecksumLength = 15; // "crc32c:" + 8 hex digits

    public static void Write(Stream stream, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null, bool checksum = false)
    {
        var list = tensors.ToList();
        if (checksum)
        {
            if (metadata?.ContainsKey(ChecksumKey) == true) throw new ArgumentException($"Metadata key `{ChecksumKey}` is written by the checksum itself.");
            metadata = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { [ChecksumKey] = ChecksumPrefix + "00000000" };
        }
        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            var seen = new HashSet<string>();
            foreach (var (name, t) in list)
            {
                if (name == "__metadata__" || !seen.Add(name)) throw new ArgumentException($"Tensor name `{name}` is reserved or repeated.");
                w.WriteStartObject(name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (int d in t.ShapeSpan) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                offset += 4L * t.Length;
                w.WriteNumberValue(offset);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        int pad = (int)((8 - json.Length % 8) % 8);
        var header = new byte[8 + json.Length + pad];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)(json.Length + pad));
        json.ToArray().CopyTo(header, 8);
        header.AsSpan(8 + (int)json.Length).Fill((byte)' ');
        if (checksum)
        {
            int at = 8 + FindChecksum(header.AsSpan(8), "written header");
            uint crc = Crc32C.Append(~0u, header);
            foreach (var (_, t) in list) crc = AppendLittleEndian(crc, t.Span, null);
            Encoding.ASCII.GetBytes((~crc).ToString("x8", System.Globalization.CultureInfo.InvariantCulture), header.AsSpan(at + ChecksumPrefix.Length, 8));
        }
        stream.Write(header);
        foreach (var (_, t) in list)
        {
            if (BitConverter.IsLittleEndian) stream.Write(MemoryMarshal.AsBytes(t.Span));
            else AppendLittleEndian(0, t.Span, stream);
        }
    }

    /// <summary>
    /// Recomputes the checksum of a whole file in place (for tests that change a file on purpose and then want the
    /// structural checks, not the checksum, to judge it). A file without a checksum, or not parseable that far, is left alone.
    /// </summary>
    internal static void Seal(byte[] file)
    {
        if (file.Length < 8) return;
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (n > (ulong)(file.Length - 8)) return;
        int at;
        try { at = FindChecksum(file.AsSpan(8, (int)n), "file"); }
        catch (Exception e) when (e is JsonException or InvalidDataFormatException) { return; }
        if (at < 0) return;
        var digits = file.AsSpan(8 + at + ChecksumPrefix.Length, 8);
        digits.Fill((byte)'0');
        uint crc = Crc32C.Compute(file);
        Encoding.ASCII.GetBytes(crc.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), digits);
    }

    /// <summary>Appends the little-endian bytes of <paramref name="values"/> to a CRC register (and writes them to <paramref name="to"/>, if given).</summary>
    private static uint AppendLittleEndian(uint crc, ReadOnlySpan<float> values, Stream? to)
    {
        if (BitConverter.IsLittleEndian) return Crc32C.Append(crc, MemoryMarshal.AsBytes(values));
        Span<byte> b = stackalloc byte[4];
        foreach (float f in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(b, f);
            crc = Crc32C.Append(crc, b);
            to?.Write(b);
        }
        return crc;
    }

    /// <summary>
    /// The offset in <paramref name="header"/> (the JSON) of the checksum value's opening character (after its quote),
    /// or -1 when __metadata__ holds no checksum. The value must be written plainly, without escapes.
    /// </summary>
    private static int FindChecksum(ReadOnlySpan<byte> header, string source)
    {
        var r = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 8 });
        bool inMetadata = false;
        int found = -1;
        while (r.Read())
        {
            if (r.TokenType != JsonTokenType.PropertyName) continue;
            if (r.CurrentDepth == 1) inMetadata = r.ValueTextEquals("__metadata__");
            else if (r.CurrentDepth == 2 && inMetadata && r.ValueTextEquals(ChecksumKey))
            {
                r.Read();
                if (r.TokenType != JsonTokenType.String || r.ValueIsEscaped || r.ValueSpan.Length != ChecksumLength || !r.ValueSpan.StartsWith(ChecksumPrefix.Select(c => (byte)c).ToArray()))
                    throw Bad(source, $"the checksum is malformed (expected \"{ChecksumPrefix}\" and 8 hex digits)");
                if (found >= 0) throw Bad(source, "the checksum appears twice");
                found = (int)r.TokenStartIndex + 1;
            }
        }
        return found;
    }

    /// <summary>Reads every tensor and the metadata; throws <see cref="InvalidDataFormatException"/> naming the problem.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(Stream stream, string source) => Read(stream, source, out _);

    /// <summary>
    /// Reads every tensor and the metadata, and verifies the checksum when the file has one (<paramref name="checksummed"/>
    /// says whether it had). Throws <see cref="InvalidDataFormatException"/> naming the source and the problem.
    /// </summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(Stream stream, string source, out bool checksummed)
    {
        long length = stream.Length - stream.Position;
        if (length < 8) throw Bad(source, $"{length} bytes is too short for a safetensors file (no 8-byte header length)");
        Span<byte> len = stackalloc byte[8];
        stream.ReadExactly(len);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (n < 2 || n > (ulong)Math.Min(MaxHeaderBytes, length - 8))
            throw Bad(source, $"the header length {n} is impossible for a {length}-byte file");
        var header = new byte[n];
        stream.ReadExactly(header);
        long dataLength = length - 8 - (long)n;
        JsonDocument doc;
        int at;
        try
        {
            doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8, AllowDuplicateProperties = false });
            at = FindChecksum(header, source);
        }
        catch (JsonException e) { throw Bad(source, $"the header is not valid JSON ({e.Message})"); }
        // The running CRC: the length and the header with the checksum's digits as '0', then the data as it is read.
        uint crc = ~0u;
        string? stored = null;
        checksummed = at >= 0;
        if (checksummed)
        {
            stored = Encoding.ASCII.GetString(header, at, ChecksumLength);
            int digits = at + ChecksumPrefix.Length;
            crc = Crc32C.Append(Crc32C.Append(crc, len), header.AsSpan(0, digits));
            crc = Crc32C.Append(Crc32C.Append(crc, "00000000"u8), header.AsSpan(digits + 8));
        }
        using (doc)
        {
            try
            {
                var result = ReadBody(doc, stream, source, dataLength, checksummed ? (ReadOnlySpan<byte> b) => crc = Crc32C.Append(crc, b) : null);
                if (checksummed)
                {
                    string computed = ChecksumPrefix + (~crc).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
                    if (computed != stored) throw Bad(source, $"the checksum does not match: the file is corrupt (it records {stored}, its bytes give {computed})");
                }
                return result;
            }
            catch (InvalidOperationException e) { throw Bad(source, $"the header holds malformed text ({e.Message})"); }
        }
    }

    private delegate void BytesRead(ReadOnlySpan<byte> bytes);

    private static (Dictionary<string, Tensor>, Dictionary<string, string>) ReadBody(JsonDocument doc, Stream stream, string source, long dataLength, BytesRead? onData)
    {
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(source, "the header is not a JSON object");
            var metadata = new Dictionary<string, string>();
            var entries = new List<(string name, int[] shape, long begin, long end)>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    if (p.Value.ValueKind != JsonValueKind.Object) throw Bad(source, "__metadata__ is not an object");
                    foreach (var m in p.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw Bad(source, $"metadata `{m.Name}` is not a string");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(p, source));
            }
            if (entries.Select(e => e.name).Distinct().Count() != entries.Count) throw Bad(source, "a tensor name appears twice");
            // The data section must be covered exactly, without gaps or overlaps.
            long expected = 0;
            foreach (var e in entries.OrderBy(e => e.begin))
            {
                if (e.begin != expected) throw Bad(source, $"tensor `{e.name}` starts at byte {e.begin} of the data, expected {expected} (gap or overlap)");
                expected = e.end;
            }
            if (expected != dataLength) throw Bad(source, expected > dataLength
                ? $"truncated: the header describes {expected:N0} bytes of tensor data but the file holds {dataLength:N0}"
                : $"{dataLength - expected:N0} bytes after the tensor data the header describes");
            var tensors = new Dictionary<string, Tensor>();
            long dataStart = stream.Position;
            foreach (var e in entries.OrderBy(e => e.begin))
            {
                var t = new Tensor(e.shape);
                stream.Position = dataStart + e.begin;
                var bytes = MemoryMarshal.AsBytes(t.Span);
                stream.ReadExactly(bytes);
                onData?.Invoke(bytes);
                if (!BitConverter.IsLittleEndian)
                    for (int i = 0; i < t.Length; i++) t.Span[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * i));
                tensors[e.name] = t;
            }
            return (tensors, metadata);
        }
    }

    private static (string, int[], long, long) ParseEntry(JsonProperty p, string source)
    {
        var v = p.Value;
        if (v.ValueKind != JsonValueKind.Object) throw Bad(source, $"tensor `{p.Name}` is not described by an object");
        if (!v.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String) throw Bad(source, $"tensor `{p.Name}` has no dtype");
        if (dtype.GetString() != "F32") throw Bad(source, $"tensor `{p.Name}` has dtype {dtype.GetString()}; only F32 is supported");
        if (!v.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array || shapeEl.GetArrayLength() > 8)
            throw Bad(source, $"tensor `{p.Name}` has no valid shape");
        var shape = new int[shapeEl.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int dim) || dim < 0) throw Bad(source, $"tensor `{p.Name}` has an invalid dimension {d}");
            shape[i++] = dim;
            count *= dim;
            if (count > int.MaxValue) throw Bad(source, $"tensor `{p.Name}` has an impossible shape");
        }
        if (!v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw Bad(source, $"tensor `{p.Name}` has no data_offsets pair");
        if (!off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw Bad(source, $"tensor `{p.Name}` has invalid data_offsets");
        if (end - begin != count * 4) throw Bad(source, $"tensor `{p.Name}` of shape {Tensor.ShapeToString(shape)} needs {count * 4} bytes but its offsets span {end - begin}");
        return (p.Name, shape, begin, end);
    }

    private static InvalidDataFormatException Bad(string source, string what) => new($"{source}: {what}.");
}
