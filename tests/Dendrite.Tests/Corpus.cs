namespace Dendrite.Tests;

/// <summary>The regression files under tests/corpus (made by tests/corpus/make.cs; README.md there says what each is).</summary>
internal static class Corpus
{
    public static string Path(string name) => System.IO.Path.Combine(Tools.RepoRoot, "tests", "corpus", name);

    public static byte[] Read(string name) => File.ReadAllBytes(Path(name));
}
