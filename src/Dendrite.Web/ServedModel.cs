using System.Reflection;
using Dendrite.Data;
using Dendrite.Models;
using Dendrite.Serialization;

namespace Dendrite.Web;

/// <summary>
/// The model a server answers with: a thread-safe <see cref="Predictor"/> over it, its summary, and its test accuracy,
/// measured once in the background on its data set's test images when those are on this machine (the MNIST test set
/// ships inside Dendrite).
/// </summary>
public sealed class ServedModel
{
    /// <summary>The name of the model that ships with Dendrite (Keras's mnist_convnet trained on MNIST; see data/models/README.md).</summary>
    public const string BundledName = "mnist-convnet.dendrite (bundled)";

    private readonly byte[] _file;
    private Task<double?>? _accuracy;

    private ServedModel(byte[] file, string source)
    {
        _file = file;
        Source = source;
        using var ms = new MemoryStream(file, writable: false);
        Model = ModelFile.Load(ms, source, out _);
        Predictor = new Predictor(Model);
    }

    public string Source { get; }
    public Sequential Model { get; }
    public Predictor Predictor { get; }

    /// <summary>A saved model file (read through the bounded, checked model reader), or a model made elsewhere with the input scaling <paramref name="scale"/> in front.</summary>
    public static ServedModel Load(string path, Layers.Layer? scale = null)
    {
        if (Serialization.Import.ModelImport.Sniff(path) != Serialization.Import.ModelFormat.Dendrite)
        {
            // A model made elsewhere (ONNX, Keras): imported as `dendrite import` does, and served from its Dendrite form.
            var imported = Serialization.Import.ModelImport.Load(path, scale);
            string temp = Path.Combine(Path.GetTempPath(), $"dendrite-serve-{Environment.ProcessId}-{Guid.NewGuid():N}.dendrite");
            try
            {
                ModelFile.Save(imported, temp);
                return new ServedModel(File.ReadAllBytes(temp), path);
            }
            finally { File.Delete(temp); }
        }
        using var fs = InputFile.Open(path, "a model file", ModelFile.MaxBytes);
        using var ms = new MemoryStream();
        fs.CopyTo(ms);
        return new ServedModel(ms.ToArray(), path);
    }

    /// <summary>The model that ships with Dendrite.</summary>
    public static ServedModel Bundled()
    {
        using var s = typeof(ServedModel).Assembly.GetManifestResourceStream("models/mnist-convnet.dendrite")
            ?? throw new InvalidOperationException("The bundled model is missing from Dendrite.Web.");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return new ServedModel(ms.ToArray(), BundledName);
    }

    /// <summary>The data set the model was trained on, as kept in the model file (or MNIST when its classes are MNIST's).</summary>
    public string? DatasetName => Model.DatasetName ?? (Model.ClassNames is null || Model.ClassNames.SequenceEqual(Mnist.ClassNames) ? "mnist" : null);

    public string[] ClassNames => Enumerable.Range(0, Predictor.OutputSize).Select(Model.ClassName).ToArray();

    /// <summary>Starts measuring the test accuracy (once); null while it runs, or when the test set is not on this machine.</summary>
    public Task<double?> Accuracy => _accuracy ??= Task.Run(MeasureAccuracy);

    private double? MeasureAccuracy()
    {
        if (DatasetName is not { } name) return null;
        try
        {
            // A copy of the model of its own: evaluation builds a loss graph and fills buffers the predictor must not share.
            using var ms = new MemoryStream(_file, writable: false);
            var copy = ModelFile.Load(ms, Source, out _);
            if (copy.Loss is null) copy.Compile("categorical_crossentropy");
            var (_, test) = new DatasetStore(offline: true).Load(name);
            if (test.ItemSize != Predictor.InputSize || test.Classes != Predictor.OutputSize) return null;
            return copy.Evaluate(test, batchSize: 100).Accuracy;   // small batches: the buffers stay a few megabytes
        }
        catch (Exception e) when (e is InvalidDataFormatException or IOException or NotEnoughMemoryException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    internal static string Version => typeof(ServedModel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
}
