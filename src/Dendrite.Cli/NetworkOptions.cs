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
    public readonly Option<string> Arch = new("--arch") { Description = "Network: " + string.Join("; ", Architectures.Named.Select(a => $"{a.Name} ({a.Description})")), DefaultValueFactory = _ => "mlp" };
    public readonly Option<string?> Layers = new("--layers") { Description = "Your own stack of hidden layers, e.g. \"conv(32,3) maxpool(2) conv(64,3) maxpool(2) flatten dropout(0.5)\": conv(filters, kernel, strides, padding, activation), maxpool(pool, strides, padding), avgpool, gap, batchnorm, dropout(rate), dense(units, activation), flatten, reshape(...); the output layer is added" };
    public readonly Option<string> Hidden = new("--hidden") { Description = "Hidden layer sizes of --arch mlp, comma-separated (\"\" for none: logistic regression)", DefaultValueFactory = _ => "1024" };
    public readonly Option<string> Activation = new("--activation") { Description = "Hidden activation: relu, tanh, sigmoid, linear", DefaultValueFactory = _ => "relu" };
    public readonly Option<string> OutputActivation = new("--output-activation") { Description = "Output activation: softmax, sigmoid, linear", DefaultValueFactory = _ => "softmax" };
    public readonly Option<string> Loss = new("--loss") { Description = "categorical_crossentropy, sparse_categorical_crossentropy, mean_squared_error, quadratic", DefaultValueFactory = _ => "categorical_crossentropy" };
    public readonly Option<string> Init = new("--init") { Description = "Kernel initializer: glorot_uniform, glorot_normal, he_uniform, he_normal, random_normal, truncated_normal", DefaultValueFactory = _ => "glorot_uniform" };
    public readonly Option<string> Scale = new("--scale") { Description = "Input scaling: 0-1 (pixels / 255, a Rescaling layer) or raw (0..255)", DefaultValueFactory = _ => "0-1" };
    public readonly Option<float?> L2 = new("--l2") { Description = "L2 penalty factor on every dense and conv kernel, l2·Σw² added to the loss (default off; Keras's \"l2\" is 0.01)" };
    public readonly Option<float?> L1 = new("--l1") { Description = "L1 penalty factor on every dense and conv kernel, l1·Σ|w| added to the loss (default off)" };
    public readonly Option<float?> Dropout = new("--dropout") { Description = "Dropout rate after each hidden layer of --arch mlp (default off; 0.2 to 0.5 is usual)" };
    public readonly Option<string> Augment = new("--augment") { Description = "Random augmentation while training, before the network: translate=F (shift up to F of the height and width), rotate=F (up to F of a full turn), zoom=F (up to F in or out), each F or LO:HI; fill=reflect|constant|nearest|wrap (default reflect), interpolation=bilinear|nearest. E.g. \"translate=0.1,rotate=0.05,zoom=0.1\"" };
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
        Checks.AtLeast(L2, 0f); Checks.AtLeast(L1, 0f);
        Checks.Between(Dropout, 0f, 1f, maxExcluded: true);
        Checks.ReadBy(Augment, v => Architectures.Parse(Architectures.AugmentSpec(v), [28, 28], ActivationFunction.Relu, Initializer.GlorotUniform, checkOnly: true));
    }

    public void AddTo(Command c)
    {
        c.Add(Arch); c.Add(Layers); c.Add(Hidden); c.Add(Activation); c.Add(OutputActivation); c.Add(Loss); c.Add(Init); c.Add(Scale); c.Add(Augment); c.Add(L2); c.Add(L1); c.Add(Dropout); c.Add(Seed);
    }

    /// <summary>The named architecture (or mlp), whose recipe gives the training defaults.</summary>
    /// <remarks>A stack given with --layers trains with the CNN recipes' settings.</remarks>
    public Architectures.Recipe Recipe(ParseResult r) =>
        r.GetValue(Layers) is string spec ? Architectures.Get("convnet") with { Name = "custom", Layers = spec } : Architectures.Get(r.GetValue(Arch)!);

    public Sequential Build(ParseResult r, int[] itemShape, int classes)
    {
        var model = BuildLayers(r, itemShape, classes);
        // --l1/--l2 put one penalty on every kernel, the output layer's included (as Keras examples regularise each Dense).
        float l1 = r.GetValue(L1) ?? 0, l2 = r.GetValue(L2) ?? 0;
        if (l1 > 0 || l2 > 0)
        {
            Regularizers.Regularizer kernel = l1 == 0 ? new Regularizers.L2(l2) : l2 == 0 ? new Regularizers.L1(l1) : new Regularizers.L1L2(l1, l2);
            foreach (var layer in model.Layers)
                if (layer is Dense d) d.KernelRegularizer = kernel;
                else if (layer is Conv2D c) c.KernelRegularizer = kernel;
        }
        return model;
    }

    private Sequential BuildLayers(ParseResult r, int[] itemShape, int classes)
    {
        var recipe = Recipe(r);
        string? spec = r.GetValue(Layers);
        if (spec is not null && r.GetResult(Arch) is { Implicit: false })
            throw new ArgumentException("Give --arch or --layers, not both: --layers describes the whole stack of hidden layers.");
        if (r.GetResult(Hidden) is { Implicit: false } && recipe.Name != "mlp")
            throw new ArgumentException("--hidden sets the dense layers of --arch mlp; for other networks describe the layers with --layers.");
        var model = new Sequential { Seed = r.GetValue(Seed) };
        string scale = r.GetValue(Scale)!;
        if (scale is not ("0-1" or "raw")) throw new ArgumentException($"Invalid value received for option --scale. Expected 0-1 or raw. Received: {scale}.");
        Initializer init = r.GetValue(Init)!;
        ActivationFunction act = r.GetValue(Activation)!;
        Layer Output() => new Dense(classes, (ActivationFunction)r.GetValue(OutputActivation)!, kernelInitializer: init);
        string? augment = r.GetValue(Augment) is string a ? Architectures.AugmentSpec(a) : null;
        if (spec is null && recipe.Name == "mlp")
        {
            if (augment is not null)
                foreach (var layer in Architectures.Parse(augment, itemShape, act, init)) model.Add(layer);
            model.Add(new Flatten(inputShape: augment is null ? itemShape : null));
            if (scale is "0-1") model.Add(new Rescaling(1f / 255));
            foreach (int units in ParseHidden(r.GetValue(Hidden)!))
            {
                model.Add(new Dense(units, act, kernelInitializer: init));
                if (r.GetValue(Dropout) is > 0 and float rate) model.Add(new Dendrite.Layers.Dropout(rate));
            }
            model.Add(Output());
            if (augment is not null) model.Build(itemShape);
            return model;
        }
        if (r.GetValue(Dropout) is not null) throw new ArgumentException("--dropout adds dropout to --arch mlp; for other networks put dropout(rate) in --layers.");
        var layers = Architectures.Parse(augment is null ? spec ?? recipe.Layers : $"{augment} {spec ?? recipe.Layers}", itemShape, act, init, Output);
        if (scale is "0-1") model.Add(new Rescaling(1f / 255));
        foreach (var layer in layers) model.Add(layer);
        model.Build(itemShape);
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
