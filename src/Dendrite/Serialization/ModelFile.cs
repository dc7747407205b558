using System.Globalization;
using System.Text;
using System.Text.Json;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Losses;
using Dendrite.Models;
using Dendrite.Optimizers;

namespace Dendrite.Serialization;

/// <summary>
/// Dendrite's model file (format version 1): one safetensors file. Its tensors are the weights, named
/// "&lt;layer&gt;/kernel" and "&lt;layer&gt;/bias" (kernel shape (inputs, units), as Keras), and, in a checkpoint,
/// the optimizer's slots as "optimizer/&lt;variable&gt;/&lt;slot&gt;". Its __metadata__ holds "format" =
/// "dendrite.model", "format_version" = "1", and "config": a JSON document giving the input shape, the data set it was trained on, the class
/// names, each layer's class and settings, and the compile settings. A checkpoint adds "training": where a
/// run stood. Everything is data: loading builds layers from a fixed list of classes, never by type name.
/// <para>
/// Integrity: every file carries a CRC-32C of all its bytes in __metadata__ "checksum" (see <see cref="SafeTensors"/>),
/// verified on load, so a flipped bit anywhere is an error naming the file. Files written before the checksum load
/// with a note. On load every tensor must be claimed by exactly one weight (or optimizer slot) and every weight must
/// find its tensor, and every value must be finite.
/// </para>
/// </summary>
public static class ModelFile
{
    public const string Format = "dendrite.model";
    public const int Version = 1;

    /// <summary>Largest model file read (above it the file is taken as something else); it must also fit in memory.</summary>
    public const long MaxBytes = 16L << 30;

    /// <summary>The metadata keys of a file written before checksums: a file without a checksum may hold no others.</summary>
    private static readonly string[] LegacyKeys = ["format", "format_version", "config", "training"];

    /// <summary>Writes the model (and, for a checkpoint, the optimizer's state and <paramref name="training"/>) atomically.</summary>
    public static void Save(Sequential model, string path, string? training = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsBuilt) throw new InvalidOperationException("Only a built model can be saved: build it, or train it, first.");
        var tensors = new List<(string, Tensor)>();
        foreach (var layer in model.Layers)
            foreach (var w in layer.Weights) tensors.Add((w.Name, w.Value));
        if (training is not null && model.Optimizer is { } opt)
            foreach (var (v, slot, t) in opt.Slots()) tensors.Add(($"optimizer/{v.Name}/{slot}", t));
        // Never write a file that loading would refuse.
        var seen = new HashSet<string>();
        foreach (var (name, t) in tensors)
        {
            if (!seen.Add(name)) throw new InvalidOperationException($"Two weights are named `{name}`: give the layers distinct names before saving.");
            if (FirstNonFinite(t.Span) is int i) throw new InvalidOperationException($"Weight `{name}` holds {t.Span[i]} at index {i}: a model with non-finite weights is not saved.");
        }
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["format_version"] = Version.ToString(CultureInfo.InvariantCulture),
            ["config"] = ConfigJson(model),
        };
        if (training is not null) meta["training"] = training;
        AtomicFile.Write(path, s => SafeTensors.Write(s, tensors, meta, checksum: true));
    }

    /// <summary>Reads a model file; a checkpoint also restores the optimizer's state. Errors are <see cref="InvalidDataFormatException"/>s naming the problem.</summary>
    public static Sequential Load(string path) => Load(path, out _);

    public static Sequential Load(string path, out string? training) => Load(path, out training, out _);

    /// <summary>Reads a model file; <paramref name="note"/> is a line for the user about it (a file without a checksum), or null.</summary>
    public static Sequential Load(string path, out string? training, out string? note)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = InputFile.Open(path, "a model file", MaxBytes);
        Models.MemoryBudget.Require(2 * fs.Length, $"Loading {path}");   // its tensors, then the weights built from them
        return Load(fs, path, out training, out note);
    }

    public static Sequential Load(Stream stream, string source, out string? training) => Load(stream, source, out training, out _);

    public static Sequential Load(Stream stream, string source, out string? training, out string? note)
    {
        var (tensors, meta) = SafeTensors.Read(stream, source, out bool checksummed);
        note = null;
        if (!checksummed)
        {
            // A file from before checksums holds only the keys those versions wrote; any other key means a damaged checksum entry.
            if (meta.Keys.FirstOrDefault(k => !LegacyKeys.Contains(k)) is { } unknown)
                throw new InvalidDataFormatException($"{source}: the file has no checksum but holds metadata `{unknown}`: the file is corrupt.");
            note = $"{source} carries no checksum (it was saved by an older Dendrite), so damage to it cannot be detected; save it again to add one.";
        }
        foreach (var (name, t) in tensors)
            if (FirstNonFinite(t.Span) is int i)
                throw new InvalidDataFormatException($"{source}: tensor `{name}` holds {t.Span[i]} at index {i}; a model's values must be finite.");
        if (!meta.TryGetValue("format", out var format) || format != Format)
            throw new InvalidDataFormatException($"{source}: not a Dendrite model (a safetensors file without format \"{Format}\" in its metadata).");
        if (!meta.TryGetValue("format_version", out var ver) || !int.TryParse(ver, NumberStyles.None, CultureInfo.InvariantCulture, out int version))
            throw new InvalidDataFormatException($"{source}: the model format version is missing.");
        if (version > Version) throw new InvalidDataFormatException($"{source}: model format version {version} was written by a newer Dendrite; this one reads version {Version}.");
        if (!meta.TryGetValue("config", out var config)) throw new InvalidDataFormatException($"{source}: the model config is missing.");
        training = meta.GetValueOrDefault("training");
        var model = FromConfig(config, source);
        // Check every weight against the config before building anything (a config that lies allocates nothing).
        var expected = ExpectedWeights(model, source);
        foreach (var (name, shape) in expected)
        {
            if (!tensors.TryGetValue(name, out var t)) throw new InvalidDataFormatException($"{source}: weight `{name}` of shape {Tensor.ShapeToString(shape)} is missing.");
            if (!t.ShapeSpan.SequenceEqual(shape)) throw new InvalidDataFormatException($"{source}: weight `{name}` has shape {Tensor.ShapeToString(t.ShapeSpan)} but the config needs {Tensor.ShapeToString(shape)}.");
        }
        var extra = tensors.Keys.Where(k => !k.StartsWith("optimizer/", StringComparison.Ordinal) && !expected.ContainsKey(k)).ToList();
        if (extra.Count > 0) throw new InvalidDataFormatException($"{source}: tensor `{extra[0]}` does not belong to any layer of the config.");
        var extraSlots = tensors.Keys.Where(k => k.StartsWith("optimizer/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        // Optimizer slots: each tensor under optimizer/ names one trainable weight and one of the optimizer's slots.
        var slots = new List<(string Weight, string Slot, Tensor Values)>();
        foreach (var name in extraSlots)
        {
            int cut = name.LastIndexOf('/');
            string weight = name["optimizer/".Length..Math.Max("optimizer/".Length, cut)], slot = name[(cut + 1)..];
            if (model.Optimizer is not { } o) throw new InvalidDataFormatException($"{source}: optimizer state `{name}` is in the file, but the model has no optimizer (no compile section).");
            if (!o.SlotNames.Contains(slot)) throw new InvalidDataFormatException($"{source}: optimizer state `{name}`: {o.Name} keeps no slot named `{slot}` (it keeps {(o.SlotNames.Count == 0 ? "none" : string.Join(", ", o.SlotNames))}).");
            if (!expected.TryGetValue(weight, out var shape)) throw new InvalidDataFormatException($"{source}: optimizer state `{name}` belongs to no weight of the model.");
            if (!tensors[name].ShapeSpan.SequenceEqual(shape)) throw new InvalidDataFormatException($"{source}: optimizer state `{name}` has shape {Tensor.ShapeToString(tensors[name].ShapeSpan)} but weight `{weight}` has {Tensor.ShapeToString(shape)}.");
            slots.Add((weight, slot, tensors[name]));
        }
        model.Build(model.Layers[0].InputShape!);
        foreach (var layer in model.Layers)
            foreach (var w in layer.Weights) tensors[w.Name].Span.CopyTo(w.Value.Span);
        if (model.Optimizer is { } opt && slots.Count > 0)
        {
            var byName = model.Weights.ToDictionary(w => w.Name);
            // A slot is kept for every trainable weight once the optimizer has stepped: all of them, or none (a checkpoint taken before the first step).
            foreach (var w in model.Weights.Where(w => w.Trainable))
                foreach (var slot in opt.SlotNames)
                    if (!tensors.ContainsKey($"optimizer/{w.Name}/{slot}"))
                        throw new InvalidDataFormatException($"{source}: optimizer state `optimizer/{w.Name}/{slot}` is missing (the file holds the {opt.Name} state of other weights).");
            foreach (var (weight, slot, values) in slots)
            {
                if (!byName[weight].Trainable) throw new InvalidDataFormatException($"{source}: optimizer state `optimizer/{weight}/{slot}` belongs to a weight that is not trained.");
                opt.SetSlot(byName[weight], slot, values);
            }
        }
        return model;
    }

    /// <summary>Every weight the config's layers create, by name, with its shape; two weights of one name are an error.</summary>
    private static Dictionary<string, int[]> ExpectedWeights(Sequential model, string source)
    {
        var result = new Dictionary<string, int[]>();
        var layerNames = new HashSet<string>();
        int[] shape = model.Layers[0].InputShape!;
        foreach (var layer in model.Layers)
        {
            if (!layerNames.Add(layer.Name)) throw new InvalidDataFormatException($"{source}: two layers are named `{layer.Name}`; layer names must be unique.");
            try
            {
                var next = layer.ComputeOutputShape(shape);
                foreach (var (name, weightShape) in layer.WeightShapes(shape))
                    if (!result.TryAdd(name, weightShape)) throw new InvalidDataFormatException($"{source}: two weights are named `{name}`.");
                shape = next;
            }
            catch (ArgumentException e) { throw new InvalidDataFormatException($"{source}: {e.Message}", e); }
        }
        return result;
    }

    /// <summary>The index of the first NaN or infinity in <paramref name="values"/>, or null.</summary>
    internal static int? FirstNonFinite(ReadOnlySpan<float> values)
    {
        // x - x is 0 for every finite x and NaN for NaN and ±infinity; one vector pass finds whether any is there.
        var v = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(values);
        var acc = System.Numerics.Vector<float>.Zero;
        foreach (var x in v) acc += x - x;
        bool clean = System.Numerics.Vector.EqualsAll(acc, System.Numerics.Vector<float>.Zero);
        for (int i = v.Length * System.Numerics.Vector<float>.Count; i < values.Length && clean; i++) clean = float.IsFinite(values[i]);
        if (clean) return null;
        for (int i = 0; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return null;
    }

    /// <summary>The model's config as the file keeps it (JSON: input shape, class names, layers and their settings, compile settings), like Keras's model.to_json().</summary>
    public static string ConfigJson(Sequential model)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("class_name", "Sequential");
            w.WriteStartArray("input_shape");
            foreach (int d in model.InputShape) w.WriteNumberValue(d);
            w.WriteEndArray();
            if (model.DatasetName is { } dataset) w.WriteString("dataset", dataset);
            if (model.ClassNames is { } names)
            {
                w.WriteStartArray("class_names");
                foreach (var n in names) w.WriteStringValue(n);
                w.WriteEndArray();
            }
            w.WriteStartArray("layers");
            foreach (var layer in model.Layers)
            {
                w.WriteStartObject();
                w.WriteString("class_name", layer.GetType().Name);
                w.WriteStartObject("config");
                foreach (var (k, v) in layer.GetConfig())
                {
                    switch (v)
                    {
                        case null: w.WriteNull(k); break;
                        case string s: w.WriteString(k, s); break;
                        case bool b: w.WriteBoolean(k, b); break;
                        case int i: w.WriteNumber(k, i); break;
                        case float f: w.WriteNumber(k, f); break;
                        case int[] a:
                            w.WriteStartArray(k);
                            foreach (int x in a) w.WriteNumberValue(x);
                            w.WriteEndArray();
                            break;
                        case Regularizers.Regularizer reg:
                            w.WriteStartObject(k);
                            w.WriteString("class_name", reg.ClassName);
                            w.WriteStartObject("config");
                            foreach (var (rn, rv) in reg.GetConfig()) w.WriteNumber(rn, rv);
                            w.WriteEndObject();
                            w.WriteEndObject();
                            break;
                        case float[] a:
                            w.WriteStartArray(k);
                            foreach (float x in a) w.WriteNumberValue(x);
                            w.WriteEndArray();
                            break;
                        default: throw new InvalidOperationException($"Config value {k} of type {v.GetType().Name} cannot be saved.");
                    }
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (model.Loss is { } loss && model.Optimizer is { } opt)
            {
                w.WriteStartObject("compile");
                w.WriteString("loss", loss.Name);
                w.WriteStartObject("optimizer");
                w.WriteString("class_name", opt.Name);
                foreach (var (name, value) in opt.GetConfig().Concat(opt.GetSharedConfig()))
                    switch (value)
                    {
                        case float f: w.WriteNumber(name, f); break;
                        case bool b: w.WriteBoolean(name, b); break;
                        default: throw new InvalidOperationException($"Optimizer setting {name} of type {value.GetType().Name} cannot be saved.");
                    }
                w.WriteNumber("iterations", opt.Iterations);
                if (opt.Schedule is { } schedule) WriteSchedule(w, schedule);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    internal static Sequential FromConfig(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (JsonException e) { throw new InvalidDataFormatException($"{source}: the model config is not valid JSON ({e.Message})."); }
        using (doc)
        {
            var root = new Reader(doc.RootElement, source, "config");
            if (root.String("class_name") != "Sequential") throw root.Error("class_name", "expected Sequential");
            var inputShape = root.Ints("input_shape", 1, 4, 1, 1 << 16);
            if (inputShape.Aggregate(1L, (a, d) => a * d) > 1 << 26) throw root.Error("input_shape", "too large");
            var model = new Sequential();
            if (root.Has("class_names")) model.ClassNames = root.Strings("class_names", 1, 1 << 16);
            if (root.Has("dataset")) model.DatasetName = root.String("dataset");
            var layers = root.Array("layers");
            if (layers.Count == 0) throw root.Error("layers", "the model has no layers");
            for (int i = 0; i < layers.Count; i++)
            {
                var l = new Reader(layers[i], source, $"layers[{i}]");
                var c = l.Object("config");
                string? name = c.Has("name") ? c.String("name") : null;
                if (name is not null && model.Layers.Any(x => x.Name == name)) throw c.Error("name", $"two layers are named `{name}`; layer names must be unique");
                int[]? shape = i == 0 ? inputShape : null;
                Layer layer;
                try
                {
                    layer = l.String("class_name") switch
                    {
                        "Dense" => new Dense(c.Int("units", 1, 1 << 20), c.Activation("activation"), c.Bool("use_bias"),
                            c.Initializer("kernel_initializer"), c.Initializer("bias_initializer"), shape, name,
                            c.Regularizer("kernel_regularizer"), c.Regularizer("bias_regularizer")),
                        "Activation" => new Activation(c.Activation("activation"), shape, name),
                        "Flatten" => new Flatten(shape, name),
                        "Rescaling" => new Rescaling(c.Float("scale"), c.Float("offset"), shape, name),
                        "Reshape" => new Reshape(c.Ints("target_shape", 1, 4, -1, 1 << 24), shape, name),
                        "Conv2D" => new Conv2D(c.Int("filters", 1, 1 << 16), c.Size("kernel_size"), c.Size("strides"), c.Padding("padding"),
                            c.Activation("activation"), c.Bool("use_bias"), c.Initializer("kernel_initializer"), c.Initializer("bias_initializer"), shape, name,
                            c.Regularizer("kernel_regularizer"), c.Regularizer("bias_regularizer")),
                        "MaxPooling2D" => new MaxPooling2D(c.Size("pool_size"), c.Size("strides"), c.Padding("padding"), shape, name),
                        "AveragePooling2D" => new AveragePooling2D(c.Size("pool_size"), c.Size("strides"), c.Padding("padding"), shape, name),
                        "GlobalAveragePooling2D" => new GlobalAveragePooling2D(shape, name),
                        "ZeroPadding2D" => c.Ints("padding", 4, 4, 0, 1 << 16) is var z ? new ZeroPadding2D(((z[0], z[1]), (z[2], z[3])), shape, name) : null!,
                        "Dropout" => new Dropout(c.Float("rate"), c.Int("seed", 0, int.MaxValue), shape, name),
                        "RandomTranslation" => new RandomTranslation(c.Range("height_factor"), c.Range("width_factor"), c.String("fill_mode"), c.String("interpolation"),
                            c.Int("seed", 0, int.MaxValue), c.Float("fill_value"), shape, name),
                        "RandomRotation" => new RandomRotation(c.Range("factor"), c.String("fill_mode"), c.String("interpolation"),
                            c.Int("seed", 0, int.MaxValue), c.Float("fill_value"), shape, name),
                        "RandomZoom" => new RandomZoom(c.Range("height_factor"), c.IsNull("width_factor") ? null : c.Range("width_factor"), c.String("fill_mode"), c.String("interpolation"),
                            c.Int("seed", 0, int.MaxValue), c.Float("fill_value"), shape, name),
                        "BatchNormalization" => new BatchNormalization(c.Float("momentum"), c.Float("epsilon"), c.Bool("center"), c.Bool("scale"), inputShape: shape, name: name),
                        var other => throw l.Error("class_name", $"unknown layer class {other}"),
                    };
                }
                catch (ArgumentException e) { throw l.Error("config", e.Message); }
                try { model.Add(layer); }
                catch (ArgumentException e) { throw l.Error("config", e.Message); }
            }
            if (root.Has("compile"))
            {
                var c = root.Object("compile");
                Loss loss;
                try { loss = c.String("loss"); } catch (ArgumentException e) { throw c.Error("loss", e.Message); }
                var o = c.Object("optimizer");
                string className = o.String("class_name");
                Optimizer opt;
                bool scheduled = o.Has("learning_rate_schedule");   // then learning_rate is the schedule's last value, which may be 0
                try { opt = Optimizer.FromConfig(className, (name, isBool) => !o.Has(name) || (scheduled && name == "learning_rate") ? null : isBool ? o.Bool(name) : o.Float(name)); }
                catch (ArgumentException e) { throw o.Error("optimizer", e.Message); }
                if (scheduled) opt.Schedule = ReadSchedule(o.Object("learning_rate_schedule"));
                if (o.Has("iterations")) opt.RestoreIterations(o.Long("iterations"));
                model.Compile(loss, opt, ["accuracy"]);
            }
            return model;
        }
    }

    /// <summary>A learning-rate schedule as Keras serialises one: class_name and config.</summary>
    private static void WriteSchedule(Utf8JsonWriter w, Optimizers.Schedules.LearningRateSchedule schedule)
    {
        w.WriteStartObject("learning_rate_schedule");
        w.WriteString("class_name", schedule.Name);
        w.WriteStartObject("config");
        foreach (var (name, value) in schedule.GetConfig())
        {
            switch (value)
            {
                case float f: w.WriteNumber(name, f); break;
                case int i: w.WriteNumber(name, i); break;
                case bool b: w.WriteBoolean(name, b); break;
                case float[] fs: w.WriteStartArray(name); foreach (var f in fs) w.WriteNumberValue(f); w.WriteEndArray(); break;
                case int[] iss: w.WriteStartArray(name); foreach (var i in iss) w.WriteNumberValue(i); w.WriteEndArray(); break;
                default: throw new InvalidOperationException($"Schedule setting {name} of type {value.GetType().Name} cannot be saved.");
            }
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static Optimizers.Schedules.LearningRateSchedule ReadSchedule(Reader s)
    {
        var c = s.Object("config");
        try
        {
            return Optimizers.Schedules.LearningRateSchedule.FromConfig(s.String("class_name"), (name, type) => !c.Has(name) ? null
                : type == typeof(float) ? c.Float(name) : type == typeof(int) ? c.Int(name, 0, int.MaxValue) : type == typeof(bool) ? c.Bool(name)
                : type == typeof(int[]) ? c.Ints(name, 0, 1 << 16, 0, int.MaxValue) : c.Floats(name, 1, 1 << 16));
        }
        catch (ArgumentException e) { throw s.Error("config", e.Message); }
    }

    /// <summary>Reads a JSON object strictly: every missing or mistyped field is an error naming its path.</summary>
    private readonly struct Reader(JsonElement e, string source, string path)
    {
        public InvalidDataFormatException Error(string field, string what) => new($"{source}: {path}.{field}: {what}.");

        public bool Has(string field) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(field, out _);

        private JsonElement Get(string field, JsonValueKind kind)
        {
            if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataFormatException($"{source}: {path} is not an object.");
            if (!e.TryGetProperty(field, out var v)) throw Error(field, "missing");
            if (v.ValueKind != kind && !(kind == JsonValueKind.True && v.ValueKind == JsonValueKind.False)) throw Error(field, $"expected {kind.ToString().ToLowerInvariant()}, found {v.ValueKind.ToString().ToLowerInvariant()}");
            return v;
        }

        public string String(string field) => Get(field, JsonValueKind.String).GetString()!;
        public bool Bool(string field) => Get(field, JsonValueKind.True).GetBoolean();

        public float Float(string field)
        {
            var v = Get(field, JsonValueKind.Number);
            if (!v.TryGetSingle(out float f) || !float.IsFinite(f)) throw Error(field, "not a finite number");
            return f;
        }

        public long Long(string field)
        {
            var v = Get(field, JsonValueKind.Number);
            if (!v.TryGetInt64(out long l) || l < 0) throw Error(field, "not a non-negative integer");
            return l;
        }

        public int Int(string field, int min, int max)
        {
            var v = Get(field, JsonValueKind.Number);
            if (!v.TryGetInt32(out int i) || i < min || i > max) throw Error(field, $"expected an integer in [{min}, {max}]");
            return i;
        }

        /// <summary>True when the field is present and null (an optional setting left out).</summary>
        public bool IsNull(string field) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Null;

        /// <summary>A random layer's factor: [lower, upper], or one number f for (-f, f), as Keras accepts.</summary>
        public FactorRange Range(string field)
        {
            if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(field, out var one) && one.ValueKind == JsonValueKind.Number) return Float(field);
            var v = Get(field, JsonValueKind.Array);
            if (v.GetArrayLength() != 2) throw Error(field, "expected [lower, upper]");
            var r = new float[2];
            int k = 0;
            foreach (var x in v.EnumerateArray())
                r[k++] = x.ValueKind == JsonValueKind.Number && x.TryGetSingle(out float f) && float.IsFinite(f) ? f : throw Error(field, "expected finite numbers");
            return (r[0], r[1]);
        }

        public int[] Ints(string field, int minCount, int maxCount, int min, int max)
        {
            var v = Get(field, JsonValueKind.Array);
            int n = v.GetArrayLength();
            if (n < minCount || n > maxCount) throw Error(field, $"expected {minCount} to {maxCount} values");
            var r = new int[n];
            int k = 0;
            foreach (var x in v.EnumerateArray())
                r[k++] = x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out int i) && i >= min && i <= max ? i : throw Error(field, $"expected integers in [{min}, {max}]");
            return r;
        }

        public float[] Floats(string field, int minCount, int maxCount)
        {
            var v = Get(field, JsonValueKind.Array);
            int n = v.GetArrayLength();
            if (n < minCount || n > maxCount) throw Error(field, $"expected {minCount} to {maxCount} values");
            var r = new float[n];
            int k = 0;
            foreach (var x in v.EnumerateArray())
                r[k++] = x.ValueKind == JsonValueKind.Number && x.TryGetSingle(out float f) && float.IsFinite(f) ? f : throw Error(field, "expected finite numbers");
            return r;
        }

        public string[] Strings(string field, int minCount, int maxCount)
        {
            var v = Get(field, JsonValueKind.Array);
            int n = v.GetArrayLength();
            if (n < minCount || n > maxCount) throw Error(field, $"expected {minCount} to {maxCount} values");
            var r = new string[n];
            int k = 0;
            foreach (var x in v.EnumerateArray()) r[k++] = x.ValueKind == JsonValueKind.String ? x.GetString()! : throw Error(field, "expected strings");
            return r;
        }

        /// <summary>A (height, width) pair written as a two-integer array.</summary>
        public Size2D Size(string field)
        {
            var v = Ints(field, 2, 2, 1, 1 << 16);
            return new Size2D(v[0], v[1]);
        }

        public string Padding(string field)
        {
            string p = String(field);
            return p is "valid" or "same" ? p : throw Error(field, $"expected \"valid\" or \"same\", found {p}");
        }

        public List<JsonElement> Array(string field) => Get(field, JsonValueKind.Array).EnumerateArray().ToList();

        public Reader Object(string field) => new(Get(field, JsonValueKind.Object), source, $"{path}.{field}");

        public ActivationFunction Activation(string field)
        {
            try { return ActivationFunction.Get(String(field)); }
            catch (ArgumentException) { throw Error(field, $"unknown activation {String(field)}"); }
        }

        /// <summary>A regularizer: absent or null (none), a Keras name ("l2"), or {"class_name": "L2", "config": {"l2": 0.01}}.</summary>
        public Regularizers.Regularizer? Regularizer(string field)
        {
            if (!Has(field) || e.GetProperty(field).ValueKind == JsonValueKind.Null) return null;
            var v = e.GetProperty(field);
            try
            {
                if (v.ValueKind == JsonValueKind.String) return Regularizers.Regularizer.Get(v.GetString()!);
                var r = Object(field);
                var c = r.Has("config") ? r.Object("config") : (Reader?)null;
                return Regularizers.Regularizer.FromConfig(r.String("class_name"), n => c is { } cc && cc.Has(n) ? cc.Float(n) : null);
            }
            catch (ArgumentException ex) { throw Error(field, ex.Message); }
        }

        public Initializer Initializer(string field)
        {
            string name = String(field);
            try { return Dendrite.Initializer.Get(name); }
            catch (ArgumentException) { return Dendrite.Initializer.GlorotUniform; } // parameterised initializers need not be rebuilt: the weights are loaded
        }
    }
}
