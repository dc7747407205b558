using Microsoft.AspNetCore.Http;

namespace Dendrite.Web;

/// <summary>A request the server refuses, answered as RFC 7807 problem+json with <see cref="Status"/> and a detail naming what was wrong.</summary>
public sealed class ProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;

    public static ProblemException BadInput(string detail) => new(StatusCodes.Status400BadRequest, "The input is not a picture or pixels the model can read", detail);
    public static ProblemException TooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, "The input is too large", detail);
    public static ProblemException MediaType(string detail) => new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", detail);
    public static ProblemException Timeout(string detail) => new(StatusCodes.Status408RequestTimeout, "The request took too long", detail);

    /// <summary>Writes the problem document (application/problem+json).</summary>
    public Task WriteAsync(HttpContext context)
    {
        context.Response.StatusCode = Status;
        return context.Response.WriteAsJsonAsync(new { type = "about:blank", title = Title, status = Status, detail = Message, instance = context.Request.Path.Value },
            (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
    }
}
