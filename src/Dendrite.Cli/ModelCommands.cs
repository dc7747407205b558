using System.CommandLine;
using System.Globalization;
using Dendrite.Data;
using Dendrite.Imaging;
using Dendrite.Models;
using Dendrite.Plotting;
using Dendrite.Serialization;
using Spectre.Console;

namespace Dendrite.Cli;

internal static class ModelCommands
{
    public static Command Summary()
    {
        var net = new NetworkOptions();
        var model = new Option<string?>("--model") { Description = "Summarise a saved model instead of the network options" };
        var cmd = new Command("summary", "Print the model table (layers, output shapes, parameters)");
        net.AddTo(cmd);
        cmd.Add(model);
        cmd.SetAction(r => Cli.Run(() =>
        {
            var m = r.GetValue(model) is string path ? Cli.LoadModel(path) : net.Build(r, [28, 28], 10);
            Console.Write(Printable.EscapeLines(m.SummaryText()));
        }));
        return cmd;
    }

    public static Command Evaluate()
    {
        var model = new Option<string>("--model") { Description = "A model saved by dendrite train --save", Required = true };
        var data = new DataOptions();
        var split = new Option<string>("--split") { Description = "test or train", DefaultValueFactory = _ => "test" };
        Checks.OneOf(split, "test", "train");
        var cmd = new Command("evaluate", "Report a saved model's loss and accuracy on a data set (default: the MNIST test set)") { model, split };
        data.AddTo(cmd);
        cmd.SetAction(r => Cli.Run(() =>
        {
            var m = Cli.LoadModel(r.GetValue(model)!);
            if (m.Loss is null) m.Compile("categorical_crossentropy");
            var (train, test) = data.Load(r);
            var set = r.GetValue(split) == "train" ? train : test;
            CheckMatch(m, r.GetValue(model)!, set);
            var e = m.Evaluate(set);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Printable.Escape(set.Name)}: {set.Count:N0} images - loss: {e.Loss:F4} - accuracy: {e.Accuracy:F4} ({e.Accuracy * 100:F2}%)"));
            if (e.Accuracy < 3.0 / set.Classes)
                Cli.Note($"the accuracy is near chance ({100.0 / set.Classes:F0}% for {set.Classes} classes). If the model was made elsewhere, its inputs may be scaled differently: import it again with another --scale (0-1, raw, or mean-std:M,S).");
        }));
        return cmd;
    }

    /// <summary>
    /// A model meeting data it was not made for: a different number of classes is an error, a different data set (by
    /// the name kept in the model file, or else by the class names) a warning on stderr, both naming model and data.
    /// </summary>
    internal static void CheckMatch(Sequential m, string modelPath, Dataset data)
    {
        int classes = m.OutputShape.Aggregate(1, (a, d) => a * d);
        string trainedOn = m.DatasetName is { } n ? $" (it was trained on {n})" : "";
        if (classes != data.Classes)
            throw new ArgumentException($"{modelPath} predicts {classes} classes{trainedOn}, but {data.BaseName} has {data.Classes}: the model and the data do not match.");
        string? differs = m.DatasetName is { } name
            ? name != data.BaseName ? $"{modelPath} was trained on {name}; this is {data.BaseName}" : null
            : m.ClassNames is { } names && !names.SequenceEqual(data.ClassNames)
                ? $"{modelPath} has classes {Few(names)}; {data.BaseName} has {Few(data.ClassNames)}" : null;
        if (differs is not null)
            Console.Error.WriteLine($"warning: {differs}. The figures below measure the model on data it was not trained for.");
    }

    private static string Few(string[] names) => string.Join(", ", names.Take(4)) + (names.Length > 4 ? ", …" : "");

    public static Command Predict()
    {
        var model = new Option<string>("--model") { Description = "A model saved by dendrite train --save", Required = true };
        var top = new Option<int>("--top") { Description = "How many classes to show for each input", DefaultValueFactory = _ => 3 };
        var raw = new Option<bool>("--no-preprocess") { Description = "Feed 28×28 grey images as they are, without MNIST-style centring" };
        var files = new Argument<string[]>("files") { Description = "Pictures of digits (PNG, JPEG, BMP, GIF, WebP or PGM), or IDX image files", Arity = ArgumentArity.OneOrMore };
        Checks.AtLeast(top, 1);
        var cmd = new Command("predict", "Classify images with a saved model; photos and drawings are brought to MNIST's form first") { model, top, raw, files };
        cmd.SetAction(r => Cli.Run(() =>
        {
            var m = Cli.LoadModel(r.GetValue(model)!);
            int k = r.GetValue(top);
            int size = m.InputShape.Aggregate(1, (a, d) => a * d), width = m.OutputShape.Aggregate(1, (a, d) => a * d);
            var probs = new float[width];
            var perClass = new long[width];
            long predicted = 0, labelled = 0, correct = 0;
            var labelFiles = new List<string>();
            int failures = 0;
            foreach (var file in r.GetValue(files)!)
            {
                try
                {
                    foreach (var (label, input, truth) in Inputs(file, size, r.GetValue(raw), labelFiles))
                    {
                        m.Predict(input, probs);
                        int top1 = System.Numerics.Tensors.TensorPrimitives.IndexOfMax<float>(probs);
                        perClass[top1]++;
                        predicted++;
                        if (truth is int t) { labelled++; if (t == top1) correct++; }
                        var best = Enumerable.Range(0, width).OrderByDescending(i => probs[i]).Take(k)
                            .Select(i => string.Create(CultureInfo.InvariantCulture, $"{Printable.Escape(m.ClassName(i))} ({probs[i] * 100:F1}%)"));
                        Console.WriteLine($"{Printable.Escape(label)}: {string.Join("  ", best)}{(truth is int tt && tt != top1 ? $"   (labelled {Printable.Escape(m.ClassName(tt))})" : "")}");
                    }
                }
                catch (Exception e) when (e is InvalidDataFormatException or IOException or NotEnoughMemoryException)
                {
                    Cli.Error(Messages.ForUser(e));
                    failures++;
                }
            }
            if (predicted > 1)
            {
                // A summary after many images: how many went to each class, and the accuracy where the labels are known.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{predicted:N0} images predicted: ")
                    + string.Join("  ", Enumerable.Range(0, width).Where(c => perClass[c] > 0).Select(c => string.Create(CultureInfo.InvariantCulture, $"{Printable.Escape(m.ClassName(c))}: {perClass[c]:N0}"))));
                if (labelled > 0)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"Accuracy: {100.0 * correct / labelled:F2}% ({correct:N0} of {labelled:N0} labelled images, labels from {string.Join(", ", labelFiles)})"));
            }
            return failures == 0 ? 0 : 1;
        }));
        return cmd;
    }

    /// <summary>
    /// The model inputs a file holds: one per image, or one per item of an IDX file, with its true class when known: an
    /// IDX image file named as MNIST's (X-images-idx3-ubyte[.gz]) takes its labels from X-labels-idx1-ubyte[.gz] beside
    /// it, when that exists and has one label per image (added to <paramref name="labelFiles"/>).
    /// </summary>
    private static IEnumerable<(string label, float[] input, int? truth)> Inputs(string file, int size, bool raw, List<string> labelFiles)
    {
        var head = new byte[Pictures.HeadBytes];
        int got;
        using (var fs = InputFile.Open(file, $"a {Pictures.Formats} picture or an IDX file", Math.Max(Pictures.MaxFileBytes, Idx.MaxFileBytes))) got = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        string ext = Path.GetExtension(file).ToLowerInvariant();
        bool looksLikeImage = ext is ".png" or ".pgm" or ".pnm" or ".jpg" or ".jpeg" or ".bmp" or ".gif" or ".webp";
        if (!Pictures.IsPicture(head.AsSpan(0, got)) && !looksLikeImage)
        {
            var idx = Idx.Read(file);
            int item = idx.Data.Length / idx.Count;
            if (item != size) throw new InvalidDataFormatException($"{file}: IDX items have {item} values; the model takes {size}.");
            byte[]? labels = null;
            string name = Path.GetFileName(file);
            if (name.Contains("-images-idx3-ubyte", StringComparison.Ordinal))
            {
                string sibling = Path.Combine(Path.GetDirectoryName(file) ?? "", name.Replace("-images-idx3-ubyte", "-labels-idx1-ubyte", StringComparison.Ordinal));
                string? found = new[] { sibling, sibling.EndsWith(".gz", StringComparison.Ordinal) ? sibling[..^3] : sibling + ".gz" }.FirstOrDefault(File.Exists);
                if (found is not null && Idx.Read(found) is { } l && l.Count == idx.Count && l.Data.Length == idx.Count)
                {
                    labels = l.Data;
                    labelFiles.Add(found);
                }
            }
            for (int i = 0; i < idx.Count; i++)
            {
                var x = new float[size];
                for (int j = 0; j < size; j++) x[j] = idx.Data[i * size + j];
                yield return ($"{file}[{i}]", x, labels is null ? null : labels[i]);
            }
            yield break;
        }
        using var stream = InputFile.Open(file, $"a {Pictures.Formats} picture", Pictures.MaxFileBytes);
        using var rows = Pictures.Open(stream, file);
        if (raw)
        {
            if ((long)rows.Width * rows.Height != size) throw new InvalidDataFormatException($"{file}: {rows.Width}×{rows.Height} pixels; with --no-preprocess the model needs {size}.");
            yield return (file, Image.ReadGrey(rows, Math.Max(rows.Width, rows.Height), out _, out _), null);
        }
        else
        {
            if (size != Digitizer.Size * Digitizer.Size) throw new InvalidDataFormatException($"{file}: the model takes {size} values, not a 28×28 digit; use --no-preprocess.");
            yield return (file, Digitizer.ToMnist(rows), null);
        }
    }

    public static Command Datasets()
    {
        var cmd = new Command("datasets", "List the data sets known by name: where each is on this machine (or that it is missing), size and licence");
        cmd.SetAction(_ => Cli.Run(() =>
        {
            var store = new DatasetStore(offline: true);
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var h in new[] { "name", "classes", "found", "size", "licence" }) table.AddColumn(h);
            foreach (var d in KnownDatasets.All)
            {
                var (source, folder) = store.Locate(d);
                string where = source switch
                {
                    DataSource.Embedded => "embedded in Dendrite",
                    DataSource.Missing => $"[yellow]missing[/]: downloads to {Spectre.Console.Markup.Escape(Path.Combine(store.CacheDirectory, d.Name))}",
                    _ => $"{source.ToString().ToLowerInvariant()}: {Spectre.Console.Markup.Escape(folder!)}",
                };
                string size = d.TotalSize is long b ? $"{b / 1048576.0:F1} MB" : "about " + (d.Files.Where(f => f.Size.HasValue).Sum(f => f.Size!.Value) / 1048576.0 + 17).ToString("F0", CultureInfo.InvariantCulture) + " MB";
                table.AddRow(d.Name, Spectre.Console.Markup.Escape(string.Join(" ", d.ClassNames.Take(3)) + " …"), where, size, Spectre.Console.Markup.Escape(d.License.Split(';')[0]));
            }
            Spectre.Console.AnsiConsole.Write(table);
            Console.WriteLine($"Search order: --dataset PATH, $DENDRITE_DATA/<name>, embedded, {store.CacheDirectory}/<name>, system packages, then download (not with --offline).");
        }));
        return cmd;
    }

    public static Command Plot()
    {
        var csv = new Argument<string>("history") { Description = "history.csv written by dendrite train --report (iterations.csv beside it is used too)" };
        var outDir = new Option<string?>("--out") { Description = "Folder for the charts (default: beside the CSV)" };
        var cmd = new Command("plot", "Render the training charts again (SVG and PNG) from a history CSV") { csv, outDir };
        cmd.SetAction(r => Cli.Run(() =>
        {
            string path = r.GetValue(csv)!;
            string its = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "iterations.csv");
            string dir = r.GetValue(outDir) ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
            new CommandPaths().Input("history", path).Input("iterations", File.Exists(its) ? its : null)
                .OutputFolder("--out", dir, TrainingReport.CurveNames.SelectMany(n => new[] { n + ".svg", n + ".png" }));
            const long maxCsv = 256 << 20;
            var history = History.FromCsv(InputFile.ReadAllText(path, "a history CSV", maxCsv), File.Exists(its) ? InputFile.ReadAllText(its, "an iterations CSV", maxCsv) : null, path);
            foreach (var name in Dendrite.Plotting.TrainingReport.WriteCurves(dir, history)) Console.WriteLine(Path.Combine(dir, name + ".svg") + " and .png");
        }));
        return cmd;
    }

    public static Command Export()
    {
        var input = new Argument<string>("model") { Description = "The saved model (a .dendrite file)" };
        var output = new Argument<string>("output") { Description = "The file to write, such as model.onnx; its folder must exist" };
        var onnx = new Option<bool>("--onnx") { Description = "Write ONNX (the same as --format onnx)" };
        var format = new Option<string?>("--format") { Description = "The format to write: onnx (the default for a .onnx output)" };
        Checks.OneOf(format, "onnx");
        var cmd = new Command("export", "Export a saved model to ONNX (opset 13), for onnxruntime and other tools: dendrite export model.dendrite model.onnx") { input, output, onnx, format };
        cmd.SetAction(r => Cli.Run(() =>
        {
            string from = r.GetValue(input)!, to = r.GetValue(output)!;
            // Only ONNX so far: it is chosen by --onnx, --format onnx, or the output's .onnx extension; anything else asks.
            if (!r.GetValue(onnx) && r.GetValue(format) is null && !to.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"Cannot tell which format to write {to} in: give --onnx (or --format onnx), or name the output .onnx.");
            new CommandPaths().Input("model", from).Output("output", to);
            var m = Cli.LoadModel(from);
            Onnx.Export(m, to);
            Console.WriteLine($"Exported {from} to {to} (ONNX IR {Onnx.IrVersion}, opset {Onnx.Opset}; input \"input\" (batch, {string.Join(", ", m.InputShape)}), output \"output\" (batch, {string.Join(", ", m.OutputShape)}))");
        }));
        return cmd;
    }
}
