using System.CommandLine;
using Dendrite.Cli;

var root = new RootCommand("Dendrite: neural networks in C#. Train, evaluate, inspect, save and export networks on MNIST.")
{
    TrainCommand.Create(),
    ModelCommands.Summary(),
    ModelCommands.Evaluate(),
    ModelCommands.Predict(),
    ModelCommands.Export(),
    ImportCommand.Create(),
    ModelCommands.Plot(),
    ModelCommands.Datasets(),
    ServeCommand.Create(),
};
return Cli.RunCommandLine(root, args);
