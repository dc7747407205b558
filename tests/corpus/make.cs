#:project ../../src/Dendrite/Dendrite.csproj
#:property PublishAot=false
// Regenerates the regression corpus (see README.md here): dotnet run tests/corpus/make.cs  (from the repository root)
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Dendrite;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Serialization;

string dir = Path.Combine("tests", "corpus");

Sequential Model()
{
    var m = new Sequential(new Flatten(inputShape: [4, 4]), new Dense(3, "relu", name: "hidden"), new Dense(2, "softmax", name: "out")) { Seed = 7 };
    m.Compile("categorical_crossentropy");
    m.Build(4, 4);
    return m;
}

// A file as versions before the checksum wrote it: the same safetensors layout, without __metadata__.checksum.
byte[] Legacy(Sequential m, Action<List<(string, Tensor)>>? change = null, string? config = null)
{
    var tensors = m.Weights.Select(w => (w.Name, w.Value.Reshape(w.Value.Shape))).ToList();
    change?.Invoke(tensors);
    string tmp = Path.GetTempFileName();
    m.Save(tmp);
    using (var f = File.OpenRead(tmp)) config ??= SafeTensors.Read(f, tmp).Metadata["config"];
    File.Delete(tmp);
    var meta = new Dictionary<string, string> { ["format"] = "dendrite.model", ["format_version"] = "1", ["config"] = config };
    var ms = new MemoryStream();
    SafeTensors.Write(ms, tensors, meta);
    return ms.ToArray();
}

File.WriteAllBytes(Path.Combine(dir, "legacy-no-checksum.dendrite"), Legacy(Model()));
File.WriteAllBytes(Path.Combine(dir, "nan-weight-no-checksum.dendrite"), Legacy(Model(), t =>
{
    var k = t.First(x => x.Item1 == "hidden/kernel").Item2.ToArray();
    k[5] = float.NaN;
    t[t.FindIndex(x => x.Item1 == "hidden/kernel")] = ("hidden/kernel", new Tensor(k, 16, 3));
}));
// Issue 16, item 7: two Dense layers both named x (3 -> 3), no compile section.
string twoX = "{\"class_name\":\"Sequential\",\"input_shape\":[3],\"layers\":[" +
    "{\"class_name\":\"Dense\",\"config\":{\"name\":\"x\",\"units\":3,\"activation\":\"relu\",\"use_bias\":true,\"kernel_initializer\":\"glorot_uniform\",\"bias_initializer\":\"zeros\"}}," +
    "{\"class_name\":\"Dense\",\"config\":{\"name\":\"x\",\"units\":3,\"activation\":\"softmax\",\"use_bias\":true,\"kernel_initializer\":\"glorot_uniform\",\"bias_initializer\":\"zeros\"}}]}";
var xm = new Sequential(new Dense(3, "relu", name: "x", inputShape: [3])) { Seed = 1 };
xm.Build(3);
File.WriteAllBytes(Path.Combine(dir, "two-layers-named-x.dendrite"), Legacy(xm, config: twoX));
// Issue 14: one flipped bit in a weight, which loaded silently and predicted differently.
var saved = Path.Combine(dir, "flipped-weight-bit.dendrite");
Model().Save(saved);
var b = File.ReadAllBytes(saved);
b[8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(b) + 21] ^= 0x40;
File.WriteAllBytes(saved, b);
// Issue 16, item 10: class names that are terminal escapes and a right-to-left override.
var named = Model();
named.ClassNames = ["\u001b[2J\u001b[31mseven", "\u202Eevil"];
named.Save(Path.Combine(dir, "escape-class-names.dendrite"));
// Issue 16, item 12: an IDX file as two gzip members (cat a.gz b.gz, or pigz).
var idx = new MemoryStream();
var px = new byte[5 * 4 * 4];
for (int i = 0; i < px.Length; i++) px[i] = (byte)(i * 11);
Idx.Write(idx, [5, 4, 4], px);
var raw = idx.ToArray();
byte[] Gz(ReadOnlySpan<byte> d) { var o = new MemoryStream(); using (var g = new GZipStream(o, CompressionLevel.Optimal, true)) g.Write(d); return o.ToArray(); }
File.WriteAllBytes(Path.Combine(dir, "two-members.idx.gz"), [.. Gz(raw.AsSpan(0, 30)), .. Gz(raw.AsSpan(30))]);
Console.WriteLine("corpus written to " + dir);
