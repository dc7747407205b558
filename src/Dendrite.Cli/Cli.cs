using System.CommandLine;
using Dendrite.Data;
using Dendrite.Models;
using Dendrite.Plotting;
using Dendrite.Serialization;

namespace Dendrite.Cli;

internal static class Cli
{
    /// <summary>Exit codes: 0 done; 1 the user's input was wrong (a message says what); 3 training diverged; 70 a bug in Dendrite; 130 interrupted.</summary>
    public const int UserError = 1, Diverged = 3, InternalError = 70, Interrupted = 130;

    /// <summary>Where an unexpected error should be reported.</summary>
    public const string ReportTo = "the Dendrite issue tracker";

    /// <summary>Set from --verbose: unexpected errors print their stack trace.</summary>
    public static bool Verbose { get; private set; }

    /// <summary>
    /// The one top-level handler: runs the command line, and turns any exception that escapes a command (a bug, not
    /// the user's mistake, which <see cref="Run(Func{int})"/> reports) into one line saying what happened and where to
    /// report it, with exit code <see cref="InternalError"/>. The stack trace only with --verbose.
    /// </summary>
    public static int RunCommandLine(RootCommand root, string[] args)
    {
        var verbose = new Option<bool>("--verbose") { Description = "On an unexpected error, print its stack trace", Recursive = true };
        root.Add(verbose);
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            // Another thread's exception ends the process; it still gets one line and the distinct exit code.
            if (e.ExceptionObject is Exception ex) Environment.Exit(Unexpected(ex));
        };
        try
        {
            Terminal.Configure();
            Checks.ParseNumbersPlainly(root);
            var parsed = root.Parse(args);
            Verbose = parsed.GetValue(verbose);
            if (parsed.Errors.Count > 0) return Checks.Invoke(parsed);
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) { return Unexpected(e); }
    }

    private static int Unexpected(Exception e)
    {
        string what = e is OutOfMemoryException
            ? "dendrite ran out of memory although its estimate said the work would fit"
            : $"internal error: {e.GetType().Name}: {Printable.Escape(e.Message.Split('\n')[0].Trim())}";
        Console.Error.WriteLine($"dendrite: {what}. This is a bug in Dendrite: please report it to {ReportTo}, with the command you ran"
            + (Verbose ? " and the trace below." : " and what the same command prints with --verbose."));
        if (Verbose) Console.Error.WriteLine(e);
        return InternalError;
    }

    /// <summary>Runs a command, turning the library's clear errors (the user's input was wrong) into one line on stderr and exit code 1.</summary>
    public static int Run(Func<int> action)
    {
        try { return action(); }
        catch (TrainingDivergedException e)
        {
            Error(e.Message);
            return Diverged;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or InvalidDataFormatException or IOException
            or UnauthorizedAccessException or NotSupportedException)
        {
            Error(Messages.ForUser(e));
            return UserError;
        }
    }

    public static int Run(Action action) => Run(() => { action(); return 0; });

    /// <summary>"error: ..." on stderr, with anything a file could have put in the message shown escaped.</summary>
    public static void Error(string message) => Console.Error.WriteLine($"error: {Printable.EscapeLines(message)}");

    /// <summary>A note on stderr (a model file without checksum, a batch larger than the data).</summary>
    public static void Note(string? message)
    {
        if (message is not null) Console.Error.WriteLine($"note: {Printable.EscapeLines(message)}");
    }

    /// <summary>Loads a model file (a Dendrite model, or one made elsewhere: see ModelImport), printing its note if it has one.</summary>
    public static Sequential LoadModel(string path)
    {
        var model = Dendrite.Serialization.Import.ModelImport.Load(path, null, out var note);
        Note(note);
        return model;
    }

    /// <summary>A path that does not exist yet: <paramref name="path"/>, or path-1, path-2... so nothing is overwritten.</summary>
    public static string FreePath(string path)
    {
        if (FilePaths.KindOf(path) == FileKind.Missing && new FileInfo(path).LinkTarget is null) return path;
        string dir = Path.GetDirectoryName(path) ?? "", stem = Path.GetFileNameWithoutExtension(path), ext = Path.GetExtension(path);
        for (int i = 1; ; i++)
        {
            string p = Path.Combine(dir, $"{stem}-{i}{ext}");
            if (FilePaths.KindOf(p) == FileKind.Missing && new FileInfo(p).LinkTarget is null) return p;
        }
    }
}

/// <summary>
/// Every path one command reads or writes, checked before it does any work (before the data is loaded): an output
/// must be a regular file or not exist yet, in a folder that exists and can be written (a link is followed, and the
/// file it leads to is what gets replaced); an input must exist; and no output may be the same file as another path of
/// the command (after links, "." and ".."), except where the command says so (resuming a checkpoint into itself).
/// </summary>
internal sealed class CommandPaths
{
    private readonly List<(string Option, string Given, string Real, bool Output, string? SameAllowedWith)> _paths = [];
    private readonly List<string> _newFolders = [];   // folders the command will make (real paths), already checked

    /// <summary>A file the command reads (checked by its reader; registered here so no output can be the same file).</summary>
    public CommandPaths Input(string option, string? path)
    {
        if (path is not null) Add(option, path, FilePaths.RealPath(path), output: false, null);
        return this;
    }

    /// <summary>A file the command writes; <paramref name="mayBe"/> names an option whose path it may equal.</summary>
    public CommandPaths Output(string option, string? path, string? mayBe = null)
    {
        if (path is null) return this;
        string real;
        string parent = Path.GetDirectoryName(FilePaths.RealPath(path)) ?? "";
        if (_newFolders.Contains(parent))
        {
            // Inside a folder this command makes (--report): its parent was checked; nothing is there yet.
            Add(option, path, FilePaths.RealPath(path), output: true, mayBe);
            return this;
        }
        try { real = AtomicFile.CheckTarget(path); }
        catch (DirectoryNotFoundException e) { throw new DirectoryNotFoundException($"{option}: {e.Message}", e); }
        catch (IOException e) { throw new IOException($"{option}: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new UnauthorizedAccessException($"{option}: {e.Message}", e); }
        Add(option, path, real, output: true, mayBe);
        return this;
    }

    /// <summary>A folder the command fills with <paramref name="files"/>: created if missing (its parent must exist); each file is checked as an output.</summary>
    public CommandPaths OutputFolder(string option, string? folder, IEnumerable<string> files)
    {
        if (folder is null) return this;
        string real = FilePaths.RealPath(folder);
        var kind = FilePaths.KindOf(real);
        if (kind != FileKind.Directory && kind != FileKind.Missing)
            throw new IOException($"{option}: {folder} is {FilePaths.Describe(kind)}, not a folder; give a folder for the {option.TrimStart('-')} files.");
        if (kind == FileKind.Directory)
        {
            foreach (var f in files) Output(option, Path.Combine(folder, f));
            return this;
        }
        // The folder is made when the command writes: check now that its parent exists and can be written.
        try { AtomicFile.CheckTarget(folder); }
        catch (DirectoryNotFoundException e) { throw new DirectoryNotFoundException($"{option}: {e.Message}", e); }
        catch (IOException e) { throw new IOException($"{option}: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new UnauthorizedAccessException($"{option}: {e.Message}", e); }
        _newFolders.Add(real);
        foreach (var f in files) Add(option, Path.Combine(folder, f), Path.Join(real, f), output: true, null);
        return this;
    }

    private void Add(string option, string given, string real, bool output, string? mayBe)
    {
        var cmp = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        foreach (var p in _paths)
        {
            if (!string.Equals(p.Real, real, cmp) || (!output && !p.Output)) continue;
            if (mayBe == p.Option || p.SameAllowedWith == option) continue;
            string how = given == p.Given ? "" : $" ({real})";
            throw new ArgumentException($"{p.Option} {p.Given} and {option} {given} are the same file{how}: give {(output ? option : p.Option)} another path, or the command would overwrite what it {(output && !p.Output ? "reads" : "writes")}.");
        }
        _paths.Add((option, given, real, output, mayBe));
    }
}
