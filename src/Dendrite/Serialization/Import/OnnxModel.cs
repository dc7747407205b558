using System.Runtime.InteropServices;
using Dendrite.Data;

namespace Dendrite.Serialization.Import;

/// <summary>An ONNX tensor held as float or int64 values (other element types are converted or refused).</summary>
internal sealed record OnnxTensor(string Name, long[] Dims, float[]? Floats, long[]? Ints)
{
    public int Count => Floats?.Length ?? Ints!.Length;
    public long[] AsInts() => Ints ?? Floats!.Select(f => (long)f).ToArray();
    public float[] AsFloats() => Floats ?? Ints!.Select(i => (float)i).ToArray();
}

internal sealed record OnnxAttribute(string Name, long? Int, float? Float, string? Text, long[] Ints, float[] Floats, OnnxTensor? Tensor);

internal sealed record OnnxNode(string Name, string OpType, string Domain, string[] Inputs, string[] Outputs, Dictionary<string, OnnxAttribute> Attributes)
{
    public long Int(string name, long fallback) => Attributes.TryGetValue(name, out var a) && a.Int is long v ? v : fallback;
    public float Float(string name, float fallback) => Attributes.TryGetValue(name, out var a) && a.Float is float v ? v : fallback;
    public long[]? Ints(string name) => Attributes.TryGetValue(name, out var a) ? a.Ints : null;
    public string? Text(string name) => Attributes.TryGetValue(name, out var a) ? a.Text : null;
    public string Label => Name.Length > 0 ? $"node `{Name}` ({OpType})" : $"a {OpType} node";
}

/// <summary>The parts of an ONNX ModelProto an importer needs: opset, graph nodes, initializers, inputs and outputs.</summary>
internal sealed class OnnxModel
{
    public long IrVersion { get; private set; }
    public long Opset { get; private set; }
    public List<OnnxNode> Nodes { get; } = [];
    public Dictionary<string, OnnxTensor> Initializers { get; } = [];
    public List<(string Name, long[] Dims)> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];

    /// <summary>Parses <paramref name="bytes"/>; external tensor data is read from files in <paramref name="folder"/> only.</summary>
    public static OnnxModel Parse(ReadOnlySpan<byte> bytes, string what, string folder)
    {
        var m = new OnnxModel();
        var r = new ProtoReader(bytes, what);
        bool sawGraph = false;
        while (!r.End)
        {
            var (f, w) = r.Tag();
            if (f == 1 && w == 0) m.IrVersion = (long)r.Varint();
            else if (f == 7 && w == 2) { m.ReadGraph(r.Sub(r.Bytes()), folder, what); sawGraph = true; }
            else if (f == 8 && w == 2)
            {
                var o = r.Sub(r.Bytes());
                string domain = ""; long version = 0;
                while (!o.End)
                {
                    var (g, v) = o.Tag();
                    if (g == 1 && v == 2) domain = o.String();
                    else if (g == 2 && v == 0) version = (long)o.Varint();
                    else o.Skip(v);
                }
                if (domain is "" or "ai.onnx") m.Opset = version;
            }
            else r.Skip(w);
        }
        if (!sawGraph || m.Nodes.Count == 0) throw new InvalidDataFormatException($"{what} is not an ONNX model: it has no graph.");
        return m;
    }

    private void ReadGraph(ProtoReader r, string folder, string what)
    {
        var inputs = new List<(string, long[])>();
        while (!r.End)
        {
            var (f, w) = r.Tag();
            if (f == 1 && w == 2) Nodes.Add(ReadNode(r.Sub(r.Bytes()), folder, what));
            else if (f == 5 && w == 2) { var t = ReadTensor(r.Sub(r.Bytes()), folder, what); Initializers[t.Name] = t; }
            else if (f == 11 && w == 2) inputs.Add(ReadValueInfo(r.Sub(r.Bytes())));
            else if (f == 12 && w == 2) Outputs.Add(ReadValueInfo(r.Sub(r.Bytes())).Name);
            else r.Skip(w);
        }
        // Older exporters list initializers among the inputs too: the real inputs are the others.
        Inputs.AddRange(inputs.Where(i => !Initializers.ContainsKey(i.Item1)));
    }

    private static (string Name, long[] Dims) ReadValueInfo(ProtoReader r)
    {
        string name = ""; var dims = new List<long>();
        while (!r.End)
        {
            var (f, w) = r.Tag();
            if (f == 1 && w == 2) name = r.String();
            else if (f == 2 && w == 2)
            {
                var type = r.Sub(r.Bytes());
                while (!type.End)
                {
                    var (g, v) = type.Tag();
                    if (g != 1 || v != 2) { type.Skip(v); continue; }
                    var tensor = type.Sub(type.Bytes());
                    while (!tensor.End)
                    {
                        var (h, u) = tensor.Tag();
                        if (h != 2 || u != 2) { tensor.Skip(u); continue; }
                        var shape = tensor.Sub(tensor.Bytes());
                        while (!shape.End)
                        {
                            var (k, x) = shape.Tag();
                            if (k != 1 || x != 2) { shape.Skip(x); continue; }
                            var dim = shape.Sub(shape.Bytes());
                            long d = -1;   // a named (symbolic) dimension, such as the batch
                            while (!dim.End) { var (j, y) = dim.Tag(); if (j == 1 && y == 0) d = (long)dim.Varint(); else dim.Skip(y); }
                            dims.Add(d);
                        }
                    }
                }
            }
            else r.Skip(w);
        }
        return (name, dims.ToArray());
    }

    private static OnnxNode ReadNode(ProtoReader r, string folder, string what)
    {
        var inputs = new List<string>(); var outputs = new List<string>();
        string name = "", op = "", domain = "";
        var attrs = new Dictionary<string, OnnxAttribute>();
        while (!r.End)
        {
            var (f, w) = r.Tag();
            switch (f)
            {
                case 1 when w == 2: inputs.Add(r.String()); break;
                case 2 when w == 2: outputs.Add(r.String()); break;
                case 3 when w == 2: name = r.String(); break;
                case 4 when w == 2: op = r.String(); break;
                case 7 when w == 2: domain = r.String(); break;
                case 5 when w == 2: var a = ReadAttribute(r.Sub(r.Bytes()), folder, what); attrs[a.Name] = a; break;
                default: r.Skip(w); break;
            }
        }
        return new OnnxNode(name, op, domain, inputs.ToArray(), outputs.ToArray(), attrs);
    }

    private static OnnxAttribute ReadAttribute(ProtoReader r, string folder, string what)
    {
        string name = ""; long? i = null; float? fl = null; string? s = null; OnnxTensor? t = null;
        var ints = new List<long>(); var floats = new List<float>();
        while (!r.End)
        {
            var (f, w) = r.Tag();
            switch (f)
            {
                case 1 when w == 2: name = r.String(); break;
                case 2 when w == 5: fl = r.Float(); break;
                case 3 when w == 0: i = (long)r.Varint(); break;
                case 4 when w == 2: s = r.String(); break;
                case 5 when w == 2: t = ReadTensor(r.Sub(r.Bytes()), folder, what); break;
                case 7: r.Floats(w, floats); break;
                case 8: r.Int64s(w, ints); break;
                default: r.Skip(w); break;
            }
        }
        return new OnnxAttribute(name, i, fl, s, ints.ToArray(), floats.ToArray(), t);
    }

    /// <summary>Largest external data file read beside a model.</summary>
    internal const long MaxExternalBytes = 2L << 30;

    private static OnnxTensor ReadTensor(ProtoReader r, string folder, string what)
    {
        var dims = new List<long>(); int type = 1; string name = "";
        var floats = new List<float>(); var ints = new List<long>(); var doubles = new List<double>();
        byte[]? raw = null; var external = new Dictionary<string, string>(); bool isExternal = false;
        while (!r.End)
        {
            var (f, w) = r.Tag();
            switch (f)
            {
                case 1: r.Int64s(w, dims); break;
                case 2 when w == 0: type = (int)r.Varint(); break;
                case 4: r.Floats(w, floats); break;
                case 5: { var l = new List<long>(); r.Int64s(w, l); ints.AddRange(l); break; }   // int32_data
                case 7: r.Int64s(w, ints); break;
                case 8 when w == 2: name = r.String(); break;
                case 9 when w == 2: raw = r.Bytes().ToArray(); break;
                case 10 when w == 2:
                    {
                        var d = r.Sub(r.Bytes());
                        while (!d.End) { var (g, v) = d.Tag(); if (g == 1 && v == 1) { d.Skip(1); } else if (g == 1 && v == 2) { var l = d.Bytes(); doubles.AddRange(MemoryMarshal.Cast<byte, double>(l).ToArray()); } else d.Skip(v); }
                        break;
                    }
                case 13 when w == 2:
                    {
                        var e = r.Sub(r.Bytes()); string k = "", v = "";
                        while (!e.End) { var (g, u) = e.Tag(); if (g == 1 && u == 2) k = e.String(); else if (g == 2 && u == 2) v = e.String(); else e.Skip(u); }
                        external[k] = v; break;
                    }
                case 14 when w == 0: isExternal = r.Varint() == 1; break;
                default: r.Skip(w); break;
            }
        }
        if (dims.Any(d => d < 0 || d > int.MaxValue)) throw r.Bad($"tensor `{name}` with dimensions {string.Join('x', dims)}");
        long count = dims.Aggregate(1L, (a, b) => a * b);
        if (isExternal) raw = ReadExternal(name, external, folder, what, count * ElementSize(type, name, what));
        if (raw is not null)
        {
            long size = ElementSize(type, name, what);
            if (raw.LongLength != count * size) throw r.Bad($"tensor `{name}` of {count} values in {raw.Length} bytes");
            return type switch
            {
                1 => new(name, dims.ToArray(), MemoryMarshal.Cast<byte, float>(raw).ToArray(), null),
                11 => new(name, dims.ToArray(), MemoryMarshal.Cast<byte, double>(raw).ToArray().Select(d => (float)d).ToArray(), null),
                7 => new(name, dims.ToArray(), null, MemoryMarshal.Cast<byte, long>(raw).ToArray()),
                6 => new(name, dims.ToArray(), null, MemoryMarshal.Cast<byte, int>(raw).ToArray().Select(i => (long)i).ToArray()),
                _ => throw Unsupported(type, name, what),
            };
        }
        OnnxTensor t = type switch
        {
            1 => new(name, dims.ToArray(), floats.ToArray(), null),
            11 => new(name, dims.ToArray(), doubles.Select(d => (float)d).ToArray(), null),
            6 or 7 => new(name, dims.ToArray(), null, ints.ToArray()),
            _ => throw Unsupported(type, name, what),
        };
        if (t.Count != count) throw r.Bad($"tensor `{name}` with {t.Count} values for dimensions {string.Join('x', dims)}");
        return t;
    }

    private static long ElementSize(int type, string name, string what) => type switch
    {
        1 or 6 => 4,
        7 or 11 => 8,
        _ => throw Unsupported(type, name, what),
    };

    private static InvalidDataFormatException Unsupported(int type, string name, string what) =>
        new($"{what}: tensor `{name}` has ONNX element type {type}; Dendrite reads float (1), double (11), int32 (6) and int64 (7) tensors.");

    private static byte[] ReadExternal(string name, Dictionary<string, string> info, string folder, string what, long bytes)
    {
        if (!info.TryGetValue("location", out var location) || location.Length == 0)
            throw new InvalidDataFormatException($"{what}: tensor `{name}` is stored outside the model but names no file.");
        string full = Path.GetFullPath(Path.Combine(folder, location));
        string root = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        if (Path.IsPathRooted(location) || !full.StartsWith(root, StringComparison.Ordinal))
            throw new InvalidDataFormatException($"{what}: tensor `{name}` points at \"{location}\", outside the model's folder. External data is read only from the folder the model is in.");
        long offset = info.TryGetValue("offset", out var o) && long.TryParse(o, out var ov) ? ov : 0;
        using var stream = InputFile.Open(full, $"external data of {what}", MaxExternalBytes);
        if (offset < 0 || offset + bytes > stream.Length)
            throw new InvalidDataFormatException($"{what}: tensor `{name}` needs {bytes} bytes at offset {offset} of \"{location}\", which holds {stream.Length}.");
        var buffer = new byte[bytes];
        stream.Position = offset;
        stream.ReadExactly(buffer);
        return buffer;
    }
}
