using Dendrite.Data;
using Dendrite.Models;
using Dendrite.Web;

namespace Dendrite.Tests;

public class PredictorTests
{
    [Fact]
    public void ConcurrentPredictionsEqualSingleThreadedOnesBitForBit()
    {
        var model = ServedModel.Bundled().Model;
        var (_, test) = Mnist.Load();
        const int n = 200;
        var inputs = Enumerable.Range(0, n).Select(i => test.Image(i).ToArray().Select(b => (float)b).ToArray()).ToArray();
        // The reference: the model alone, one item at a time, on this thread.
        var expected = inputs.Select(x => { var o = new float[10]; model.Predict(x, o); return o; }).ToArray();

        var predictor = new Predictor(model);
        const int threads = 8, rounds = 3;
        var results = new float[threads][][];
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            var mine = new float[n][];
            for (int r = 0; r < rounds; r++)
                for (int k = 0; k < n; k++)
                {
                    int i = (k * 7 + t * 13 + r) % n;      // each thread in its own order, so different items run at once
                    var o = predictor.Predict(inputs[i]);
                    if (r == rounds - 1) mine[i] = o;
                    else Assert.Equal(expected[i], o);
                }
            results[t] = mine;
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        for (int t = 0; t < threads; t++)
            for (int i = 0; i < n; i++)
                Assert.True(expected[i].AsSpan().SequenceEqual(results[t][i]), $"thread {t}, item {i}: differs from the single-threaded prediction");
        Assert.InRange(predictor.Replicas, 1, threads);
    }

    [Fact]
    public void PredictorSharesTheModelsWeightsAndChecksSizes()
    {
        var model = ServedModel.Bundled().Model;
        var predictor = new Predictor(model);
        var x = new float[784];
        x[400] = 255;
        var before = predictor.Predict(x);
        // A change to the model's weights shows in the predictor's answers: the replicas hold the same tensors.
        var kernel = model.Layers.First(l => l.Weights.Count > 0).Weights[0].Value;
        kernel.Span[0] += 1;
        var after = predictor.Predict(x);
        kernel.Span[0] -= 1;
        Assert.False(before.AsSpan().SequenceEqual(after));
        Assert.Equal(before, predictor.Predict(x));
        var e = Assert.Throws<ArgumentException>(() => predictor.Predict(new float[783]));
        Assert.Contains("784", e.Message);
        Assert.Throws<ArgumentException>(() => predictor.Predict(x, new float[9]));
        Assert.Throws<InvalidOperationException>(() => new Predictor(new Sequential()));
    }
}

public class DigitizerSelectionTests
{
    [Fact]
    public void PercentileBySelectionEqualsTheSortedArraysElement()
    {
        var rng = new Random(7);
        foreach (int n in new[] { 1, 2, 3, 10, 101, 784, 78_400 })
            foreach (bool fewValues in new[] { false, true })
            {
                // Few distinct values (a drawing: mostly background) as well as all different ones.
                var v = Enumerable.Range(0, n).Select(_ => fewValues ? rng.Next(3) * 127.5f : (float)(rng.NextDouble() * 255)).ToArray();
                var sorted = v.Order().ToArray();
                foreach (float q in new[] { 0f, 0.25f, 0.5f, 0.9f, 1f })
                    Assert.Equal(sorted[(int)(q * (n - 1))], Dendrite.Imaging.Digitizer.Percentile(v, q));
            }
    }
}
