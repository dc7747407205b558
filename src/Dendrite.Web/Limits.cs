namespace Dendrite.Web;

/// <summary>What one prediction request may cost; anything over is refused with a problem document before the work is done.</summary>
public sealed record Limits
{
    /// <summary>Largest request body (a picture, a multipart form or JSON pixels): 413 over it.</summary>
    public long MaxBodyBytes { get; init; } = 4L << 20;

    /// <summary>Largest picture side, read from the header before any pixel is decoded: 413 over it.</summary>
    public int MaxSide { get; init; } = 4096;

    /// <summary>Most decoded pixels (width × height), checked from the header, which bounds the decompressed size: 413 over it.</summary>
    public long MaxPixels { get; init; } = 16L << 20;

    /// <summary>Most grey values in a JSON request: 413 over it.</summary>
    public int MaxJsonPixels { get; init; } = 1 << 20;

    /// <summary>How long a request may take to arrive and be answered: 408 after it.</summary>
    public TimeSpan RequestTime { get; init; } = TimeSpan.FromSeconds(10);
}
