using System.CommandLine;
using Dendrite.Web;
using Microsoft.Extensions.Hosting;

namespace Dendrite.Cli;

/// <summary>`dendrite serve`: the draw-a-digit page and the prediction API on ASP.NET Core's Kestrel.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "A model saved by dendrite train --save, or an ONNX or Keras file imported on the fly (default: the MNIST CNN that ships with Dendrite)" };
        var scale = new Option<string?>("--scale") { Description = "For an ONNX or Keras --model: its input scaling, 0-1, raw or mean-std:M,S (as dendrite import)" };
        var urls = new Option<string>("--urls") { Description = "Where to listen, semicolon-separated (loopback unless told otherwise; port 0 picks a free one)", DefaultValueFactory = _ => DigitServer.DefaultUrls };
        var threads = new Option<int>("--threads") { Description = "Kernel threads per prediction (default 1: concurrent requests share the cores between them)", DefaultValueFactory = _ => 1 };
        Checks.AtLeast(threads, 1);
        var cmd = new Command("serve", "Serve a web page to draw a digit and watch the network answer, and an HTTP API (POST /api/predict, GET /api/model, GET /healthz)") { model, scale, urls, threads };
        cmd.SetAction(r => Cli.Run(() =>
        {
            Parallelism.MaxThreads = r.GetValue(threads);
            string? path = r.GetValue(model);
            if (path is not null) new CommandPaths().Input("--model", path);
            var scaling = r.GetValue(scale) is string sc ? Dendrite.Serialization.Import.ModelImport.ParseScale(sc) : null;
            if (scaling is not null && path is null) throw new ArgumentException("--scale applies to an ONNX or Keras --model; the bundled model knows its scaling.");
            var served = path is null ? ServedModel.Bundled() : ServedModel.Load(path, scaling);
            _ = served.Accuracy;
            using var app = DigitServer.Create(served, r.GetValue(urls)!);
            app.Start();
            foreach (var address in app.Urls) Console.WriteLine($"Serving {served.Source} at {address}  (Ctrl+C stops)");
            app.WaitForShutdown();
            Console.WriteLine("Stopped.");
        }));
        return cmd;
    }
}
