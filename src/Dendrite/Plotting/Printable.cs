using System.Globalization;
using System.Text;

namespace Dendrite.Plotting;

/// <summary>
/// Text from files (class names, layer names, file names) made safe to show: control characters (C0, DEL, C1:
/// the ANSI escape sequences a terminal obeys) and the invisible characters that reorder or hide text (the bidi
/// overrides, embeddings and isolates such as U+202E, the directional marks, line and paragraph separators, and
/// lone surrogates) are shown escaped, as \x1b or \u202e, so a file cannot rewrite what a terminal or a report shows.
/// </summary>
public static class Printable
{
    /// <summary>True for a character shown escaped.</summary>
    public static bool NeedsEscape(char c) =>
        c < 0x20 || c is >= '\u007f' and <= '\u009f'
        || c is '\u061c' or '\u200e' or '\u200f' or '\u2028' or '\u2029' or >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069'
        || char.IsSurrogate(c);

    /// <summary><paramref name="text"/> with every character of <see cref="NeedsEscape"/> written as \xNN or \uNNNN (lone surrogates only; pairs pass).</summary>
    public static string Escape(string text) => Escape(text, keepNewlines: false);

    /// <summary>As <see cref="Escape(string)"/>, keeping line breaks (\n), for multi-line text such as a model summary or an error message.</summary>
    public static string EscapeLines(string text) => Escape(text, keepNewlines: true);

    private static string Escape(string text, bool keepNewlines)
    {
        ArgumentNullException.ThrowIfNull(text);
        int first = -1;
        for (int i = 0; i < text.Length && first < 0; i++) if (Escapes(text, i, keepNewlines)) first = i;
        if (first < 0) return text;
        var sb = new StringBuilder(text.Length + 8).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { sb.Append(c).Append(text[++i]); continue; }
            if (!Escapes(text, i, keepNewlines)) sb.Append(c);
            else if (c <= '\u00ff') sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            else sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
        }
        return sb.ToString();
    }

    private static bool Escapes(string text, int i, bool keepNewlines)
    {
        char c = text[i];
        if (keepNewlines && c == '\n') return false;
        if (char.IsHighSurrogate(c)) return i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]);
        if (char.IsLowSurrogate(c)) return i == 0 || !char.IsHighSurrogate(text[i - 1]);
        return NeedsEscape(c);
    }
}
