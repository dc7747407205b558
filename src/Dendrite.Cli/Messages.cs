namespace Dendrite.Cli;

/// <summary>What the user reads when a command fails: the library's message about their mistake, without .NET's decorations.</summary>
internal static class Messages
{
    /// <summary>
    /// <paramref name="e"/>'s message without the " (Parameter 'x')" and "Actual value was x." that .NET appends to
    /// argument exceptions: they name the library's parameter, not anything the user typed. The tail is cut by
    /// rebuilding it the way the runtime writes it (same exception type, same parameter, empty message), so it
    /// follows the runtime's wording rather than a copy of it.
    /// </summary>
    public static string ForUser(Exception e)
    {
        string message = e.Message;
        if (e is ArgumentException { ParamName: { Length: > 0 } name })
        {
            string tail = e switch
            {
                ArgumentOutOfRangeException range => new ArgumentOutOfRangeException(name, range.ActualValue, "").Message,
                ArgumentNullException => new ArgumentNullException(name, "").Message,
                _ => new ArgumentException("", name).Message,
            };
            if (tail.Length > 0 && message.EndsWith(tail, StringComparison.Ordinal) && message.Length > tail.Length) message = message[..^tail.Length];
        }
        return message.TrimEnd();
    }
}
