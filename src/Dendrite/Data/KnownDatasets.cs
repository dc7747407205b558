namespace Dendrite.Data;

/// <summary>One published file of a data set: its name, size and checksum, to be verified before use.</summary>
/// <param name="Sha256">The published SHA-256 of the file as distributed (the .gz), or null when only a git blob id is published.</param>
/// <param name="GitBlobSha1">The git blob id (SHA-1 of "blob &lt;size&gt;\0" + content), for files whose only published identity it is.</param>
public sealed record DataFile(string Name, long? Size, string? Sha256, string? GitBlobSha1 = null);

/// <summary>A data set Dendrite knows by name: where to get it, how to check it, what its classes are, and its terms.</summary>
public sealed record DatasetInfo(
    string Name, string Description, string[] ClassNames, string License, string Citation,
    DataFile[] Files, string[] Mirrors, string? SystemFolder = null, bool Embedded = false)
{
    public long? TotalSize => Files.All(f => f.Size.HasValue) ? Files.Sum(f => f.Size!.Value) : null;
}

/// <summary>The data sets known by name: mnist, fashion-mnist, notmnist, kmnist.</summary>
public static class KnownDatasets
{
    private static DataFile[] Idx(params (string name, long? size, string? sha256, string? blob)[] f) => f.Select(x => new DataFile(x.name, x.size, x.sha256, x.blob)).ToArray();

    public static readonly DatasetInfo Mnist = new(
        "mnist", "Handwritten digits 0-9, 28x28 grey, 60,000 training and 10,000 test images",
        Data.Mnist.ClassNames,
        "CC BY-SA 3.0; copyright Yann LeCun and Corinna Cortes (a derivative work of NIST datasets)",
        "Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. Gradient-based learning applied to document recognition. Proc. IEEE 86(11), 1998.",
        Idx(("train-images-idx3-ubyte.gz", 9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", null),
            ("train-labels-idx1-ubyte.gz", 28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", null),
            ("t10k-images-idx3-ubyte.gz", 1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", null),
            ("t10k-labels-idx1-ubyte.gz", 4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", null)),
        ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"],
        Embedded: true);

    public static readonly DatasetInfo FashionMnist = new(
        "fashion-mnist", "Zalando's article images in 10 classes, 28x28 grey, 60,000 training and 10,000 test images",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        "MIT; copyright 2017 Zalando SE",
        "H. Xiao, K. Rasul, R. Vollgraf. Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms. arXiv:1708.07747, 2017.",
        Idx(("train-images-idx3-ubyte.gz", 26421880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", null),
            ("train-labels-idx1-ubyte.gz", 29515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", null),
            ("t10k-images-idx3-ubyte.gz", 4422102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", null),
            ("t10k-labels-idx1-ubyte.gz", 5148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", null)),
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"],
        SystemFolder: "/usr/share/datasets/fashion-mnist");

    public static readonly DatasetInfo NotMnist = new(
        "notmnist", "Letters A-J in many typefaces, 28x28 grey (notMNIST converted to MNIST's format)",
        ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"],
        "notMNIST by Yaroslav Bulatov (released for research use); notMNIST-to-MNIST conversion by David Flanagan",
        "Y. Bulatov. notMNIST dataset, 2011. http://yaroslavvb.blogspot.com/2011/09/notmnist-dataset.html",
        Idx(("train-images-idx3-ubyte.gz", null, null, "6cf3076b36bafa7da1563b28bbe863fd78a008a8"),
            ("train-labels-idx1-ubyte.gz", 29455, "0db4c4ec5d019838a57f8c9dd764ada7dc3c73e6ccc93032c538c5845f332545", null),
            ("t10k-images-idx3-ubyte.gz", 3172375, "70ae9e06201f2827e5b0a3781a3169d735dd2efc69996b9eeaee7f10ed4044d7", null),
            ("t10k-labels-idx1-ubyte.gz", 5118, "1fa03836e01c862542f8eb83463bb951bebec6fcb3efa28dad748c6b38a9021b", null)),
        ["https://github.com/davidflanagan/notMNIST-to-MNIST/raw/master/"]);

    public static readonly DatasetInfo Kmnist = new(
        "kmnist", "Kuzushiji-MNIST: 10 cursive Japanese (hiragana) characters, 28x28 grey, 60,000 training and 10,000 test images",
        ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
        "CC BY-SA 4.0; \"KMNIST Dataset\" (created by CODH), adapted from \"Kuzushiji Dataset\" (created by NIJL and others), doi:10.20676/00000341",
        "T. Clanuwat, M. Bober-Irizar, A. Kitamoto, A. Lamb, K. Yamamoto, D. Ha. Deep Learning for Classical Japanese Literature. arXiv:1812.01718, 2018.",
        Idx(("train-images-idx3-ubyte.gz", 18165135, "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4", null),
            ("train-labels-idx1-ubyte.gz", 29497, "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17", null),
            ("t10k-images-idx3-ubyte.gz", 3041136, "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5", null),
            ("t10k-labels-idx1-ubyte.gz", 5120, "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c", null)),
        ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]);

    public static IReadOnlyList<DatasetInfo> All { get; } = [Mnist, FashionMnist, NotMnist, Kmnist];

    public static DatasetInfo Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(d => d.Name == name.ToLowerInvariant().Replace('_', '-'))
            ?? throw new ArgumentException($"Unknown data set `{name}`. Known: {string.Join(", ", All.Select(d => d.Name))}; or give a folder of IDX files, a CSV file or a folder of images per class.");
    }
}
