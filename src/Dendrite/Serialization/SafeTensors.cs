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
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers above this size are taken as corrupt (real ones are a few kilobytes).</summary>
    public const long MaxHeaderBytes = 16 << 20;

    public static void Write(Stream stream, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
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
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)(json.Length + pad));
        stream.Write(len);
        json.Position = 0;
        json.CopyTo(stream);
        for (int i = 0; i < pad; i++) stream.WriteByte((byte)' ');
        foreach (var (_, t) in list)
        {
            var bytes = MemoryMarshal.AsBytes(t.Span);
            if (BitConverter.IsLittleEndian) stream.Write(bytes);
            else
            {
                var b = new byte[4];
                foreach (float f in t.Span) { BinaryPrimitives.WriteSingleLittleEndian(b, f); stream.Write(b); }
            }
        }
    }

    /// <summary>Reads every tensor and the metadata; throws <see cref="InvalidDataFormatException"/> naming the problem.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(Stream stream, string source)
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
        try { doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (JsonException e) { throw Bad(source, $"the header is not valid JSON ({e.Message})"); }
        using (doc)
        {
            try { return ReadBody(doc, stream, source, dataLength); }
            catch (InvalidOperationException e) { throw Bad(source, $"the header holds malformed text ({e.Message})"); }
        }
    }

    private static (Dictionary<string, Tensor>, Dictionary<string, string>) ReadBody(JsonDocument doc, Stream stream, string source, long dataLength)
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
