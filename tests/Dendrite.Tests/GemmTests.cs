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
        { 40, 1500, 10 }, { 130, 2000, 24 }, // short k: C walked row band by row band over B blocks cut to half of L1
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
            Gemm.ResetSplitTrials();   // a shape's first call runs split (then it is measured both ways)
            Parallelism.MaxThreads = 1;
            Gemm.Multiply(false, false, m, n, k, a, k, b, n, one, n);
            Parallelism.MaxThreads = 2;
            Gemm.Multiply(false, false, m, n, k, a, k, b, n, two, n);
        }
        finally { Parallelism.MaxThreads = saved; }
        Assert.Equal(one, two);
    }

    /// <summary>
    /// A product the size rule splits is timed at its first calls split and on one thread, then keeps the faster: every
    /// call, during the measurement and after, gives the one-thread result bit for bit, and the choice is made.
    /// </summary>
    [Fact]
    public void ASplitIsMeasuredAtFirstUseAndEveryCallGivesTheSameResult()
    {
        var rng = new Rng(6);
        int m = 96, n = 320, k = 200;                       // used by no other test; 12 MFLOP, which the size rule splits
        float[] a = Random(rng, m * k), b = Random(rng, k * n), one = new float[m * n], c = new float[m * n];
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            Gemm.Multiply(false, false, m, n, k, a, k, b, n, one, n);
            Parallelism.MaxThreads = 2;
            Gemm.ResetSplitTrials();
            for (int call = 0; call < 16; call++)
            {
                Array.Clear(c);
                Gemm.Multiply(false, false, m, n, k, a, k, b, n, c, n);
                Assert.Equal(one, c);
                if (call < 11) Assert.Null(Gemm.SplitChoice(false, false, m, n, k, false, 2));
            }
            Assert.NotNull(Gemm.SplitChoice(false, false, m, n, k, false, 2));
        }
        finally { Parallelism.MaxThreads = saved; }
    }

    [Fact]
    public void RejectsOperandsTooSmallForTheirShape()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 4, 4, 4, new float[15], 4, new float[16], 4, new float[16], 4));
        Assert.Contains("operand A", ex.Message);
    }

    [Theory]
    [InlineData(1, 1024, 784)]
    [InlineData(1, 10, 1024)]
    [InlineData(2, 300, 129)]
    [InlineData(3, 37, 100)]
    [InlineData(4, 1030, 65)]
    public void FewRowsSkipZeroStepsAndNeverReadTheirRowsOfB(int m, int n, int k)
    {
        // Mostly-zero inputs, as a digit's pixels or a ReLU layer's outputs are; a step zero in every row has NaN in its row
        // of B, which must never be read. The result must equal the reference computed with those rows of B set to zero.
        var rng = new Rng(11);
        foreach (int width in WidthsToTest())
            foreach (bool accumulate in new[] { false, true })
            {
                float[] a = Random(rng, m * k), b = Random(rng, k * n), c0 = Random(rng, m * n);
                for (int i = 0; i < a.Length; i++) if (rng.Uniform(0, 1) < 0.7f) a[i] = 0;
                if (m > 1) Array.Clear(a, k, k);                                   // a whole row of zeros
                float[] bZeroed = (float[])b.Clone();
                for (int p = 0; p < k; p++)
                {
                    bool dead = true;
                    for (int i = 0; i < m; i++) dead &= a[i * k + p] == 0;
                    if (!dead) continue;
                    for (int j = 0; j < n; j++) { b[p * n + j] = float.NaN; bZeroed[p * n + j] = 0; }
                }
                float[] expected = (float[])c0.Clone(), actual = (float[])c0.Clone();
                Gemm.Reference(false, false, m, n, k, a, k, bZeroed, n, expected, n, accumulate, 0.5f);
                WithWidth(width, () => Gemm.Multiply(false, false, m, n, k, a, k, b, n, actual, n, accumulate, 0.5f));
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * (1 + Math.Abs(expected[i])) * Math.Sqrt(k),
                        $"width {width} acc={accumulate} {m}x{n}x{k}: element {i} expected {expected[i]} got {actual[i]}");
            }
    }

    [Theory]
    [InlineData(128, 1024, 784)]
    [InlineData(37, 70, 300)]
    [InlineData(1000, 40, 129)]
    [InlineData(13, 100, 7)]
    public void PackedPanelsSkipStepsZeroInEveryRow(int m, int n, int k)
    {
        // Half the steps are zero in every row (a digit's background): their rows of B hold NaN and must never be read;
        // elsewhere 70% of A is zero, as after a ReLU. The result must equal the reference with those rows of B zeroed.
        var rng = new Rng(12);
        foreach (int width in WidthsToTest())
            foreach (bool ta in new[] { false, true })
            {
                float[] a = Random(rng, m * k), b = Random(rng, k * n), bZeroed;
                var dead = new bool[k];
                for (int p = 0; p < k; p++) dead[p] = rng.Uniform(0, 1) < 0.5f;
                for (int i = 0; i < m; i++)
                    for (int p = 0; p < k; p++)
                        if (dead[p] || rng.Uniform(0, 1) < 0.7f) a[ta ? p * m + i : i * k + p] = 0;
                bZeroed = (float[])b.Clone();
                for (int p = 0; p < k; p++)
                    if (dead[p])
                        for (int j = 0; j < n; j++) { b[p * n + j] = float.NaN; bZeroed[p * n + j] = 0; }
                float[] expected = new float[m * n], actual = new float[m * n];
                Gemm.Reference(ta, false, m, n, k, a, ta ? m : k, bZeroed, n, expected, n);
                WithWidth(width, () => Gemm.Multiply(ta, false, m, n, k, a, ta ? m : k, b, n, actual, n));
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * (1 + Math.Abs(expected[i])) * Math.Sqrt(k),
                        $"width {width} ta={ta} {m}x{n}x{k}: element {i} expected {expected[i]} got {actual[i]}");
            }
    }

    [Fact]
    public void SkippingZeroStepsLeavesEveryBitOfTheResult()
    {
        // Compacted panels drop only exact zeros and keep the order of the rest, so they give every bit of the result that
        // one row at a time gives (each row streams its nonzero steps in order; k is within one packed block here).
        var rng = new Rng(13);
        int m = 64, n = 96, k = 256;
        float[] a = Random(rng, m * k), b = Random(rng, k * n);
        for (int i = 0; i < a.Length; i++) if (rng.Uniform(0, 1) < 0.9f) a[i] = 0;   // 43% of an 8-row panel's steps all zero: compacted
        float[] sparse = new float[m * n], rowByRow = new float[m * n];
        Gemm.Multiply(false, false, m, n, k, a, k, b, n, sparse, n);
        for (int i = 0; i < m; i++)   // one row at a time streams every nonzero step in order: the same sums
            Gemm.Multiply(false, false, 1, n, k, a.AsSpan(i * k, k), k, b, n, rowByRow.AsSpan(i * n, n), n);
        Assert.Equal(rowByRow, sparse);
    }

    [Fact]
    public void FewRowsStillPropagateANaNInput()
    {
        float[] a = new float[784], b = new float[784 * 10], c = new float[10];
        a[5] = float.NaN;
        Gemm.Multiply(false, false, 1, 10, 784, a, 784, b, 10, c, 10);
        Assert.All(c, v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void FewRowsAreBitwiseTheSameOnOneThreadAndTwo()
    {
        // One image through a 784-1024 layer streams 3.2 MB of weights: more than a core's L2, so it runs on both cores.
        var rng = new Rng(6);
        int k = 784, n = 1024;
        float[] a = Random(rng, 2 * k), b = Random(rng, k * n), one = new float[2 * n], two = new float[2 * n];
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            Gemm.Multiply(false, false, 2, n, k, a, k, b, n, one, n);
            Parallelism.MaxThreads = 2;
            Gemm.Multiply(false, false, 2, n, k, a, k, b, n, two, n);
        }
        finally { Parallelism.MaxThreads = saved; }
        Assert.Equal(one, two);
    }

    [Theory]
    [InlineData(16, 48 << 10, 12, 1 << 20, 320, 408)]   // Zen 5: full-width AVX-512, 48 KiB 12-way L1d, 1 MiB L2
    [InlineData(16, 32 << 10, 8, 1 << 20, 192, 680)]    // Zen 4: 32 KiB 8-way L1d
    [InlineData(8, 32 << 10, 8, 512 << 10, 384, 168)]   // Zen 2: AVX2 only, 512 KiB L2
    [InlineData(4, 64 << 10, 4, 4 << 20, 1024, 510)]    // a 128-bit ARM64 core with a 64 KiB 4-way L1d and a 4 MiB L2
    public void BlockingFollowsTheCaches(int width, int l1, int ways, int l2, int kc, int mc)
    {
        var blocking = GemmBlocking.Derive(width, l1, ways, l2);
        Assert.Equal(kc, blocking.Kc);
        Assert.Equal(mc, blocking.Mc);
        Assert.Equal(0, blocking.Mc % (width == 16 ? 8 : 6));
        Assert.Equal(0, blocking.Nc % (2 * width));
        Assert.True((long)blocking.Kc * 2 * width * sizeof(float) <= l1, "the B micro-panel fits L1");
    }

    [Fact]
    public void BlockingCanBeOverriddenAndRejectsNonsense()
    {
        Assert.Equal(new GemmBlocking(256, 96, 1024), GemmBlocking.Derive(16, 48 << 10, 12, 1 << 20, "256,96,1024"));
        var ex = Assert.Throws<InvalidOperationException>(() => GemmBlocking.Derive(16, 48 << 10, 12, 1 << 20, "256,0"));
        Assert.Contains("DENDRITE_GEMM_BLOCKING", ex.Message);
        Assert.InRange(CacheInfo.L1Bytes, 8 << 10, 512 << 10);
        Assert.InRange(CacheInfo.L2Bytes, 64 << 10, 64 << 20);
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
