using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Dendrite;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;

// Checks the kernels on whatever CPU runs it (CI runs it on linux-arm64 under qemu-user, where the 128-bit AdvSimd
// paths are the only hardware ones): GEMM against plain loops on every transpose and awkward shapes, the elementwise
// kernels against their formulas, and a short seeded training run whose loss must fall. Prints OK or exits 1.
int failures = 0;
void Fail(string what) { Console.Error.WriteLine("FAIL: " + what); failures++; }

Console.WriteLine($"{RuntimeInformation.ProcessArchitecture}: kernels on {Simd.Describe(Simd.Floats)}; " +
    $"Vector128/256/512 in hardware: {Vector128.IsHardwareAccelerated}/{Vector256.IsHardwareAccelerated}/{Vector512.IsHardwareAccelerated}");

var rng = new Rng(7);
float[] Random(int n) { var x = new float[n]; for (int i = 0; i < n; i++) x[i] = rng.Uniform(-1, 1); return x; }
foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 17, 3), (17, 7, 129), (129, 33, 17), (64, 10, 300), (3, 100, 30), (1, 1024, 50), (100, 200, 150) })
    foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
            foreach (bool acc in new[] { false, true })
            foreach (bool sparse in new[] { false, true })   // mostly-zero A: zero steps skipped (few rows, packed panels)
            {
                float alpha = acc ? -0.5f : 1f;
                float[] a = Random(m * k), b = Random(k * n), c = Random(m * n), r = (float[])c.Clone();
                if (sparse) for (int i = 0; i < a.Length; i++) if (rng.Uniform(0, 1) < 0.8f) a[i] = 0;
                int lda = ta ? m : k, ldb = tb ? k : n;
                Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, acc, alpha);
                Gemm.Reference(ta, tb, m, n, k, a, lda, b, ldb, r, n, acc, alpha);
                for (int i = 0; i < c.Length; i++)
                    if (!(Math.Abs(c[i] - r[i]) <= 1e-4f * (1 + Math.Abs(r[i])) * MathF.Sqrt(k)))
                    { Fail($"GEMM {m}x{n}x{k} ta={ta} tb={tb} acc={acc} sparse={sparse}: element {i} is {c[i]}, expected {r[i]}"); break; }
            }

float[] y = Random(1001), dy = Random(1001);
float[] relu = (float[])dy.Clone(), tanh = (float[])dy.Clone(), sigmoid = (float[])dy.Clone();
Kernels.ReluMask(y, relu); Kernels.TanhGrad(y, tanh); Kernels.SigmoidGrad(y, sigmoid);
for (int i = 0; i < y.Length; i++)
{
    if (relu[i] != (y[i] > 0 ? dy[i] : 0)) Fail($"ReluMask element {i}");
    if (MathF.Abs(tanh[i] - dy[i] * (1 - y[i] * y[i])) > 1e-6f) Fail($"TanhGrad element {i}");
    if (MathF.Abs(sigmoid[i] - dy[i] * y[i] * (1 - y[i])) > 1e-6f) Fail($"SigmoidGrad element {i}");
}
float[] z = Random(37 * 45), bias = Random(45), zr = (float[])z.Clone(), sums = new float[45];
Kernels.BiasActivation(z, 37, 45, bias, ActivationFunction.Get("relu"));
Kernels.ColumnSums(zr, 37, 45, sums, accumulate: false);
for (int j = 0; j < 45; j++)
{
    float s = 0;
    for (int r = 0; r < 37; r++) s += zr[r * 45 + j];
    if (MathF.Abs(s - sums[j]) > 1e-5f * 37) Fail($"ColumnSums column {j}: {sums[j]}, expected {s}");
    for (int r = 0; r < 37; r++)
        if (z[r * 45 + j] != MathF.Max(zr[r * 45 + j] + bias[j], 0)) { Fail($"BiasActivation relu at {r},{j}"); break; }
}

var train = Dendrite.Data.Mnist.Load().Train.Take(1024);
var model = new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255), new Dense(64, "relu"), new Dense(10, "softmax")) { Seed = 1 };
model.Compile("categorical_crossentropy", new SGD(0.1f, momentum: 0.9f), ["accuracy"]);
var history = model.Fit(train, batchSize: 32, epochs: 2, verbose: 0, seed: 1);
double first = history.Loss[0], last = history.Loss[^1];
Console.WriteLine($"training: loss {first:F4} then {last:F4}, accuracy {history.Accuracy[^1]:P2}");
if (!(double.IsFinite(last) && last < first && history.Accuracy[^1] > 0.8)) Fail("a short MLP run did not learn");

Console.WriteLine(failures == 0 ? "OK" : $"{failures} failures");
return failures == 0 ? 0 : 1;
