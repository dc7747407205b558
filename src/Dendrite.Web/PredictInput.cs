using System.Text.Json;
using Dendrite.Data;
using Dendrite.Imaging;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Dendrite.Web;

/// <summary>
/// The model input a POST /api/predict request carries: a PNG, JPEG, BMP, GIF, WebP or PGM picture (the raw body, or
/// the first file of a multipart form), opened by <see cref="Pictures.Open"/> and brought to MNIST's form by
/// <see cref="Digitizer.ToMnist(ImageRows)"/> exactly as <c>dendrite predict</c> does; or JSON grey levels: <c>{"pixels": [...]}</c> with the model's input size fed as
/// they are, or <c>{"width": W, "height": H, "pixels": [...]}</c> digitized like a picture.
/// </summary>
internal static class PredictInput
{
    public static async Task<float[]> ReadAsync(HttpRequest request, Limits limits, int inputSize, CancellationToken ct)
    {
        if (request.ContentLength > limits.MaxBodyBytes) throw ProblemException.TooLarge($"The body is {request.ContentLength:N0} bytes; the limit is {limits.MaxBodyBytes:N0}.");
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || type.MediaType.Value is not { } media)
            throw ProblemException.MediaType($"Send a picture ({Pictures.Formats}, e.g. Content-Type: image/png), a multipart form with an image file, or JSON pixels (application/json); the request has no Content-Type.");
        switch (media.ToLowerInvariant())
        {
            // The picture's format is told by its first bytes; the Content-Type only has to say it is a picture.
            case "image/png" or "image/jpeg" or "image/bmp" or "image/x-ms-bmp" or "image/gif" or "image/webp" or "image/x-portable-graymap" or "application/octet-stream":
                return FromPicture(await ReadBodyAsync(request.Body, limits, ct), "The request body", limits, inputSize);
            case "multipart/form-data":
                var form = await request.ReadFormAsync(ct);
                var file = form.Files.Count > 0 ? form.Files[0] : throw ProblemException.BadInput("The multipart form holds no file; send the picture as a file field (e.g. name=\"image\").");
                if (file.Length > limits.MaxBodyBytes) throw ProblemException.TooLarge($"The file is {file.Length:N0} bytes; the limit is {limits.MaxBodyBytes:N0}.");
                await using (var s = file.OpenReadStream())
                    return FromPicture(await ReadBodyAsync(s, limits, ct), $"The file \"{file.FileName}\"", limits, inputSize);
            case "application/json":
                return FromJson(await ReadBodyAsync(request.Body, limits, ct), limits, inputSize);
            default:
                throw ProblemException.MediaType($"Content-Type {media} is not accepted; send image/png, image/jpeg, image/bmp, image/gif or image/webp (or a PGM), multipart/form-data with an image file, or application/json pixels.");
        }
    }

    private static async Task<byte[]> ReadBodyAsync(Stream body, Limits limits, CancellationToken ct)
    {
        using var ms = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while ((n = await body.ReadAsync(buffer, ct)) > 0)
        {
            if (ms.Length + n > limits.MaxBodyBytes) throw ProblemException.TooLarge($"The body is over the limit of {limits.MaxBodyBytes:N0} bytes.");
            ms.Write(buffer, 0, n);
        }
        return ms.ToArray();
    }

    private static float[] FromPicture(byte[] data, string source, Limits limits, int inputSize)
    {
        if (data.Length == 0) throw ProblemException.BadInput($"{source} is empty; send a {Pictures.Formats} picture of a digit.");
        if (!Pictures.IsPicture(data.AsSpan(0, Math.Min(data.Length, Pictures.HeadBytes))))
            throw ProblemException.BadInput($"{source} is not a {Pictures.Formats} picture (its first bytes match none of them).");
        if (inputSize != Digitizer.Size * Digitizer.Size)
            throw ProblemException.BadInput($"The model takes {inputSize} values, not a 28×28 picture; send JSON pixels.");
        // The header is read and the size checked here; no pixel is decoded before the limits below are passed.
        using var rows = Pictures.Open(new MemoryStream(data, writable: false), source);
        if (rows.Width > limits.MaxSide || rows.Height > limits.MaxSide || (long)rows.Width * rows.Height > limits.MaxPixels)
            throw ProblemException.TooLarge($"{source} is {rows.Width}×{rows.Height} pixels; the limits are {limits.MaxSide} on a side and {limits.MaxPixels:N0} pixels.");
        return Digitizer.ToMnist(rows);
    }

    private static float[] FromJson(byte[] body, Limits limits, int inputSize)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 4 }); }
        catch (JsonException e) { throw ProblemException.BadInput($"The body is not valid JSON: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("pixels", out var px) || px.ValueKind != JsonValueKind.Array)
                throw ProblemException.BadInput("The JSON needs \"pixels\": an array of grey levels 0..255, row by row (and \"width\" and \"height\" for a picture to digitize).");
            int count = px.GetArrayLength();
            if (count > limits.MaxJsonPixels) throw ProblemException.TooLarge($"\"pixels\" holds {count:N0} values; the limit is {limits.MaxJsonPixels:N0}.");
            var values = new float[count];
            int i = 0;
            foreach (var v in px.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetSingle(out float f) || !float.IsFinite(f) || f < 0 || f > 255)
                    throw ProblemException.BadInput($"pixels[{i}] is {Shorten(v.GetRawText())}; each pixel is a grey level from 0 to 255.");
                values[i++] = f;
            }
            bool hasW = root.TryGetProperty("width", out var wEl), hasH = root.TryGetProperty("height", out var hEl);
            if (!hasW && !hasH)
            {
                if (count != inputSize) throw ProblemException.BadInput($"\"pixels\" holds {count} values; the model takes {inputSize} (or give \"width\" and \"height\" to have a picture digitized).");
                return values;
            }
            if (!hasW || !hasH || !wEl.TryGetInt32(out int w) || !hEl.TryGetInt32(out int h) || w < 1 || h < 1 || w > limits.MaxSide || h > limits.MaxSide)
                throw ProblemException.BadInput($"\"width\" and \"height\" must both be whole numbers from 1 to {limits.MaxSide}.");
            if ((long)w * h != count) throw ProblemException.BadInput($"A {w}×{h} picture has {(long)w * h} pixels; \"pixels\" holds {count}.");
            if (inputSize != Digitizer.Size * Digitizer.Size) throw ProblemException.BadInput($"The model takes {inputSize} values, not a 28×28 picture; send exactly that many pixels without width and height.");
            return Digitizer.ToMnist(values, w, h, "the pixels");
        }
    }

    private static string Shorten(string s) => s.Length <= 20 ? s : s[..20] + "…";
}
