using System.CommandLine;
using Dendrite.Optimizers;

namespace Dendrite.Cli;

/// <summary>The options of `train` that choose the optimizer and its settings (Keras names and defaults).</summary>
internal sealed class TrainingOptions
{
    public static readonly string[] Optimizers = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"];

    public readonly Option<string> Optimizer = new("--optimizer") { Description = "Optimizer: " + string.Join(", ", Optimizers) + " (default: the architecture's recipe: sgd for mlp, adam for convnet, sgd with momentum 0.9 for cnn)", DefaultValueFactory = _ => "sgd" };
    public readonly Option<float> LearningRate = new("--lr", "--learning-rate") { Description = "Learning rate (default: the architecture's recipe, 0.1 for mlp; with an --optimizer other than the recipe's, that optimizer's Keras default: 0.01 for sgd, 0.001 for the others)", DefaultValueFactory = _ => 0.1f };
    public readonly Option<float> Momentum = new("--momentum") { Description = "Momentum of sgd and rmsprop (default: the recipe's for sgd, 0 for mlp; 0 for rmsprop)", DefaultValueFactory = _ => 0f };
    public readonly Option<bool> Nesterov = new("--nesterov") { Description = "Nesterov momentum (sgd; default off)" };
    public readonly Option<bool> Amsgrad = new("--amsgrad") { Description = "AMSGrad variant of adam and adamw (default off)" };
    public readonly Option<float?> WeightDecay = new("--weight-decay") { Description = "Decoupled weight decay, w -= lr·wd·w before each update (default: 0.004 for adamw, off for the others)" };
    public readonly Option<float?> ClipNorm = new("--clipnorm") { Description = "Clip each weight's gradient to this L2 norm (default off)" };
    public readonly Option<float?> ClipValue = new("--clipvalue") { Description = "Clip each gradient element to [-value, value] (default off)" };

    public TrainingOptions()
    {
        Checks.OneOf(Optimizer, Optimizers);
        Checks.Positive(LearningRate);
        Checks.Between(Momentum, 0f, 1f, maxExcluded: true);
        Checks.AtLeast(WeightDecay, 0f);
        Checks.Positive(ClipNorm);
        Checks.Positive(ClipValue);
    }

    public IEnumerable<Option> All => [Optimizer, LearningRate, Momentum, Nesterov, Amsgrad, WeightDecay, ClipNorm, ClipValue];

    /// <summary>
    /// The optimizer the command line asks for. The recipe's optimizer takes the recipe's learning rate and momentum;
    /// another starts from its own Keras defaults. Options given on the command line win; a setting the optimizer does
    /// not have is an error naming it.
    /// </summary>
    public Optimizers.Optimizer Build(ParseResult r, Architectures.Recipe recipe)
    {
        bool Given(Option o) => r.GetResult(o) is { Implicit: false };
        string name = Given(Optimizer) ? r.GetValue(Optimizer)! : recipe.Optimizer.ToLowerInvariant();
        bool fromRecipe = name == recipe.Optimizer.ToLowerInvariant();
        void Only(Option o, params string[] takers)
        {
            if (Given(o) && !takers.Contains(name))
                throw new ArgumentException($"{o.Name} is a setting of {string.Join(" and ", takers)}; --optimizer {name} does not take it.");
        }
        Only(Momentum, "sgd", "rmsprop"); Only(Nesterov, "sgd"); Only(Amsgrad, "adam", "adamw");
        Optimizers.Optimizer o = name;   // Keras defaults
        float lr = Given(LearningRate) ? r.GetValue(LearningRate) : fromRecipe ? recipe.LearningRate : o.LearningRate;
        float momentum = Given(Momentum) ? r.GetValue(Momentum) : fromRecipe ? recipe.Momentum : 0f;
        if (Given(ClipNorm) && Given(ClipValue)) throw new ArgumentException("Give --clipnorm or --clipvalue, not both.");
        var opt = Own(name, lr, momentum, r);
        if (r.GetValue(WeightDecay) is float wd) opt.WeightDecay = wd;
        opt.ClipNorm = r.GetValue(ClipNorm);
        opt.ClipValue = r.GetValue(ClipValue);
        return opt;
    }

    private Optimizers.Optimizer Own(string name, float lr, float momentum, ParseResult r)
    {
        return name switch
        {
            "sgd" => new SGD(lr, momentum, r.GetValue(Nesterov)),
            "adam" => new Adam(lr, amsgrad: r.GetValue(Amsgrad)),
            "adamw" => new AdamW(lr, amsgrad: r.GetValue(Amsgrad)),
            "rmsprop" => new RMSprop(lr, momentum: momentum),
            "adagrad" => new Adagrad(lr),
            "adadelta" => new Adadelta(lr),
            _ => throw new ArgumentException($"Invalid value received for option --optimizer. Expected one of {string.Join(", ", Optimizers)}. Received: {name}."),
        };
    }
}
