using System.IO.Compression;
using System.Text.Json;
using Dendrite.Data;
using Dendrite.Models;
using PureHDF;
using PureHDF.VOL.Native;

namespace Dendrite.Serialization.Import;

/// <summary>
/// The two containers Keras saves a model in, read with PureHDF (pure managed HDF5): the v3 zip (config.json and
/// model.weights.h5, weights under <c>layers/KEY/vars/i</c>, or <c>_layer_checkpoint_dependencies/KEY/vars/i</c> as
/// Keras 2.13–2.15 wrote them), and the legacy HDF5 file (a <c>model_config</c> JSON attribute, weights under
/// <c>model_weights/LAYER/WEIGHT_NAME</c> listed by <c>layer_names</c> and <c>weight_names</c>). Nothing in either is
/// executed; every weight's shape is checked against what its layer expects before a value is read.
/// </summary>
internal sealed class KerasFile : IDisposable
{
    /// <summary>Largest config.json read from a .keras zip.</summary>
    public const long MaxConfigBytes = 64L << 20;

    private readonly string _what;
    private readonly NativeFile _h5;
    private readonly bool _legacy;

    public JsonElement Config { get; }
    public bool HasOptimizerState { get; }

    private KerasFile(string what, NativeFile h5, bool legacy, JsonElement config, bool optimizer)
    {
        _what = what; _h5 = h5; _legacy = legacy; Config = config; HasOptimizerState = optimizer;
    }

    public void Dispose() => _h5.Dispose();

    private InvalidDataFormatException Fail(string why, Exception? inner = null) => new($"{_what}: {why}", inner);

    /// <summary>A legacy Keras HDF5 (.h5) file.</summary>
    public static KerasFile OpenHdf5(string path) => OpenHdf5(InputFile.ReadAllBytes(path, "a Keras HDF5 model", ModelImport.MaxBytes), path);

    /// <summary>A legacy Keras HDF5 file held in <paramref name="bytes"/>; <paramref name="path"/> names it in messages.</summary>
    public static KerasFile OpenHdf5(byte[] bytes, string path)
    {
        NativeFile? h5 = null;
        try
        {
            h5 = OpenH5(bytes, path);
            if (!h5.AttributeExists("model_config"))
                throw new InvalidDataFormatException($"{path} is an HDF5 file without a `model_config` attribute: it holds weights only (save_weights), not a Keras model. Dendrite needs the model's config too (model.save).");
            string json = ReadString(h5.Attribute("model_config"), path, "model_config");
            var config = ParseJson(json, path, "model_config");
            if (!h5.LinkExists("model_weights")) throw new InvalidDataFormatException($"{path} has no `model_weights` group: the file holds no weights.");
            return new KerasFile(path, h5, true, config, h5.LinkExists("optimizer_weights"));
        }
        catch (Exception e) when (e is not InvalidDataFormatException and not OutOfMemoryException)
        {
            h5?.Dispose();
            throw new InvalidDataFormatException($"{path} is not a readable Keras HDF5 file: {e.Message}", e);
        }
        catch { h5?.Dispose(); throw; }
    }

    /// <summary>PureHDF's reader over <paramref name="bytes"/>, once <see cref="Hdf5Guard"/> has checked the lengths PureHDF would allocate for.</summary>
    private static NativeFile OpenH5(byte[] bytes, string what)
    {
        Hdf5Guard.Check(bytes, what);
        return H5File.Open(new MemoryStream(bytes, writable: false), leaveOpen: false);
    }

    /// <summary>A Keras v3 zip (.keras) file; its entries are read with size caps.</summary>
    public static KerasFile OpenZip(string path)
    {
        using var fs = InputFile.Open(path, "a Keras model (.keras)", ModelImport.MaxBytes);
        return OpenZip(fs, path);
    }

    /// <summary>A Keras v3 zip from <paramref name="fs"/> (left open); <paramref name="path"/> names it in messages.</summary>
    public static KerasFile OpenZip(Stream fs, string path)
    {
        byte[] configBytes, weights;
        try
        {
            using var zip = new ZipArchive(fs, ZipArchiveMode.Read, leaveOpen: true);
            configBytes = Entry(zip, "config.json", MaxConfigBytes, path);
            weights = Entry(zip, "model.weights.h5", ModelImport.MaxBytes, path);
        }
        catch (InvalidDataException e) { throw new InvalidDataFormatException($"{path} is not a readable Keras v3 zip: {e.Message}", e); }
        var config = ParseJson(new System.Text.UTF8Encoding(false, false).GetString(configBytes), path, "config.json");
        NativeFile? h5 = null;
        try
        {
            h5 = OpenH5(weights, $"{path}: model.weights.h5");
            return new KerasFile(path, h5, false, config, h5.LinkExists("optimizer"));
        }
        catch (Exception e) when (e is not InvalidDataFormatException and not OutOfMemoryException)
        {
            h5?.Dispose();
            throw new InvalidDataFormatException($"{path}: model.weights.h5 is not a readable HDF5 file: {e.Message}", e);
        }
    }

    private static byte[] Entry(ZipArchive zip, string name, long cap, string path)
    {
        var e = zip.GetEntry(name) ?? throw new InvalidDataFormatException($"{path} is a zip without `{name}`; a Keras v3 file (.keras) holds config.json and model.weights.h5.");
        if (e.Length > cap) throw new InvalidDataFormatException($"{path}: `{name}` is {e.Length:N0} bytes, more than Dendrite reads ({cap:N0} at most).");
        MemoryBudget.Require(e.Length, $"Reading {name} of {path}");
        // Read what is there, in pieces, rather than allocating the declared length up front: a damaged entry may
        // declare gigabytes and hold a few bytes.
        using var s = e.Open();
        using var held = new MemoryStream();
        var piece = new byte[81920];
        for (int n; (n = s.Read(piece)) > 0;)
        {
            if (held.Length + n > e.Length)
                throw new InvalidDataFormatException($"{path}: `{name}` holds more than the {e.Length:N0} bytes its zip entry declares.");
            held.Write(piece, 0, n);
        }
        if (held.Length != e.Length)
            throw new InvalidDataFormatException($"{path}: `{name}` does not hold the {e.Length:N0} bytes its zip entry declares.");
        return held.Length == held.Capacity ? held.GetBuffer() : held.ToArray();
    }

    private static JsonElement ParseJson(string json, string path, string what)
    {
        try { return JsonDocument.Parse(json).RootElement; }
        catch (JsonException e) { throw new InvalidDataFormatException($"{path}: {what} is not valid JSON: {e.Message}", e); }
    }

    private static string ReadString(IH5Attribute a, string path, string what)
    {
        try
        {
            if (a.Space.Dimensions.Length == 0) return a.Read<string>();
            var v = a.Read<string[]>();
            return v.Length == 1 ? v[0] : throw new InvalidDataFormatException($"{path}: `{what}` holds {v.Length} strings; expected one.");
        }
        catch (Exception e) when (e is not InvalidDataFormatException and not OutOfMemoryException)
        {
            // Keras 2 wrote some attributes as fixed-length byte strings.
            try { return System.Text.Encoding.UTF8.GetString(a.Read<byte[]>()).TrimEnd('\0'); }
            catch (Exception) { throw new InvalidDataFormatException($"{path}: `{what}` is not a string attribute: {e.Message}", e); }
        }
    }

    private static string[] ReadStrings(IH5Attribute a, string path, string what)
    {
        try { return a.Space.Dimensions.Length == 0 ? [a.Read<string>()] : a.Read<string[]>(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataFormatException($"{path}: `{what}` is not a list of strings: {e.Message}", e);
        }
    }

    /// <summary>
    /// The weights of layer <paramref name="name"/> (the name in its config), whose weights Keras v3 keys by
    /// <paramref name="key"/> (its class in snake case plus a per-class counter); <paramref name="shapes"/> is what the
    /// Dendrite layer expects, in Keras's order.
    /// </summary>
    public Tensor[] Weights(string name, string key, int[][] shapes)
    {
        try { return ReadWeights(name, key, shapes); }
        catch (Exception e) when (e is not InvalidDataFormatException and not OutOfMemoryException)
        {
            throw Fail($"the weights of layer `{name}` cannot be read: {e.Message}", e);
        }
    }

    private Tensor[] ReadWeights(string name, string key, int[][] shapes)
    {
        var found = _legacy ? LegacyDatasets(name) : V3Datasets(name, key);
        if (found.Count != shapes.Length)
            throw Fail($"layer `{name}` has {found.Count} weight{(found.Count == 1 ? "" : "s")} in the file; Dendrite's layer takes {shapes.Length} ({string.Join(", ", shapes.Select(s => Tensor.ShapeToString(s)))}).");
        var result = new Tensor[shapes.Length];
        for (int i = 0; i < shapes.Length; i++)
        {
            var (label, d) = found[i];
            var dims = d.Space.Dimensions;
            if (!dims.Select(x => (long)x).SequenceEqual(shapes[i].Select(x => (long)x)))
                throw Fail($"layer `{name}`: weight `{label}` has shape ({string.Join(", ", dims)}); the layer's config gives {Tensor.ShapeToString(shapes[i])}.");
            result[i] = new Tensor(ReadFloats(d, label, name), shapes[i]);
        }
        return result;
    }

    private float[] ReadFloats(IH5Dataset d, string label, string layer)
    {
        try
        {
            if (d.Type.Class != H5DataTypeClass.FloatingPoint) throw Fail($"layer `{layer}`: weight `{label}` is not floating point ({d.Type.Class}).");
            return d.Type.Size switch
            {
                4 => d.Read<float[]>(),
                8 => d.Read<double[]>().Select(v => (float)v).ToArray(),
                2 => d.Read<Half[]>().Select(v => (float)v).ToArray(),
                _ => throw Fail($"layer `{layer}`: weight `{label}` has {d.Type.Size}-byte floats."),
            };
        }
        catch (Exception e) when (e is not InvalidDataFormatException and not OutOfMemoryException)
        {
            throw Fail($"layer `{layer}`: weight `{label}` cannot be read: {e.Message}", e);
        }
    }

    private List<(string, IH5Dataset)> LegacyDatasets(string name)
    {
        var root = _h5.Group("model_weights");
        if (!root.LinkExists(name)) return [];
        var g = root.Group(name);
        if (!g.AttributeExists("weight_names")) return [];
        var names = ReadStrings(g.Attribute("weight_names"), _what, $"model_weights/{name}/weight_names");
        var list = new List<(string, IH5Dataset)>();
        foreach (var w in names)
        {
            if (w.Contains("..", StringComparison.Ordinal) || !g.LinkExists(w)) throw Fail($"layer `{name}` lists weight `{w}`, which is not in the file.");
            list.Add((w, g.Dataset(w)));
        }
        return list;
    }

    private List<(string, IH5Dataset)> V3Datasets(string name, string key)
    {
        foreach (var prefix in (string[])["layers", "_layer_checkpoint_dependencies"])
            foreach (var k in (string[])[key, name])
            {
                string at = $"{prefix}/{k}/vars";
                if (!_h5.LinkExists(at)) continue;
                var g = _h5.Group(at);
                var list = new List<(string, IH5Dataset)>();
                for (int i = 0; g.LinkExists(i.ToString(System.Globalization.CultureInfo.InvariantCulture)); i++)
                    list.Add(($"{at}/{i}", g.Dataset(i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
                return list;
            }
        return [];
    }
}
