using System.CommandLine;
using System.Globalization;
using Dendrite.Data;

namespace Dendrite.Cli;

/// <summary>Which data a command uses: a known data set by name, or a path to the user's own data.</summary>
internal sealed class DataOptions
{
    public readonly Option<string> Dataset = new("--dataset", "--data") { Description = "mnist, fashion-mnist, notmnist, kmnist, or a path: a folder of IDX files, a CSV file, or a folder of images per class", DefaultValueFactory = _ => "mnist" };
    public readonly Option<bool> Offline = new("--offline") { Description = "Never use the network: fail with instructions if the data is not on this machine" };
    public readonly Option<int> ImageSize = new("--image-size") { Description = "Side of the square images made from a folder of pictures", DefaultValueFactory = _ => 28 };

    public DataOptions() => Checks.Between(ImageSize, 1, 1024);

    public void AddTo(Command c) { c.Add(Dataset); c.Add(Offline); c.Add(ImageSize); }

    public (Dataset Train, Dataset Test) Load(ParseResult r)
    {
        string what = r.GetValue(Dataset)!;
        var store = new DatasetStore(offline: r.GetValue(Offline));
        long lastShown = -1;
        store.Progress = p =>
        {
            long pct = p.Total is long t && t > 0 ? p.Received * 100 / t : -1;
            if (pct == lastShown && p.Received != p.Total) return;
            lastShown = pct;
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\rdownloading {p.File} from {new Uri(p.Url).Host}: {p.Received / 1048576.0:F1} MB{(pct >= 0 ? $" ({pct}%)" : "")}   "));
            if (p.Received == p.Total) Console.Error.WriteLine();
        };
        int side = r.GetValue(ImageSize);
        return store.Load(what, [side, side]);
    }
}
