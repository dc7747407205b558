namespace Dendrite.Tests;

/// <summary>The packed GEMM against the plain-loop reference, on odd shapes, every transpose, both vector widths and thread counts.</summary>
[Trait("Category", "VectorPaths")]
[Collection("Kernel settings")]
public class GemmTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 7, 17, 1 }, { 17, 7, 129 }, { 129, 33, 17 }, { 8, 32, 8 }, { 64, 10, 1024 },
        { 128, 1024, 784 }, { 1000, 10, 129 }, { 31, 1000, 65 }, { 3, 5, 700 }, { 1024, 10, 128 }, { 129, 7, 33 }, { 1, 1024, 784 }, { 3, 100, 300 }, { 4, 37, 5 }, { 2, 1030, 9 }, { 1, 10, 1024 }, { 3, 3, 40 }, { 1, 16, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReferenceForEveryTransposeAndWidth(int m, int n, int k)
    {
        var rng = new Rng(42);
        foreach (int width in WidthsToTest())
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    foreach (bool accumulate in new[] { false, true })
                    {
                        float alpha = accumulate ? -0.37f : 1f;
                        float[] a = Random(rng, m * k), b = Random(rng, k * n), c0 = Random(rng, m * n);
                        float[] expected = (float[])c0.Clone(), actual = (float[])c0.Clone();
                        int lda = ta ? m : k, ldb = tb ? k : n;
                        Gemm.Reference(ta, tb, m, n, k, a, lda, b, ldb, expected, n, accumulate, alpha);
                        WithWidth(width, () => Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, actual, n, accumulate, alpha));
                        for (int i = 0; i < expected.Length; i++)
                            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * (1 + Math.Abs(expected[i])) * Math.Sqrt(k),
                                $"width {width} ta={ta} tb={tb} acc={accumulate} {m}x{n}x{k}: element {i} expected {expected[i]} got {actual[i]}");
                    }
    }

    [Fact]
    public void LeadingDimensionsLargerThanTheMatrixAreHonoured()
    {
        var rng = new Rng(3);
        int m = 9, n = 35, k = 20, lda = 25, ldb = 40, ldc = 50;
        float[] a = Random(rng, m * lda), b = Random(rng, k * ldb), c = new float[m * ldc], r = new float[m * ldc];
        Gemm.Multiply(false, false, m, n, k, a, lda, b, ldb, c, ldc);
        Gemm.Reference(false, false, m, n, k, a, lda, b, ldb, r, ldc);
        for (int i = 0; i < c.Length; i++) Assert.Equal(r[i], c[i], 1e-4f);
    }

    [Fact]
    public void ResultsAreBitwiseTheSameOnOneThreadAndTwo()
    {
        var rng = new Rng(5);
        int m = 128, n = 1024, k = 784;
        float[] a = Random(rng, m * k), b = Random(rng, k * n), one = new float[m * n], two = new float[m * n];
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            Gemm.Multiply(false, false, m, n, k, a, k, b, n, one, n);
            Parallelism.MaxThreads = 2;
            Gemm.Multiply(false, false, m, n, k, a, k, b, n, two, n);
        }
        finally { Parallelism.MaxThreads = saved; }
        Assert.Equal(one, two);
    }

    [Fact]
    public void RejectsOperandsTooSmallForTheirShape()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 4, 4, 4, new float[15], 4, new float[16], 4, new float[16], 4));
        Assert.Contains("operand A", ex.Message);
    }

    internal static IEnumerable<int> WidthsToTest()
    {
        yield return 4;
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) yield return 8;
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) yield return 16;
    }

    internal static void WithWidth(int width, Action action)
    {
        int saved = Gemm.VectorWidth;
        Gemm.VectorWidth = width;
        try { action(); } finally { Gemm.VectorWidth = saved; }
    }

    internal static float[] Random(Rng rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.Uniform(-1, 1);
        return x;
    }
}

[CollectionDefinition("Kernel settings", DisableParallelization = true)]
public class KernelSettingsCollection;
