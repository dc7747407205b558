using System.Xml.Linq;
using Dendrite.Data;
using Dendrite.Metrics;
using Dendrite.Models;
using Dendrite.Optimizers;
using Dendrite.Plotting;

namespace Dendrite.Tests;

public class PlottingTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static History SmallRun(out Sequential model)
    {
        model = ModelTests.Mlp(4, 32);
        model.Compile("categorical_crossentropy", new SGD(0.1f), ["accuracy"]);
        var data = ModelTests.Data.Value;
        return model.Fit(data.Train.Take(1500), batchSize: 50, epochs: 3, verbose: 0, validationData: data.Test.Take(500),
            callbacks: [new Callbacks.IterationValidation(data.Test.Take(500), every: 10)]);
    }

    [Fact]
    public void ConfusionMatrixMetricsOnAHandWorkedExample()
    {
        // true:      0 0 1 1 2 2
        // predicted: 0 1 1 1 2 0
        var m = ConfusionMatrix.From([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], ["a", "b", "c"]);
        Assert.Equal(1, m.Counts[0, 0]); Assert.Equal(1, m.Counts[0, 1]); Assert.Equal(2, m.Counts[1, 1]); Assert.Equal(1, m.Counts[2, 0]);
        Assert.Equal(0.5, m.Precision(0)); Assert.Equal(0.5, m.Recall(0));       // class a: TP 1, FP 1 (a c), FN 1
        Assert.Equal(2.0 / 3, m.Precision(1), 12); Assert.Equal(1.0, m.Recall(1)); Assert.Equal(0.8, m.F1(1), 12);
        Assert.Equal(1.0, m.Precision(2)); Assert.Equal(0.5, m.Recall(2)); Assert.Equal(2.0 / 3, m.F1(2), 12);
        Assert.Equal(4.0 / 6, m.Accuracy, 12);
        Assert.Equal(2, m.Support(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(3, 0));
    }

    [Fact]
    public void TrainingCurvesAreLabelledSvgWithEverySeries()
    {
        var history = SmallRun(out _);
        var charts = TrainingReport.Curves(history).ToDictionary(c => c.Name, c => c.Chart);
        Assert.Equal(["loss_per_epoch", "accuracy_per_epoch", "loss_per_iteration", "accuracy_per_iteration"], charts.Keys);
        var doc = XDocument.Parse(charts["loss_per_epoch"].ToSvg());
        Assert.Equal(2, doc.Descendants(Svg + "polyline").Count());
        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("training", texts); Assert.Contains("validation", texts);
        Assert.Contains("Epoch", texts); Assert.Contains("Loss", texts);
        Assert.Contains("Loss (cross-entropy) per epoch", texts);
        // the validation line holds one point per epoch
        var lines = doc.Descendants(Svg + "polyline").Select(p => p.Attribute("points")!.Value.Trim().Split(' ').Length).ToList();
        Assert.All(lines, n => Assert.Equal(3, n));
        var iter = XDocument.Parse(charts["loss_per_iteration"].ToSvg());
        var polys = iter.Descendants(Svg + "polyline").Select(p => p.Attribute("points")!.Value.Trim().Split(' ').Length).ToList();
        Assert.Equal([90, 90, history.ValIterations.Count], polys);   // raw, smoothed, validation
        Assert.Contains("Iteration", iter.Descendants(Svg + "text").Select(t => t.Value));
    }

    [Fact]
    public void PillowDecodesTheRenderedCharts()
    {
        using var dir = new TempDir();
        var history = SmallRun(out var model);
        var names = TrainingReport.WriteCurves(dir.Path, history);
        new ConfusionChart(TrainingReport.Confusion(model, ModelTests.Data.Value.Test.Take(300)).Matrix).Save(dir.File("confusion"));
        foreach (var name in names.Append("confusion"))
        {
            var info = Tools.Run("/usr/bin/python3", Tools.Interop("png_tool.py"), "read", dir.File(name + ".png"), dir.File(name + ".rgba"));
            Assert.StartsWith("RGB ", info);
            var parts = info.Split(' ');
            var rgba = File.ReadAllBytes(dir.File(name + ".rgba"));
            Assert.Equal(int.Parse(parts[1]) * int.Parse(parts[2]) * 4, rgba.Length);
            // not blank: the chart drew dark and coloured pixels on white
            Assert.Contains(rgba.Chunk(4), p => p[0] < 100 && p[1] < 100 && p[2] < 100);
            Assert.Contains(rgba.Chunk(4), p => p[0] == 255 && p[1] == 255 && p[2] == 255);
        }
    }

    [Fact]
    public void TheReportHoldsEveryChartAndTable()
    {
        using var dir = new TempDir();
        var history = SmallRun(out var model);
        var test = ModelTests.Data.Value.Test.Take(400);
        var eval = model.Evaluate(test);
        string html = TrainingReport.Write(dir.Path, model, history, test, new Dictionary<string, string> { ["batch size"] = "50" }, eval);
        var text = File.ReadAllText(html);
        foreach (var chart in new[] { "loss_per_epoch", "accuracy_per_epoch", "loss_per_iteration", "accuracy_per_iteration", "confusion", "misclassified", "weights" })
        {
            Assert.Contains($"src=\"{chart}.svg\"", text);
            Assert.True(File.Exists(dir.File(chart + ".png")), chart + ".png");
            XDocument.Parse(File.ReadAllText(dir.File(chart + ".svg")));
        }
        Assert.Contains("Total params: 25,450", text);
        Assert.Contains("<td>batch size</td><td>50</td>", text);
        Assert.Contains($"{eval.Accuracy * 100:F2}%", text);
        var misclassified = XDocument.Parse(File.ReadAllText(dir.File("misclassified.svg")));
        Assert.Contains(misclassified.Descendants(Svg + "text"), t => t.Value.StartsWith("true "));
    }

    [Fact]
    public void HistoryCsvRoundTripsForPlotting()
    {
        var h = SmallRun(out _);
        var back = History.FromCsv(h.EpochsToCsv(), h.IterationsToCsv());
        Assert.Equal(h.Loss, back.Loss); Assert.Equal(h.ValAccuracy, back.ValAccuracy);
        Assert.Equal(h.BatchLoss, back.BatchLoss); Assert.Equal(h.ValIterations, back.ValIterations);
        Assert.Equal(h.StepsPerEpoch, back.StepsPerEpoch);
        var e = Assert.Throws<InvalidDataFormatException>(() => History.FromCsv("epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,0.5,x,,,1\n", null, "h.csv"));
        Assert.Contains("h.csv: line 2: accuracy \"x\" is not a number", e.Message);
        Assert.Contains("header", Assert.Throws<InvalidDataFormatException>(() => History.FromCsv("a,b\n", null, "h.csv")).Message);
    }

    [Fact]
    public void TicksAreRoundNumbers()
    {
        Assert.Equal([0, 0.5, 1, 1.5, 2, 2.5], LineChart.Ticks(0.05, 2.4, 6));
        Assert.Equal([0, 500, 1000, 1500, 2000], LineChart.Ticks(1, 1876, 5));
        Assert.Equal([1, 1, 1, 2, 3], TrainingReport.MovingAverage([1, 1, 1, 3, 3], 2));
    }
}
