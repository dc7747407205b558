using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dendrite.Data;
using Dendrite.Imaging;
using Dendrite.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Dendrite.Tests;

/// <summary>One real server (Kestrel on a free loopback port) with the bundled model, shared by the API tests.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public static readonly Limits TestLimits = new() { MaxBodyBytes = 256 << 10, MaxSide = 2048, MaxPixels = 2048 * 1024 };

    public ServedModel Served { get; } = ServedModel.Bundled();
    public WebApplication App { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = DigitServer.Create(Served, "http://127.0.0.1:0", TestLimits);
        await App.StartAsync();
        string address = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Assert.StartsWith("http://127.0.0.1:", address);
        Client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

public class ServeApiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly Dataset Test = Mnist.Load().Test;

    /// <summary>MNIST test image <paramref name="i"/> as a person would draw it: dark ink on white, three times the size.</summary>
    internal static byte[] DigitPng(int i, int scale = 3)
    {
        var src = Test.Image(i);
        int side = 28 * scale;
        var grey = new float[side * side];
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) grey[y * side + x] = 255 - src[y / scale * 28 + x / scale];
        return Png.Encode(Image.FromGrey(side, side, grey));
    }

    private static ByteArrayContent Body(byte[] data, string? type)
    {
        var c = new ByteArrayContent(data);
        if (type is not null) c.Headers.ContentType = new MediaTypeHeaderValue(type);
        return c;
    }

    private async Task<JsonElement> PredictOk(HttpContent content)
    {
        using var res = await server.Client.PostAsync("/api/predict", content);
        string text = await res.Content.ReadAsStringAsync();
        Assert.True(res.StatusCode == HttpStatusCode.OK, $"{(int)res.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<JsonElement> Problem(HttpContent content, HttpStatusCode status, string detailContains)
    {
        using var res = await server.Client.PostAsync("/api/predict", content);
        string text = await res.Content.ReadAsStringAsync();
        Assert.True(res.StatusCode == status, $"expected {(int)status}, got {(int)res.StatusCode}: {text}");
        Assert.Equal("application/problem+json", res.Content.Headers.ContentType?.MediaType);
        var doc = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal((int)status, doc.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(doc.GetProperty("title").GetString()));
        Assert.Contains(detailContains, doc.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        return doc;
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Fact]
    public async Task DigitsAsPngMultipartAndJsonGetTheLibrarysAnswer()
    {
        int correct = 0;
        for (int i = 0; i < 10; i++)
        {
            byte[] png = DigitPng(i);
            var raw = await PredictOk(Body(png, "image/png"));
            // The same picture through the library's own path (the one `dendrite predict` takes) gives the same numbers.
            using var rows = ImageRows.Open(new MemoryStream(png), "digit");
            var input = Digitizer.ToMnist(rows);
            var expected = server.Served.Predictor.Predict(input);
            Assert.Equal(expected, Floats(raw.GetProperty("probabilities")));
            Assert.Equal(input, Floats(raw.GetProperty("input").GetProperty("pixels")));
            Assert.Equal([28, 28], raw.GetProperty("input").GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()));
            int label = raw.GetProperty("label").GetInt32();
            Assert.Equal(label.ToString(System.Globalization.CultureInfo.InvariantCulture), raw.GetProperty("class_name").GetString());
            if (label == Test.Labels[i]) correct++;

            using var form = new MultipartFormDataContent { { Body(png, "image/png"), "image", $"digit{i}.png" } };
            Assert.Equal(expected, Floats((await PredictOk(form)).GetProperty("probabilities")));
        }
        Assert.True(correct >= 9, $"{correct} of the first 10 MNIST test digits read correctly");

        // JSON: the model's 784 inputs as they are, and a picture's grey levels with its size, digitized.
        var pixels = Test.Image(0).ToArray().Select(b => (float)b).ToArray();
        var asIs = await PredictOk(new StringContent(JsonSerializer.Serialize(new { pixels }), Encoding.UTF8, "application/json"));
        Assert.Equal(server.Served.Predictor.Predict(pixels), Floats(asIs.GetProperty("probabilities")));
        Assert.Equal(Test.Labels[0], asIs.GetProperty("label").GetInt32());
        var picture = await PredictOk(new StringContent(JsonSerializer.Serialize(new { width = 28, height = 28, pixels }), Encoding.UTF8, "application/json"));
        Assert.Equal(server.Served.Predictor.Predict(Digitizer.ToMnist(pixels, 28, 28)), Floats(picture.GetProperty("probabilities")));
    }

    [Fact]
    public async Task EveryBadInputGetsAProblemDocumentNeverA500()
    {
        byte[] png = DigitPng(0);
        await Problem(Body(png, null), HttpStatusCode.UnsupportedMediaType, "no Content-Type");
        await Problem(Body(png, "text/plain"), HttpStatusCode.UnsupportedMediaType, "text/plain");
        await Problem(Body(png, "image/tiff"), HttpStatusCode.UnsupportedMediaType, "image/tiff");
        await Problem(Body("hello"u8.ToArray(), "image/png"), HttpStatusCode.BadRequest, "not a PNG");
        await Problem(Body([], "image/png"), HttpStatusCode.BadRequest, "empty");
        await Problem(Body(png[..(png.Length / 2)], "image/png"), HttpStatusCode.BadRequest, "");
        var corrupt = (byte[])png.Clone();
        corrupt[^20] ^= 0x5A;
        await Problem(Body(corrupt, "image/png"), HttpStatusCode.BadRequest, "");
        await Problem(Body(Png.Encode(Image.FromGrey(40, 40, new float[1600])), "image/png"), HttpStatusCode.BadRequest, "no digit");
        await Problem(Body(HugeHeaderPng(3000, 3000), "image/png"), HttpStatusCode.RequestEntityTooLarge, "3000×3000");
        await Problem(Body(new byte[ServerFixture.TestLimits.MaxBodyBytes + 1], "image/png"), HttpStatusCode.RequestEntityTooLarge, "limit");
        await Problem(new StringContent("{\"pixels\": [1, 2", Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "not valid JSON");
        await Problem(new StringContent("{\"pixels\": [1, 2, 3]}", Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "784");
        await Problem(new StringContent("[1, 2, 3]", Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "\"pixels\"");
        string outOfRange = JsonSerializer.Serialize(new { pixels = Enumerable.Repeat(300f, 784) });
        await Problem(new StringContent(outOfRange, Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "pixels[0] is 300");
        await Problem(new StringContent("{\"width\": 10, \"height\": 10, \"pixels\": [1]}", Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "10×10");
        using var noFile = new MultipartFormDataContent { { new StringContent("7"), "label" } };
        await Problem(noFile, HttpStatusCode.BadRequest, "no file");
        using var textFile = new MultipartFormDataContent { { Body("not an image"u8.ToArray(), "image/png"), "image", "a.png" } };
        await Problem(textFile, HttpStatusCode.BadRequest, "not a PNG");
        // A body sent in chunks (no Content-Length) is cut off at the limit too.
        var chunked = new StreamContent(new MemoryStream(new byte[ServerFixture.TestLimits.MaxBodyBytes * 2]));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using (var req = new HttpRequestMessage(HttpMethod.Post, "/api/predict") { Content = chunked })
        {
            req.Headers.TransferEncodingChunked = true;
            using var res = await server.Client.SendAsync(req);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, res.StatusCode);
        }
        // The server still answers after all of that.
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/healthz")).StatusCode);
    }

    /// <summary>A valid PNG header for a large grey picture, with a tiny IDAT: its size is refused before any row is decoded.</summary>
    private static byte[] HugeHeaderPng(int w, int h)
    {
        var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10]);
        void Chunk(string type, byte[] data)
        {
            Span<byte> n = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(n, data.Length);
            ms.Write(n);
            var td = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            ms.Write(td);
            BinaryPrimitives.WriteUInt32BigEndian(n, Crc32.Compute(td));
            ms.Write(n);
        }
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8;
        Chunk("IHDR", ihdr);
        Chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk("IEND", []);
        return ms.ToArray();
    }

    [Fact]
    public async Task ConcurrentRequestsGetTheSameAnswersAsOneAtATime()
    {
        var pngs = Enumerable.Range(0, 16).Select(i => DigitPng(i)).ToArray();
        var expected = new float[pngs.Length][];
        for (int i = 0; i < pngs.Length; i++) expected[i] = Floats((await PredictOk(Body(pngs[i], "image/png"))).GetProperty("probabilities"));
        var tasks = Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (int k = 0; k < 24; k++)
            {
                int i = (k + t * 5) % pngs.Length;
                var got = Floats((await PredictOk(Body(pngs[i], "image/png"))).GetProperty("probabilities"));
                Assert.Equal(expected[i], got);
            }
        }));
        await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task ModelHealthAndPageAreServed()
    {
        var model = JsonDocument.Parse(await server.Client.GetStringAsync("/api/model")).RootElement;
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), model.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(server.Served.Model.Layers.Sum(l => l.ParamCount), model.GetProperty("params_count").GetInt32());
        Assert.Contains("Total params", model.GetProperty("summary").GetString());
        Assert.Equal("mnist", model.GetProperty("dataset").GetString());
        // The accuracy the page shows is measured by the server on the MNIST test set, and agrees with Evaluate.
        double? measured = await server.Served.Accuracy;
        Assert.NotNull(measured);
        Assert.InRange(measured.Value, 0.98, 1.0);
        model = JsonDocument.Parse(await server.Client.GetStringAsync("/api/model")).RootElement;
        Assert.Equal(measured.Value, model.GetProperty("accuracy").GetDouble());
        Assert.Equal("ok", await server.Client.GetStringAsync("/healthz"));
        string page = await server.Client.GetStringAsync("/");
        Assert.Contains("<canvas id=\"pad\"", page);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org", "", StringComparison.Ordinal));
        Assert.Contains("/api/predict", await server.Client.GetStringAsync("/app.js"));
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync("/nothing-here")).StatusCode);
    }
}
