using System.Reflection;

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
    /// Loads the training and test sets as byte datasets. From <paramref name="directory"/> when given
    /// (the four IDX files, .gz or raw), else from $DENDRITE_DATA/mnist when it holds them, else the embedded copy.
    /// </summary>
    public static (Dataset Train, Dataset Test) Load(string? directory = null)
    {
        directory ??= Environment.GetEnvironmentVariable("DENDRITE_DATA") is { Length: > 0 } env && Directory.Exists(Path.Combine(env, "mnist")) ? Path.Combine(env, "mnist") : null;
        return directory is null
            ? (Pair("mnist-train", Embedded(FileNames[0]), Embedded(FileNames[1])), Pair("mnist-test", Embedded(FileNames[2]), Embedded(FileNames[3])))
            : (Pair("mnist-train", FromDirectory(directory, FileNames[0]), FromDirectory(directory, FileNames[1])),
               Pair("mnist-test", FromDirectory(directory, FileNames[2]), FromDirectory(directory, FileNames[3])));
    }

    /// <summary>
    /// Keras's mnist.load_data(): ((x_train, y_train), (x_test, y_test)), images as floats 0..255 of
    /// shape (N, 28, 28), labels as class indices of shape (N,).
    /// </summary>
    public static ((Tensor X, Tensor Y) Train, (Tensor X, Tensor Y) Test) LoadData(string? directory = null)
    {
        var (train, test) = Load(directory);
        return ((train.ImagesAsTensor(), train.LabelsAsTensor()), (test.ImagesAsTensor(), test.LabelsAsTensor()));
    }

    private static IdxArray Embedded(string file)
    {
        var asm = typeof(Mnist).Assembly;
        using var s = asm.GetManifestResourceStream("mnist/" + file)
            ?? throw new InvalidOperationException($"The embedded MNIST file {file} is missing from {asm.GetName().Name}.");
        return Idx.Read(s, $"embedded mnist/{file}");
    }

    private static IdxArray FromDirectory(string dir, string file)
    {
        string gz = Path.Combine(dir, file), raw = gz[..^3];
        if (File.Exists(gz)) return Idx.Read(gz);
        if (File.Exists(raw)) return Idx.Read(raw);
        throw new FileNotFoundException($"MNIST file {file} (or {Path.GetFileName(raw)}) not found in {dir}.", gz);
    }

    internal static Dataset Pair(string name, IdxArray images, IdxArray labels)
    {
        if (images.Dimensions.Length != 3)
            throw new InvalidDataFormatException($"{name}: image file has {images.Dimensions.Length} dimensions; expected 3 (count, rows, columns).");
        if (labels.Dimensions.Length != 1)
            throw new InvalidDataFormatException($"{name}: label file has {labels.Dimensions.Length} dimensions; expected 1.");
        if (images.Count != labels.Count)
            throw new InvalidDataFormatException($"{name}: {images.Count:N0} images but {labels.Count:N0} labels.");
        return new Dataset(name, images.Data, images.Dimensions[1..], labels.Data, ClassNames);
    }
}
