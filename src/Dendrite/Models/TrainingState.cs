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
                DataName = r.TryGetProperty("data", out var d) ? d.GetString() : null,
                LossSum = r.GetProperty("loss_sum").GetDouble(),
                CorrectSum = r.GetProperty("correct_sum").GetDouble(),
                Seen = r.GetProperty("seen").GetInt64(),
                Counted = r.GetProperty("counted").GetInt64(),
            };
            if (s.BatchSize <= 0 || s.Epochs < 0 || s.EpochsDone < 0 || s.StepsDone < 0 || s.EpochsDone > s.Epochs || s.ValidationSplit is < 0 or >= 1)
                throw new InvalidDataFormatException($"{source}: the training state is inconsistent.");
            s.History.StepsPerEpoch = r.GetProperty("steps_per_epoch").GetInt32();
            ReadSeries(r, "loss", s.History.Loss);
            ReadSeries(r, "accuracy", s.History.Accuracy);
            ReadSeries(r, "val_loss", s.History.ValLoss);
            ReadSeries(r, "val_accuracy", s.History.ValAccuracy);
            ReadSeries(r, "epoch_seconds", s.History.EpochSeconds);
            ReadSeries(r, "batch_loss", s.History.BatchLoss);
            ReadSeries(r, "batch_accuracy", s.History.BatchAccuracy);
            return s;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataFormatException($"{source}: the training state is malformed ({e.Message}).");
        }
    }

    private static void ReadSeries(JsonElement r, string name, List<double> into)
    {
        foreach (var v in r.GetProperty(name).EnumerateArray()) into.Add(v.GetDouble());
    }
}
