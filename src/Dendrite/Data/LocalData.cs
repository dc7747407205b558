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
            ? InputFile.ReadAllText(Path.Combine(folder, "classes.txt"), "a list of class names", 1 << 20).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray()
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

    /// <summary>Largest CSV file read; its values must also fit in memory.</summary>
    public const long MaxCsvBytes = 16L << 30;

    /// <summary>Longest CSV line: a label and up to 2^20 pixel values of up to three digits.</summary>
    public const int MaxCsvLine = 4 << 20;

    /// <summary>Reads "label,pixel,pixel,..." lines (0..255 each); a first line that is not numeric is a header.</summary>
    public static Dataset ReadCsv(string path, int? classes = null)
    {
        using var fs = InputFile.Open(path, "a CSV file", MaxCsvBytes);
        // Each value takes at least two characters ("0,"): half the file bounds the pixels, held up to three times
        // over while the list that gathers them doubles and is copied out.
        Models.MemoryBudget.Require(fs.Length / 2 * 3, $"Reading {path}");
        return ReadCsv(fs, path, classes);
    }

    /// <summary>As <see cref="ReadCsv(string, int?)"/>, from a stream; <paramref name="source"/> names it in messages.</summary>
    public static Dataset ReadCsv(Stream stream, string source, int? classes = null)
    {
        var images = new List<byte>();
        var labels = new List<byte>();
        int width = -1, lineNo = 0;
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16, leaveOpen: true);
        var line = new char[1 << 12];
        while (ReadLine(reader, ref line, out int length, source, lineNo + 1))
        {
            lineNo++;
            if (length == 0) continue;
            var text = line.AsSpan(0, length);
            int cells = text.Count(',') + 1;
            if (lineNo == 1 && !int.TryParse(Field(text, 0, out _).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _)) continue; // header
            if (width < 0)
            {
                width = cells - 1;
                if (width < 1) throw new InvalidDataFormatException($"{source}:{lineNo}: a row needs a label and at least one pixel.");
            }
            if (cells - 1 != width) throw new InvalidDataFormatException($"{source}:{lineNo}: {cells - 1} pixel values; the first row had {width}.");
            int at = 0;
            for (int i = 0; i < cells; i++)
            {
                var cell = Field(text, at, out at);
                if (!int.TryParse(cell.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < 0 || v > 255)
                    throw new InvalidDataFormatException($"{source}:{lineNo}: field {i + 1} \"{cell}\" is not {(i == 0 ? "a class label in 0..255" : "a pixel value in 0..255")}.");
                if (i == 0) labels.Add((byte)v); else images.Add((byte)v);
            }
        }
        if (labels.Count == 0) throw new InvalidDataFormatException($"{source}: no data rows.");
        int side = (int)Math.Round(Math.Sqrt(width));
        int[] shape = side * side == width ? [side, side] : [width];
        int n = classes ?? labels.Max() + 1;
        var names = Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        for (int i = 0; i < labels.Count; i++)
            if (labels[i] >= n) throw new InvalidDataFormatException($"{source}: label {labels[i]} of data row {i + 1} is outside the {n} classes of the training data.");
        return new Dataset(Path.GetFileNameWithoutExtension(source), images.ToArray(), shape, labels.ToArray(), names);
    }

    /// <summary>The field of <paramref name="text"/> starting at <paramref name="start"/>, up to the next comma; <paramref name="next"/> is where the one after starts.</summary>
    private static ReadOnlySpan<char> Field(ReadOnlySpan<char> text, int start, out int next)
    {
        int comma = text[start..].IndexOf(',');
        if (comma < 0) { next = text.Length; return text[start..]; }
        next = start + comma + 1;
        return text.Slice(start, comma);
    }

    /// <summary>
    /// The next line (ended by \n, \r\n or \r, as File.ReadLines splits) into <paramref name="line"/>, never longer than
    /// <see cref="MaxCsvLine"/> characters: a file of one endless line is an error, not an endless string.
    /// </summary>
    private static bool ReadLine(StreamReader reader, ref char[] line, out int length, string source, int lineNo)
    {
        length = 0;
        int c = reader.Read();
        if (c < 0) return false;
        while (c >= 0 && c != '\n' && c != '\r')
        {
            if (length == line.Length)
            {
                if (length >= MaxCsvLine) throw new InvalidDataFormatException($"{source}:{lineNo}: the line is longer than {MaxCsvLine:N0} characters.");
                Array.Resize(ref line, Math.Min(MaxCsvLine, length * 2));
            }
            line[length++] = (char)c;
            c = reader.Read();
        }
        if (c == '\r' && reader.Peek() == '\n') reader.Read();
        return true;
    }

    /// <summary>One subfolder per class (sorted by name, as Keras); every PNG or PGM in it, grey, resized to <paramref name="shape"/>.</summary>
    public static Dataset ReadImageFolder(string root, int[] shape, string[]? classNames)
    {
        if (shape is not [int h, int w] || h <= 0 || w <= 0 || (long)h * w > 1 << 20) throw new ArgumentException($"The image shape must be (rows, columns), both positive, at most {1 << 20:N0} pixels; received {Tensor.ShapeToString(shape)}.");
        var classes = classNames ?? Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        if (classes.Length == 0) throw new InvalidDataFormatException($"{root}: no class subfolders (expected {root}/<class>/<image>.png).");
        if (classes.Length > 256) throw new InvalidDataFormatException($"{root}: {classes.Length} class subfolders; at most 256 classes are supported.");
        var files = new List<(string File, int Class)>();
        for (int c = 0; c < classes.Length; c++)
        {
            string dir = Path.Combine(root, classes[c]!);
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
                if (!Path.GetFileName(file).StartsWith('.')) files.Add((file, c));
        }
        // Every image becomes h×w bytes: known before the first is read.
        if ((long)files.Count * h * w > Array.MaxLength) throw new InvalidDataFormatException($"{root}: {files.Count:N0} images of {h}×{w} are more bytes than one array holds.");
        Models.MemoryBudget.Require((long)files.Count * h * w, $"{root}: {files.Count:N0} images of {h}×{w}");
        var images = new byte[(long)files.Count * h * w];
        var labels = new List<byte>();
        foreach (var (file, c) in files)
        {
            float[] resized;
            // Decoded row by row and area-averaged to h×w as the rows arrive: a large photo takes a few rows of memory.
            try { resized = Image.ReadGreyResized(file, w, h); }
            catch (InvalidDataFormatException e) { throw new InvalidDataFormatException($"{file}: cannot read this image ({e.Message})", e); }
            var dst = images.AsSpan(labels.Count * h * w, h * w);
            for (int i = 0; i < resized.Length; i++) dst[i] = (byte)Math.Clamp(MathF.Round(resized[i]), 0, 255);
            labels.Add((byte)c);
        }
        if (labels.Count == 0) throw new InvalidDataFormatException($"{root}: the class folders hold no images.");
        return new Dataset(Path.GetFileName(Path.TrimEndingDirectorySeparator(root)), images, shape, labels.ToArray(), classes!);
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
