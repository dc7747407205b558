using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dendrite.Imaging;

namespace Dendrite.Tests;

/// <summary>The HTTP API with pictures made elsewhere: every format, raw and as a form upload (what the page sends), and the problem documents for the bad ones.</summary>
public class ServePictureTests(ServerFixture server, PillowPictures pictures) : IClassFixture<ServerFixture>, IClassFixture<PillowPictures>
{
    private async Task<(HttpStatusCode Status, JsonElement Body)> Post(HttpContent content)
    {
        using var res = await server.Client.PostAsync("/api/predict", content);
        return (res.StatusCode, JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static ByteArrayContent Body(byte[] data, string type)
    {
        var c = new ByteArrayContent(data);
        c.Headers.ContentType = new MediaTypeHeaderValue(type);
        return c;
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Theory]
    [InlineData("digit.jpg", "image/jpeg")]
    [InlineData("orient-6.jpg", "image/jpeg")]
    [InlineData("digit.bmp", "image/bmp")]
    [InlineData("digit.gif", "image/gif")]
    [InlineData("digit-lossy.webp", "image/webp")]
    [InlineData("digit-lossless.webp", "image/webp")]
    public async Task EachFormatGetsTheLibrarysAnswerRawAndUploaded(string file, string type)
    {
        var bytes = pictures.Bytes(file);
        var expected = server.Served.Predictor.Predict(PictureFormatTests.Digitized(bytes, file));
        var (status, raw) = await Post(Body(bytes, type));
        Assert.True(status == HttpStatusCode.OK, raw.ToString());
        Assert.Equal(expected, Floats(raw.GetProperty("probabilities")));
        Assert.Equal(7, raw.GetProperty("label").GetInt32());
        using var form = new MultipartFormDataContent { { Body(bytes, type), "image", file } };
        var (formStatus, uploaded) = await Post(form);
        Assert.True(formStatus == HttpStatusCode.OK, uploaded.ToString());
        Assert.Equal(expected, Floats(uploaded.GetProperty("probabilities")));
        // The format is told by the bytes: a generic Content-Type does as well.
        var (octetStatus, octet) = await Post(Body(bytes, "application/octet-stream"));
        Assert.True(octetStatus == HttpStatusCode.OK, octet.ToString());
    }

    private async Task Problem(HttpContent content, HttpStatusCode status, string detail)
    {
        var (got, body) = await Post(content);
        Assert.True(got == status, $"expected {(int)status}, got {(int)got}: {body}");
        Assert.Contains(detail, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadPicturesGetProblemDocuments()
    {
        foreach (var format in new[] { "jpeg", "bmp", "gif", "webp" })
        {
            // Over the server's limits (2048 on a side here), refused from the header: no pixel decoded.
            var large = PictureSafetyTests.Claiming(format, PictureSafetyTests.Small(format), 3000, 3000);
            await Problem(Body(large, "application/octet-stream"), HttpStatusCode.RequestEntityTooLarge, "3000×3000");
            var whole = PictureSafetyTests.Small(format);
            await Problem(Body(whole[..(whole.Length / 2)], "application/octet-stream"), HttpStatusCode.BadRequest, "truncated");
        }
        var jpeg = pictures.Bytes("digit.jpg");
        using var cut = new MultipartFormDataContent { { Body(jpeg[..(jpeg.Length * 2 / 3)], "image/jpeg"), "image", "cut.jpg" } };
        await Problem(cut, HttpStatusCode.BadRequest, "The file \"cut.jpg\": the JPEG file is truncated");
        await Problem(Body("GIF89a, or so it says"u8.ToArray(), "image/gif"), HttpStatusCode.BadRequest, "GIF");
        await Problem(Body("not a picture at all"u8.ToArray(), "image/jpeg"), HttpStatusCode.BadRequest, "not a PNG, JPEG, BMP, GIF, WebP or PGM picture");
        await Problem(Body(pictures.Bytes("animated.webp"), "image/webp"), HttpStatusCode.BadRequest, "not supported");
        await Problem(Body(jpeg, "image/tiff"), HttpStatusCode.UnsupportedMediaType, "image/jpeg");
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/healthz")).StatusCode);
    }
}
