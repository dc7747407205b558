using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dendrite.Web;

/// <summary>The page's files, embedded in the assembly (no CDN, no files on disk): it works offline and from an installed tool.</summary>
internal static class StaticFiles
{
    private static readonly (string Route, string Resource, string Type)[] Files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "app.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "favicon.svg", "image/svg+xml"),
    ];

    public static void Map(WebApplication app)
    {
        foreach (var (route, resource, type) in Files)
        {
            byte[] bytes = Read(resource);
            app.MapGet(route, (HttpContext c) =>
            {
                c.Response.Headers.CacheControl = "no-cache";
                return Results.Bytes(bytes, type);
            });
        }
    }

    private static byte[] Read(string name)
    {
        using var s = typeof(StaticFiles).Assembly.GetManifestResourceStream("wwwroot/" + name)
            ?? throw new InvalidOperationException($"The page file {name} is missing from Dendrite.Web.");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }
}
