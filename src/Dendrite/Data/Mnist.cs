namespace Dendrite.Data;

/// <summary>
/// MNIST: 60,000 training and 10,000 test images of handwritten digits, 28×28 grey levels, labels 0..9.
/// The four official files are embedded in this library, so <see cref="Load"/> works offline with no set-up.
/// </summary>
/// <remarks>
/// Yann LeCun and Corinna Cortes hold the copyright of MNIST, a derivative work of NIST datasets;
/// it is made available under the Creative Commons Attribution-Share Alike 3.0 license (CC BY-SA 3.0).
/// </remarks>
public static class Mnist
{
    public static readonly string[] ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public const string License = "CC BY-SA 3.0; copyright Yann LeCun and Corinna Cortes (a derivative work of NIST datasets)";

    internal static readonly string[] FileNames = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

    /// <summary>
    /// Loads the training and test sets as byte datasets: from <paramref name="directory"/> when given (the four IDX
    /// files, .gz or raw), else by the search order of <see cref="DatasetStore"/> ($DENDRITE_DATA/mnist, then the copy
    /// embedded in this library).
    /// </summary>
    public static (Dataset Train, Dataset Test) Load(string? directory = null) =>
        directory is null
            ? new DatasetStore(offline: true).Load(KnownDatasets.Mnist, out _)
            : LocalData.LoadIdxFolder(directory, "mnist", ClassNames);

    /// <summary>
    /// Keras's mnist.load_data(): ((x_train, y_train), (x_test, y_test)), images as floats 0..255 of
    /// shape (N, 28, 28), labels as class indices of shape (N,).
    /// </summary>
    public static ((Tensor X, Tensor Y) Train, (Tensor X, Tensor Y) Test) LoadData(string? directory = null)
    {
        var (train, test) = Load(directory);
        return ((train.ImagesAsTensor(), train.LabelsAsTensor()), (test.ImagesAsTensor(), test.LabelsAsTensor()));
    }

    /// <summary>The copy compiled into this library.</summary>
    internal static (Dataset Train, Dataset Test) LoadEmbedded() =>
        (LocalData.Pair("mnist-train", Embedded(FileNames[0]), Embedded(FileNames[1]), ClassNames),
         LocalData.Pair("mnist-test", Embedded(FileNames[2]), Embedded(FileNames[3]), ClassNames));

    private static IdxArray Embedded(string file)
    {
        var asm = typeof(Mnist).Assembly;
        using var s = asm.GetManifestResourceStream("mnist/" + file)
            ?? throw new InvalidOperationException($"The embedded MNIST file {file} is missing from {asm.GetName().Name}.");
        return Idx.Read(s, $"embedded mnist/{file}");
    }
}
