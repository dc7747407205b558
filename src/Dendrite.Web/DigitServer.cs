using System.Globalization;
using Dendrite.Data;
using Dendrite.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;

namespace Dendrite.Web;

/// <summary>
/// The draw-a-digit web app on ASP.NET Core's Kestrel: the page (GET /), the prediction API (POST /api/predict), the
/// model's description (GET /api/model) and a health check (GET /healthz). Bad input is answered with RFC 7807
/// problem+json (400, 408, 413, 415), never a 500.
/// </summary>
public static class DigitServer
{
    /// <summary>The address `dendrite serve` listens on unless told otherwise: loopback only.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5000";

    /// <summary>Builds the app listening on <paramref name="urls"/> (semicolon-separated; port 0 picks a free one); start it with Start or RunAsync.</summary>
    public static WebApplication Create(ServedModel model, string urls = DefaultUrls, Limits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        limits ??= new Limits();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // A multipart form's boundaries and headers come on top of the file itself.
            k.Limits.MaxRequestBodySize = limits.MaxBodyBytes + 65536;
            k.Limits.RequestHeadersTimeout = limits.RequestTime;
            k.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 1024, gracePeriod: TimeSpan.FromSeconds(5));
        });
        builder.Services.Configure<FormOptions>(o => { o.MultipartBodyLengthLimit = limits.MaxBodyBytes; o.ValueCountLimit = 64; });
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            context.Response.Headers["X-Content-Type-Options"] = "nosniff";
            context.Response.Headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'";
            await next(context);
        });
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/api/model", () => Results.Json(Describe(model)));
        app.MapPost("/api/predict", (HttpContext context) => PredictAsync(context, model, limits));
        StaticFiles.Map(app);
        return app;
    }

    private static async Task PredictAsync(HttpContext context, ServedModel model, Limits limits)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(limits.RequestTime);
        try
        {
            var input = await PredictInput.ReadAsync(context.Request, limits, model.Predictor.InputSize, deadline.Token);
            var (top, probabilities) = model.Predictor.Classify(input);
            await context.Response.WriteAsJsonAsync(new
            {
                label = top.Index,
                class_name = top.Name,
                probability = top.Probability,
                probabilities,
                classes = model.ClassNames,
                input = new { shape = model.Model.InputShape, pixels = input },
            }, CancellationToken.None);
        }
        catch (Exception e) when (AsProblem(e, context) is { } problem)
        {
            if (context.Response.HasStarted) return;
            // The rest of a refused body is not read: the connection is closed after the answer.
            context.Response.Headers.Connection = "close";
            await problem.WriteAsync(context);
        }
    }

    /// <summary>The problem an exception means for the client; null for one the client did not cause.</summary>
    private static ProblemException? AsProblem(Exception e, HttpContext context) => e switch
    {
        ProblemException p => p,
        InvalidDataFormatException d => ProblemException.BadInput(d.Message),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } b => ProblemException.TooLarge(b.Message),
        BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout } b => ProblemException.Timeout(b.Message),
        BadHttpRequestException b => ProblemException.BadInput(b.Message),
        InvalidDataException d => ProblemException.BadInput(d.Message),   // a malformed multipart form
        OperationCanceledException when !context.RequestAborted.IsCancellationRequested => ProblemException.Timeout("The request did not arrive within the time limit."),
        OperationCanceledException or IOException => new ProblemException(499, "The client went away", e.Message),
        _ => null,
    };

    /// <summary>What GET /api/model answers: the model's config, summary, classes and test accuracy.</summary>
    private static object Describe(ServedModel served)
    {
        var m = served.Model;
        var accuracy = served.Accuracy;
        return new
        {
            source = served.Source,
            dataset = served.DatasetName,
            classes = served.ClassNames,
            input_shape = m.InputShape,
            output_shape = m.OutputShape,
            params_count = m.Layers.Sum(l => l.ParamCount),
            layers = m.Layers.Select(l => new { name = l.Name, class_name = l.GetType().Name, output_shape = l.OutputShape, @params = l.ParamCount }),
            summary = m.SummaryText(),
            accuracy = accuracy.IsCompletedSuccessfully ? accuracy.Result : null,
            accuracy_status = !accuracy.IsCompleted ? "measuring" : accuracy.Result is double a
                ? string.Create(CultureInfo.InvariantCulture, $"measured on the {served.DatasetName} test set by this server: {a * 100:F2}%") : "not measured (the test set is not on this machine)",
            config = Serialization.ModelFile.ConfigJson(m),
            version = ServedModel.Version,
        };
    }
}
