using System.CommandLine;
using Dendrite.Cli;

Terminal.Configure();
var root = new RootCommand("Dendrite: neural networks in C#. Train, evaluate, inspect, save and export networks on MNIST.")
{
    TrainCommand.Create(),
    ModelCommands.Summary(),
    ModelCommands.Evaluate(),
    ModelCommands.Predict(),
    ModelCommands.Export(),
    ModelCommands.Plot(),
    ModelCommands.Datasets(),
};
Checks.ParseNumbersPlainly(root);
return Checks.Invoke(root.Parse(args));
