using System.Globalization;
using System.Net;
using System.Text;
using Dendrite.Data;
using Dendrite.Imaging;
using Dendrite.Layers;
using Dendrite.Metrics;
using Dendrite.Models;
using Dendrite.Serialization;

namespace Dendrite.Plotting;

/// <summary>
/// Everything a person needs to see what a training run did: loss and accuracy per epoch and per iteration
/// (training against validation, where overfitting shows as a widening gap), the confusion matrix with
/// per-class precision, recall and F1, the most confidently misclassified images, the first layer's weights as
/// 28×28 tiles, and report.html putting them together with the model summary, hyperparameters and timings.
/// </summary>
public static class TrainingReport
{
    /// <summary>Writes the curves of <paramref name="history"/> (SVG and PNG) into <paramref name="dir"/>; returns the chart names.</summary>
    public static List<string> WriteCurves(string dir, History history)
    {
        Directory.CreateDirectory(dir);
        var names = new List<string>();
        foreach (var (name, chart) in Curves(history))
        {
            chart.Save(Path.Combine(dir, name));
            names.Add(name);
        }
        return names;
    }

    /// <summary>The four training-curve charts of a history (those it has data for).</summary>
    public static IEnumerable<(string Name, LineChart Chart)> Curves(History h)
    {
        var epochs = Enumerable.Range(1, h.Loss.Count).Select(e => (double)e).ToList();
        foreach (var (metric, train, val, title) in new[] { ("loss", h.Loss, h.ValLoss, "Loss (cross-entropy) per epoch"), ("accuracy", h.Accuracy, h.ValAccuracy, "Accuracy per epoch") })
        {
            if (train.Count == 0) continue;
            var chart = new LineChart(title, "Epoch", metric == "loss" ? "Loss" : "Accuracy (fraction correct)");
            chart.Series.Add(new Series("training", epochs, train, Color.Series[0]));
            if (val.Count == train.Count) chart.Series.Add(new Series("validation", epochs, val, Color.Series[1]));
            if (metric == "accuracy") { chart.YMax = 1; chart.LegendBottom = true; }
            chart.IntegerX = true;
            yield return ($"{metric}_per_epoch", chart);
        }
        if (h.BatchLoss.Count > 1)
        {
            var its = Enumerable.Range(1, h.BatchLoss.Count).Select(i => (double)i).ToList();
            int window = Math.Max(1, h.StepsPerEpoch / 10);
            foreach (var (metric, raw, val) in new[] { ("loss", h.BatchLoss, h.ValIterationLoss), ("accuracy", h.BatchAccuracy, h.ValIterationAccuracy) })
            {
                var chart = new LineChart($"{(metric == "loss" ? "Loss" : "Accuracy")} per iteration (mini-batch)", "Iteration", metric == "loss" ? "Loss" : "Accuracy (fraction correct)");
                chart.Series.Add(new Series("training, each batch", its, raw, Color.Series[0], Faint: true));
                chart.Series.Add(new Series($"training, mean of {window}", its, MovingAverage(raw, window), Color.Series[0]));
                if (val.Count > 0) chart.Series.Add(new Series("validation", h.ValIterations, val, Color.Series[1]));
                if (metric == "accuracy") { chart.YMax = 1; chart.LegendBottom = true; }
                if (metric == "loss") chart.YMin = 0;
                yield return ($"{metric}_per_iteration", chart);
            }
        }
    }

    internal static List<double> MovingAverage(IReadOnlyList<double> v, int window)
    {
        var r = new List<double>(v.Count);
        double sum = 0;
        for (int i = 0; i < v.Count; i++)
        {
            sum += v[i];
            if (i >= window) sum -= v[i - window];
            r.Add(sum / Math.Min(i + 1, window));
        }
        return r;
    }

    /// <summary>The confusion matrix of the model on <paramref name="data"/>, and its class probabilities.</summary>
    public static (ConfusionMatrix Matrix, Tensor Probabilities) Confusion(Sequential model, Dataset data)
    {
        var probs = model.Predict(data);
        int cols = probs.Dim(1);
        var predicted = new int[data.Count];
        for (int i = 0; i < data.Count; i++) predicted[i] = Kernels.ArgMax(probs.Row(i));
        var names = Enumerable.Range(0, cols).Select(model.ClassName).ToArray();
        return (ConfusionMatrix.From(data.Labels.Select(b => (int)b).ToArray(), predicted, names), probs);
    }

    /// <summary>The <paramref name="count"/> test images the model got wrong with the most confidence.</summary>
    public static ImageGrid Misclassified(Sequential model, Dataset data, Tensor probabilities, int count = 24)
    {
        int cols = probabilities.Dim(1);
        var wrong = new List<(int index, int predicted, float confidence)>();
        for (int i = 0; i < data.Count; i++)
        {
            var row = probabilities.Row(i);
            int p = Kernels.ArgMax(row);
            if (p != data.Labels[i]) wrong.Add((i, p, row[p]));
        }
        var items = wrong.OrderByDescending(w => w.confidence).Take(count).Select(w =>
            (Colormaps.Ink(data.Image(w.index), data.ItemShape[^1], data.ItemShape[0]),
             $"true {model.ClassName(data.Labels[w.index])}, said {model.ClassName(w.predicted)}",
             string.Create(CultureInfo.InvariantCulture, $"{w.confidence * 100:F1}% sure, #{w.index}"))).ToList();
        return new ImageGrid($"Most confidently misclassified test images ({wrong.Count:N0} wrong in all)", items, columns: 6);
    }

    /// <summary>The first Dense layer's weights, one 28×28 tile per hidden unit (red: the unit likes ink there; blue: dislikes).</summary>
    public static ImageGrid? FirstLayerWeights(Sequential model, int maxUnits = 64)
    {
        if (model.InputShape is not [int h, int w] || model.Layers.OfType<Dense>().FirstOrDefault() is not { } dense) return null;
        if (dense.Kernel.Value.Dim(0) != h * w) return null;
        int units = Math.Min(maxUnits, dense.Units);
        var k = dense.Kernel.Value;
        var items = new List<(Image, string, string)>();
        var tile = new float[h * w];
        for (int u = 0; u < units; u++)
        {
            for (int p = 0; p < h * w; p++) tile[p] = k[p, u];
            items.Add((Colormaps.Diverging(tile, w, h), $"unit {u}", ""));
        }
        return new ImageGrid($"First-layer weights of {dense.Name}: {units} of {dense.Units} units (red positive, blue negative)", items, columns: 8, scale: 2);
    }

    /// <summary>
    /// The first Conv2D's filters (one tile each, its weights summed over input channels; red: the filter responds to
    /// ink there, blue: to its absence) and the feature maps they make of test image <paramref name="index"/>, with the
    /// image itself first. Null for a model without a convolution.
    /// </summary>
    public static (ImageGrid Filters, ImageGrid Maps)? FirstConvolution(Sequential model, Dataset data, int index = 0, int maxFilters = 32)
    {
        int at = model.Layers.ToList().FindIndex(l => l is Conv2D);
        if (at < 0) return null;
        var conv = (Conv2D)model.Layers[at];
        var k = conv.Kernel.Value;
        int kh = k.Dim(0), kw = k.Dim(1), cin = k.Dim(2), filters = Math.Min(maxFilters, conv.Filters);
        var tile = new float[kh * kw];
        var filterTiles = new List<(Image, string, string)>();
        for (int f = 0; f < filters; f++)
        {
            Array.Clear(tile);
            for (int p = 0; p < kh * kw; p++)
                for (int c = 0; c < cin; c++) tile[p] += k.Span[(p * cin + c) * conv.Filters + f];
            filterTiles.Add((Colormaps.Diverging(tile, kw, kh), $"filter {f}", ""));
        }
        // The layers up to the convolution, run in inference mode on the one image (a graph of its own over the same weights).
        var input = new Placeholder(model.InputShape);
        Node h = input;
        for (int i = 0; i <= at; i++) h = model.Layers[i].Call(h, null);
        var x = new Tensor([1, .. model.InputShape]);
        Dataset.ToFloats(data.Image(index), x.Span, 1f);
        input.Feed(x);
        var maps = h.Evaluate();
        int oh = maps.Dim(1), ow = maps.Dim(2), channels = maps.Dim(3);
        var map = new float[oh * ow];
        var mapTiles = new List<(Image, string, string)> { (Colormaps.Ink(data.Image(index), data.ItemShape[1], data.ItemShape[0]), $"test image #{index}", $"class {model.ClassName(data.Labels[index])}") };
        for (int f = 0; f < filters && f < channels; f++)
        {
            for (int p = 0; p < oh * ow; p++) map[p] = maps.Span[p * channels + f];
            mapTiles.Add((Colormaps.Diverging(map, ow, oh), $"filter {f}", ""));
        }
        return (new ImageGrid($"Filters of {conv.Name}: {filters} of {conv.Filters}, {kh}x{kw} (red positive, blue negative)", filterTiles, columns: 8, scale: 2),
                new ImageGrid($"What {conv.Name} makes of one test digit: its {Math.Min(filters, channels)} feature maps ({oh}x{ow}, after its activation)", mapTiles, columns: 8, scale: 2));
    }

    /// <summary>The names of the training-curve charts <see cref="Curves"/> can give (each saved as .svg and .png).</summary>
    public static IReadOnlyList<string> CurveNames { get; } = ["loss_per_epoch", "accuracy_per_epoch", "loss_per_iteration", "accuracy_per_iteration"];

    /// <summary>Every file <see cref="Write"/> may create in its folder (each chart as .svg and .png), so a command can check them all before it trains.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
    [
        "report.html", "history.csv", "iterations.csv",
        .. CurveNames.Concat(["confusion", "misclassified", "weights", "conv_filters", "conv_feature_maps"]).SelectMany(c => new[] { c + ".svg", c + ".png" }),
    ];

    /// <summary>Writes every chart, the CSV histories and report.html into <paramref name="dir"/>; returns report.html's path.</summary>
    /// <remarks>Pass <paramref name="confusion"/> when it was computed already (it costs a prediction over the test set).</remarks>
    public static string Write(string dir, Sequential model, History history, Dataset test, IReadOnlyDictionary<string, string> hyperparameters, Evaluation testResult,
        (ConfusionMatrix Matrix, Tensor Probabilities)? confusion = null)
    {
        Directory.CreateDirectory(dir);
        Write(dir, "history.csv", history.EpochsToCsv());
        Write(dir, "iterations.csv", history.IterationsToCsv());
        var curves = WriteCurves(dir, history);
        var (matrix, probs) = confusion ?? Confusion(model, test);
        new ConfusionChart(matrix).Save(Path.Combine(dir, "confusion"));
        Misclassified(model, test, probs).Save(Path.Combine(dir, "misclassified"));
        var weights = FirstLayerWeights(model);
        weights?.Save(Path.Combine(dir, "weights"));
        var convolution = FirstConvolution(model, test);
        if (convolution is var (filters, maps))
        {
            filters.Save(Path.Combine(dir, "conv_filters"));
            maps.Save(Path.Combine(dir, "conv_feature_maps"));
        }

        var html = new StringBuilder();
        string E(string s) => WebUtility.HtmlEncode(Printable.EscapeLines(s));
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Dendrite training report</title>\n<style>")
            .Append("body{font-family:'DejaVu Sans',Verdana,sans-serif;max-width:1000px;margin:24px auto;color:#222;padding:0 16px}")
            .Append("table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}")
            .Append(".big{font-size:28px;font-weight:bold}.cards{display:flex;gap:24px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:10px 18px}img{max-width:100%;border:1px solid #eee;margin:6px 0}pre{background:#f7f7f7;padding:10px;overflow:auto}")
            .Append("</style></head><body>\n");
        html.Append("<h1>Dendrite training report</h1>\n<div class=\"cards\">");
        void Card(string label, string value) => html.Append($"<div class=\"card\"><div>{E(label)}</div><div class=\"big\">{E(value)}</div></div>");
        Card("test accuracy", string.Create(CultureInfo.InvariantCulture, $"{testResult.Accuracy * 100:F2}%"));
        Card("test loss", testResult.Loss.ToString("F4", CultureInfo.InvariantCulture));
        if (history.Accuracy.Count > 0) Card("final training accuracy", string.Create(CultureInfo.InvariantCulture, $"{history.Accuracy[^1] * 100:F2}%"));
        if (history.EpochSeconds.Count > 0) Card("training time", string.Create(CultureInfo.InvariantCulture, $"{history.EpochSeconds.Sum():F1} s ({history.EpochSeconds.Average():F2} s/epoch)"));
        html.Append("</div>\n");
        if (history.ValAccuracy.Count > 0 && history.Accuracy.Count > 0)
        {
            double gap = history.Accuracy[^1] - history.ValAccuracy[^1];
            html.Append(CultureInfo.InvariantCulture, $"<p>Gap between training and validation accuracy at the end: <b>{gap * 100:F2} points</b>. {(gap > 0.02 ? "A gap this wide means the network fits the training data better than new data: it is overfitting." : "A small gap: the network does about as well on data it has not seen.")}</p>\n");
        }
        html.Append("<h2>Training curves</h2>\n");
        foreach (var c in curves) html.Append($"<img src=\"{c}.svg\" alt=\"{E(c.Replace('_', ' '))}\">\n");
        html.Append("<h2>Confusion matrix</h2>\n<img src=\"confusion.svg\" alt=\"confusion matrix\">\n<h2>Per-class precision, recall and F1 (test set)</h2>\n<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n");
        for (int c = 0; c < matrix.Classes; c++)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(matrix.ClassNames[c])}</td><td>{matrix.Precision(c):F4}</td><td>{matrix.Recall(c):F4}</td><td>{matrix.F1(c):F4}</td><td>{matrix.Support(c):N0}</td></tr>\n");
        html.Append(CultureInfo.InvariantCulture, $"<tr><th>macro average</th><th></th><th></th><th>{matrix.MacroF1:F4}</th><th>{matrix.Total:N0}</th></tr></table>\n");
        html.Append("<h2>Most confidently misclassified</h2>\n<img src=\"misclassified.svg\" alt=\"misclassified images\">\n");
        if (weights is not null) html.Append("<h2>What the first layer looks for</h2>\n<img src=\"weights.svg\" alt=\"first-layer weights\">\n");
        if (convolution is not null)
            html.Append("<h2>What the first convolution looks for</h2>\n<img src=\"conv_filters.svg\" alt=\"first convolution's filters\">\n<img src=\"conv_feature_maps.svg\" alt=\"feature maps of one test digit\">\n");
        html.Append("<h2>Model</h2>\n<pre>").Append(E(model.SummaryText())).Append("</pre>\n<h2>Hyperparameters</h2>\n<table>");
        foreach (var (k, v) in hyperparameters) html.Append($"<tr><td>{E(k)}</td><td>{E(v)}</td></tr>");
        html.Append("</table>\n<h2>Per epoch</h2>\n<table><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>val_loss</th><th>val_accuracy</th><th>seconds</th></tr>\n");
        for (int e = 0; e < history.Loss.Count; e++)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{e + 1}</td><td>{history.Loss[e]:F4}</td><td>{history.Accuracy[e]:F4}</td><td>{(e < history.ValLoss.Count ? history.ValLoss[e].ToString("F4", CultureInfo.InvariantCulture) : "")}</td><td>{(e < history.ValAccuracy.Count ? history.ValAccuracy[e].ToString("F4", CultureInfo.InvariantCulture) : "")}</td><td>{(e < history.EpochSeconds.Count ? history.EpochSeconds[e].ToString("F2", CultureInfo.InvariantCulture) : "")}</td></tr>\n");
        html.Append("</table>\n<p>Data: history.csv (per epoch), iterations.csv (per mini-batch). Every chart is here as SVG and PNG.</p>\n</body></html>\n");
        string path = Path.Combine(dir, "report.html");
        Write(dir, "report.html", html.ToString());
        return path;
    }

    private static void Write(string dir, string name, string text) =>
        AtomicFile.Write(Path.Combine(dir, name), s => s.Write(Encoding.UTF8.GetBytes(text)));
}
