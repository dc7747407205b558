using System.Globalization;
using System.Text;
using System.Text.Json;
using Dendrite.Data;

namespace Dendrite.Models;

/// <summary>
/// Where a training run stands: its settings, the seed of its shuffling, the epochs done, the steps done in the
/// current epoch, and the history so far. A checkpoint stores it; <c>Fit(..., resumeFrom: state)</c> replays the
/// shuffles and skips the steps already taken, so a resumed run ends with the same weights as an uninterrupted one.
/// </summary>
public sealed class TrainingState
{
    public ulong Seed { get; internal set; }
    public int BatchSize { get; internal set; }
    public int Epochs { get; internal set; }
    public bool Shuffle { get; internal set; }
    public float ValidationSplit { get; internal set; }
    /// <summary>Epochs finished.</summary>
    public int EpochsDone { get; internal set; }
    /// <summary>Steps finished in the epoch under way.</summary>
    public int StepsDone { get; internal set; }
    /// <summary>Training samples per epoch (after any validation split); 0 when unknown (checkpoints of older versions).</summary>
    public int TrainSamples { get; internal set; }
    /// <summary>The checkpoint file this state was read from, for messages; "the checkpoint" otherwise.</summary>
    internal string Source { get; set; } = "the checkpoint";
    /// <summary>A free label for what was trained on (the CLI stores the dataset's name).</summary>
    public string? DataName { get; set; }
    public History History { get; internal set; } = new();
    internal double LossSum, CorrectSum;
    internal long Seen, Counted;

    public bool IsComplete => EpochsDone >= Epochs;

    internal string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("seed", Seed.ToString(CultureInfo.InvariantCulture));
            w.WriteNumber("batch_size", BatchSize);
            w.WriteNumber("epochs", Epochs);
            w.WriteBoolean("shuffle", Shuffle);
            w.WriteNumber("validation_split", ValidationSplit);
            w.WriteNumber("epochs_done", EpochsDone);
            w.WriteNumber("steps_done", StepsDone);
            w.WriteNumber("train_samples", TrainSamples);
            if (DataName is not null) w.WriteString("data", DataName);
            w.WriteNumber("loss_sum", LossSum);
            w.WriteNumber("correct_sum", CorrectSum);
            w.WriteNumber("seen", Seen);
            w.WriteNumber("counted", Counted);
            w.WriteNumber("steps_per_epoch", History.StepsPerEpoch);
            WriteSeries(w, "loss", History.Loss);
            WriteSeries(w, "accuracy", History.Accuracy);
            WriteSeries(w, "val_loss", History.ValLoss);
            WriteSeries(w, "val_accuracy", History.ValAccuracy);
            WriteSeries(w, "epoch_seconds", History.EpochSeconds);
            WriteSeries(w, "learning_rate", History.LearningRate);
            WriteSeries(w, "batch_loss", History.BatchLoss);
            WriteSeries(w, "batch_accuracy", History.BatchAccuracy);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteSeries(Utf8JsonWriter w, string name, List<double> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    internal static TrainingState FromJson(string json, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4 });
            var r = doc.RootElement;
            var s = new TrainingState
            {
                Seed = ulong.Parse(r.GetProperty("seed").GetString()!, CultureInfo.InvariantCulture),
                BatchSize = r.GetProperty("batch_size").GetInt32(),
                Epochs = r.GetProperty("epochs").GetInt32(),
                Shuffle = r.GetProperty("shuffle").GetBoolean(),
                ValidationSplit = r.GetProperty("validation_split").GetSingle(),
                EpochsDone = r.GetProperty("epochs_done").GetInt32(),
                StepsDone = r.GetProperty("steps_done").GetInt32(),
                TrainSamples = r.TryGetProperty("train_samples", out var ts) ? ts.GetInt32() : 0,
                DataName = r.TryGetProperty("data", out var d) ? d.GetString() : null,
                LossSum = r.GetProperty("loss_sum").GetDouble(),
                CorrectSum = r.GetProperty("correct_sum").GetDouble(),
                Seen = r.GetProperty("seen").GetInt64(),
                Counted = r.GetProperty("counted").GetInt64(),
            };
            s.Source = source;
            s.History.StepsPerEpoch = r.GetProperty("steps_per_epoch").GetInt32();
            ReadSeries(r, "loss", s.History.Loss);
            ReadSeries(r, "accuracy", s.History.Accuracy);
            ReadSeries(r, "val_loss", s.History.ValLoss);
            ReadSeries(r, "val_accuracy", s.History.ValAccuracy);
            ReadSeries(r, "epoch_seconds", s.History.EpochSeconds);
            if (r.TryGetProperty("learning_rate", out _)) ReadSeries(r, "learning_rate", s.History.LearningRate);   // absent in older checkpoints
            ReadSeries(r, "batch_loss", s.History.BatchLoss);
            ReadSeries(r, "batch_accuracy", s.History.BatchAccuracy);
            if (s.Inconsistency() is { } why) throw new InvalidDataFormatException($"{source}: the checkpoint's counters disagree: {why}.");
            return s;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataFormatException($"{source}: the training state is malformed ({e.Message}).");
        }
    }

    /// <summary>What in the counters contradicts the rest, or null: each counter is checked against the others and against the history.</summary>
    private string? Inconsistency()
    {
        int steps = History.StepsPerEpoch;
        var h = History;
        if (BatchSize <= 0) return $"batch_size is {BatchSize}";
        if (Epochs < 0 || EpochsDone < 0 || EpochsDone > Epochs) return $"epochs_done {EpochsDone} of epochs {Epochs}";
        if (ValidationSplit is < 0 or >= 1 || float.IsNaN(ValidationSplit)) return $"validation_split {ValidationSplit}";
        if (steps < 0 || StepsDone < 0) return $"steps_done {StepsDone}, steps_per_epoch {steps}";
        if (steps > 0 && StepsDone >= steps) return $"steps_done {StepsDone}, but an epoch has {steps} steps (a finished epoch counts as epochs_done)";
        if (IsComplete && StepsDone != 0) return $"all {Epochs} epochs are done, yet steps_done is {StepsDone}";
        if (TrainSamples < 0 || (TrainSamples > 0 && BatchSize > TrainSamples)) return $"batch_size {BatchSize} for {TrainSamples} training samples";
        if (TrainSamples > 0 && steps != (TrainSamples + (long)BatchSize - 1) / BatchSize)
            return $"steps_per_epoch {steps}, but {TrainSamples} samples in batches of {BatchSize} make {(TrainSamples + (long)BatchSize - 1) / BatchSize}";
        if (Seen != (long)StepsDone * BatchSize) return $"seen {Seen}, but {StepsDone} steps of batch size {BatchSize} see {(long)StepsDone * BatchSize}";
        if (Counted != Seen || CorrectSum < 0 || CorrectSum > Counted || !double.IsFinite(LossSum)) return $"the running sums (seen {Seen}, counted {Counted}, correct {CorrectSum}, loss {LossSum})";
        if (h.Loss.Count != EpochsDone || h.Accuracy.Count != EpochsDone || h.EpochSeconds.Count != EpochsDone)
            return $"epochs_done {EpochsDone}, but the history holds {h.Loss.Count} epochs";
        if ((h.ValLoss.Count != 0 && h.ValLoss.Count != EpochsDone) || h.ValAccuracy.Count != h.ValLoss.Count)
            return $"epochs_done {EpochsDone}, but the history holds {h.ValLoss.Count} validation figures";
        long batches = (long)EpochsDone * steps + StepsDone;
        if (steps > 0 && (h.BatchLoss.Count != batches || h.BatchAccuracy.Count != batches))
            return $"{EpochsDone} epochs of {steps} steps and {StepsDone} steps make {batches} batches, but the history holds {h.BatchLoss.Count}";
        return null;
    }

    /// <summary>Throws, naming the checkpoint, when the data a run resumes on is not the data it was taken on.</summary>
    internal void CheckAgainst(int trainSamples)
    {
        if (TrainSamples > 0 && TrainSamples != trainSamples)
            throw new ArgumentException($"{Source}: the checkpoint was taken training on {TrainSamples:N0} samples per epoch; this data gives {trainSamples:N0}. Resume on the same data and validation split.");
    }

    private static void ReadSeries(JsonElement r, string name, List<double> into)
    {
        foreach (var v in r.GetProperty(name).EnumerateArray()) into.Add(v.GetDouble());
    }
}
