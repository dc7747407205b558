using System.Globalization;
using Dendrite.Imaging;

namespace Dendrite.Data;

/// <summary>
/// The user's own data: a folder of the four IDX files (MNIST's names, .gz or raw); a CSV of label then pixel
/// values per line (as the common mnist_train.csv); or a folder with one subfolder of PNG/PGM images per class (as
/// Keras's image_dataset_from_directory), converted to grey and resized to a chosen shape. Test data comes from a
/// sibling file or folder named with "test" in place of "train" (mnist_test.csv, test/), or else the last 10% of the
/// items (after a fixed shuffle) are held out.
/// </summary>
public static class LocalData
{
    public static (Dataset Train, Dataset Test) Load(string path, int[]? imageShape = null)
    {
        if (File.Exists(path))
        {
            if (!path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) throw new InvalidDataFormatException($"{path}: expected a .csv file, a folder of IDX files, or a folder of images per class.");
            var train = ReadCsv(path);
            string name = Path.GetFileName(path);
            string testPath = Path.Combine(Path.GetDirectoryName(path) ?? "", name.Replace("train", "test", StringComparison.OrdinalIgnoreCase));
            return testPath != path && File.Exists(testPath) ? (train, ReadCsv(testPath, train.ClassNames.Length)) : HoldOut(train);
        }
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: no such file or folder.");
        if (File.Exists(Path.Combine(path, "train-images-idx3-ubyte.gz")) || File.Exists(Path.Combine(path, "train-images-idx3-ubyte")))
        {
            // A folder named after a known data set (a copy of fashion-mnist, say) gets that set's class names.
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
            var known = KnownDatasets.All.FirstOrDefault(d => d.Name == name.ToLowerInvariant());
            return LoadIdxFolder(path, name, known?.ClassNames);
        }
        var shape = imageShape ?? [28, 28];
        if (Directory.Exists(Path.Combine(path, "train")) && Directory.Exists(Path.Combine(path, "test")))
        {
            var tr = ReadImageFolder(Path.Combine(path, "train"), shape, null);
            return (tr, ReadImageFolder(Path.Combine(path, "test"), shape, tr.ClassNames));
        }
        return HoldOut(ReadImageFolder(path, shape, null));
    }

    /// <summary>The four IDX files of a folder; class names are given, read from classes.txt, or 0..n-1.</summary>
    public static (Dataset Train, Dataset Test) LoadIdxFolder(string folder, string name, string[]? classNames)
    {
        IdxArray Read(string file)
        {
            string gz = Path.Combine(folder, file), raw = gz[..^3];
            return File.Exists(gz) ? Idx.Read(gz) : File.Exists(raw) ? Idx.Read(raw) : throw new FileNotFoundException($"{folder}: {file} (or {Path.GetFileName(raw)}) is missing.", gz);
        }
        var f = Mnist.FileNames;
        IdxArray ti = Read(f[0]), tl = Read(f[1]), vi = Read(f[2]), vl = Read(f[3]);
        classNames ??= File.Exists(Path.Combine(folder, "classes.txt"))
            ? File.ReadAllLines(Path.Combine(folder, "classes.txt")).Where(l => l.Length > 0).ToArray()
            : Enumerable.Range(0, Math.Max(tl.Data.DefaultIfEmpty().Max(), vl.Data.DefaultIfEmpty().Max()) + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return (Pair($"{name}-train", ti, tl, classNames), Pair($"{name}-test", vi, vl, classNames));
    }

    /// <summary>An image file and a label file as one dataset, after checking they agree.</summary>
    internal static Dataset Pair(string name, IdxArray images, IdxArray labels, string[] classes)
    {
        if (images.Dimensions.Length < 2) throw new InvalidDataFormatException($"{name}: the image file has {images.Dimensions.Length} dimension(s); expected (count, rows, columns).");
        if (labels.Dimensions.Length != 1) throw new InvalidDataFormatException($"{name}: the label file has {labels.Dimensions.Length} dimensions; expected 1.");
        if (images.Count != labels.Count) throw new InvalidDataFormatException($"{name}: {images.Count:N0} images but {labels.Count:N0} labels.");
        return new Dataset(name, images.Data, images.Dimensions[1..], labels.Data, classes);
    }

    /// <summary>Reads "label,pixel,pixel,..." lines (0..255 each); a first line that is not numeric is a header.</summary>
    public static Dataset ReadCsv(string path, int? classes = null)
    {
        var images = new List<byte>();
        var labels = new List<byte>();
        int width = -1, lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (lineNo == 1 && !int.TryParse(cells[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _)) continue; // header
            if (width < 0)
            {
                width = cells.Length - 1;
                if (width < 1) throw new InvalidDataFormatException($"{path}:{lineNo}: a row needs a label and at least one pixel.");
            }
            if (cells.Length - 1 != width) throw new InvalidDataFormatException($"{path}:{lineNo}: {cells.Length - 1} pixel values; the first row had {width}.");
            for (int i = 0; i < cells.Length; i++)
            {
                if (!int.TryParse(cells[i].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < 0 || v > 255)
                    throw new InvalidDataFormatException($"{path}:{lineNo}: field {i + 1} \"{cells[i]}\" is not {(i == 0 ? "a class label in 0..255" : "a pixel value in 0..255")}.");
                if (i == 0) labels.Add((byte)v); else images.Add((byte)v);
            }
        }
        if (labels.Count == 0) throw new InvalidDataFormatException($"{path}: no data rows.");
        int side = (int)Math.Round(Math.Sqrt(width));
        int[] shape = side * side == width ? [side, side] : [width];
        int n = classes ?? labels.Max() + 1;
        var names = Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        for (int i = 0; i < labels.Count; i++)
            if (labels[i] >= n) throw new InvalidDataFormatException($"{path}: label {labels[i]} of data row {i + 1} is outside the {n} classes of the training data.");
        return new Dataset(Path.GetFileNameWithoutExtension(path), images.ToArray(), shape, labels.ToArray(), names);
    }

    /// <summary>One subfolder per class (sorted by name, as Keras); every PNG or PGM in it, grey, resized to <paramref name="shape"/>.</summary>
    public static Dataset ReadImageFolder(string root, int[] shape, string[]? classNames)
    {
        if (shape is not [int h, int w] || h <= 0 || w <= 0 || h * w > 1 << 20) throw new ArgumentException("The image shape must be (rows, columns), both positive.");
        var classes = classNames ?? Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        if (classes.Length == 0) throw new InvalidDataFormatException($"{root}: no class subfolders (expected {root}/<class>/<image>.png).");
        var images = new List<byte>();
        var labels = new List<byte>();
        for (int c = 0; c < classes.Length; c++)
        {
            string dir = Path.Combine(root, classes[c]!);
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
            {
                if (Path.GetFileName(file).StartsWith('.')) continue;
                Image img;
                try { img = Image.Load(file); }
                catch (InvalidDataFormatException e) { throw new InvalidDataFormatException($"{file}: cannot read this image ({e.Message})", e); }
                var grey = img.ToGrey();
                var resized = Digitizer.Resample(grey, img.Width, 0, 0, img.Width, img.Height, w, h);
                foreach (var v in resized) images.Add((byte)Math.Clamp(MathF.Round(v), 0, 255));
                labels.Add((byte)c);
            }
        }
        if (labels.Count == 0) throw new InvalidDataFormatException($"{root}: the class folders hold no images.");
        return new Dataset(Path.GetFileName(Path.TrimEndingDirectorySeparator(root)), images.ToArray(), shape, labels.ToArray(), classes!);
    }

    /// <summary>Splits off the last 10% of a fixed shuffle as test data.</summary>
    public static (Dataset Train, Dataset Test) HoldOut(Dataset all)
    {
        var order = Enumerable.Range(0, all.Count).ToArray();
        new Rng(20260101).Shuffle(order);
        int nTest = Math.Max(1, all.Count / 10);
        Dataset Pick(string suffix, ReadOnlySpan<int> idx)
        {
            var img = new byte[idx.Length * all.ItemSize];
            var lab = new byte[idx.Length];
            for (int i = 0; i < idx.Length; i++) { all.Image(idx[i]).CopyTo(img.AsSpan(i * all.ItemSize)); lab[i] = all.Labels[idx[i]]; }
            return new Dataset(all.Name + suffix, img, all.ItemShape, lab, all.ClassNames);
        }
        return (Pick("-train", order.AsSpan(nTest)), Pick("-test", order.AsSpan(0, nTest)));
    }
}
