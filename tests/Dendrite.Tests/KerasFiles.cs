using System.IO.Compression;
using System.Text.Json;
using Dendrite.Layers;
using Dendrite.Models;
using PureHDF;

namespace Dendrite.Tests;

/// <summary>
/// Keras-layout files written here (PureHDF's writer) from a Dendrite model and a Keras config: a v3 zip with weights
/// under layers/KEY/vars/i, and a legacy HDF5 file with model_config, layer_names and weight_names (Keras 2 names, ':0').
/// </summary>
internal static class KerasFiles
{
    /// <summary>One Keras layer: its class, config, and the Dendrite layer whose weights it holds (or null).</summary>
    internal sealed record Spec(string ClassName, Dictionary<string, object?> Config, Layer? Weights = null);

    internal static string Config(IEnumerable<Spec> layers) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["class_name"] = "Sequential",
        ["config"] = new Dictionary<string, object?>
        {
            ["name"] = "sequential",
            ["layers"] = layers.Select(l => new Dictionary<string, object?> { ["module"] = "keras.layers", ["class_name"] = l.ClassName, ["config"] = l.Config }).ToList(),
        },
    });

    private static H5Dataset Data(Variable v) => new(v.Value.ToArray(), fileDims: v.Value.ShapeSpan.ToArray().Select(d => (ulong)d).ToArray());

    private static string Snake(string cls) => cls switch
    {
        "Conv2D" => "conv2d", "BatchNormalization" => "batch_normalization", "Dense" => "dense", _ => cls.ToLowerInvariant(),
    };

    /// <summary>A .keras zip; <paramref name="config"/> overrides the JSON made from <paramref name="layers"/>.</summary>
    internal static byte[] Zip(IReadOnlyList<Spec> layers, string? config = null, bool optimizer = false)
    {
        var file = new H5File();
        var root = new H5Group();
        var counters = new Dictionary<string, int>();
        foreach (var l in layers.Where(l => l.ClassName != "InputLayer"))
        {
            string snake = Snake(l.ClassName);
            int n = counters.TryGetValue(snake, out int c) ? c + 1 : 0;
            counters[snake] = n;
            if (l.Weights is null) continue;
            var vars = new H5Group();
            for (int i = 0; i < l.Weights.Weights.Count; i++) vars[i.ToString()] = Data(l.Weights.Weights[i]);
            root[n == 0 ? snake : $"{snake}_{n}"] = new H5Group { ["vars"] = vars };
        }
        file["layers"] = root;
        if (optimizer) file["optimizer"] = new H5Group { ["vars"] = new H5Group { ["0"] = new H5Dataset(new long[] { 3 }) } };
        var h5 = new MemoryStream();
        file.Write(h5);
        var zip = new MemoryStream();
        using (var a = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var w = new StreamWriter(a.CreateEntry("config.json").Open())) w.Write(config ?? Config(layers));
            using (var w = new StreamWriter(a.CreateEntry("metadata.json").Open())) w.Write("{\"keras_version\": \"3.0.0\"}");
            using (var s = a.CreateEntry("model.weights.h5").Open()) s.Write(h5.ToArray());
        }
        return zip.ToArray();
    }

    /// <summary>A legacy .h5 file as Keras 2 writes it.</summary>
    internal static byte[] Legacy(IReadOnlyList<Spec> layers, string? config = null)
    {
        var weights = new H5Group();
        var names = new List<string>();
        foreach (var l in layers.Where(l => l.ClassName != "InputLayer"))
        {
            string name = (string)l.Config["name"]!;
            names.Add(name);
            var g = new H5Group();
            var inner = new H5Group();
            var wn = new List<string>();
            if (l.Weights is not null)
                foreach (var v in l.Weights.Weights)
                {
                    string short_ = v.Name[(v.Name.LastIndexOf('/') + 1)..];
                    inner[short_ + ":0"] = Data(v);
                    wn.Add($"{name}/{short_}:0");
                }
            if (wn.Count > 0) g[name] = inner;
            g.Attributes = new Dictionary<string, object> { ["weight_names"] = wn.ToArray() };
            weights[name] = g;
        }
        weights.Attributes = new Dictionary<string, object> { ["layer_names"] = names.ToArray() };
        var file = new H5File { ["model_weights"] = weights };
        file.Attributes = new Dictionary<string, object> { ["model_config"] = config ?? Config(layers), ["keras_version"] = "2.10.0" };
        var h5 = new MemoryStream();
        file.Write(h5);
        return h5.ToArray();
    }
}
