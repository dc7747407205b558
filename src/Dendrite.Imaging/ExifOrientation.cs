namespace Dendrite.Imaging;

/// <summary>
/// EXIF tag 0x0112 (Orientation): how the stored pixels must be turned to stand upright. Values 1–4 keep the size
/// (1 as stored, 2 mirrored left–right, 3 turned 180°, 4 mirrored top–bottom); 5–8 swap width and height (5
/// transposed, 6 turned 90° clockwise, 7 transversed, 8 turned 90° anticlockwise). Anything else counts as 1.
/// </summary>
internal static class ExifOrientation
{
    public static int Normalize(int orientation) => orientation is >= 1 and <= 8 ? orientation : 1;

    /// <summary>Whether the upright picture is <paramref name="orientation"/>'s stored picture with width and height swapped.</summary>
    public static bool SwapsSides(int orientation) => orientation >= 5;

    /// <summary>The stored pixel (of a <paramref name="w"/>×<paramref name="h"/> stored picture) shown at (x, y) of the upright one.</summary>
    public static (int X, int Y) Source(int orientation, int x, int y, int w, int h) => orientation switch
    {
        2 => (w - 1 - x, y),
        3 => (w - 1 - x, h - 1 - y),
        4 => (x, h - 1 - y),
        5 => (y, x),
        6 => (y, h - 1 - x),
        7 => (w - 1 - y, h - 1 - x),
        8 => (w - 1 - y, x),
        _ => (x, y),
    };
}
