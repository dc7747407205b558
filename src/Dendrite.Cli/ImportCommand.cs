using System.CommandLine;
using Dendrite.Serialization;
using Dendrite.Serialization.Import;

namespace Dendrite.Cli;

/// <summary><c>dendrite import SOURCE TARGET.dendrite --scale S</c>: a model made elsewhere becomes a Dendrite model.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "The model to convert: an ONNX file (.onnx); the format is told from its contents" };
        var target = new Argument<string>("target") { Description = "The Dendrite model to write, such as model.dendrite; its folder must exist" };
        var scale = new Option<string>("--scale")
        {
            Description = "How the model expects its inputs, from raw 0..255 pixels: 0-1 (x/255), raw, or mean-std:M,S ((x/255 - M)/S; mean-std:0.5,0.5 is PyTorch's usual [-1, 1])",
            DefaultValueFactory = _ => "0-1",
        };
        var cmd = new Command("import", "Convert a model trained elsewhere (ONNX) to a Dendrite model, with its input scaling as a first layer: dendrite import model.onnx model.dendrite --scale 0-1") { source, target, scale };
        cmd.SetAction(r => Cli.Run(() =>
        {
            string from = r.GetValue(source)!, to = r.GetValue(target)!;
            var front = ModelImport.ParseScale(r.GetValue(scale)!);
            new CommandPaths().Input("source", from).Output("target", to);
            var m = ModelImport.Load(from, front, out var note);
            Cli.Note(note);
            m.Save(to);
            Console.WriteLine($"Imported {from} ({ModelImport.Sniff(from)}) to {to}: {m.Layers.Count} layers, {m.ParamCount:N0} parameters, input (batch, {string.Join(", ", m.InputShape)}), output (batch, {string.Join(", ", m.OutputShape)}); inputs scaled by --scale {r.GetValue(scale)}.");
        }));
        return cmd;
    }
}
