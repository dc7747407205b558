using System.Runtime.InteropServices;
using System.Text;
using Dendrite.Data;
using Dendrite.Models;
using Dendrite.Serialization.OnnxProto;
using Google.Protobuf;
using DataType = Dendrite.Serialization.OnnxProto.TensorProto.Types.DataType;

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

/// <summary>
/// The parts of an ONNX ModelProto an importer needs: opset, graph nodes, initializers, inputs and outputs. The file is
/// parsed by Google.Protobuf into the classes generated from Dendrite's onnx.proto (the exporter writes the same
/// classes), with every length checked against the bytes left and nesting bounded; what it refuses surfaces as
/// <see cref="InvalidDataFormatException"/> naming the file.
/// </summary>
internal sealed class OnnxModel
{
    /// <summary>Deepest nesting of messages read. Dendrite's schema nests at most 8 deep (an attribute's type's shape's dimension).</summary>
    internal const int MaxNesting = 20;

    /// <summary>Largest external data file read beside a model.</summary>
    internal const long MaxExternalBytes = 2L << 30;

    /// <summary>Most values in one tensor (the largest a .NET array holds).</summary>
    private const long MaxValues = int.MaxValue;

    private static readonly MessageParser<ModelProto> Parser = ModelProto.Parser.WithDiscardUnknownFields(true);

    public long IrVersion { get; private set; }
    public long Opset { get; private set; }
    public List<OnnxNode> Nodes { get; } = [];
    public Dictionary<string, OnnxTensor> Initializers { get; } = [];
    public List<(string Name, long[] Dims)> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];

    private readonly string _what, _folder;

    private OnnxModel(string what, string folder) { _what = what; _folder = folder; }

    /// <summary>Parses <paramref name="bytes"/>; external tensor data is read from files in <paramref name="folder"/> only.</summary>
    public static OnnxModel Parse(byte[] bytes, string what, string folder)
    {
        ModelProto proto;
        try
        {
            var input = CodedInputStream.CreateWithLimits(new MemoryStream(bytes, writable: false), Math.Max(1, bytes.Length), MaxNesting);
            proto = Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataFormatException($"{what} is not a valid ONNX model: {e.Message}", e);
        }
        var m = new OnnxModel(what, folder) { IrVersion = proto.IrVersion };
        foreach (var o in proto.OpsetImport)
            if (o.Domain is "" or "ai.onnx") m.Opset = o.Version;
        if (proto.Graph is not { Node.Count: > 0 } graph) throw new InvalidDataFormatException($"{what} is not an ONNX model: it has no graph.");
        m.ReadGraph(graph);
        return m;
    }

    private InvalidDataFormatException Bad(string found) => new($"{_what} is not a valid ONNX model: it holds {found}.");

    private void ReadGraph(GraphProto g)
    {
        foreach (var t in g.Initializer) { var tensor = ReadTensor(t); Initializers[tensor.Name] = tensor; }
        foreach (var n in g.Node) Nodes.Add(ReadNode(n));
        // Older exporters list initializers among the inputs too: the real inputs are the others.
        Inputs.AddRange(g.Input.Where(i => !Initializers.ContainsKey(i.Name)).Select(i => (i.Name, Dims(i))));
        Outputs.AddRange(g.Output.Select(o => o.Name));
    }

    /// <summary>A value's dimensions; a named (symbolic) or missing dimension, such as the batch, is -1.</summary>
    private static long[] Dims(ValueInfoProto v) =>
        v.Type?.TensorType?.Shape?.Dim.Select(d => d.HasDimValue ? d.DimValue : -1).ToArray() ?? [];

    private OnnxNode ReadNode(NodeProto n)
    {
        var attrs = new Dictionary<string, OnnxAttribute>();
        foreach (var a in n.Attribute)
            attrs[a.Name] = new OnnxAttribute(a.Name, a.HasI ? a.I : null, a.HasF ? a.F : null, a.HasS ? Encoding.UTF8.GetString(a.S.Span) : null,
                [.. a.Ints], [.. a.Floats], a.T is { } t ? ReadTensor(t) : null);
        return new OnnxNode(n.Name, n.OpType, n.Domain, [.. n.Input], [.. n.Output], attrs);
    }

    private OnnxTensor ReadTensor(TensorProto t)
    {
        string name = t.Name;
        long[] dims = [.. t.Dims];
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0 || d > MaxValues || (count *= d) > MaxValues) throw Bad($"tensor `{name}` with dimensions {string.Join('x', dims)}");
        }
        if (t.Segment is not null) throw new InvalidDataFormatException($"{_what}: tensor `{name}` is stored in segments, which Dendrite does not read.");
        int type = t.DataType;
        ReadOnlySpan<byte> raw = default;
        bool hasRaw = false;
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            raw = ReadExternal(name, t.ExternalData, count * ElementSize(type, name));
            hasRaw = true;
        }
        else if (t.HasRawData)
        {
            raw = t.RawData.Span;
            hasRaw = true;
        }
        if (hasRaw)
        {
            long size = ElementSize(type, name);
            if (raw.Length != count * size) throw Bad($"tensor `{name}` of {count} values in {raw.Length} bytes");
            return (DataType)type switch
            {
                DataType.Float => new(name, dims, MemoryMarshal.Cast<byte, float>(raw).ToArray(), null),
                DataType.Double => new(name, dims, ToFloats(MemoryMarshal.Cast<byte, double>(raw)), null),
                DataType.Int64 => new(name, dims, null, MemoryMarshal.Cast<byte, long>(raw).ToArray()),
                DataType.Int32 => new(name, dims, null, ToLongs(MemoryMarshal.Cast<byte, int>(raw))),
                _ => throw Unsupported(type, name),
            };
        }
        OnnxTensor tensor = (DataType)type switch
        {
            DataType.Float => new(name, dims, [.. t.FloatData], null),
            DataType.Double => new(name, dims, [.. t.DoubleData.Select(d => (float)d)], null),
            DataType.Int32 => new(name, dims, null, [.. t.Int32Data.Select(i => (long)i)]),
            DataType.Int64 => new(name, dims, null, [.. t.Int64Data]),
            _ => throw Unsupported(type, name),
        };
        if (tensor.Count != count) throw Bad($"tensor `{name}` with {tensor.Count} values for dimensions {string.Join('x', dims)}");
        return tensor;
    }

    private static float[] ToFloats(ReadOnlySpan<double> v)
    {
        var r = new float[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = (float)v[i];
        return r;
    }

    private static long[] ToLongs(ReadOnlySpan<int> v)
    {
        var r = new long[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = v[i];
        return r;
    }

    private long ElementSize(int type, string name) => (DataType)type switch
    {
        DataType.Float or DataType.Int32 => 4,
        DataType.Int64 or DataType.Double => 8,
        _ => throw Unsupported(type, name),
    };

    private InvalidDataFormatException Unsupported(int type, string name) =>
        new($"{_what}: tensor `{name}` has ONNX element type {type}; Dendrite reads float (1), double (11), int32 (6) and int64 (7) tensors.");

    /// <summary>
    /// A tensor's bytes from its external data file: "location" must name a file inside the model's folder (no rooted path,
    /// no "..", no link leading out), and "offset" and "length" must lie within it.
    /// </summary>
    private byte[] ReadExternal(string name, IEnumerable<StringStringEntryProto> entries, long bytes)
    {
        var info = new Dictionary<string, string>();
        foreach (var e in entries) info[e.Key] = e.Value;
        if (!info.TryGetValue("location", out var location) || location.Length == 0)
            throw new InvalidDataFormatException($"{_what}: tensor `{name}` is stored outside the model but names no file.");
        string full = Path.GetFullPath(Path.Combine(_folder, location));
        string root = Path.GetFullPath(_folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        string outside = $"{_what}: tensor `{name}` points at \"{location}\", outside the model's folder. External data is read only from the folder the model is in.";
        if (Path.IsPathRooted(location) || !full.StartsWith(root, StringComparison.Ordinal)) throw new InvalidDataFormatException(outside);
        // Again with every link resolved, as the operating system will open it.
        string realRoot = FilePaths.RealPath(_folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        if (!FilePaths.RealPath(full).StartsWith(realRoot, StringComparison.Ordinal)) throw new InvalidDataFormatException(outside);
        long offset = 0;
        if (info.TryGetValue("offset", out var o) && !long.TryParse(o, out offset))
            throw new InvalidDataFormatException($"{_what}: tensor `{name}` has offset \"{o}\" in \"{location}\", which is not a number.");
        if (info.TryGetValue("length", out var l) && (!long.TryParse(l, out long length) || length != bytes))
            throw new InvalidDataFormatException($"{_what}: tensor `{name}` needs {bytes} bytes; its external data gives length \"{l}\".");
        using var stream = InputFile.Open(full, $"external data of {_what}", MaxExternalBytes);
        if (offset < 0 || offset > stream.Length || bytes > stream.Length - offset)
            throw new InvalidDataFormatException($"{_what}: tensor `{name}` needs {bytes} bytes at offset {offset} of \"{location}\", which holds {stream.Length}.");
        MemoryBudget.Require(bytes, $"Reading tensor `{name}` of {_what}");
        var buffer = new byte[bytes];
        stream.Position = offset;
        stream.ReadExactly(buffer);
        return buffer;
    }
}
