using System.CommandLine;
using System.Globalization;
using Dendrite.Layers;
using Dendrite.Losses;
using Dendrite.Models;
using Dendrite.Optimizers;

namespace Dendrite.Cli;

/// <summary>The options that describe a network and how it trains, shared by `train` and `summary`.</summary>
internal sealed class NetworkOptions
{
    public readonly Option<string> Hidden = new("--hidden") { Description = "Hidden layer sizes, comma-separated (\"\" for none: logistic regression)", DefaultValueFactory = _ => "1024" };
    public readonly Option<string> Activation = new("--activation") { Description = "Hidden activation: relu, tanh, sigmoid, linear", DefaultValueFactory = _ => "relu" };
    public readonly Option<string> OutputActivation = new("--output-activation") { Description = "Output activation: softmax, sigmoid, linear", DefaultValueFactory = _ => "softmax" };
    public readonly Option<string> Loss = new("--loss") { Description = "categorical_crossentropy, sparse_categorical_crossentropy, mean_squared_error, quadratic", DefaultValueFactory = _ => "categorical_crossentropy" };
    public readonly Option<string> Init = new("--init") { Description = "Kernel initializer: glorot_uniform, glorot_normal, he_uniform, he_normal, random_normal, truncated_normal", DefaultValueFactory = _ => "glorot_uniform" };
    public readonly Option<string> Scale = new("--scale") { Description = "Input scaling: 0-1 (pixels / 255, a Rescaling layer) or raw (0..255)", DefaultValueFactory = _ => "0-1" };
    public readonly Option<ulong?> Seed = new("--seed") { Description = "Seed for weights and shuffling (same seed and threads: same weights)" };

    /// <summary>Each choice is checked while the command line is parsed, by the library's own reader, before any data is loaded.</summary>
    public NetworkOptions()
    {
        Checks.ReadBy(Hidden, v => ParseHidden(v));
        Checks.ReadBy(Activation, v => ActivationFunction.Get(v));
        Checks.ReadBy(OutputActivation, v => ActivationFunction.Get(v));
        Checks.ReadBy(Loss, v => Losses.Loss.Get(v));
        Checks.ReadBy(Init, v => { Initializer i = v; });
        Checks.OneOf(Scale, "0-1", "raw");
    }

    public void AddTo(Command c)
    {
        c.Add(Hidden); c.Add(Activation); c.Add(OutputActivation); c.Add(Loss); c.Add(Init); c.Add(Scale); c.Add(Seed);
    }

    public Sequential Build(ParseResult r, int[] itemShape, int classes)
    {
        var model = new Sequential { Seed = r.GetValue(Seed) };
        model.Add(new Flatten(inputShape: itemShape));
        string scale = r.GetValue(Scale)!;
        if (scale is "0-1") model.Add(new Rescaling(1f / 255));
        else if (scale is not "raw") throw new ArgumentException($"Invalid value received for option --scale. Expected 0-1 or raw. Received: {scale}.");
        Initializer init = r.GetValue(Init)!;
        ActivationFunction act = r.GetValue(Activation)!;
        foreach (int units in ParseHidden(r.GetValue(Hidden)!))
            model.Add(new Dense(units, act, kernelInitializer: init));
        model.Add(new Dense(classes, (ActivationFunction)r.GetValue(OutputActivation)!, kernelInitializer: init));
        return model;
    }

    public Loss GetLoss(ParseResult r) => r.GetValue(Loss)!;

    internal static int[] ParseHidden(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        return text.Split(',', StringSplitOptions.TrimEntries).Select(s =>
            int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n
            : throw new ArgumentException($"Invalid value received for option --hidden. Expected positive integers separated by commas. Received: {text}.")).ToArray();
    }
}
